/**
 * Scale-out when the shared parts misbehave: Redis goes away mid-run and comes back, and two runs
 * share one Redis and one fleet of workers at the same time. Each output must still equal its
 * local run's, byte for byte.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { kg } from './helpers/cli.js';
import { startRedis } from '../bench/redis-server.js';
import { corpus, localReference, startWorker, coordinatorArgs } from './helpers/scale.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-scale-faults-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const reference = (args: string[], name: string) => localReference(dir, args, name);

const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);

/**
 * Redis stops once a quarter of the output is written and starts again 4 s later: persisted
 * (append-only, fsync always, as a production Redis would be) it keeps the queue; without
 * persistence it comes back empty, and the coordinator publishes the run and enqueues the packs it
 * still awaits again.
 */
async function outage(t: Test, persist: boolean, name: string): Promise<void> {
  const redis = await startRedis({ persist });
  t.teardown(() => redis.stop());
  const sim = await startSimulator({ latencyMs: 150 });
  t.teardown(() => sim.close());
  const input = join(dir, `${name}.jsonl`);
  writeFileSync(input, corpus(300, 31));
  const ref = await reference(['--quiet', '--base-url', sim.url, '--concurrency', '4', input], name);
  const localRequests = sim.stats().requests;
  sim.reset();

  const workers = await Promise.all([startWorker(redis.url, ['--concurrency', '2']), startWorker(redis.url, ['--concurrency', '2'])]);
  const output = join(dir, `${name}-out.jsonl`);
  const dead = join(dir, `${name}-dead.jsonl`);
  let down: Promise<void> | undefined;
  let downAt = -1;
  const watcher = setInterval(() => {
    if (down || size(output) < ref.output.length / 4) return;
    clearInterval(watcher);
    downAt = size(output);
    down = (async () => {
      await redis.pause();
      await new Promise((r) => setTimeout(r, 4000));
      await redis.restart();
    })();
  }, 10);
  // Not --quiet: the outage must be reported.
  const r = await kg([...coordinatorArgs(sim.url, redis.url), '--queue-high-water', '8', input, '-o', output, '--dead-letter', dead, '--summary', join(dir, `${name}-summary.json`)]);
  clearInterval(watcher);
  await down;
  t.ok(downAt > 0 && downAt < ref.output.length, `Redis stopped with ${downAt} of ${ref.output.length} output bytes written`);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /Redis at redis:\/\/127\.0\.0\.1:\d+\S* is unavailable; retrying/, 'the coordinator says Redis is away');
  t.match(r.stderr, /Redis at redis:\/\/127\.0\.0\.1:\d+\S* is back/, 'and that it is back');
  t.equal(r.stderr.match(/is unavailable/g)?.length, 1, 'once for the outage, not once per connection');
  if (!persist) t.match(r.stderr, /is no longer in Redis \(restarted without its data\?\): enqueueing the packs still awaited again/, 'the lost jobs are enqueued again');
  t.ok(readFileSync(output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(dead).equals(ref.dead), 'dead letters byte for byte');
  const summary = JSON.parse(readFileSync(join(dir, `${name}-summary.json`), 'utf8'));
  t.equal(summary.docsIn, summary.docsOut + summary.deadLettered, 'records in = out + dead-lettered');
  // Persisted, at most the packs in flight are asked again; emptied, at most those queued as well.
  const requests = sim.stats().requests;
  const extra = persist ? 4 : 4 + 8;
  t.ok(requests >= localRequests && requests <= localRequests + extra, `${requests} requests (${localRequests} locally)`);

  const served = await Promise.all(workers.map((w) => w.stop()));
  for (const s of served) {
    t.equal(s.code, 0, 'the worker ran through the outage and stopped cleanly');
    t.equal(s.stderr.match(/is unavailable; retrying/g)?.length, 1, 'each worker says once that Redis is away');
    t.match(s.stderr, /is back/, 'and that it is back');
    t.match(s.stderr, /stopped after [1-9]\d* pack/, 'and took part');
  }
}

t.test('Redis (persisted) stops mid-run and comes back: coordinator and workers wait, say so, and the run ends as a local one', (t) => outage(t, true, 'outage'));

t.test('Redis (not persisted) restarts empty mid-run: the run is published and its awaited packs enqueued again', (t) => outage(t, false, 'emptied'));

t.test('two runs share one Redis and one fleet at the same time without touching each other', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const sim = await startSimulator({ latencyMs: 100 });
  t.teardown(() => sim.close());
  // Different inputs and different output-shaping options: any cross-talk shows in the bytes.
  const runs = [
    { name: 'a', input: join(dir, 'two-a.jsonl'), options: ['--max-docs', '4'] },
    { name: 'b', input: join(dir, 'two-b.jsonl'), options: ['--max-docs', '2', '--model', 'gpt-4.1-mini'] },
  ];
  writeFileSync(runs[0]!.input, corpus(160, 41));
  writeFileSync(runs[1]!.input, corpus(160, 42));
  const refs = await Promise.all(runs.map((run) => reference(['--quiet', '--base-url', sim.url, ...run.options, run.input], `two-${run.name}`)));

  const workers = await Promise.all([startWorker(redis.url, ['--concurrency', '2']), startWorker(redis.url, ['--concurrency', '2'])]);
  const results = await Promise.all(
    runs.map((run) =>
      kg([
        '--quiet',
        ...coordinatorArgs(sim.url, redis.url),
        '--queue-high-water',
        '6',
        ...run.options,
        run.input,
        '-o',
        join(dir, `two-${run.name}-out.jsonl`),
        '--dead-letter',
        join(dir, `two-${run.name}-dead.jsonl`),
      ]),
    ),
  );
  const served = await Promise.all(workers.map((w) => w.stop()));
  runs.forEach((run, i) => {
    t.equal(results[i]!.code, 0, results[i]!.stderr);
    t.ok(readFileSync(join(dir, `two-${run.name}-out.jsonl`)).equals(refs[i]!.output), `run ${run.name}: output byte for byte`);
    t.ok(readFileSync(join(dir, `two-${run.name}-dead.jsonl`)).equals(refs[i]!.dead), `run ${run.name}: dead letters byte for byte`);
  });
  // Each worker joined both runs (one BullMQ worker per run, each under its own run id).
  for (const s of served) t.equal((s.stderr.match(/serving run kg-[0-9a-f]{16} /g) ?? []).length, 2, 'the worker served both runs');
  const client = redis.client();
  t.teardown(() => client.disconnect());
  const left = (await client.keys('*')).filter((k) => !/:(stalled-check|meta|marker)$/.test(k));
  t.same(left.sort(), [], 'both runs completed and left nothing behind');
});
