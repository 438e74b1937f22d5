/**
 * The share of a server's tpm limit spent on answers: kg with its default options (bar
 * --concurrency) against the simulator with a tpm limit and a latency model, run for a fixed window
 * past the server's initial full bucket (bench/limit-window.ts). Tokens billed (prompt + completion)
 * per minute in the window against the limit, and the share of requests answered 429 over the run;
 * locally (one process, kg in-process, following the server's headers) and as a fleet (a coordinator
 * and N worker processes sharing one --tpm budget in Redis).
 *
 *   npm run build && node bench/tpm-share.js [--tpm 300000] [--window-seconds 60] [--only local|fleet]
 *
 * Checks: spent share >= 0.90 and 429s <= 1% of requests, for each setup; exit 1 when not.
 * Needs redis-server on PATH for the fleet. Writes bench/results/tpm-share.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { benchArgs, latencySpecs } from './bench-cli.js';
import { childEnv } from './child-run.js';
import { generateDocs } from './generate-docs.js';
import { describeWindow, measureWindow, type WindowFigures } from './limit-window.js';
import { startRedis } from './redis-server.js';
import { writeResults } from './results-file.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';
import { DEFAULT_LIVE_CONCURRENCY } from '../lib/extractors/live.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const values = benchArgs({
  script: 'bench/tpm-share.js',
  about: [
    "The share of a server's tpm limit spent on answers, locally and for a fleet sharing one budget in Redis, in a window past the server's initial full bucket.",
    'Checks: spent >= 90% of the limit and 429s <= 1% of requests, for each setup; exit 1 when not. The fleet needs redis-server on PATH.',
  ],
  specs: [
    { name: 'tpm', type: 'number', default: 300000, min: 1000, description: "The simulator's tokens-per-minute limit" },
    ...latencySpecs(500, 1),
    { name: 'window-seconds', type: 'number', default: 60, min: 1, description: 'Length of the measured window, once the initial bucket is drained, s' },
    { name: 'warmup-max-seconds', type: 'number', default: 45, min: 0, description: 'The window opens at the latest after this long, drained or not, s' },
    { name: 'concurrency', type: 'integer', min: 1, description: "kg --concurrency of the local run (default: kg's own)" },
    { name: 'workers', type: 'integer', default: 3, min: 1, description: 'Worker processes of the fleet (each at its default --concurrency)' },
    { name: 'only', type: 'string', choices: ['local', 'fleet'], description: 'Run only one of the two setups' },
  ],
});

const MIN_SPENT_SHARE = 0.9;
const MAX_429_SHARE = 0.01;
const STOP_TIMEOUT_MS = 20_000;
const simOptions = { latencyMs: values.latencyMs, msPerToken: values.msPerToken, tpm: values.tpm };

/** More documents than the run can take: each costs well over 200 tokens of the limit. */
function corpusLines(): string {
  const seconds = values.warmupMaxSeconds + values.windowSeconds + 30;
  const count = Math.ceil((values.tpm + (values.tpm / 60) * seconds) / 200);
  return [...generateDocs(count, 41)].map((d) => JSON.stringify(d)).join('\n') + '\n';
}

/** kg in this process, its default options (--concurrency when given), following the server's headers. */
async function local(lines: string): Promise<WindowFigures & { docsDone: number }> {
  const sim = await startSimulator(simOptions);
  const stop = new AbortController();
  const ended = new AbortController();
  const ctx = createRunContext(stop.signal);
  let docsDone = 0;
  const run = (async () => {
    try {
      for await (const _ of results(
        kg,
        [{ name: 'bench', stream: Readable.from([Buffer.from(lines)]) }],
        { baseUrl: sim.url, ...(values.concurrency !== undefined ? { concurrency: values.concurrency } : {}) },
        { context: ctx },
      ))
        docsDone++;
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    } finally {
      ended.abort();
    }
  })();
  const w = await measureWindow(sim, { tpm: values.tpm, windowSeconds: values.windowSeconds, warmupMaxSeconds: values.warmupMaxSeconds, ended: ended.signal });
  stop.abort();
  await run;
  await sim.close();
  return { ...w, docsDone };
}

