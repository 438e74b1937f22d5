/** The LLM path end to end against the simulator (real HTTP on 127.0.0.1, the real openai client). */
import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { startSimulator, type FaultKind } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { extractEntities } from '../lib/ner/index.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import type { Failure, Result } from '../lib/runtime/records.js';
import { kg } from '../pipelines/kg.js';
import { jsonLines, kg as kgCli } from './helpers/cli.js';

const docs = [...generateDocs(40, 11, { medianWords: 60, maxWords: 300 })];
const input = () => ({ name: 'docs', stream: Readable.from([Buffer.from(docs.map((d) => JSON.stringify(d)).join('\n'))]) });

async function runKg(options: Record<string, unknown>) {
  const ctx = createRunContext();
  const out: Result[] = [];
  const dead: Failure[] = [];
  for await (const r of results(kg, [input()], { retryBaseMs: 1, ...options }, { context: ctx, onDeadLetter: (f) => void dead.push(f) })) out.push(r);
  return { out, dead, stats: ctx.stats };
}

function sortedEntities(xs: { name: string; type: string; mentions: number }[]) {
  return xs.map((e) => `${e.type}:${e.name}:${e.mentions}`).sort();
}

t.test('happy path: every entity lands on the document it came from', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const { out, dead, stats } = await runKg({ baseUrl: sim.url, maxDocs: 10 });
  t.equal(dead.length, 0);
  t.same(
    out.map((r) => r.id),
    docs.map((d) => d.id),
    'all documents, in order',
  );
  for (const [i, r] of out.entries()) {
    const expected = extractEntities(docs[i]!.text).entities;
    t.same(sortedEntities(r.entities), sortedEntities(expected), `${r.id}: its own entities`);
  }
  const s = sim.stats();
  t.equal(s.requests, stats.requests);
  t.ok(s.requests <= Math.ceil(docs.length / 10) + 1, `${s.requests} requests for ${docs.length} documents`);
  t.equal(stats.promptTokens, s.promptTokens, 'prompt tokens counted as the server counted them');
  t.equal(
    out.reduce((n, r) => n + r.usage.promptTokens, 0),
    s.promptTokens,
    'usage shared out to documents adds up',
  );
});

const faultKinds: FaultKind[] = ['500', '502', '503', 'hang', 'reset', 'malformed', 'truncated', 'omit', 'invent'];
for (const kind of faultKinds) {
  t.test(`fault "${kind}" alone: retried or split, nothing lost`, async (t) => {
    const sim = await startSimulator({ faultRate: 0.35, faults: [kind], seed: 5, hangMs: 3000 });
    t.teardown(() => sim.close());
    const { out, dead, stats } = await runKg({ baseUrl: sim.url, maxDocs: 4, timeoutMs: 400, maxRetries: 4 });
    t.equal(out.length + dead.length, docs.length, 'in = out + dead-lettered');
    t.equal(dead.length, 0, 'with retries, every document gets through');
    t.ok(sim.stats().faults[kind]! > 0, `${sim.stats().faults[kind]} faults injected`);
    if (kind === 'invent') t.ok(stats.inventedIds > 0, 'invented ids are counted');
    else if (kind === 'truncated') t.ok(stats.cutOffs > 0 && stats.requests > Math.ceil(docs.length / 4), 'cut answers counted, and the rest of each asked again');
    else t.ok(stats.requests > sim.stats().requests - 1 && stats.requests > Math.ceil(docs.length / 4), 'more requests than packs');
    for (const r of out) t.ok(docs.some((d) => d.id === r.id));
  });
}

t.test('a 429 storm: the client paces itself to rpm and every document completes', async (t) => {
  const sim = await startSimulator({ rpm: 600 });
  t.teardown(() => sim.close());
  const { out, dead } = await runKg({ baseUrl: sim.url, maxDocs: 1, concurrency: 16 });
  t.equal(out.length, docs.length);
  t.equal(dead.length, 0);
  t.ok(sim.stats().rateLimited <= 5, `${sim.stats().rateLimited} answered 429`);
});

