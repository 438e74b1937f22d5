/**
 * kg and embed against a real llama.cpp server (Debian's llama-server in a chroot, a tiny model:
 * test/helpers/llama-server.ts), the way users run it: what the simulator cannot show, the real
 * server's answers, errors, headers and timing. The error cases are the ones a real server gave:
 * 501 without --embeddings, a context overflow (exceed_context_size_error), 503 while loading.
 * 12 to 45 s on two shared cores, plus building the chroot once per machine (about 1 to 2.5 minutes).
 */
import t, { type Test } from 'tap';
import Ajv from 'ajv/dist/2020.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, jsonLines, runScript } from './helpers/cli.js';
import { ENSURE_TIMEOUT_MS, startLlamaServer, type LlamaServer } from './helpers/llama-server.js';

// A fresh machine builds the chroot first (about 2 minutes here, longer on a slow mirror).
t.setTimeout(ENSURE_TIMEOUT_MS + 5 * 60_000);

const ajv = new Ajv.default({ allErrors: true });
const validResult = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/schema/result.schema.json'), 'utf8')));
const validDeadLetter = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/schema/dead-letter.schema.json'), 'utf8')));

const dir = mkdtempSync(join(tmpdir(), 'sluice-llama-'));
const news = jsonLines(readFileSync(join(ROOT, 'examples/news.jsonl'), 'utf8')) as { id: string; text: string }[];
const docs = news.slice(0, 4);
const corpus = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
/** The tiny model's embedding width (scripts/llama-server/write-model.py). */
const MODEL_DIMENSIONS = 64;

/** No key: a local server needs none, and a developer's real key must never travel. */
const run = (script: string, args: string[], stdin: string) => runScript(script, args, { stdin, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
const lines = (file: string) => (existsSync(file) ? jsonLines(readFileSync(file, 'utf8')) : []);
let n = 0;
const files = () => {
  n++;
  return { output: join(dir, `out-${n}.jsonl`), deadLetter: join(dir, `dead-${n}.jsonl`), metrics: join(dir, `metrics-${n}.prom`) };
};

async function withServer(t: Test, options: Parameters<typeof startLlamaServer>[0]): Promise<LlamaServer> {
  const server = await startLlamaServer(options);
  t.teardown(() => server.stop());
  return server;
}

t.test('kg against llama-server: one schema-valid line per document, ids from the input', async (t) => {
  const server = await withServer(t, {});
  const f = files();
  const res = await run('pipelines/kg.js', ['--base-url', server.baseUrl, '--model', 'tiny', '--output', f.output, '--dead-letter', f.deadLetter], corpus);
  t.equal(res.code, 0, res.stderr);
  const out = lines(f.output);
  t.same(
    out.map((o) => o.id),
    docs.map((d) => d.id),
  );
  for (const o of out) t.ok(validResult(o), `${o.id} valid: ${ajv.errorsText(validResult.errors)}`);
  t.same(lines(f.deadLetter), []);
});

t.test("embed against llama-server --embeddings: one vector per document, of the model's width", async (t) => {
  const server = await withServer(t, { embeddings: true });
  const f = files();
  const res = await run('pipelines/embed.js', ['--base-url', server.baseUrl, '--model', 'tiny', '--output', f.output, '--dead-letter', f.deadLetter], corpus);
  t.equal(res.code, 0, res.stderr);
  const out = lines(f.output) as { id: string; embedding: number[] }[];
  t.same(
    out.map((o) => o.id),
    docs.map((d) => d.id),
  );
  for (const o of out) {
    t.equal(o.embedding.length, MODEL_DIMENSIONS, `${o.id} has ${MODEL_DIMENSIONS} dimensions`);
    t.ok(
      o.embedding.every((x) => Number.isFinite(x)),
      `${o.id}: finite numbers`,
    );
  }
  t.same(lines(f.deadLetter), []);
});

t.test('embed against a server without --embeddings (HTTP 501) stops as fatal, naming the status and the URL', async (t) => {
  const server = await withServer(t, {});
  const f = files();
  const res = await run('pipelines/embed.js', ['--base-url', server.baseUrl, '--model', 'tiny', '--output', f.output, '--dead-letter', f.deadLetter], corpus);
  t.equal(res.code, 1, res.stderr);
  t.match(res.stderr, /HTTP 501/);
  t.match(res.stderr, `${server.baseUrl}/embeddings`);
  t.match(res.stderr, /--embeddings/, "the server's own advice reaches the user");
  t.same(lines(f.deadLetter), [], 'nothing dead-lettered');
  t.same(lines(f.output), []);
  t.match(res.stderr, /0 retries, 0 splits/, 'not retried as transient');
});

t.test("a pack over the server's context (exceed_context_size_error) is split, not refused", async (t) => {
  // One slot of 2048 tokens: a single news document fits (about 1,300 of the model's tokens with
  // the prompt), a pack of two does not; and one document is too large even alone.
  const server = await withServer(t, { ctxSize: 2048, parallel: 1 });
  const long = { id: 'too-long', text: Array.from({ length: 12 }, () => docs[0]!.text).join(' ') };
  const f = files();
  const input = corpus + JSON.stringify(long) + '\n';
  const res = await run('pipelines/kg.js', ['--base-url', server.baseUrl, '--model', 'tiny', '--output', f.output, '--dead-letter', f.deadLetter, '--max-retries', '0'], input);
  t.equal(res.code, 0, res.stderr);
  t.same(
    lines(f.output).map((o) => o.id),
    docs.map((d) => d.id),
    'every document that fits alone has its result',
  );
  const dead = lines(f.deadLetter);
  t.equal(dead.length, 1);
  t.match(dead[0], { id: 'too-long', stage: 'extract', code: 'EXTRACT_FAILED', reason: /context length exceeded \(HTTP 400\).*exceeds the available context size.*\[E_SPLIT_REQUIRED\]/ });
  t.ok(validDeadLetter(dead[0]), ajv.errorsText(validDeadLetter.errors));
  t.match(res.stderr, /0 retries, [1-9]\d* splits/, 'split at once, no retry of what cannot fit');
});

t.test('a server still loading its model (HTTP 503) is waited out, not dead-lettered', async (t) => {
  // Held mid-load until sluice has connected; --max-retries 0: a 503 counted as a failed attempt
  // would split the pack down to single documents and dead-letter them.
  const server = await withServer(t, { holdWhileLoading: true });
  const f = files();
  const pipeline = run(
    'pipelines/kg.js',
    ['--base-url', server.baseUrl, '--model', 'tiny', '--output', f.output, '--dead-letter', f.deadLetter, '--max-retries', '0', '--metrics-file', f.metrics],
    corpus,
  );
  await server.resumeOnRequest();
  const res = await pipeline;
  t.equal(res.code, 0, res.stderr);
  t.same(
    lines(f.output).map((o) => o.id),
    docs.map((d) => d.id),
  );
  t.same(lines(f.deadLetter), []);
  const loading = /^sluice_requests_total\{status="503"\} (\d+)$/m.exec(readFileSync(f.metrics, 'utf8'));
  t.ok(loading && Number(loading[1]) >= 1, `sluice met the server loading (503): ${loading?.[0] ?? 'no 503 counted'}`);
  t.match(res.stderr, /0 retries, 0 splits/);
});
