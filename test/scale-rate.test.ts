/**
 * Scale-out's shared rate limit: three worker processes against a simulator with a tokens-per-minute
 * limit, the coordinator's --tpm kept in Redis for the whole fleet.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { kg } from './helpers/cli.js';
import { startRedis } from '../bench/redis-server.js';
import { corpus, startWorker, coordinatorArgs } from './helpers/scale.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-scale-rate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the fleet shares one --tpm: 3 workers against a rate-limited server get at most 1% of 429s', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  // A minute's budget covers about two thirds of the run: the rest goes at the limit's pace.
  const tpm = 100_000;
  const sim = await startSimulator({ latencyMs: 100, tpm });
  t.teardown(() => sim.close());
  const input = join(dir, 'tpm.jsonl');
  writeFileSync(input, corpus(200, 10));
  const workers = await Promise.all([1, 2, 3].map(() => startWorker(redis.url, ['--concurrency', '4'])));
  const output = join(dir, 'tpm-out.jsonl');
  const started = Date.now();
  const r = await kg([
    '--quiet',
    ...coordinatorArgs(sim.url, redis.url),
    '--tpm',
    String(tpm),
    '--max-output-tokens',
    '1024',
    '--max-docs',
    '2',
    input,
    '-o',
    output,
    '--dead-letter',
    join(dir, 'tpm-dead.jsonl'),
  ]);
  const seconds = (Date.now() - started) / 1000;
  t.equal(r.code, 0, r.stderr);
  const stats = sim.stats();
  t.ok(stats.rateLimited <= stats.requests * 0.01, `${stats.rateLimited} of ${stats.requests} requests answered 429`);
  // Past the first minute's full bucket, the fleet ran at the limit, not three times it.
  const minutes = seconds / 60;
  t.ok(stats.admittedTokens <= tpm * (1 + minutes) * 1.05, `${stats.admittedTokens} tokens admitted in ${seconds.toFixed(1)} s`);
  t.equal(jsonCount(output), 200, 'every document answered');
  const served = await Promise.all(workers.map((w) => w.stop()));
  for (const s of served) t.match(s.stderr, /stopped after [1-9]\d* pack/, 'each worker took part');
});

function jsonCount(path: string): number {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
}

t.test('the fleet shares one --rpm: 3 workers start no more requests than the limit allows together', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const rpm = 300; // 5 a second for the whole fleet
  const sim = await startSimulator({ latencyMs: 50 });
  t.teardown(() => sim.close());
  const input = join(dir, 'rpm.jsonl');
  writeFileSync(input, corpus(60, 12));
  // 12 packs in flight over the fleet at 50 ms each could send well over 100 requests a second.
  const workers = await Promise.all([1, 2, 3].map(() => startWorker(redis.url, ['--concurrency', '4'])));
  // The simulator's request count, sampled: the most requests in any 2-second span.
  const seen: [number, number][] = [];
  const sampler = setInterval(() => seen.push([Date.now(), sim.stats().requests]), 20);
  const started = Date.now();
  const r = await kg([
    '--quiet',
    ...coordinatorArgs(sim.url, redis.url),
    '--rpm',
    String(rpm),
    '--max-docs',
    '1',
    input,
    '-o',
    join(dir, 'rpm-out.jsonl'),
    '--dead-letter',
    join(dir, 'rpm-dead.jsonl'),
  ]);
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  t.equal(r.code, 0, r.stderr);
  const requests = sim.stats().requests;
  t.ok(requests >= 60, `${requests} requests`);
  let busiest = 0;
  for (const [at, n] of seen) {
    const before = seen.findLast(([t0]) => t0 <= at - 2000);
    if (before) busiest = Math.max(busiest, n - before[1]);
  }
  // BullMQ counts starts in 1 s windows of 5: a 2 s span overlaps at most 3 of them (15), and a
  // request reaches the simulator a little after its start. Each worker limiting only itself would
  // let 15 a second through, about 30 in such a span.
  t.ok(busiest <= 4 * (rpm / 60), `at most ${busiest} requests in any 2 s span (the limit: 10, with window edges 15)`);
  t.ok(requests / seconds <= (rpm / 60) * 1.1, `${(requests / seconds).toFixed(2)} requests/s over ${seconds.toFixed(1)} s (the limit: 5/s)`);
  const served = await Promise.all(workers.map((w) => w.stop()));
  for (const s of served) t.match(s.stderr, /stopped after [1-9]\d* pack/, 'each worker took part');
});