t.test('the server limit alone (no client budget) is followed through retry-after', async (t) => {
  const sim = await startSimulator({ rpm: 300 });
  t.teardown(() => sim.close());
  const { out, dead, stats } = await runKg({ baseUrl: sim.url, maxDocs: 1, concurrency: 16, maxRetries: 8 });
  t.equal(out.length + dead.length, docs.length);
  t.equal(dead.length, 0);
  t.ok(stats.requests >= docs.length);
});

t.test('a pack over the context length splits down to single documents', async (t) => {
  const sim = await startSimulator({ contextTokens: 900 });
  t.teardown(() => sim.close());
  const { out, dead, stats } = await runKg({ baseUrl: sim.url, maxDocs: 10 });
  t.ok(stats.splits > 0, `${stats.splits} splits`);
  t.equal(out.length + dead.length, docs.length);
  for (const f of dead) t.match(f, { code: 'EXTRACT_FAILED', reason: /context length/ });
  t.ok(out.length > 0);
});

t.test('a document that fails alone is dead-lettered with the last error', async (t) => {
  const sim = await startSimulator({ contextTokens: 400 });
  t.teardown(() => sim.close());
  const { out, dead } = await runKg({ baseUrl: sim.url, maxDocs: 5 });
  t.ok(dead.length > 0, `${dead.length} dead-lettered`);
  t.equal(out.length + dead.length, docs.length);
  for (const f of dead) t.match(f, { stage: 'extract', code: 'EXTRACT_FAILED', reason: /context length exceeded.*E_SPLIT_REQUIRED/, id: /^doc-/ });
  t.ok(out.length > 0, 'the documents that fit went through');
});

t.test('invariant over many seeds with a random fault mix: in = out + dead, no duplicate, no invented id', async (t) => {
  for (let seed = 1; seed <= 8; seed++) {
    const sim = await startSimulator({ faultRate: 0.3, seed, hangMs: 2000 });
    const { out, dead } = await runKg({ baseUrl: sim.url, maxDocs: 5, timeoutMs: 300, maxRetries: 2 });
    await sim.close();
    const ids = out.map((r) => r.id);
    t.equal(ids.length + dead.length, docs.length, `seed ${seed}: ${ids.length} + ${dead.length}`);
    t.equal(new Set(ids).size, ids.length, `seed ${seed}: no duplicate`);
    t.ok(
      ids.every((id) => docs.some((d) => d.id === id)),
      `seed ${seed}: only input ids`,
    );
  }
});

t.test('a refused key stops the run with exit 1, says so, and never shows the key', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'Incorrect API key provided: sk-test-********3456.', type: 'invalid_request_error', code: 'invalid_api_key' } }));
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const r = await kgCli(['examples/news.jsonl', '--base-url', url], { env: { OPENAI_API_KEY: 'sk-test-secret-123456' } });
  t.equal(r.code, 1);
  t.match(r.stderr, /refused the credentials \(HTTP 401\)/);
  t.notMatch(r.stderr + r.stdout, /secret|3456/);
  t.equal(r.stdout, '', 'nothing written: the corpus is not dead-lettered');
});

t.test('the CLI on the simulator: results on stdout, the key nowhere', async (t) => {
  const sim = await startSimulator({ faultRate: 0.2, faults: ['500'], seed: 3 });
  t.teardown(() => sim.close());
  const r = await kgCli(['examples/news.jsonl', '--base-url', sim.url, '--retry-base-ms', '1'], { env: { OPENAI_API_KEY: 'sk-test-secret-123456' } });
  t.equal(r.code, 0, r.stderr);
  t.equal(jsonLines(r.stdout).length, 25);
  t.notMatch(r.stdout + r.stderr, /secret-123456/);
  t.match(r.stderr, /requests/);
});

t.test('--extractor openai without a key or a base URL is a usage error', async (t) => {
  const r = await kgCli(['examples/news.jsonl', '--extractor', 'openai'], { env: { OPENAI_API_KEY: '' } });
  t.equal(r.code, 2);
  t.match(r.stderr, /needs OPENAI_API_KEY.*or --base-url/);
});
