/**
 * Scale-out's pieces without a fleet: URLs and run ids checked and masked, the limiter's windows,
 * what crosses Redis (packs out, outcomes back) and what is refused, and the worker's command line.
 */
import t from 'tap';
import type { ChunkExtraction, Pack } from '../lib/runtime/records.js';
import { ErrorCode } from '../lib/runtime/errors.js';
import { checkRunId, deriveRunId, runKeys } from '../lib/scale/queue-names.js';
import { checkRedisUrl, maskRedisUrl } from '../lib/scale/redis.js';
import { jobToPack, outcomeToWire, packToJob, wireToOutcome } from '../lib/scale/pack-wire.js';
import { runSpec } from '../lib/scale/run-spec.js';
import { limiterFor } from '../lib/scale/worker.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { parseWorkerArgs } from '../pipelines/worker.js';
import { runScript } from './helpers/cli.js';

t.test('Redis URLs: passwords never printed, other schemes refused', async (t) => {
  t.equal(maskRedisUrl('redis://user:s3cret@host:6379/2'), 'redis://user:***@host:6379/2');
  t.equal(maskRedisUrl('rediss://:s3cret@host:6380'), 'rediss://:***@host:6380');
  t.equal(maskRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  t.notMatch(maskRedisUrl('not a url s3cret'), /s3cret/, 'an unparseable URL is not echoed');
  t.doesNotThrow(() => checkRedisUrl('rediss://user:pw@redis.internal:6380/0'));
  t.throws(() => checkRedisUrl('http://127.0.0.1:6379'), /must start with redis:\/\/ or rediss:\/\//);
  t.throws(() => checkRedisUrl('127.0.0.1:6379'), /must be a URL such as redis:\/\/127\.0\.0\.1:6379/);
  let refusal = '';
  try {
    checkRedisUrl('redis://u:s3cret@[bad');
  } catch (err) {
    refusal = (err as Error).message;
  }
  t.match(refusal, /must be a URL/);
  t.notMatch(refusal, /s3cret/, 'the refusal does not print the password');
});

t.test('run ids: checked for key and queue names, derived stably, different for different runs', async (t) => {
  t.equal(checkRunId('nightly-2026_11'), 'nightly-2026_11');
  for (const bad of ['', 'a:b', 'has space', 'x'.repeat(65)]) t.throws(() => checkRunId(bad), /--run-id must be 1-64 letters/, JSON.stringify(bad));
  const a = deriveRunId('kg', { model: 'm', maxDocs: 10 }, '/data/out.jsonl');
  t.equal(a, deriveRunId('kg', { model: 'm', maxDocs: 10 }, '/data/out.jsonl'), 'the same command derives the same id');
  t.not(a, deriveRunId('kg', { model: 'm', maxDocs: 4 }, '/data/out.jsonl'), 'other options: another run');
  t.not(a, deriveRunId('kg', { model: 'm', maxDocs: 10 }, '/data/other.jsonl'), 'another output: another run');
  t.match(a, /^kg-[0-9a-f]{16}$/);
  const keys = runKeys(a);
  t.ok(keys.queue.includes(a) && keys.spec.includes(a) && keys.budget.includes(a), 'every name carries the run id');
  t.notMatch(keys.queue, /:/, 'BullMQ refuses ":" in queue names');
});

t.test('the run spec leaves out what is local to the coordinator and never holds a key', async (t) => {
  const spec = runSpec('r1', 'kg', { model: 'm', cache: '/home/me/cache', redis: 'redis://:pw@h', runId: 'r1', queueHighWater: 8, baseUrl: 'http://127.0.0.1:8080/v1', summary: undefined });
  t.same(spec.options, { model: 'm', baseUrl: 'http://127.0.0.1:8080/v1' });
  t.notMatch(JSON.stringify(spec), /pw@|apiKey|OPENAI/);
});

t.test("BullMQ's limiter: windows of about a second that add up to --rpm", async (t) => {
  for (const rpm of [1, 30, 60, 300, 500, 10_000]) {
    const { max, duration } = limiterFor(rpm);
    t.ok(max >= 1 && duration >= 1, `rpm ${rpm}: ${max} per ${duration} ms`);
    t.ok((max * 60_000) / duration <= rpm, `rpm ${rpm}: never above the limit`);
    t.ok((max * 60_000) / duration >= rpm * 0.98, `rpm ${rpm}: not far below it`);
  }
  t.same(limiterFor(300), { max: 5, duration: 1000 });
});

t.test('a pack crosses Redis as text only and comes back joined to the real documents', async (t) => {
  const doc = { id: 'doc-7', seq: 7, line: 9, source: 'in.jsonl', meta: { lang: 'en', secret: 'not sent' } };
  const pack: Pack = { kind: 'pack', id: 'p7.0', tokens: 12, promptTokens: 40, chunks: [{ kind: 'chunk', doc, index: 0, count: 1, text: 'Ada Lovelace met Babbage.', tokens: 12 }] };
  const job = packToJob(pack);
  t.notMatch(JSON.stringify(job), /doc-7|secret|in\.jsonl/, 'no document id, meta or source in Redis');
  const there = jobToPack(JSON.parse(JSON.stringify(job)));
  t.equal(there.chunks[0]!.text, 'Ada Lovelace met Babbage.');
  t.equal(there.chunks[0]!.doc.seq, 7);

  const ctx = createRunContext();
  ctx.stats.requests = 2;
  ctx.stats.promptTokens = 40;
  const extraction: ChunkExtraction = { entities: [{ name: 'Ada Lovelace', type: 'person', mentions: 1 }], relations: [] };
  const wire = outcomeToWire({ kind: 'outcome', pack: there, extractions: new Map([['7:0', extraction]]), failed: new Map(), usage: { promptTokens: 40, completionTokens: 9 } }, ctx.stats);
  const back = wireToOutcome(pack, JSON.parse(JSON.stringify(wire)));
  t.equal(back.outcome.pack.chunks[0]!.doc.id, 'doc-7', "the coordinator's own pack, with the real document");
  t.same(back.outcome.extractions.get('7:0'), extraction);
  t.equal(back.counters.requests, 2);
  t.equal(back.counters.promptTokens, 40);
});

t.test('what is not a sluice pack or outcome is refused with the reason, not half-read', async (t) => {
  for (const bad of [null, {}, { id: 'p', tokens: 1, promptTokens: 1, chunks: [['x']] }, { id: 1, tokens: 1, promptTokens: 1, chunks: [] }]) {
    t.throws(() => jobToPack(bad), { code: ErrorCode.INTERNAL, message: /job data is not a sluice pack/ }, JSON.stringify(bad));
  }
  const pack: Pack = { kind: 'pack', id: 'p1.0', tokens: 1, promptTokens: 1, chunks: [] };
  for (const bad of [null, { extractions: [] }, { extractions: [], failed: [], usage: {}, counters: null }]) {
    t.throws(() => wireToOutcome(pack, bad), { code: ErrorCode.INTERNAL, message: /the result of pack p1\.0 is not a sluice outcome/ }, JSON.stringify(bad));
  }
});

t.test("the worker's command line: bad input is a usage error naming the flag", async (t) => {
  t.throws(() => parseWorkerArgs([]), /--redis URL is required/);
  t.throws(() => parseWorkerArgs(['--redis', 'http://h:6379']), /must start with redis:\/\//);
  t.throws(() => parseWorkerArgs(['--redis', 'redis://h:6379', '--run-id', 'a:b']), /--run-id must be/);
  t.throws(() => parseWorkerArgs(['--redis', 'redis://h:6379', '--concurrency', '0']), /concurrency/);
  t.throws(() => parseWorkerArgs(['--redis', 'redis://h:6379', '--lock-duration-ms', '10']), /lock-duration-ms/);
  t.throws(() => parseWorkerArgs(['--redis', 'redis://h:6379', '--no-such-flag']), /no-such-flag/);
  const ok = parseWorkerArgs(['--redis', 'rediss://u:p@h:6380', '--concurrency', '16', '--run-id', 'nightly']);
  t.equal(ok.concurrency, 16);
  t.equal(ok.lockDurationMs, 30_000, 'the documented default lock');

  const run = await runScript('pipelines/worker.js', ['--redis', 'redis://user:s3cret@h:6379', '--concurrency', 'lots']);
  t.equal(run.code, 2, 'exit 2 for a usage error');
  t.match(run.stderr, /^worker: .*concurrency/);
  t.notMatch(run.stderr, /s3cret/);
});