function node(args: string[]): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Stops a child (SIGTERM, then SIGKILL after a while); resolves with its stderr's tail. */
async function stopChild(c: ChildProcess, tail: () => string): Promise<string> {
  if (c.exitCode === null && c.signalCode === null) {
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  return tail();
}

function stderrTail(c: ChildProcess): () => string {
  let text = '';
  c.stderr!.setEncoding('utf8');
  c.stderr!.on('data', (d: string) => {
    text = (text + d).slice(-2000);
  });
  return () => text;
}

/** A coordinator with --tpm and --redis, and `workers` worker processes sharing its budget. */
async function fleet(lines: string): Promise<WindowFigures & { workers: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-tpm-'));
  const input = join(dir, 'in.jsonl');
  await writeFile(input, lines);
  const redis = await startRedis();
  const workers = Array.from({ length: values.workers }, () => node(['pipelines/worker.js', '--redis', redis.url, '--quiet']));
  const workerTails = workers.map(stderrTail);
  await new Promise((r) => setTimeout(r, 1500)); // let them start, as a fleet would be up already
  const sim = await startSimulator(simOptions);
  const coordinator = node(['pipelines/kg.js', '--quiet', '--extractor', 'openai', '--base-url', sim.url, '--redis', redis.url, '--tpm', String(values.tpm), input, '-o', join(dir, 'out.jsonl')]);
  const coordinatorTail = stderrTail(coordinator);
  const ended = new AbortController();
  let exitCode: number | null = null;
  coordinator.once('exit', (code) => {
    exitCode = code;
    ended.abort();
  });
  try {
    const w = await measureWindow(sim, { tpm: values.tpm, windowSeconds: values.windowSeconds, warmupMaxSeconds: values.warmupMaxSeconds, ended: ended.signal });
    if (ended.signal.aborted) throw new Error(`the coordinator exited (${exitCode}) before the window closed: ${coordinatorTail()}`);
    return { ...w, workers: values.workers };
  } finally {
    await stopChild(coordinator, coordinatorTail);
    const tails = await Promise.all(workers.map((c, i) => stopChild(c, workerTails[i]!)));
    for (const [i, t] of tails.entries()) if (t.trim()) console.error(`worker ${i + 1}: ${t.trim().slice(-500)}`);
    await sim.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = corpusLines();
const runs: Record<string, WindowFigures & { docsDone?: number; concurrency?: number; workers?: number }> = {};
if (values.only !== 'fleet') {
  const r = await local(lines);
  if (r.cutShort) throw new Error(`the local run ended after ${r.docsDone} documents, before the window closed`);
  const concurrency = values.concurrency ?? DEFAULT_LIVE_CONCURRENCY;
  runs.local = { ...r, concurrency };
  console.log(describeWindow(`local (--concurrency ${concurrency}${values.concurrency === undefined ? ', the default' : ''})`, r));
}
if (values.only !== 'local') {
  const r = await fleet(lines);
  runs.fleet = r;
  console.log(describeWindow(`fleet (coordinator + ${values.workers} workers, --tpm ${values.tpm} in Redis)`, r));
}

const failures: string[] = [];
for (const [name, r] of Object.entries(runs)) {
  if (r.spentShare < MIN_SPENT_SHARE) failures.push(`${name}: spent ${(r.spentShare * 100).toFixed(1)}% of the limit (< ${MIN_SPENT_SHARE * 100}%)`);
  if (r.whole.share429 > MAX_429_SHARE) failures.push(`${name}: ${(r.whole.share429 * 100).toFixed(2)}% of requests answered 429 (> ${MAX_429_SHARE * 100}%)`);
}
const written = writeResults('tpm-share', {
  simulator: simOptions,
  checks: { minSpentShare: MIN_SPENT_SHARE, max429Share: MAX_429_SHARE, passed: failures.length === 0, failures },
  ...runs,
});
console.log(`wrote ${written.join(', ')}`);
if (failures.length > 0) {
  console.error(`tpm-share: check failed:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
