/**
 * The embed pipeline end to end: the CLI as a child process, the real openai client, over real HTTP
 * to the OpenAI-compatible simulator on 127.0.0.1 (never a real API). Plus the answer checks, the
 * embedder's handling of answers through an in-process fake client, and the vector arithmetic.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { startSimulator, type Simulator } from '../simulator/openai-sim.js';
import { embeddingVector, float32Base64 } from '../simulator/embeddings.js';
import { cliOptionSpecs } from '../lib/cli/run-cli.js';
import type { Chunk, Pack } from '../lib/runtime/records.js';
import { NO_SERVER_MESSAGE, embedOptionSpecs } from '../pipelines/embed.js';
import { optionsTable } from '../scripts/readme-options.js';
import { serialiseEmbedding, weightedUnitMean, type EmbeddingResult } from '../stages/merge-embeddings.js';
import { openaiEmbedder, vectorsOf } from '../lib/extractors/openai-embeddings.js';
import { ROOT, jsonLines, runScript } from './helpers/cli.js';

const MODEL = 'text-embedding-3-small';
const SECRET = 'sk-test-secret-123456';
const dir = mkdtempSync(join(tmpdir(), 'sluice-embed-'));
const news = readFileSync(join(ROOT, 'examples/news.jsonl'), 'utf8');
const newsDocs = jsonLines(news) as { id: string; text: string }[];

/** No key unless a test gives one: a developer's real key must never travel, not even to the simulator. */
const embed = (args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}) =>
  runScript('pipelines/embed.js', args, { stdin: options.stdin, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '', ...options.env } });

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** A simulator of the test's own, so that its request counts are its own. */
async function ownSimulator(t: Test, options?: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator(options);
  t.teardown(() => s.close());
  return s;
}

// The child processes mostly wait: run the tests side by side (each counts on its own simulator).
t.jobs = 2;
let sim: Simulator;
t.before(async () => {
  sim = await startSimulator();
});
t.teardown(() => sim.close());

t.test("one unit vector per document, in input order, equal to the model's vector of its text", async (t) => {
  const sim = await ownSimulator(t);
  const r = await embed(['--base-url', sim.url, '--batch-size', '10'], { stdin: news });
  t.equal(r.code, 0, r.stderr);
  t.equal(sim.stats().requests, Math.ceil(newsDocs.length / 10), 'batch size respected: ceil(25 / 10) requests');
  const out = jsonLines(r.stdout);
  t.same(
    out.map((o) => o.id),
    newsDocs.map((d) => d.id),
  );
  for (const [i, o] of out.entries()) {
    t.same(Object.keys(o), ['id', 'embedding', 'model', 'meta', 'usage']);
    t.equal(o.model, MODEL);
    t.equal(o.embedding.length, 1536);
    t.ok(Math.abs(norm(o.embedding) - 1) < 1e-5, `${o.id} has unit length`);
    t.same(o.usage.chunks, 1);
    const expected = embeddingVector(newsDocs[i]!.text, MODEL);
    t.ok(
      o.embedding.every((x: number, k: number) => Math.fround(x) === expected[k]),
      `${o.id} is the vector of its own text`,
    );
  }
  t.equal(
    out.reduce((s, o) => s + o.usage.promptTokens, 0),
    sim.stats().promptTokens,
    'usage shares add up to the tokens billed',
  );
  t.match(r.stderr, /documents {2}in 25, out 25, dead-lettered 0/);

  sim.reset();
  const again = await embed(['--base-url', sim.url, '--quiet'], { stdin: news });
  t.equal(sim.stats().requests, 1, 'default batch size 32: one request for 25 documents');
  t.equal(again.stdout, r.stdout, 'a second run (other batching) writes the same lines');
});

t.test('the same text gives the same vector; --dimensions, --encoding-format float and --unordered', async (t) => {
  const docs = [
    { id: 'a', text: 'The same words, twice.' },
    { id: 'b', text: 'Something else entirely.' },
    { id: 'c', text: 'The same words, twice.' },
  ];
  const input = docs.map((d) => JSON.stringify(d)).join('\n');
  const r = await embed(['--base-url', sim.url, '--dimensions', '64', '--quiet'], { stdin: input });
  t.equal(r.code, 0, r.stderr);
  const out = jsonLines(r.stdout);
  t.same(
    out.map((o) => o.id),
    ['a', 'b', 'c'],
  );
  for (const o of out) {
    t.equal(o.embedding.length, 64, '--dimensions honoured');
    t.ok(Math.abs(norm(o.embedding) - 1) < 1e-5);
  }
  t.same(out[0].embedding, out[2].embedding);
  t.notSame(out[0].embedding, out[1].embedding);
  // float on the wire, one document per request, written as completed: the same lines, in some order.
  const other = await embed(['--base-url', sim.url, '--dimensions', '64', '--encoding-format', 'float', '--unordered', '--batch-size', '1', '--quiet'], { stdin: input });
  t.equal(other.code, 0, other.stderr);
  t.same(other.stdout.split('\n').sort(), r.stdout.split('\n').sort(), 'float and base64 answers give the same lines');
});

