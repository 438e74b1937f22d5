/**
 * Scale-out throughput: documents/s of a coordinator with 1, 2 and 4 worker processes (4 packs in
 * flight each) against the simulator with a fixed per-request latency, and a local run at 4
 * requests in flight, to show the coordinator's overhead at the same concurrency.
 *
 *   node bench/scale-out.js [--docs 400] [--latency-ms 500]
 *
 * Needs redis-server on PATH (started here on a free 127.0.0.1 port). Writes bench/results/scale-out.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './bench-cli.js';
import { generateDocs } from './generate-docs.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { startRedis } from './redis-server.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const values = benchArgs({
  script: 'bench/scale-out.js',
  about: ['Scale-out throughput: a coordinator with 1, 2 and 4 workers against the simulator, and a local run at the same concurrency. Needs redis-server on PATH.'],
  specs: [
    { name: 'docs', type: 'integer', default: 400, min: 1, description: 'Documents per run' },
    { name: 'latency-ms', type: 'number', default: 500, min: 0, description: "The simulator's fixed latency per request, ms" },
  ],
});
const docs = values.docs;
const latencyMs = values.latencyMs;
const PER_WORKER = 4;

function node(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, OPENAI_API_KEY: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
}

function exit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-scale-'));
const input = join(dir, 'in.jsonl');
writeFileSync(input, [...generateDocs(docs, 21, { medianWords: 80, maxWords: 400 })].map((d) => JSON.stringify(d)).join('\n') + '\n');
const sim = await startSimulator({ latencyMs });
const redis = await startRedis();
const common = ['--quiet', '--base-url', sim.url, '--max-docs', '2', input, '-o', join(dir, 'out.jsonl')];

async function timed(args: string[]): Promise<number> {
  const started = performance.now();
  const code = await exit(node(['pipelines/kg.js', ...args]));
  if (code !== 0) throw new Error(`kg exited ${code}`);
  return (performance.now() - started) / 1000;
}

const rows: { setup: string; inFlight: number; seconds: number; docsPerSecond: number }[] = [];
const local = await timed([...common, '--concurrency', String(PER_WORKER)]);
rows.push({ setup: 'local', inFlight: PER_WORKER, seconds: local, docsPerSecond: docs / local });
for (const n of [1, 2, 4]) {
  const workers = Array.from({ length: n }, () => node(['pipelines/worker.js', '--redis', redis.url, '--concurrency', String(PER_WORKER), '--quiet']));
  await new Promise((r) => setTimeout(r, 1500)); // let them start, as a fleet would be up already
  const seconds = await timed([...common, '--extractor', 'openai', '--redis', redis.url, '--queue-high-water', String(4 * n * PER_WORKER)]);
  rows.push({ setup: `${n} worker${n > 1 ? 's' : ''}`, inFlight: n * PER_WORKER, seconds, docsPerSecond: docs / seconds });
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map(exit));
}
await redis.stop();
await sim.close();
rmSync(dir, { recursive: true, force: true });

const one = rows.find((r) => r.setup === '1 worker')!;
const result = {
  docs,
  latencyMs,
  docsPerPack: 2,
  perWorker: PER_WORKER,
  machine: `${(await import('node:os')).cpus().length} cores`,
  rows: rows.map((r) => ({ ...r, efficiency: r.setup === 'local' ? null : r.docsPerSecond / (one.docsPerSecond * (r.inFlight / PER_WORKER)) })),
  coordinatorOverhead: one.seconds / local - 1,
};
writeFileSync(join(ROOT, 'bench/results/scale-out.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('| setup | packs in flight | seconds | docs/s | scaling efficiency |\n| --- | --- | --- | --- | --- |');
for (const r of result.rows)
  console.log(`| ${r.setup} | ${r.inFlight} | ${r.seconds.toFixed(1)} | ${r.docsPerSecond.toFixed(1)} | ${r.efficiency === null ? '' : `${(r.efficiency * 100).toFixed(0)}%`} |`);
console.log(`coordinator overhead (1 worker vs local, same concurrency): ${(result.coordinatorOverhead * 100).toFixed(1)}%`);
