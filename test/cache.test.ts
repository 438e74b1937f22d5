/** The response cache (--cache DIR) end to end against the simulator, and its key. */
import t from 'tap';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { acquireTokenTools, startSimulator, type FaultKind } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { DEFAULT_ENTITY_TYPES, DEFAULT_RELATION_TYPES } from '../lib/llm/kg-prompt.js';
import { parseAnswer } from '../lib/llm/kg-answer.js';
import { results } from '../lib/runtime/pipeline.js';
import type { Failure, Result } from '../lib/runtime/records.js';
import { CACHE_FILE, CACHE_FORMAT, endpointOf, requestKey, ResponseCache } from '../lib/llm/response-cache.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { embed } from '../pipelines/embed.js';
import { kg } from '../pipelines/kg.js';
import { serialiseResult } from '../stages/sink.js';
import { jsonLines, kg as kgCli, runScript } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-cache-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
/** A fresh path under the test's temporary directory (not created). */
const freshDir = () => join(root, `c${++dirs}`);
// Many simulators start and stop in this file: keep the tokenizers loaded between them.
const held = acquireTokenTools(['o200k_base']);
t.teardown(() => held.release());

type Doc = { id: string; text: string };
const docs: Doc[] = [...generateDocs(12, 21, { medianWords: 60, maxWords: 200 })].map((d) => ({ id: d.id, text: d.text }));
const inputOf = (xs: readonly Doc[]) => ({ name: 'docs', stream: Readable.from([Buffer.from(xs.map((d) => JSON.stringify(d)).join('\n'))]) });

async function runKg(options: Record<string, unknown>, input: readonly Doc[] = docs) {
  const ctx = createRunContext();
  const out: Result[] = [];
  const dead: Failure[] = [];
  for await (const r of results(kg, [inputOf(input)], { retryBaseMs: 1, ...options }, { context: ctx, onDeadLetter: (f) => void dead.push(f) })) out.push(r);
  return { out, dead, stats: ctx.stats, bytes: out.map((r) => serialiseResult(r)).join('') };
}

/** Every answer stored in a cache directory, as text. */
function storedValues(dir: string): string[] {
  const db = new Database(join(dir, CACHE_FILE), { readonly: true });
  try {
    return db.prepare('SELECT value FROM responses').pluck().all() as string[];
  } finally {
    db.close();
  }
}

const summaryOf = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

t.test('kg: a rerun with --cache sends no request and writes the same bytes; the summary tells billed from cached', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const cache = join(freshDir(), 'not', 'yet', 'made');
  const args = (summary: string) => ['examples/news.jsonl', '--base-url', sim.url, '--cache', cache, '--summary', summary, '--price-input', '1', '--price-output', '2'];
  const first = await kgCli(args(join(root, 's1.json')));
  t.equal(first.code, 0, first.stderr);
  t.ok(existsSync(join(cache, CACHE_FILE)), 'the cache directory was created');
  const sent = sim.stats();
  t.ok(sent.requests > 0);
  const s1 = summaryOf(join(root, 's1.json'));
  t.match(s1, { requests: sent.requests, cacheHits: 0, cacheMisses: sent.requests, promptTokens: sent.promptTokens, completionTokens: sent.completionTokens, cachedPromptTokens: 0 });
  t.ok(s1.costUsd > 0);

  sim.reset();
  const second = await kgCli(args(join(root, 's2.json')));
  t.equal(second.code, 0, second.stderr);
  t.equal(sim.stats().requests, 0, 'no request reached the server');
  t.equal(second.stdout, first.stdout, 'byte-identical output');
  t.equal(jsonLines(second.stdout).length, 25);
  const s2 = summaryOf(join(root, 's2.json'));
  // One lookup per request the first run sent (a cut answer's rest is a request of its own), hedges aside.
  const lookups = s1.requests - s1.hedged;
  t.match(s2, {
    requests: 0,
    cacheHits: lookups,
    cacheMisses: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedPromptTokens: s1.promptTokens,
    cachedCompletionTokens: s1.completionTokens,
    costUsd: 0,
  });
  t.match(second.stderr, new RegExp(`cache\\s+${lookups} hits, 0 misses; answered from the cache: prompt ${s1.promptTokens.toLocaleString('en-US')}`));
});