t.test('a long document is chunked: one vector per chunk, and their token-weighted unit mean', async (t) => {
  const long = Array.from({ length: 300 }, (_v, i) => `Sentence ${i} of the long report discusses topic ${i % 17} in some detail.`).join(' ');
  const input = [JSON.stringify({ id: 'short', text: 'A short note.' }), JSON.stringify({ id: 'long', text: long, kind: 'report' })].join('\n');
  const sim = await ownSimulator(t);
  const r = await embed(['--base-url', sim.url, '--chunk-tokens', '400', '--dimensions', '256', '--quiet'], { stdin: input });
  t.equal(r.code, 0, r.stderr);
  const [short, doc] = jsonLines(r.stdout);
  t.equal(short.id, 'short');
  t.notOk('chunks' in short, 'a one-chunk document has no chunks list');
  t.equal(doc.id, 'long');
  t.same(doc.meta, { kind: 'report' });
  t.same(Object.keys(doc), ['id', 'embedding', 'model', 'meta', 'usage', 'chunks']);
  t.ok(doc.chunks.length >= 5, `${doc.chunks.length} chunks`);
  t.equal(doc.usage.chunks, doc.chunks.length);
  t.same(
    doc.chunks.map((c: { index: number }) => c.index),
    doc.chunks.map((_c: unknown, i: number) => i),
  );
  for (const c of doc.chunks) {
    t.ok(c.tokens > 0 && c.tokens <= 400);
    t.equal(c.embedding.length, 256);
    t.ok(Math.abs(norm(c.embedding) - 1) < 1e-5);
  }
  t.notSame(doc.chunks[0].embedding, doc.chunks[1].embedding);
  const mean = weightedUnitMean(
    doc.chunks.map((c: { embedding: number[] }) => c.embedding),
    doc.chunks.map((c: { tokens: number }) => c.tokens),
  );
  t.ok(
    doc.embedding.every((x: number, k: number) => Math.abs(x - mean[k]!) < 1e-6),
    'document vector = token-weighted mean of the chunks',
  );
  t.ok(Math.abs(norm(doc.embedding) - 1) < 1e-5, 're-normalised to unit length');
  t.equal(short.usage.promptTokens + doc.usage.promptTokens, sim.stats().promptTokens);
});

t.test('bad records are dead-lettered: documents in = out + dead-lettered', async (t) => {
  const dead = join(dir, 'dead.jsonl');
  const r = await embed(['examples/messy.jsonl', '--base-url', sim.url, '--dead-letter', dead]);
  t.equal(r.code, 0, r.stderr);
  const out = jsonLines(r.stdout);
  const dl = jsonLines(readFileSync(dead, 'utf8'));
  t.same(
    out.map((o) => o.id),
    ['m-1', '7', 'examples/messy.jsonl:8', 'm-10'],
  );
  t.same(
    dl.map((d) => d.code),
    ['INVALID_JSON', 'MISSING_TEXT', 'EMPTY_TEXT', 'NOT_AN_OBJECT', 'TEXT_NOT_STRING'],
  );
  t.match(r.stderr, /in 9, out 4, dead-lettered 5/);
});

t.test('5xx faults are retried and the run still completes, with the same vectors', async (t) => {
  const faulty = await ownSimulator(t, { faultRate: 0.4, faults: ['500', '502', '503'], seed: 7 });
  const summary = join(dir, 'faults-summary.json');
  const r = await embed(['--base-url', faulty.url, '--batch-size', '3', '--max-retries', '8', '--retry-base-ms', '5', '--summary', summary, '--quiet'], { stdin: news });
  t.equal(r.code, 0, r.stderr);
  const stats = faulty.stats();
  t.ok(stats.byStatus['500'] || stats.byStatus['502'] || stats.byStatus['503'], `faults injected: ${JSON.stringify(stats.faults)}`);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  t.match(s, { docsIn: 25, docsOut: 25, deadLettered: 0 });
  t.ok(s.retries > 0, `${s.retries} retries`);
  const out = jsonLines(r.stdout);
  t.same(
    out.map((o) => o.id),
    newsDocs.map((d) => d.id),
  );
  t.ok(
    out.every((o, i) => {
      const expected = embeddingVector(newsDocs[i]!.text, MODEL);
      return o.embedding.every((x: number, k: number) => Math.fround(x) === expected[k]);
    }),
    'the same vectors as without faults',
  );
});

