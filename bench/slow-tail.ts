/**
 * A slow tail does not stall the run: kg in-process against the simulator (latency model: a fixed
 * part plus a part per completion token), the same corpus fault-free and with a share of requests
 * hanging (accepted, then silent), side by side in one run, default options. Checks that the run
 * with hangs keeps at least --min-ratio of the fault-free docs/s and loses no document (documents
 * in = results out + dead-lettered, and nothing dead-lettered). --compare adds the hang run with
 * learned timeouts only (--hedge-share 0) and with hedging only (a fixed --timeout-ms).
 *
 *   npm run build && node bench/slow-tail.js [--docs 1200] [--fault-rate 0.02] [--hang-ms 120000] [--compare]
 *
 * Writes bench/results/slow-tail.json (slow-tail-compare.json with --compare); exits 1 when a check fails.
 */
import { Readable } from 'node:stream';
import { benchArgs, latencySpecs } from './bench-cli.js';
import { generateDocs } from './generate-docs.js';
import { machine, writeResults } from './results-file.js';
import { startSimulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';

const values = benchArgs({
  script: 'bench/slow-tail.js',
  about: ['kg against the simulator fault-free and with hanging requests, side by side: docs/s kept, requests timed out and hedged, documents lost.'],
  specs: [
    { name: 'docs', type: 'integer', default: 1200, min: 1, description: 'Documents of each run' },
    ...latencySpecs(500, 1),
    { name: 'fault-rate', type: 'number', default: 0.02, min: 0, max: 1, description: 'Share of requests that hang' },
    { name: 'hang-ms', type: 'number', default: 120_000, min: 0, description: 'How long a hung request stays silent before its socket closes, ms' },
    { name: 'min-ratio', type: 'number', default: 0.5, min: 0, description: 'Check: docs/s with hangs over docs/s fault-free, at least this' },
    { name: 'compare', type: 'boolean', default: false, description: 'Also run the hangs with timeouts only (--hedge-share 0) and hedging only (fixed --timeout-ms)' },
  ],
});

const corpusLines = [...generateDocs(values.docs, 41, { medianWords: 100, maxWords: 600 })].map((d) => JSON.stringify(d)).join('\n');
const corpus = () => ({ name: 'bench', stream: Readable.from([Buffer.from(corpusLines)]) });
const latency: SimulatorOptions = { latencyMs: values.latencyMs, msPerToken: values.msPerToken };

interface Run {
  name: string;
  options: Record<string, unknown>;
  docsIn: number;
  docsOut: number;
  deadLettered: number;
  lost: number;
  seconds: number;
  docsPerSecond: number;
  requests: number;
  retries: number;
  timedOut: number;
  hedged: number;
  serverHangs: number;
}

async function drive(name: string, sim: SimulatorOptions, options: Record<string, unknown>): Promise<Run> {
  const server = await startSimulator(sim);
  const ctx = createRunContext();
  let out = 0;
  const started = Date.now();
  let serverHangs: number;
  try {
    for await (const _ of results(kg, [corpus()], { baseUrl: server.url, ...options }, { context: ctx })) out++;
  } finally {
    serverHangs = server.stats().faults.hang ?? 0;
    await server.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const s = ctx.stats;
  const run: Run = {
    name,
    options,
    docsIn: s.recordsIn,
    docsOut: out,
    deadLettered: s.deadLettered,
    lost: s.recordsIn - out - s.deadLettered,
    seconds,
    docsPerSecond: out / seconds,
    requests: s.requests,
    retries: s.retries,
    timedOut: s.timedOut,
    hedged: s.hedged,
    serverHangs,
  };
  console.log(
    `${name.padEnd(22)} ${run.docsPerSecond.toFixed(1).padStart(6)} docs/s, ${run.seconds.toFixed(1)} s; ${run.requests} requests, ${run.serverHangs} hung, ${run.timedOut} timed out, ${run.hedged} hedged, ${run.retries} retries; in ${run.docsIn}, out ${run.docsOut}, dead-lettered ${run.deadLettered}`,
  );
  return run;
}

const hangs: SimulatorOptions = { ...latency, faultRate: values.faultRate, faults: ['hang'], hangMs: values.hangMs };
const faultFree = await drive('fault-free', latency, {});
const withHangs = await drive('hangs, defaults', hangs, {});
const compared = values.compare ? [await drive('hangs, timeouts only', hangs, { hedgeShare: 0 }), await drive('hangs, hedging only', hangs, { minTimeoutMs: 120_000, timeoutMs: 120_000 })] : [];

const ratio = withHangs.docsPerSecond / faultFree.docsPerSecond;
const checks = {
  ratio: ratio >= values.minRatio,
  nothingLost: [faultFree, withHangs, ...compared].every((r) => r.lost === 0 && r.deadLettered === 0 && r.docsIn === values.docs),
};
console.log(
  `docs/s with ${(values.faultRate * 100).toFixed(1)}% hangs over fault-free: ${ratio.toFixed(2)} (check >= ${values.minRatio}: ${checks.ratio ? 'ok' : 'FAILED'}); documents lost: ${checks.nothingLost ? 'none' : 'SOME (FAILED)'}`,
);
for (const r of compared) console.log(`  ${r.name}: ${(r.docsPerSecond / faultFree.docsPerSecond).toFixed(2)} of fault-free`);

// The comparison is kept apart from the default run's figures.
const paths = writeResults(values.compare ? 'slow-tail-compare' : 'slow-tail', {
  name: 'slow-tail',
  date: new Date().toISOString(),
  machine: machine(),
  docs: values.docs,
  latencyModel: latency,
  faultRate: values.faultRate,
  hangMs: values.hangMs,
  ratio,
  minRatio: values.minRatio,
  checks,
  runs: [faultFree, withHangs, ...compared].map((r) => ({ ...r, ratioToFaultFree: r.docsPerSecond / faultFree.docsPerSecond })),
});
console.log(`wrote ${paths.join(', ')}`);
process.exitCode = checks.ratio && checks.nothingLost ? 0 : 1;
