/**
 * Scale-out on Redis with BullMQ: a coordinator (kg --redis) and worker processes against the
 * simulator and a private redis-server. The output equals a local run's byte for byte, whatever
 * happens to workers and coordinator; the fleet keeps a shared rate limit.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { kg, runScript, type CliRun } from './helpers/cli.js';
import { startRedis } from '../bench/redis-server.js';
import { corpus, localReference, startWorker, type Worker, coordinatorArgs } from './helpers/scale.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-scale-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const reference = (args: string[], name: string) => localReference(dir, args, name);

/** Calls `action` once the file has grown past `bytes`. */
function whenGrown(path: string, bytes: number, action: () => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    if ((existsSync(path) ? statSync(path).size : 0) >= bytes) {
      clearInterval(timer);
      action();
    }
  }, 5);
  return timer;
}

t.test('coordinator + 2 workers (one joining late): output equals a local run byte for byte, and Redis is left clean', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const sim = await startSimulator({ latencyMs: 300 });
  t.teardown(() => sim.close());
  const input = join(dir, 'eq.jsonl');
  writeFileSync(input, corpus(300, 7));
  const ref = await reference(['--quiet', '--base-url', sim.url, '--concurrency', '4', input], 'eq');
  const localRequests = sim.stats().requests;
  sim.reset();

  const output = join(dir, 'eq-out.jsonl');
  const dead = join(dir, 'eq-dead.jsonl');
  // One pack at a time each, so the run lasts long enough for the late one to start and take part.
  const first = await startWorker(redis.url, ['--concurrency', '1']);
  let late: Worker | undefined;
  const joining = setTimeout(() => void startWorker(redis.url, ['--concurrency', '1']).then((w) => (late = w)), 1500);
  const r = await kg([...coordinatorArgs(sim.url, redis.url), '--queue-high-water', '8', input, '-o', output, '--dead-letter', dead, '--summary', join(dir, 'eq-summary.json')]);
  clearTimeout(joining);
  t.equal(r.code, 0, r.stderr);
  t.ok(readFileSync(output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(dead).equals(ref.dead), 'dead letters byte for byte');
  t.equal(sim.stats().requests, localRequests, 'as many requests as the local run');
  const summary = JSON.parse(readFileSync(join(dir, 'eq-summary.json'), 'utf8'));
  t.equal(summary.requests, localRequests, "the summary counts the workers' requests");
  t.equal(summary.docsIn, summary.docsOut + summary.deadLettered);

  const a = await first.stop();
  const b = await late?.stop();
  t.ok(late, 'the late worker started');
  const served = (run: CliRun | undefined) => Number(/stopped after (\d+) pack/.exec(run?.stderr ?? '')?.[1] ?? -1);
  t.ok(served(a) > 0, `the first worker served ${served(a)} packs`);
  t.ok(served(b) > 0, `the late worker served ${served(b)} packs`);
  const client = redis.client();
  t.teardown(() => client.disconnect());
  // A worker that joined as the run ended may re-create BullMQ's few bookkeeping keys (no data) before it leaves.
  const left = (await client.keys('*')).filter((k) => !/:(stalled-check|meta|marker)$/.test(k));
  t.same(left.sort(), [], 'a completed run leaves no jobs, spec or budget in Redis');
});

t.test('kill -9 of a worker mid-run: its packs are redelivered, no document lost or written twice', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const sim = await startSimulator({ latencyMs: 400 });
  t.teardown(() => sim.close());
  const input = join(dir, 'kw.jsonl');
  writeFileSync(input, corpus(200, 8));
  const ref = await reference(['--quiet', '--base-url', sim.url, '--concurrency', '4', input], 'kw');
  const localRequests = sim.stats().requests;
  sim.reset();

  const output = join(dir, 'kw-out.jsonl');
  const dead = join(dir, 'kw-dead.jsonl');
  // A short lock, so the dead worker's packs come back within seconds.
  const lock = ['--lock-duration-ms', '1500', '--concurrency', '2'];
  const victim = await startWorker(redis.url, lock);
  const survivor = await startWorker(redis.url, lock);
  // Killed once it has answers out (the simulator has seen requests), so it dies holding packs.
  const killer = setInterval(() => {
    if (sim.stats().requests >= 4) {
      clearInterval(killer);
      victim.child.kill('SIGKILL');
    }
  }, 5);
  const r = await kg(['--quiet', '--extractor', 'openai', '--base-url', sim.url, '--redis', redis.url, '--queue-high-water', '8', input, '-o', output, '--dead-letter', dead]);
  clearInterval(killer);
  const killed = await victim.done;
  t.equal(killed.signal, 'SIGKILL', 'the worker was killed');
  t.equal(r.code, 0, r.stderr);
  t.ok(readFileSync(output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(dead).equals(ref.dead), 'dead letters byte for byte');
  const requests = sim.stats().requests;
  // Packs in flight on the dead worker were asked again: at-least-once underneath.
  t.ok(requests >= localRequests && requests <= localRequests + 4, `${requests} requests (${localRequests} locally)`);
  await survivor.stop();
});

