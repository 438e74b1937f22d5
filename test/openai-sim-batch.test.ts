/**
 * The simulator's Files and Batches endpoints, driven with the real openai SDK: object shapes and
 * statuses, answers equal to the live endpoint's, shuffled order, error lines, expiry, the
 * enqueued-token limit, cancel, cursor paging, and the /stats counters.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import OpenAI, { toStreamingFile } from 'openai';
import { Readable } from 'node:stream';
import { acquireTokenTools, startSimulator, type Simulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { responseFormat } from '../lib/llm/kg-answer.js';
import { documentBlock, systemPrompt } from '../lib/llm/kg-prompt.js';

const MODEL = 'gpt-4.1-mini';
const held = acquireTokenTools(['o200k_base']);
t.teardown(() => held.release());
const news: { id: string; text: string }[] = readFileSync(new URL('../examples/news.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { id: string; text: string });

async function sim(t: { teardown(fn: () => unknown): void }, options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ batchLatencyMs: 100, ...options });
  t.teardown(() => s.close());
  return s;
}

const client = (s: Simulator) => new OpenAI({ apiKey: 'sk-test', baseURL: s.url, maxRetries: 0, timeout: 10_000 });

function chatBody(i: number) {
  const d = news[i % news.length]!;
  return {
    model: MODEL,
    messages: [
      { role: 'system' as const, content: systemPrompt() },
      { role: 'user' as const, content: documentBlock('D1', d.text) },
    ],
    response_format: responseFormat(),
    temperature: 0,
    max_tokens: 4096,
  };
}

function inputFile(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: chatBody(i) })).join('\n') + '\n';
}

async function upload(c: OpenAI, text: string, name = 'in.jsonl') {
  // Streamed, as sluice uploads (openai >= 6.47).
  return c.files.create({ file: toStreamingFile(Readable.from([Buffer.from(text)]), name), purpose: 'batch' });
}

/** The HTTP status a call was refused with. */
async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  return p.then(
    () => undefined,
    (e: { status?: number }) => e.status,
  );
}

async function settle(c: OpenAI, id: string) {
  const seen = new Set<string>();
  for (;;) {
    const b = await c.batches.retrieve(id);
    seen.add(b.status);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(b.status)) return { batch: b, seen };
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function lines(c: OpenAI, fileId: string | null | undefined): Promise<any[]> {
  if (!fileId) return [];
  const text = await (await c.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

t.test('upload, create, poll, download: real shapes, answers equal to the live endpoint, shuffled', async (t) => {
  const s = await sim(t, { batchLatencyMs: 300 });
  const c = client(s);
  const n = 12;
  const file = await upload(c, inputFile(n));
  t.match(file, { object: 'file', purpose: 'batch', status: 'processed', filename: 'in.jsonl', bytes: Buffer.byteLength(inputFile(n)) });
  t.match(await c.files.retrieve(file.id), { id: file.id });
  const created = await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'x' } });
  t.match(created, { object: 'batch', status: 'validating', endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'x' }, output_file_id: null, error_file_id: null });
  const { batch, seen } = await settle(c, created.id);
  t.equal(batch.status, 'completed');
  t.ok(seen.has('in_progress'), 'seen in progress');
  t.same(batch.request_counts, { total: n, completed: n, failed: 0 });
  t.equal(batch.error_file_id, null);
  t.ok(batch.completed_at && batch.in_progress_at && batch.finalizing_at);
  const out = await lines(c, batch.output_file_id);
  t.equal(out.length, n);
  t.notSame(
    out.map((l) => l.custom_id),
    out.map((_, i) => `r${i}`),
    'answers come back shuffled',
  );
  for (const l of out) {
    const i = Number(l.custom_id.slice(1));
    const live = await c.chat.completions.create(chatBody(i));
    t.equal(l.response.status_code, 200);
    t.equal(l.error, null);
    t.equal(l.response.body.choices[0].message.content, live.choices[0]!.message.content, `${l.custom_id}: same answer as live`);
    t.same(l.response.body.usage, live.usage);
  }
  const st = s.stats();
  t.match(st.batch, { filesUploaded: 1, batchesCreated: 1, linesProcessed: n, linesFailed: 0 });
});

