/**
 * Adaptive concurrency against self-hosted servers: the simulator with a latency model and N slots
 * (N requests served at once, the rest queued, as llama.cpp's -np N and vLLM do), kg driven at
 * fixed concurrency 1, 2, 4, 8, 16, 32 and with default options (the adaptive limit), side by side.
 *
 *   npm run build && node bench/adaptive-concurrency.js [--slots 4,16] [--seconds 14] [--latency-ms 300] [--ms-per-token 2]
 *
 * Each run lasts --seconds and is then stopped; docs/s is what it finished in that time (unordered,
 * so documents done are counted as they finish), the ramp included. The fixed runs get a simulator that sends rate-limit headers (an rpm limit no run
 * reaches): a server with headers is paced by them and the adaptive limit stands aside, as it does
 * for a hosted API, so --concurrency is exactly the requests in flight. The check, per server:
 * default options reach >= 90% of the best fixed docs/s, with p95 request latency <= 2x the
 * unloaded p95: the lower of concurrency 1's and that of every fixed run the server queued nothing in. Writes bench/results/adaptive-concurrency.json; exits 1 when it fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { benchArgs, latencySpecs } from './bench-cli.js';
import { generateDocs } from './generate-docs.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { acquireTokenTools } from '../simulator/tokens.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';

const values = benchArgs({
  script: 'bench/adaptive-concurrency.js',
  about: ['kg at fixed concurrency 1..32 and with default options (adaptive) against simulated servers with N slots; checks the default against the best fixed.'],
  specs: [
    { name: 'slots', type: 'string', default: '4,16', description: 'Slots of each simulated server (comma-separated)' },
    { name: 'seconds', type: 'number', default: 14, min: 1, description: 'How long each run lasts, s' },
    ...latencySpecs(300, 2),
    { name: 'max-docs', type: 'integer', default: 1, min: 1, description: 'kg --max-docs (documents per request)' },
    { name: 'fixed', type: 'string', default: '1,2,4,8,16,32', description: 'Fixed concurrencies to compare (comma-separated; 1 gives the unloaded latency)' },
  ],
});
const list = (text: string, flag: string) => {
  const xs = text.split(',').map(Number);
  if (xs.some((x) => !Number.isInteger(x) || x < 1)) {
    // A usage error, as benchArgs reports one: exit 2, no stack.
    process.stderr.write(`adaptive-concurrency: --${flag}: positive integers, comma-separated (got ${text})\n`);
    process.exit(2);
  }
  return xs;
};
const slotsList = list(values.slots, 'slots');
const fixedList = list(values.fixed, 'fixed');
if (!fixedList.includes(1)) fixedList.unshift(1);
/** More documents than any run finishes in its time. */
const DOCS = 6000;
/** An rpm no run reaches: the simulator then sends x-ratelimit-* headers (see the header comment). */
const UNREACHED_RPM = 1e9;

interface Run {
  mode: string;
  concurrency: number | 'default';
  docs: number;
  seconds: number;
  docsPerSecond: number;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  maxQueue: number;
  limit: { low: number; high: number; current: number } | null;
  /** Every answered request's latency, ms (left out of the results file). */
  latencies?: number[];
}

