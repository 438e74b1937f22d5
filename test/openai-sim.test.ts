import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { get_encoding } from 'tiktoken';
import { acquireTokenTools, startSimulator, formatDuration, type FaultKind, type Simulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { responseFormat, type Answer } from '../lib/llm/kg-answer.js';
import { documentBlock, systemPrompt } from '../lib/llm/kg-prompt.js';
import { extractEntities } from '../lib/ner/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MODEL = 'gpt-4.1-mini';
const news: { id: string; text: string }[] = readFileSync(new URL('../examples/news.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { id: string; text: string });
const DOCS = news.slice(0, 3).map((d) => ({ id: d.id, text: d.text }));

// The reference counts, computed here independently of the simulator.
const o200k = get_encoding('o200k_base');
const cl100k = get_encoding('cl100k_base');
// Keeps the simulators' shared encoders loaded between the many simulators of this file.
const held = acquireTokenTools(['o200k_base', 'cl100k_base']);
t.teardown(() => {
  held.release();
  o200k.free();
  cl100k.free();
});
const count = (text: string, enc = o200k) => enc.encode_ordinary(text).length;

/** What the helpers need of a tap test. */
interface HasTeardown {
  teardown(fn: () => unknown): void;
}

async function sim(t: HasTeardown, options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator(options);
  t.teardown(() => s.close());
  return s;
}

function client(s: Simulator, timeout = 10_000): OpenAI {
  return new OpenAI({ apiKey: 'sk-test', baseURL: s.url, maxRetries: 0, timeout });
}

function packMessages(docs: readonly { id: string; text: string }[]) {
  return [
    { role: 'system' as const, content: systemPrompt() },
    { role: 'user' as const, content: docs.map((d) => documentBlock(d.id, d.text)).join('') },
  ];
}

function ask(c: OpenAI, docs: readonly { id: string; text: string }[], extra: { max_tokens?: number; response_format?: ReturnType<typeof responseFormat> } = {}) {
  return c.chat.completions.create({
    model: MODEL,
    messages: packMessages(docs),
    response_format: extra.response_format ?? responseFormat(),
    temperature: 0,
    ...(extra.max_tokens !== undefined && { max_tokens: extra.max_tokens }),
  });
}

function expectedDocument(id: string, text: string, entityTypes?: readonly string[], relationTypes?: readonly string[]) {
  const x = extractEntities(text);
  const entities = x.entities.filter((e) => !entityTypes || entityTypes.includes(e.type)).map((e) => ({ name: e.name, type: e.type, mentions: e.mentions }));
  const names = new Set(entities.map((e) => e.name));
  const relations = x.relations
    .filter((r) => (!relationTypes || relationTypes.includes(r.type)) && names.has(r.source) && names.has(r.target))
    .map((r) => ({ source: r.source, target: r.target, type: r.type }));
  return { id, entities, relations };
}

/** Exact equality of two number arrays (tap's deep compare is slow on long arrays). */
function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

const RATE_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
];
const DURATION = /^(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)$/;

t.test('happy path: each document answered under its own id with the extractor findings; usage as tiktoken counts it', async (t) => {
  const s = await sim(t);
  const { data: completion, response } = await ask(client(s), DOCS).withResponse();
  t.equal(response.status, 200);
  t.match(completion.id, /^chatcmpl-/);
  t.equal(completion.object, 'chat.completion');
  t.equal(completion.model, MODEL);
  const choice = completion.choices[0]!;
  t.equal(choice.finish_reason, 'stop');
  t.equal(choice.message.role, 'assistant');
  t.equal(choice.message.refusal, null);
  const content = choice.message.content!;
  const answer = JSON.parse(content) as Answer;
  t.same(
    answer.documents.map((d) => d.id),
    DOCS.map((d) => d.id),
    'one answer per document, in order',
  );
  for (const d of DOCS) {
    const got = answer.documents.find((a) => a.id === d.id)!;
    t.strictSame(got, expectedDocument(d.id, d.text), `${d.id}: its own entities and relations`);
    t.ok(got.entities.length > 0, `${d.id} has entities`);
  }
  const messages = packMessages(DOCS);
  const promptTokens = messages.reduce((n, m) => n + count(m.content) + 4, 3);
  t.has(completion.usage, { prompt_tokens: promptTokens, completion_tokens: count(content), total_tokens: promptTokens + count(content) }, 'usage');
  for (const h of RATE_HEADERS) t.equal(response.headers.get(h), null, `no ${h} without limits`);
  t.match(s.stats(), { requests: 1, byStatus: { '200': 1 }, promptTokens, completionTokens: count(content), faults: {}, rateLimited: 0 });
  t.ok(s.stats().admittedTokens >= promptTokens + count(content), 'what the rate limit was charged is counted');
  t.equal(s.stats().answeredAdmittedTokens, s.stats().admittedTokens, 'and, the request answered, counted again beside its billed tokens');
});

t.test('content as an array of text parts; a narrower schema keeps only its types', async (t) => {
  const s = await sim(t);
  const user = DOCS.map((d) => documentBlock(d.id, d.text)).join('');
  const half = Math.floor(user.length / 2);
  const completion = await client(s).chat.completions.create({
    model: MODEL,
    messages: [
      { role: 'system', content: [{ type: 'text', text: systemPrompt(['person'], ['affiliated_with']) }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: user.slice(0, half) },
          { type: 'text', text: user.slice(half) },
        ],
      },
    ],
    response_format: responseFormat(['person'], ['affiliated_with']),
  });
  const answer = JSON.parse(completion.choices[0]!.message.content!) as Answer;
  for (const d of DOCS)
    t.strictSame(
      answer.documents.find((a) => a.id === d.id),
      expectedDocument(d.id, d.text, ['person'], ['affiliated_with']),
      d.id,
    );
  t.ok(answer.documents.every((d) => d.entities.every((e) => e.type === 'person')));
  t.ok(answer.documents.some((d) => d.entities.length > 0));
  const promptTokens = count(systemPrompt(['person'], ['affiliated_with'])) + count(user) + 2 * 4 + 3;
  t.equal(completion.usage!.prompt_tokens, promptTokens, 'parts count as their joined text');
});

t.test('max_tokens below the answer: cut at max_tokens, finish_reason length', async (t) => {
  const s = await sim(t);
  const completion = await ask(client(s), DOCS, { max_tokens: 12 });
  t.equal(completion.choices[0]!.finish_reason, 'length');
  t.equal(completion.usage!.completion_tokens, 12);
  t.throws(() => JSON.parse(completion.choices[0]!.message.content!));
  const stats = s.stats();
  t.equal(stats.cutAnswers, 1, 'the cut answer is counted');
  t.equal(stats.cutCompletionTokens, 12);
  t.equal(stats.cutPromptTokens, completion.usage!.prompt_tokens);
  await ask(client(s), DOCS);
  t.equal(s.stats().cutAnswers, 1, 'a whole answer is not');
});

t.test('latency: fixed + per completion token, and concurrent requests overlap', async (t) => {
  const s = await sim(t, { latencyMs: 300, msPerToken: 1 });
  const c = client(s);
  const started = performance.now();
  const all = await Promise.all(Array.from({ length: 8 }, () => ask(c, DOCS.slice(0, 1))));
  const elapsed = performance.now() - started;
  const minimum = 300 + all[0]!.usage!.completion_tokens;
  t.ok(elapsed >= minimum - 5, `waited ${elapsed.toFixed(0)} ms >= ${minimum}`);
  t.ok(elapsed < 3 * minimum, `8 concurrent requests overlapped (${elapsed.toFixed(0)} ms; one after another would take ${8 * minimum})`);
});

t.test('faults, one kind at a time', async (t) => {
  const faulty = async (t: HasTeardown, kind: FaultKind, timeout?: number) => {
    const s = await sim(t, { faultRate: 1, faults: [kind] });
    return { s, c: client(s, timeout) };
  };

  for (const status of ['500', '502', '503'] as const) {
    t.test(status, async (t) => {
      const { s, c } = await faulty(t, status);
      const err = await errorOf(ask(c, DOCS));
      t.type(err, InternalServerError);
      t.equal((err as InternalServerError).status, Number(status));
      t.equal(((err as InternalServerError).error as { type?: string }).type, 'server_error');
      t.same(s.stats().faults, { [status]: 1 });
      t.same(s.stats().byStatus, { [status]: 1 });
    });
  }

  t.test('hang: nothing comes back, the client times out', async (t) => {
    const { s, c } = await faulty(t, 'hang', 300);
    const started = performance.now();
    const err = await errorOf(ask(c, DOCS));
    t.type(err, APIConnectionTimeoutError);
    t.ok(performance.now() - started >= 290, 'after the client timeout');
    t.same(s.stats().faults, { hang: 1 });
    t.same(s.stats().byStatus, {});
  });

  t.test('reset: the connection is reset without a response', async (t) => {
    const { s, c } = await faulty(t, 'reset');
    const err = await errorOf(ask(c, DOCS));
    t.type(err, APIConnectionError);
    t.notOk(err instanceof APIConnectionTimeoutError, 'not a timeout');
    t.same(s.stats().faults, { reset: 1 });
  });

  t.test('malformed: 200 whose content is not JSON', async (t) => {
    const { s, c } = await faulty(t, 'malformed');
    const completion = await ask(c, DOCS);
    t.equal(completion.choices[0]!.finish_reason, 'stop');
    const content = completion.choices[0]!.message.content!;
    t.throws(() => JSON.parse(content));
    t.ok(content.length > 10);
    t.equal(completion.usage!.completion_tokens, count(content));
    t.same(s.stats().faults, { malformed: 1 });
  });

  t.test('truncated: finish_reason length, content cut short', async (t) => {
    const { s, c } = await faulty(t, 'truncated');
    const completion = await ask(c, DOCS);
    t.equal(completion.choices[0]!.finish_reason, 'length');
    const content = completion.choices[0]!.message.content!;
    t.throws(() => JSON.parse(content));
    const full = JSON.stringify({ documents: DOCS.map((d) => expectedDocument(d.id, d.text)) });
    t.ok(full.startsWith(content) && content.length < full.length, 'a strict prefix of the full answer');
    t.equal(completion.usage!.completion_tokens, count(content));
    t.same(s.stats().faults, { truncated: 1 });
  });

  t.test('omit: valid JSON missing one document of the pack; a single document is answered normally', async (t) => {
    const { s, c } = await faulty(t, 'omit');
    const answer = JSON.parse((await ask(c, DOCS)).choices[0]!.message.content!) as Answer;
    t.equal(answer.documents.length, 2);
    const ids = DOCS.map((d) => d.id);
    t.ok(answer.documents.every((d) => ids.includes(d.id)));
    for (const d of answer.documents) t.strictSame(d, expectedDocument(d.id, DOCS.find((x) => x.id === d.id)!.text), `${d.id} still right`);
    const single = JSON.parse((await ask(c, DOCS.slice(0, 1))).choices[0]!.message.content!) as Answer;
    t.strictSame(single, { documents: [expectedDocument(DOCS[0]!.id, DOCS[0]!.text)] });
    t.same(s.stats().faults, { omit: 1 });
  });

  t.test('invent: valid JSON with an extra document under an id never sent', async (t) => {
    const { s, c } = await faulty(t, 'invent');
    const answer = JSON.parse((await ask(c, DOCS)).choices[0]!.message.content!) as Answer;
    t.equal(answer.documents.length, DOCS.length + 1);
    const ids = DOCS.map((d) => d.id);
    const extra = answer.documents.filter((d) => !ids.includes(d.id));
    t.equal(extra.length, 1, 'one invented id');
    for (const d of DOCS)
      t.strictSame(
        answer.documents.find((a) => a.id === d.id),
        expectedDocument(d.id, d.text),
      );
    t.same(s.stats().faults, { invent: 1 });
  });
});

t.test('fault draws are reproducible from the seed and follow the rate', async (t) => {
  const outcomes = async (seed: number) => {
    const s = await startSimulator({ faultRate: 0.5, faults: ['500', '503', 'malformed', 'omit', 'invent'], seed });
    const c = client(s);
    const seen: string[] = [];
    try {
      for (let i = 0; i < 24; i++) {
        try {
          const completion = await ask(c, DOCS);
          const content = completion.choices[0]!.message.content!;
          let shape: string;
          try {
            shape = `docs:${(JSON.parse(content) as Answer).documents.length}`;
          } catch {
            shape = 'bad-json';
          }
          seen.push(shape);
        } catch (err) {
          seen.push(`status:${(err as InternalServerError).status}`);
        }
      }
      return { seen, stats: s.stats() };
    } finally {
      await s.close();
    }
  };
  const a = await outcomes(7);
  const b = await outcomes(7);
  const other = await outcomes(8);
  t.same(a.seen, b.seen, 'same seed, same faults');
  t.notSame(a.seen, other.seen, 'another seed, other faults');
  const faults = Object.values(a.stats.faults).reduce((x, y) => x + y, 0);
  t.ok(faults >= 5 && faults <= 19, `about half the requests faulted (${faults}/24)`);
  t.equal(a.seen.filter((x) => x === 'docs:3').length, 24 - faults, 'the others are complete');
});

t.test('429 over rpm: OpenAI error body, all rate-limit headers, both retry-after forms; a refusal takes no budget', async (t) => {
  const s = await sim(t, { rpm: 2, tpm: 1_000_000 });
  const c = client(s);
  const first = await ask(c, DOCS.slice(0, 1)).withResponse();
  for (const h of RATE_HEADERS) t.ok(first.response.headers.get(h), `200 has ${h}`);
  t.equal(first.response.headers.get('x-ratelimit-limit-requests'), '2');
  t.equal(first.response.headers.get('x-ratelimit-remaining-requests'), '1');
  t.match(first.response.headers.get('x-ratelimit-reset-requests')!, DURATION);
  await ask(c, DOCS.slice(0, 1));
  const err = await errorOf(ask(c, DOCS.slice(0, 1)));
  t.type(err, RateLimitError);
  const e = err as RateLimitError;
  t.equal(e.status, 429);
  t.same({ ...(e.error as object), message: undefined }, { message: undefined, type: 'requests', param: null, code: 'rate_limit_exceeded' });
  t.match(
    (e.error as { message: string }).message,
    /^Rate limit reached for gpt-4\.1-mini in organization \S+ on requests per min \(RPM\): Limit 2, Used 2, Requested 1\. Please try again in \d+(\.\d+)?s\./,
  );
  for (const h of RATE_HEADERS) t.ok(e.headers!.get(h), `429 has ${h}`);
  t.equal(e.headers!.get('x-ratelimit-remaining-requests'), '0');
  const ms = Number(e.headers!.get('retry-after-ms'));
  const seconds = e.headers!.get('retry-after')!;
  t.match(seconds, /^\d+$/, 'retry-after in whole seconds');
  t.ok(ms > 25_000 && ms <= 30_000, `retry-after-ms ~30 s (${ms})`);
  t.equal(Number(seconds), Math.ceil(ms / 1000), 'retry-after rounded up');
  t.match(e.headers!.get('x-ratelimit-reset-requests')!, /^5\d(\.\d+)?s$/, 'reset-requests: the time until both requests are back (~60 s)');
  t.equal(s.stats().rateLimited, 1);
  t.same(s.stats().byStatus, { '200': 2, '429': 1 });
  const again = await errorOf(ask(c, DOCS.slice(0, 1)));
  t.equal((again as RateLimitError).headers!.get('x-ratelimit-remaining-requests'), '0', 'the refused request took nothing: still 0, not negative');
  t.ok(Number((again as RateLimitError).headers!.get('retry-after-ms')) <= ms, 'the wait did not grow');
});

t.test('429 over tpm counts prompt + max_tokens; waiting retry-after-ms is enough', async (t) => {
  const tpm = 60_000;
  const s = await sim(t, { tpm });
  const c = client(s);
  const prompt = packMessages(DOCS.slice(0, 1)).reduce((n, m) => n + count(m.content) + 4, 3);
  const first = await ask(c, DOCS.slice(0, 1), { max_tokens: tpm - prompt - 100 }).withResponse();
  const remaining = Number(first.response.headers.get('x-ratelimit-remaining-tokens'));
  t.ok(remaining >= 100 && remaining < 130, `prompt + max_tokens taken (remaining ${remaining})`);
  t.equal(first.response.headers.get('x-ratelimit-limit-tokens'), String(tpm));
  t.equal(first.response.headers.get('x-ratelimit-limit-requests'), null, 'no request headers without rpm');
  const err = (await errorOf(ask(c, DOCS.slice(0, 1), { max_tokens: 300 }))) as RateLimitError;
  t.type(err, RateLimitError);
  t.equal((err.error as { type: string }).type, 'tokens');
  t.equal((err.error as { code: string }).code, 'rate_limit_exceeded');
  t.match((err.error as { message: string }).message, new RegExp(`on tokens per min \\(TPM\\): Limit ${tpm}, Used \\d+, Requested ${prompt + 300}\\. Please try again in \\d+ms\\.`));
  const wait = Number(err.headers!.get('retry-after-ms'));
  t.ok(wait > 0 && wait <= 400, `retry-after-ms ${wait}`);
  t.equal(err.headers!.get('retry-after'), '1');
  for (const h of ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens']) t.ok(err.headers!.get(h), h);
  await new Promise((r) => setTimeout(r, wait));
  const retried = await ask(c, DOCS.slice(0, 1), { max_tokens: 300 });
  t.equal(retried.choices[0]!.finish_reason, 'stop', 'admitted after the advertised wait');

  const tooLarge = (await errorOf(ask(c, DOCS.slice(0, 1), { max_tokens: tpm }))) as RateLimitError;
  t.type(tooLarge, RateLimitError);
  t.match((tooLarge.error as { message: string }).message, /^Request too large for gpt-4\.1-mini .* on tokens per min \(TPM\): Limit 60000, Requested \d+\./);
  t.equal(tooLarge.headers!.get('retry-after'), null, 'no retry hint when waiting cannot help');
});

t.test('a client pacing itself to the headers gets >= 90% of tpm with <= 1% 429s', async (t) => {
  const tpm = 120_000;
  const s = await sim(t, { tpm });
  const c = client(s);
  // Empty the bucket (it starts with a full minute) so what follows is the sustained rate.
  const drainPrompt = packMessages([{ id: 'x', text: 'Hello.' }]).reduce((n, m) => n + count(m.content) + 4, 3);
  const drained = await ask(c, [{ id: 'x', text: 'Hello.' }], { max_tokens: tpm - drainPrompt - 5 }).withResponse();
  let remaining = Number(drained.response.headers.get('x-ratelimit-remaining-tokens'));
  let at = performance.now();
  const input = 'Angela Merkel met Emmanuel Macron in Paris to discuss trade, energy and the budget of the European Union.';
  const cost = count(input, cl100k) * 2;
  const perMs = tpm / 60_000;
  const durationMs = 2500;
  const start = performance.now();
  let accepted = 0;
  let requests = 0;
  let limited = 0;
  while (performance.now() - start < durationMs) {
    const expected = remaining + (performance.now() - at) * perMs;
    if (expected < cost) await new Promise((r) => setTimeout(r, Math.ceil((cost - expected) / perMs)));
    requests++;
    try {
      const { response } = await c.embeddings.create({ model: 'text-embedding-3-small', input: [input, input] }).withResponse();
      remaining = Number(response.headers.get('x-ratelimit-remaining-tokens'));
      at = performance.now();
      accepted += cost;
    } catch (err) {
      t.type(err, RateLimitError);
      limited++;
      await new Promise((r) => setTimeout(r, Number((err as RateLimitError).headers!.get('retry-after-ms'))));
    }
  }
  const elapsed = performance.now() - start;
  const share = accepted / (perMs * elapsed);
  t.ok(share >= 0.9, `${(share * 100).toFixed(1)}% of the sustained tpm (${accepted} tokens in ${elapsed.toFixed(0)} ms)`);
  t.ok(limited <= requests * 0.01, `${limited} of ${requests} requests answered 429`);
  t.ok(requests >= 50, `${requests} requests`);
});

t.test('context_length_exceeded on prompts (chat) and inputs (embeddings) over contextTokens', async (t) => {
  const s = await sim(t, { contextTokens: 200 });
  const c = client(s);
  const err = (await errorOf(ask(c, DOCS))) as BadRequestError;
  t.type(err, BadRequestError);
  t.equal(err.status, 400);
  const prompt = packMessages(DOCS).reduce((n, m) => n + count(m.content) + 4, 3);
  t.same(err.error, {
    message: `This model's maximum context length is 200 tokens. However, your messages resulted in ${prompt} tokens. Please reduce the length of the messages.`,
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  });
  const e2 = (await errorOf(
    c.embeddings.create({
      model: 'text-embedding-3-small',
      input: [
        'short',
        DOCS.map((d) => d.text)
          .join(' ')
          .repeat(3),
      ],
    }),
  )) as BadRequestError;
  t.type(e2, BadRequestError);
  t.equal((e2.error as { code: string }).code, 'context_length_exceeded');
  const ok = await ask(c, [{ id: 'tiny', text: 'Paris.' }]);
  t.equal(ok.choices[0]!.finish_reason, 'stop', 'a prompt under the limit is answered');
  t.same(s.stats().byStatus, { '400': 2, '200': 1 });
});

t.test('embeddings: deterministic, unit length, dimensions honoured, SDK default base64 decoded', async (t) => {
  const s = await sim(t);
  const c = client(s);
  const texts = ['Angela Merkel met Emmanuel Macron in Paris.', 'Emmanuel Macron met Angela Merkel in Berlin.', 'The weather stayed mild for most of the week.'];
  const viaBase64 = await c.embeddings.create({ model: 'text-embedding-3-small', input: texts }); // the SDK asks for base64 and decodes
  const viaFloat = await c.embeddings.create({ model: 'text-embedding-3-small', input: texts, encoding_format: 'float' });
  const again = await c.embeddings.create({ model: 'text-embedding-3-small', input: texts });
  t.equal(viaBase64.object, 'list');
  t.same(
    viaBase64.data.map((d) => [d.object, d.index]),
    texts.map((_, i) => ['embedding', i]),
  );
  t.equal(viaBase64.model, 'text-embedding-3-small');
  const tokens = texts.reduce((n, x) => n + count(x, cl100k), 0);
  t.same(viaBase64.usage, { prompt_tokens: tokens, total_tokens: tokens });
  for (const [i, d] of viaBase64.data.entries()) {
    t.equal(d.embedding.length, 1536);
    t.ok(sameNumbers(d.embedding, viaFloat.data[i]!.embedding), `base64 and float agree (${i})`);
    t.ok(sameNumbers(d.embedding, again.data[i]!.embedding), `deterministic (${i})`);
    const norm = Math.sqrt(d.embedding.reduce((a, x) => a + x * x, 0));
    t.ok(Math.abs(norm - 1) < 1e-5, `unit length (${norm})`);
  }
  const cos = (a: number[], b: number[]) => a.reduce((n, x, i) => n + x * b[i]!, 0);
  const [a, b, other] = viaBase64.data.map((d) => d.embedding) as [number[], number[], number[]];
  t.ok(cos(a, b) > cos(a, other) + 0.2, 'shared words, closer vectors');
  t.notOk(sameNumbers(a, b), 'different texts, different vectors');

  const short = await c.embeddings.create({ model: 'text-embedding-3-small', input: texts[0]!, dimensions: 256 });
  t.equal(short.data.length, 1);
  t.equal(short.data[0]!.embedding.length, 256);
  t.ok(Math.abs(Math.sqrt(short.data[0]!.embedding.reduce((n, x) => n + x * x, 0)) - 1) < 1e-5, 'shortened vector renormalised');
  const large = await c.embeddings.create({ model: 'text-embedding-3-large', input: 'x' });
  t.equal(large.data[0]!.embedding.length, 3072);

  const raw = await fetch(`${s.url}/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'text-embedding-3-small', input: texts[2], dimensions: 8, encoding_format: 'base64' }),
  });
  const body = (await raw.json()) as { data: { embedding: string }[] };
  const bytes = Buffer.from(body.data[0]!.embedding, 'base64');
  t.equal(bytes.length, 8 * 4, 'eight little-endian float32');
  const floats = Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(i * 4));
  const viaFloat8 = await c.embeddings.create({ model: 'text-embedding-3-small', input: texts[2]!, dimensions: 8, encoding_format: 'float' });
  t.ok(sameNumbers(floats, viaFloat8.data[0]!.embedding), 'the same floats as encoding_format float');
});

t.test('embeddings get transport faults only (and rate limits)', async (t) => {
  const s = await sim(t, { faultRate: 1, faults: ['omit', 'malformed', '503'] });
  const c = client(s);
  const err = await errorOf(c.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' }));
  t.type(err, InternalServerError);
  t.equal((err as InternalServerError).status, 503);
  const s2 = await sim(t, { faultRate: 1, faults: ['omit', 'invent', 'malformed', 'truncated'] });
  const ok = await client(s2).embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
  t.equal(ok.data[0]!.embedding.length, 1536, 'no applicable kind in the mix: answered normally');
  t.same(s2.stats().faults, {});
});

t.test('/stats and /stats/reset: outside /v1, never rate limited', async (t) => {
  const s = await sim(t, { rpm: 1 });
  const c = client(s);
  await ask(c, DOCS.slice(0, 1));
  await errorOf(ask(c, DOCS.slice(0, 1)));
  const base = s.url.replace(/\/v1$/, '');
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${base}/stats`);
    t.equal(r.status, 200);
    t.equal(r.headers.get('x-ratelimit-limit-requests'), null);
    const stats = (await r.json()) as { requests: number; byStatus: Record<string, number>; rateLimited: number; promptTokens: number };
    t.equal(stats.requests, 2, 'stats requests are not counted');
    t.same(stats.byStatus, { '200': 1, '429': 1 });
    t.equal(stats.rateLimited, 1);
    t.ok(stats.promptTokens > 0);
  }
  const reset = await fetch(`${base}/stats/reset`, { method: 'POST' });
  t.equal(reset.status, 200);
  t.same(((await reset.json()) as { requests: number }).requests, 2, 'reset answers with the stats before it');
  t.same(await (await fetch(`${base}/stats`)).json(), {
    requests: 0,
    byStatus: {},
    promptTokens: 0,
    completionTokens: 0,
    cutAnswers: 0,
    cutPromptTokens: 0,
    cutCompletionTokens: 0,
    faults: {},
    rateLimited: 0,
    admittedTokens: 0,
    answeredAdmittedTokens: 0,
    queued: 0,
    maxQueue: 0,
    batch: { filesUploaded: 0, batchesCreated: 0, linesProcessed: 0, linesFailed: 0, contentReads: 0 },
  });
  await errorOf(ask(c, DOCS.slice(0, 1)));
  t.equal(s.stats().requests, 1);
  s.reset();
  t.same(s.stats(), {
    requests: 0,
    byStatus: {},
    promptTokens: 0,
    completionTokens: 0,
    cutAnswers: 0,
    cutPromptTokens: 0,
    cutCompletionTokens: 0,
    faults: {},
    rateLimited: 0,
    admittedTokens: 0,
    answeredAdmittedTokens: 0,
    queued: 0,
    maxQueue: 0,
    batch: { filesUploaded: 0, batchesCreated: 0, linesProcessed: 0, linesFailed: 0, contentReads: 0 },
  });
});

t.test('anything else is a 404 with an OpenAI error body; bad bodies are 400; a revoked key is 401', async (t) => {
  const s = await sim(t);
  const base = s.url.replace(/\/v1$/, '');
  for (const [method, path] of [
    ['GET', '/v1/models'],
    ['POST', '/v1/completions'],
    ['GET', '/'],
    ['GET', '/v1/chat/completions'],
  ] as const) {
    const r = await fetch(`${base}${path}`, { method });
    t.equal(r.status, 404, `${method} ${path}`);
    t.same(await r.json(), { error: { message: `Invalid URL (${method} ${path})`, type: 'invalid_request_error', param: null, code: null } });
  }
  const bad = await fetch(`${s.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
  const revoked = new OpenAI({ apiKey: 'sk-revoked-1', baseURL: s.url, maxRetries: 0 });
  const err = await errorOf(ask(revoked, DOCS));
  t.type(err, AuthenticationError);
  t.notMatch(JSON.stringify((err as AuthenticationError).error), /sk-revoked/, 'the key is not echoed');
});

t.test('the server binds 127.0.0.1 only', async (t) => {
  const s = await sim(t);
  t.match(s.url, new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/v1$`));
  const tryConnect = (host: string) =>
    new Promise<string>((resolve) => {
      const socket = connect({ host, port: s.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
  t.equal(await tryConnect('127.0.0.1'), 'connected');
  // Tests send traffic to loopback only: a second loopback address shows the bind is not 0.0.0.0.
  t.equal(await tryConnect('127.0.0.2'), 'ECONNREFUSED', 'another loopback address is refused');
});

t.test('CLI: prints the base URL, serves, stops cleanly on SIGTERM; bad usage exits 2', async (t) => {
  const child = spawn(process.execPath, ['simulator/main.js', '--port', '0', '--rpm', '50', '--faults', '500,hang,omit', '--fault-rate', '0', '--seed', '7'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', () => reject(new Error('exited before listening')));
  });
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const { response } = await ask(new OpenAI({ apiKey: 'sk-test', baseURL: url, maxRetries: 0 }), DOCS.slice(0, 1)).withResponse();
  t.equal(response.headers.get('x-ratelimit-limit-requests'), '50');
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exit, 0, 'exit 0 after SIGTERM');

  const bad = spawn(process.execPath, ['simulator/main.js', '--faults', 'nope'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  bad.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => bad.once('exit', (c) => resolve(c)));
  t.equal(code, 2);
  t.match(stderr, /unknown kind "nope"/);
});

t.test('formatDuration writes durations as OpenAI does', async (t) => {
  t.equal(formatDuration(0), '0s');
  t.equal(formatDuration(19.2), '20ms');
  t.equal(formatDuration(1000), '1s');
  t.equal(formatDuration(6500), '6.5s');
  t.equal(formatDuration(360_000), '6m0s');
  t.equal(formatDuration(90_500), '1m30.5s');
  t.equal(formatDuration(3_600_000), '1h0m0s');
});

t.test('options are validated', async (t) => {
  await t.rejects(startSimulator({ faultRate: 2 }), RangeError);
  await t.rejects(startSimulator({ faults: ['boom' as FaultKind] }), RangeError);
  await t.rejects(startSimulator({ rpm: 0 }), RangeError);
});