t.test('embed: a rerun with --cache sends no request and writes the same bytes', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const cache = freshDir();
  for (const format of ['base64', 'float']) {
    sim.reset();
    const args = ['examples/news.jsonl', '--base-url', sim.url, '--cache', cache, '--batch-size', '4', '--encoding-format', format, '--dimensions', '64'];
    const first = await runScript('pipelines/embed.js', args);
    t.equal(first.code, 0, first.stderr);
    t.equal(sim.stats().requests, 7, `${format}: 25 documents in batches of 4`);
    sim.reset();
    const second = await runScript('pipelines/embed.js', args);
    t.equal(second.code, 0, second.stderr);
    t.equal(sim.stats().requests, 0, `${format}: no request on the rerun`);
    t.equal(second.stdout, first.stdout, `${format}: byte-identical vectors`);
    t.match(second.stderr, /cache\s+7 hits, 0 misses/);
  }
  t.equal(storedValues(cache).length, 14, 'the encoding format is part of the key');
});

t.test('the embed pipeline in code: hits count into the run stats', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const cache = freshDir();
  const go = async () => {
    const ctx = createRunContext();
    const vectors: unknown[] = [];
    for await (const r of results(embed, [inputOf(docs)], { baseUrl: sim.url, cache, batchSize: 5, retryBaseMs: 1 }, { context: ctx }))
      vectors.push((r as unknown as { embedding: number[] }).embedding);
    return { vectors, stats: ctx.stats };
  };
  const a = await go();
  const b = await go();
  t.same(b.vectors, a.vectors);
  t.match(a.stats, { cacheHits: 0, cacheMisses: 3, requests: 3 });
  t.match(b.stats, { cacheHits: 3, cacheMisses: 0, requests: 0, promptTokens: 0, cachedPromptTokens: a.stats.promptTokens });
  t.equal(sim.stats().requests, 3);
});

t.test('a cut answer keeps its whole documents, cached as cut; the rest are asked again, and a rerun sends nothing', async (t) => {
  // Every answer cut at half its length: whole documents come out of packs, a lone document never does.
  const always = await startSimulator({ faultRate: 1, faults: ['truncated'] });
  t.teardown(() => always.close());
  const cache = freshDir();
  const first = await runKg({ baseUrl: always.url, cache, maxDocs: 4, maxRetries: 1 });
  t.ok(first.out.length > 0, `${first.out.length} documents came whole out of cut answers`);
  t.ok(first.dead.length > 0, `${first.dead.length} lone documents cut however often asked`);
  t.equal(first.out.length + first.dead.length, docs.length, 'nothing lost');
  const stored = storedValues(cache).map((v) => JSON.parse(v) as { content: string; cut?: string });
  t.ok(stored.length > 0);
  for (const v of stored) {
    t.ok(v.cut === 'sized' || v.cut === 'cap', 'stored as cut');
    t.doesNotThrow(() => parseAnswer(v.content, DEFAULT_ENTITY_TYPES, DEFAULT_RELATION_TYPES), 'what is stored passes validation');
  }
  const sent = always.stats().requests;
  const again = await runKg({ baseUrl: always.url, cache, maxDocs: 4, maxRetries: 1 });
  t.equal(always.stats().requests, sent, 'the rerun sent nothing');
  t.equal(again.bytes, first.bytes, 'the same output');
  t.same(
    again.dead.map((f) => f.id),
    first.dead.map((f) => f.id),
  );
});

for (const kind of ['malformed'] as FaultKind[]) {
  t.test(`an answer that fails validation ("${kind}") is never cached`, async (t) => {
    const always = await startSimulator({ faultRate: 1, faults: [kind] });
    t.teardown(() => always.close());
    const cache = freshDir();
    const { out, dead, stats } = await runKg({ baseUrl: always.url, cache, maxDocs: 4, maxRetries: 1 });
    t.equal(out.length, 0);
    t.equal(dead.length, docs.length, 'every document failed');
    t.equal(always.stats().faults[kind], always.stats().requests, 'every answer was defective');
    t.equal(storedValues(cache).length, 0, 'nothing was stored');
    t.equal(stats.cacheHits, 0);
    t.equal(stats.cacheMisses, always.stats().requests, 'one lookup before every request');

    // Some answers good, some not: only the good ones are kept, and they are valid.
    const some = await startSimulator({ faultRate: 0.4, faults: [kind], seed: 4 });
    t.teardown(() => some.close());
    const mixed = freshDir();
    const run = await runKg({ baseUrl: some.url, cache: mixed, maxDocs: 3, maxRetries: 4 });
    t.equal(run.out.length + run.dead.length, docs.length);
    const s = some.stats();
    t.ok(s.faults[kind]! > 0, `${s.faults[kind]} faults injected`);
    const stored = storedValues(mixed);
    // A good answer cut off at its max_tokens is stored when it had whole documents (marked cut), not otherwise.
    const good = s.byStatus['200']! - s.faults[kind]!;
    t.ok(stored.length <= good && stored.length >= good - s.cutAnswers, `${stored.length} stored for ${good} good answers, ${s.cutAnswers} of them cut`);
    for (const value of stored) {
      const { content } = JSON.parse(value) as { content: string };
      t.doesNotThrow(() => parseAnswer(content, DEFAULT_ENTITY_TYPES, DEFAULT_RELATION_TYPES), 'a stored answer passes validation');
    }
  });
}