t.test('with no API key and no --base-url it says what it needs and exits 2', async (t) => {
  const r = await embed([], { stdin: news });
  t.equal(r.code, 2);
  t.equal(r.stdout, '');
  t.match(r.stderr, NO_SERVER_MESSAGE);
  t.match(r.stderr, /OPENAI_API_KEY/);
  t.match(r.stderr, /--base-url/);
  const dry = await embed(['--dry-run'], { stdin: news });
  t.equal(dry.code, 0, `a dry run needs no server: ${dry.stderr}`);
  t.match(dry.stdout, /\n {2}completion {7}none \(embeddings: no text is generated\)\n/, 'no completion estimated for embeddings');
  t.match(dry.stdout, /requests {9}1 \(25 chunks/);
});

t.test('the API key appears nowhere: not in results, stderr or dead letters, even when the server fails', async (t) => {
  const failing = await ownSimulator(t, { faultRate: 0.5, faults: ['500'], seed: 3 });
  const dead = join(dir, 'key-dead.jsonl');
  const summary = join(dir, 'key-summary.json');
  const r = await embed(['--base-url', failing.url, '--batch-size', '2', '--max-retries', '0', '--retry-base-ms', '1', '--dead-letter', dead, '--summary', summary, '--progress'], {
    stdin: news,
    env: { OPENAI_API_KEY: SECRET },
  });
  t.equal(r.code, 0, r.stderr);
  const out = jsonLines(r.stdout);
  const dl = jsonLines(readFileSync(dead, 'utf8'));
  t.ok(out.length > 0 && dl.length > 0, `${out.length} results and ${dl.length} dead letters`);
  t.equal(out.length + dl.length, newsDocs.length);
  t.match(dl[0], { stage: 'extract', code: 'EXTRACT_FAILED', reason: /HTTP 500/ });
  for (const [name, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
    ['dead letters', readFileSync(dead, 'utf8')],
    ['summary', readFileSync(summary, 'utf8')],
  ] as const) {
    t.notMatch(text, SECRET, `no key in ${name}`);
    t.notMatch(text, 'secret-123456', `no part of the key in ${name}`);
  }
});

t.test('an answer is checked, never trusted: count, indices, numbers, width', async (t) => {
  const answer = (data: unknown[]) => ({ object: 'list', data, model: MODEL });
  const item = (index: unknown, embedding: unknown) => ({ object: 'embedding', index, embedding });
  const v0 = [1, 0];
  const v1 = [0, 1];
  t.same(vectorsOf(answer([item(1, v1), item(0, v0)]), 2, undefined), [v0, v1], 'mapped back by index, not by position');
  const b64 = float32Base64(new Float32Array([0.5, -0.25]));
  t.same(vectorsOf(answer([item(0, b64)]), 1, 2), [[0.5, -0.25]], 'base64 float32 decoded');
  t.throws(() => vectorsOf(answer([item(0, v0)]), 2, undefined), /1 vectors for 2 inputs/);
  t.throws(() => vectorsOf(answer([item(0, v0), item(0, v1)]), 2, undefined), /answered twice/);
  t.throws(() => vectorsOf(answer([item(0, v0), item(2, v1)]), 2, undefined), /names no input sent/);
  t.throws(() => vectorsOf(answer([item('0', v0)]), 1, undefined), /names no input sent/);
  t.throws(() => vectorsOf(answer([item(0, [1, Number.NaN])]), 1, undefined), /not a finite number/);
  t.throws(() => vectorsOf(answer([item(0, [1, '2'])]), 1, undefined), /not a finite number/);
  t.throws(() => vectorsOf(answer([item(0, [])]), 1, undefined), /empty/);
  t.throws(() => vectorsOf(answer([item(0, [1, 0]), item(1, [1, 0, 0])]), 2, undefined), /vectors of 2 and 3 dimensions in one answer/);
  t.throws(() => vectorsOf(answer([item(0, [1, 0, 0])]), 1, 2), /vectors have 3 dimensions, expected 2/);
  t.throws(() => vectorsOf(answer([item(0, 'not base64!')]), 1, undefined), /not base64/);
  t.throws(() => vectorsOf(answer([item(0, Buffer.from([1, 2, 3, 4, 5, 6]).toString('base64'))]), 1, undefined), /not base64|whole float32/);
  t.throws(() => vectorsOf({ error: 'x' }, 1, undefined), /no "data"/);
  t.throws(() => vectorsOf(null, 1, undefined), /no "data"/);
});

t.test('vector arithmetic and the output line', async (t) => {
  const m = weightedUnitMean(
    [
      [1, 0],
      [0, 1],
    ],
    [3, 1],
  );
  t.ok(Math.abs(m[0]! - 3 / Math.sqrt(10)) < 1e-12 && Math.abs(m[1]! - 1 / Math.sqrt(10)) < 1e-12);
  const equal = weightedUnitMean(
    [
      [1, 0],
      [0, 1],
    ],
    [0, 0],
  );
  t.ok(Math.abs(equal[0]! - Math.SQRT1_2) < 1e-12 && equal[0] === equal[1], 'equal weights when the tokens sum to 0');
  t.same(
    weightedUnitMean(
      [
        [1, 0],
        [-1, 0],
      ],
      [1, 1],
    ),
    [0, 0],
    'a zero mean stays zero',
  );
  const r: EmbeddingResult = { kind: 'result', seq: 0, line: 1, source: 's', id: 'x', embedding: [0.1, -1 / 3], model: MODEL, meta: { a: 1 }, usage: { promptTokens: 5, chunks: 1 } };
  const line = JSON.parse(serialiseEmbedding(r));
  t.same(line, { id: 'x', embedding: [0.100000001, -0.333333343], model: MODEL, meta: { a: 1 }, usage: { promptTokens: 5, chunks: 1 } });
  t.equal(Math.fround(line.embedding[1]), Math.fround(-1 / 3), 'reads back to the same float32');
  t.throws(() => serialiseEmbedding({ ...r, embedding: [Number.NaN] }), /not a finite float32/);
});

t.test('docs/embeddings.md lists every option with its default', async (t) => {
  const doc = readFileSync(join(ROOT, 'docs/embeddings.md'), 'utf8');
  t.ok(
    doc.includes(`-->\n${optionsTable([...embedOptionSpecs, ...cliOptionSpecs])}\n<!-- /options:embed -->`),
    'the table between the options:embed markers is optionsTable() of the embed specs: regenerate it after changing an option',
  );
});

t.test('the embedder maps vectors to chunks by index and classifies bad answers', async (t) => {
  /** A client that answers every request with `answer(inputs)`: no HTTP, the answer handling only. */
  const fakeClient = (answer: (inputs: string[]) => unknown) => {
    const calls: string[][] = [];
    const client = {
      embeddings: {
        create: (body: { input: string[] }) => {
          calls.push(body.input);
          return { withResponse: async () => ({ data: answer(body.input), response: { headers: new Headers() } }) };
        },
      },
    } as unknown as OpenAI;
    return { client, calls };
  };
  const chunkOf = (seq: number, text: string): Chunk => ({ kind: 'chunk', doc: { seq, line: seq + 1, source: 's', id: `d${seq}`, meta: {} }, index: 0, count: 1, text, tokens: 2 });
  const pack: Pack = { kind: 'pack', id: 'p0.0', chunks: [chunkOf(0, 'zero'), chunkOf(1, 'one'), chunkOf(2, 'two')], tokens: 6, promptTokens: 6 };
  const signal = new AbortController().signal;
  const vec = (text: string) => [text.length, 1];
  const reversed = fakeClient((inputs) => ({ data: inputs.map((text, index) => ({ index, embedding: vec(text) })).reverse(), usage: { prompt_tokens: 6 } }));
  const ok = await openaiEmbedder({ model: MODEL, timeoutMs: 1000, client: reversed.client }).extract(pack, signal);
  t.same(
    [...ok.chunks].map(([key, x]) => [key, x.embedding]),
    [
      ['0.0', [4, 1]],
      ['1.0', [3, 1]],
      ['2.0', [3, 1]],
    ],
  );
  t.same(ok.usage, { promptTokens: 6, completionTokens: 0 });

  const short = fakeClient((inputs) => ({ data: inputs.slice(1).map((text, index) => ({ index, embedding: vec(text) })), usage: { prompt_tokens: 6 } }));
  await t.rejects(openaiEmbedder({ model: MODEL, timeoutMs: 1000, client: short.client }).extract(pack, signal), {
    code: 'E_TRANSIENT',
    message: /2 vectors for 3 inputs/,
    usage: { promptTokens: 6 },
  });

  const ignoresDimensions = fakeClient((inputs) => ({ data: inputs.map((text, index) => ({ index, embedding: vec(text) })) }));
  await t.rejects(openaiEmbedder({ model: MODEL, timeoutMs: 1000, dimensions: 8, client: ignoresDimensions.client }).extract(pack, signal), {
    code: 'E_FATAL',
    message: /2-dimension vectors, not the 8 asked for with --dimensions/,
  });

  const capped = fakeClient(() => ({ data: [] }));
  await t.rejects(openaiEmbedder({ model: MODEL, timeoutMs: 1000, maxInputs: 2, client: capped.client }).extract(pack, signal), { code: 'E_SPLIT_REQUIRED' });
  t.equal(capped.calls.length, 0, 'nothing sent for a pack over the input cap');
});