const corpusLines = [...generateDocs(DOCS, 5, { medianWords: 100, maxWords: 600 })].map((d) => JSON.stringify(d)).join('\n');

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function drive(slots: number, concurrency: number | undefined): Promise<Run> {
  const sim = await startSimulator({ latencyMs: values.latencyMs, msPerToken: values.msPerToken, slots, ...(concurrency !== undefined ? { rpm: UNREACHED_RPM } : {}) });
  const latencies: number[] = [];
  const controller = new AbortController();
  const ctx = createRunContext(controller.signal, { requestEnded: (status, seconds) => status === '200' && latencies.push(seconds * 1000) });
  let out = 0;
  const started = performance.now();
  const timer = setTimeout(() => controller.abort(), values.seconds * 1000);
  try {
    // Unordered: a run stopped at a fixed time then counts what finished, not what in-order writing let out.
    const options = { baseUrl: sim.url, retryBaseMs: 200, maxDocs: values.maxDocs, unordered: true, ...(concurrency !== undefined ? { concurrency } : {}) };
    for await (const _ of results(kg, [{ name: 'bench', stream: Readable.from([Buffer.from(corpusLines)]) }], options, { context: ctx })) out++;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = sim.stats();
  await sim.close();
  if (!controller.signal.aborted) throw new Error(`the corpus ran out before ${values.seconds} s: raise DOCS`);
  latencies.sort((a, b) => a - b);
  return {
    mode: concurrency === undefined ? 'default (adaptive)' : `fixed ${concurrency}`,
    concurrency: concurrency ?? 'default',
    docs: out,
    seconds,
    docsPerSecond: out / seconds,
    requests: latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p95Ms: quantile(latencies, 0.95),
    maxQueue: stats.maxQueue,
    limit: ctx.stats.concurrencyLimit ?? null,
    latencies,
  };
}

const held = acquireTokenTools(['o200k_base']);
const servers: { slots: number; runs: Run[]; unloadedP95Ms: number; c1P95Ms: number; queueFreeP95Ms: number; bestFixed: Run; share: number; p95Ratio: number; pass: boolean }[] = [];
try {
  for (const slots of slotsList) {
    const runs: Run[] = [];
    for (const c of [...fixedList, undefined]) {
      const r = await drive(slots, c);
      runs.push(r);
      const limit = r.limit ? `, limit ${r.limit.low}..${r.limit.high} ended ${r.limit.current}` : '';
      console.log(
        `slots ${String(slots).padStart(2)}  ${r.mode.padEnd(18)} ${r.docsPerSecond.toFixed(2).padStart(6)} docs/s  p50 ${r.p50Ms.toFixed(0).padStart(5)} ms  p95 ${r.p95Ms.toFixed(0).padStart(5)} ms  (${r.requests} requests, server queue up to ${r.maxQueue}${limit})`,
      );
    }
    const fixed = runs.filter((r) => r.concurrency !== 'default');
    const adaptive = runs.find((r) => r.concurrency === 'default')!;
    // The unloaded p95: at concurrency 1, and over every fixed run the server queued nothing in (the
    // same documents as the others, many more answers: ten answers' p95 is their largest one's).
    const c1P95Ms = fixed.find((r) => r.concurrency === 1)!.p95Ms;
    const queueFree = fixed
      .filter((r) => r.maxQueue === 0)
      .flatMap((r) => r.latencies!)
      .sort((a, b) => a - b);
    const queueFreeP95Ms = quantile(queueFree, 0.95);
    // The stricter of the two.
    const unloadedP95Ms = Math.min(c1P95Ms, queueFreeP95Ms);
    const bestFixed = fixed.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a));
    const share = adaptive.docsPerSecond / bestFixed.docsPerSecond;
    const p95Ratio = adaptive.p95Ms / unloadedP95Ms;
    const pass = share >= 0.9 && p95Ratio <= 2;
    console.log(
      `slots ${slots}: default ${(share * 100).toFixed(1)}% of the best fixed (${bestFixed.mode}, ${bestFixed.docsPerSecond.toFixed(2)} docs/s); p95 ${p95Ratio.toFixed(2)}x the unloaded p95 (${unloadedP95Ms.toFixed(0)} ms, the lower of concurrency 1's ${c1P95Ms.toFixed(0)} ms and the queue-free fixed runs' ${queueFreeP95Ms.toFixed(0)} ms): ${pass ? 'PASS' : 'FAIL'} (>= 90%, <= 2x)`,
    );
    for (const r of runs) delete r.latencies;
    servers.push({ slots, runs, unloadedP95Ms, c1P95Ms, queueFreeP95Ms, bestFixed, share, p95Ratio, pass });
  }
} finally {
  held.release();
}

const result = {
  name: 'adaptive-concurrency',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  latencyModel: { latencyMs: values.latencyMs, msPerToken: values.msPerToken },
  maxDocs: values.maxDocs,
  secondsPerRun: values.seconds,
  servers: servers.map((s) => ({
    slots: s.slots,
    unloadedP95Ms: s.unloadedP95Ms,
    concurrency1P95Ms: s.c1P95Ms,
    queueFreeFixedP95Ms: s.queueFreeP95Ms,
    bestFixed: s.bestFixed.mode,
    defaultShareOfBest: s.share,
    defaultP95OverUnloaded: s.p95Ratio,
    pass: s.pass,
    runs: s.runs,
  })),
  pass: servers.every((s) => s.pass),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/adaptive-concurrency.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(`adaptive concurrency: ${result.pass ? 'PASS' : 'FAIL'} (bench/results/adaptive-concurrency.json)`);
if (!result.pass) process.exitCode = 1;