t.test('an answer that leaves out documents, or names one not sent, is used but not cached', async (t) => {
  for (const kind of ['omit', 'invent'] as FaultKind[]) {
    const sim = await startSimulator({ faultRate: 1, faults: [kind] });
    const cache = freshDir();
    const { out, dead } = await runKg({ baseUrl: sim.url, cache, maxDocs: 4 });
    const s = sim.stats();
    await sim.close();
    t.equal(out.length + dead.length, docs.length);
    t.ok(s.faults[kind]! > 0);
    // A cut answer's whole documents may be stored (marked cut) when the defect fell past the cut.
    const whole = storedValues(cache).filter((v) => (JSON.parse(v) as { cut?: string }).cut === undefined);
    t.equal(whole.length, s.requests - s.faults[kind]!, `${kind}: only the whole answers are stored`);
  }
});

t.test('two runs sharing one cache directory at once both succeed', async (t) => {
  const sim = await startSimulator({ latencyMs: 30 });
  t.teardown(() => sim.close());
  const cache = freshDir();
  // One document per request: many writes from both runs, interleaved, into a cache neither made yet.
  const args = ['examples/news.jsonl', '--base-url', sim.url, '--cache', cache, '--max-docs', '1', '--concurrency', '4'];
  const [a, b] = await Promise.all([kgCli(args), kgCli(args)]);
  t.equal(a.code, 0, a.stderr);
  t.equal(b.code, 0, b.stderr);
  t.equal(jsonLines(a.stdout).length, 25);
  t.equal(b.stdout, a.stdout, 'the same output from both');
  t.equal(storedValues(cache).length, 25, 'one entry per distinct request');
  sim.reset();
  const c = await kgCli(args);
  t.equal(c.code, 0, c.stderr);
  t.equal(sim.stats().requests, 0, 'a third run is served entirely from the shared cache');
  t.equal(c.stdout, a.stdout);
});

t.test('the key changes with the endpoint, the model, the prompt and the parameters, and with nothing else', async (t) => {
  const sim = await startSimulator();
  const other = await startSimulator();
  t.teardown(async () => {
    await sim.close();
    await other.close();
  });
  const cache = freshDir();
  const base = { baseUrl: sim.url, cache, maxDocs: 1 };
  const requestsFor = async (options: Record<string, unknown>, input: readonly Doc[] = docs, server = sim) => {
    const before = server.stats().requests;
    const r = await runKg({ ...base, ...options }, input);
    t.equal(r.out.length, input.length);
    return server.stats().requests - before;
  };
  const first = await runKg(base);
  t.equal(sim.stats().requests, docs.length);
  t.equal(await requestsFor({}), 0, 'same request: served from the cache');
  t.equal((await runKg(base)).bytes, first.bytes, 'and the same results');
  t.equal(await requestsFor({ concurrency: 2, unordered: true, timeoutMs: 5000, maxRetries: 0 }), 0, 'options that do not reach the request do not change the key');
  t.equal(
    await requestsFor(
      {},
      docs.map((d, i) => ({ ...d, id: `renamed-${i}` })),
    ),
    0,
    'nor do document ids (never sent)',
  );
  t.equal(await requestsFor({ model: 'gpt-4.1-nano' }), docs.length, 'another model');
  // max_tokens follows the expected answer (and the cap only where it binds): a larger one asks anew.
  t.equal(await requestsFor({ answerTokensRatio: 3 }), docs.length, 'another max_tokens');
  t.equal(await requestsFor({ entityTypes: 'person,place' }), docs.length, 'another schema and prompt');
  t.equal(
    await requestsFor(
      {},
      docs.map((d, i) => (i === 3 ? { ...d, text: `${d.text} Angela Merkel visited Paris.` } : d)),
    ),
    1,
    'one document changed: one request',
  );
  t.equal(await requestsFor({ baseUrl: other.url }, docs, other), docs.length, 'another endpoint');
  t.equal(await requestsFor({ maxDocs: 2 }), Math.ceil(docs.length / 2), 'other packs are other prompts');
});