t.test('kill -9 of the coordinator, rerun: resumes from its checkpoint and Redis; answered packs are not asked again', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const sim = await startSimulator({ latencyMs: 60 });
  t.teardown(() => sim.close());
  const input = join(dir, 'kc.jsonl');
  writeFileSync(input, corpus(400, 9));
  const ref = await reference(['--quiet', '--base-url', sim.url, '--concurrency', '4', input], 'kc');
  const localRequests = sim.stats().requests;
  sim.reset();

  const workers = await Promise.all([startWorker(redis.url, ['--concurrency', '2']), startWorker(redis.url, ['--concurrency', '2'])]);
  const files = { output: join(dir, 'kc-out.jsonl'), dead: join(dir, 'kc-dead.jsonl'), checkpoint: join(dir, 'kc.ckpt'), summary: join(dir, 'kc-summary.json') };
  const args = [
    '--quiet',
    ...coordinatorArgs(sim.url, redis.url),
    '--queue-high-water',
    '6',
    input,
    '-o',
    files.output,
    '--dead-letter',
    files.dead,
    '--checkpoint',
    files.checkpoint,
    '--summary',
    files.summary,
  ];
  const thresholds = [0, ref.output.length / 4, ref.output.length / 2];
  let kills = 0;
  let last: CliRun | undefined;
  for (let session = 0; session < thresholds.length + 3; session++) {
    const threshold = thresholds[session];
    let timer: NodeJS.Timeout | undefined;
    last = await kg(args, { onSpawn: (child) => (threshold === undefined ? undefined : (timer = whenGrown(files.output, threshold, () => child.kill('SIGKILL')))) });
    clearInterval(timer);
    if (last.signal !== 'SIGKILL') break;
    kills++;
  }
  t.equal(last?.code, 0, last?.stderr ?? '');
  t.ok(kills >= 2, `killed ${kills} times`);
  t.ok(readFileSync(files.output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(files.dead).equals(ref.dead), 'dead letters byte for byte');
  t.equal(sim.stats().requests, localRequests, `every pack asked once over ${kills + 1} sessions`);
  // Answers taken before a kill but after the last commit are taken again by the next session:
  // counted once over the sessions, not once per session that took them.
  const summary = JSON.parse(readFileSync(files.summary, 'utf8'));
  t.equal(summary.requests, localRequests, 'the summary counts each request once over the sessions');
  t.equal(summary.docsIn, summary.docsOut + summary.deadLettered);
  await Promise.all(workers.map((w) => w.stop()));
});

t.test('an embed run scales out too: the same vectors, byte for byte, from 2 workers', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const sim = await startSimulator({ latencyMs: 100 });
  t.teardown(() => sim.close());
  const input = join(dir, 'emb.jsonl');
  writeFileSync(input, corpus(120, 12));
  const embed = (args: string[]) => runScript('pipelines/embed.js', ['--quiet', '--base-url', sim.url, '--batch-size', '4', '--dimensions', '64', ...args]);
  const ref = await embed([input, '-o', join(dir, 'emb-ref.jsonl'), '--dead-letter', join(dir, 'emb-ref-dead.jsonl')]);
  t.equal(ref.code, 0, ref.stderr);
  const localRequests = sim.stats().requests;
  sim.reset();

  const workers = await Promise.all([startWorker(redis.url, ['--concurrency', '2']), startWorker(redis.url, ['--concurrency', '2'])]);
  const r = await embed(['--redis', redis.url, '--queue-high-water', '6', input, '-o', join(dir, 'emb-out.jsonl'), '--dead-letter', join(dir, 'emb-dead.jsonl')]);
  const served = await Promise.all(workers.map((w) => w.stop()));
  t.equal(r.code, 0, r.stderr);
  t.ok(readFileSync(join(dir, 'emb-out.jsonl')).equals(readFileSync(join(dir, 'emb-ref.jsonl'))), 'vectors byte for byte');
  t.ok(readFileSync(join(dir, 'emb-dead.jsonl')).equals(readFileSync(join(dir, 'emb-ref-dead.jsonl'))), 'dead letters byte for byte');
  t.equal(sim.stats().requests, localRequests, 'as many requests as the local run');
  for (const s of served) t.match(s.stderr, /serving run embed-[0-9a-f]{16} \(embed,/, 'the worker served the embed run');
  t.ok(
    served.some((s) => /stopped after [1-9]\d* pack/.test(s.stderr)),
    'the workers embedded',
  );
});