t.test('a share of lines goes to the error file as server errors', async (t) => {
  const s = await sim(t, { batchFaultRate: 0.3, seed: 3 });
  const c = client(s);
  const file = await upload(c, inputFile(30));
  const { batch } = await settle(c, (await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
  t.equal(batch.status, 'completed');
  const out = await lines(c, batch.output_file_id);
  const err = await lines(c, batch.error_file_id);
  t.ok(err.length > 0 && err.length < 30, `${err.length} error lines`);
  t.equal(out.length + err.length, 30);
  t.same(batch.request_counts, { total: 30, completed: out.length, failed: err.length });
  t.match(err[0], { custom_id: String, response: { status_code: 500, body: { error: { type: 'server_error' } } }, error: null });
});

t.test('expiry with part done: completed answers kept, the rest batch_expired', async (t) => {
  const s = await sim(t, { batchExpire: 0.5 });
  const c = client(s);
  const file = await upload(c, inputFile(10));
  const { batch } = await settle(c, (await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
  t.equal(batch.status, 'expired');
  t.ok(batch.expired_at);
  t.equal((await lines(c, batch.output_file_id)).length, 5);
  const err = await lines(c, batch.error_file_id);
  t.equal(err.length, 5);
  t.match(err[0], { response: null, error: { code: 'batch_expired' } });
});

t.test('the enqueued-token limit fails a batch with token_limit_exceeded', async (t) => {
  const s = await sim(t, { batchMaxTokens: 20_000 });
  const c = client(s);
  const file = await upload(c, inputFile(10));
  const { batch } = await settle(c, (await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
  t.equal(batch.status, 'failed');
  t.match(batch.errors?.data?.[0], { code: 'token_limit_exceeded', message: /Enqueued token limit/ });
  const small = await upload(c, inputFile(2));
  const ok = await settle(c, (await c.batches.create({ input_file_id: small.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
  t.equal(ok.batch.status, 'completed', 'a smaller file fits');
});

t.test('validation: a bad line fails the batch with its line number; bad create parameters are 400', async (t) => {
  const s = await sim(t);
  const c = client(s);
  const file = await upload(c, `${inputFile(1)}{"custom_id": "x"\n`);
  const { batch } = await settle(c, (await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
  t.equal(batch.status, 'failed');
  t.match(batch.errors?.data?.[0], { code: 'invalid_json_line', line: 2 });
  t.equal(await statusOf(c.batches.create({ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' })), 404);
  t.equal(await statusOf(c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '1h' as '24h' })), 400);
  t.equal(await statusOf(c.files.create({ file: toStreamingFile(Readable.from([Buffer.from('x')]), 'a.txt'), purpose: 'batch' })), 400);
});

t.test('cancel keeps what is done; list pages newest first with after', async (t) => {
  const s = await sim(t, { batchLatencyMs: 2000 });
  const c = client(s);
  const file = await upload(c, inputFile(20));
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await c.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { n: String(i) } })).id);
  await new Promise((r) => setTimeout(r, 400));
  const cancelling = await c.batches.cancel(ids[0]!);
  t.equal(cancelling.status, 'cancelling');
  const { batch } = await settle(c, ids[0]!);
  t.equal(batch.status, 'cancelled');
  const out = await lines(c, batch.output_file_id);
  const err = await lines(c, batch.error_file_id);
  t.equal(out.length + err.length, 20);
  t.ok(err.some((l) => l.error?.code === 'batch_cancelled'));
  const page1 = await c.batches.list({ limit: 2 });
  t.same(
    page1.data.map((b) => b.id),
    [ids[2], ids[1]],
    'newest first',
  );
  t.equal(page1.hasNextPage(), true);
  const all: string[] = [];
  for await (const b of c.batches.list({ limit: 2 })) all.push(b.id);
  t.same(all, [...ids].reverse(), 'auto-paging with after');
  for (const id of ids.slice(1)) await c.batches.cancel(id);
});

t.test('embeddings batches answer as the live endpoint', async (t) => {
  const s = await sim(t);
  const c = client(s);
  const body = { model: 'text-embedding-3-small', input: ['alpha beta', 'gamma'], encoding_format: 'base64' as const };
  const file = await upload(c, `${JSON.stringify({ custom_id: 'e1', method: 'POST', url: '/v1/embeddings', body })}\n`);
  const { batch } = await settle(c, (await c.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' })).id);
  t.equal(batch.status, 'completed');
  const [line] = await lines(c, batch.output_file_id);
  const live = await c.embeddings.create(body);
  t.same(
    line.response.body.data.map((d: { embedding: unknown }) => d.embedding),
    live.data.map((d) => d.embedding),
  );
});