t.test('requestKey and endpointOf', async (t) => {
  const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 0 };
  const key = requestKey('https://api.openai.com/v1/chat/completions', body);
  t.equal(key.length, 32, 'sha256');
  t.same(requestKey('https://api.openai.com/v1/chat/completions', { temperature: 0, messages: [{ content: 'x', role: 'user' }], model: 'm' }), key, 'object key order does not matter');
  t.same(requestKey('https://api.openai.com/v1/chat/completions', { ...body, seed: undefined }), key, 'an undefined field is not sent, and not hashed');
  t.notSame(requestKey('https://api.openai.com/v1/chat/completions', { ...body, temperature: 0.1 }), key);
  t.notSame(requestKey('http://127.0.0.1:8080/v1/chat/completions', body), key);
  t.notSame(requestKey('https://api.openai.com/v1/chat/completions', { ...body, messages: [{ role: 'user', content: 'y' }] }), key);
  t.equal(endpointOf('https://user:secret@example.com/v1/?token=abc#x', '/embeddings'), 'https://example.com/v1/embeddings', 'credentials, query and fragment stay out of the key');
  t.equal(endpointOf('http://127.0.0.1:8089/v1', '/chat/completions'), 'http://127.0.0.1:8089/v1/chat/completions');
});

t.test('a damaged, foreign or unusable cache stops the run with exit 1 and says what to do', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const garbage = freshDir();
  mkdirSync(garbage);
  writeFileSync(join(garbage, CACHE_FILE), Buffer.alloc(8192, 'not a database '));
  const r = await kgCli(['examples/news.jsonl', '--base-url', sim.url, '--cache', garbage]);
  t.equal(r.code, 1);
  t.match(r.stderr, /kg: error: --cache .*responses\.sqlite is not a sluice cache .*SQLITE_NOTADB.*move it away/);
  t.notMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
  t.equal(r.stdout, '');
  t.equal(sim.stats().requests, 0, 'nothing was sent');

  const future = freshDir();
  mkdirSync(future);
  const db = new Database(join(future, CACHE_FILE));
  db.pragma(`user_version = ${CACHE_FORMAT + 1}`);
  db.close();
  const f = await kgCli(['examples/news.jsonl', '--base-url', sim.url, '--cache', future]);
  t.equal(f.code, 1);
  t.match(f.stderr, new RegExp(`is in format ${CACHE_FORMAT + 1}, this sluice reads format ${CACHE_FORMAT}`));

  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  const n = await kgCli(['examples/news.jsonl', '--base-url', sim.url, '--cache', file]);
  t.equal(n.code, 1);
  t.match(n.stderr, /--cache .*a-file is a file; give a directory/);

  // Damage in the pages: found when read, and fatal (a cache that lies must not feed the output).
  const torn = freshDir();
  const good = await kgCli(['examples/news.jsonl', '--base-url', sim.url, '--cache', torn]);
  t.equal(good.code, 0, good.stderr);
  const bytes = readFileSync(join(torn, CACHE_FILE));
  bytes.fill(0xa5, 4096, bytes.length);
  writeFileSync(join(torn, CACHE_FILE), bytes);
  const d = await kgCli(['examples/news.jsonl', '--base-url', sim.url, '--cache', torn]);
  t.equal(d.code, 1, d.stderr);
  t.match(d.stderr, /--cache .*responses\.sqlite is (damaged|not a sluice cache)/);
});

t.test('a dry run and the offline extractor open no cache', async (t) => {
  const dry = freshDir();
  const r = await kgCli(['examples/news.jsonl', '--dry-run', '--cache', dry]);
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(dry));
  const offline = freshDir();
  const o = await kgCli(['examples/news.jsonl', '--extractor', 'offline', '--workers', '0', '--cache', offline, '-q']);
  t.equal(o.code, 0, o.stderr);
  t.notOk(existsSync(offline));
});

t.test('ResponseCache: get, put, replace; nothing held in memory between calls', async (t) => {
  const dir = freshDir();
  const cache = ResponseCache.open(dir);
  t.teardown(() => cache.close());
  const k = requestKey('e', { a: 1 });
  t.equal(cache.get(k), undefined);
  cache.put(k, '{"v":1}');
  cache.put(k, '{"v":2}');
  t.equal(cache.get(k), '{"v":2}');
  t.equal(cache.size(), 1);
  const again = ResponseCache.open(dir);
  t.equal(again.get(k), '{"v":2}', 'a second connection sees it');
  again.close();
});
