/**
 * `npm run bench:throughput`: framework overhead and worker scaling, side by side in one run.
 *
 * 1. The dry run (`pipelines/kg.js --dry-run`: read, parse, chunk, pack) against bench/hand-loop.js
 *    (split lines, JSON.parse, count tokens, JSON.stringify) on the same bytes. Rounds alternate
 *    which goes first; each round gives a ratio (pipeline docs/s over loop docs/s) and the median
 *    round's is reported, by wall time and by CPU time (a busy machine disturbs CPU time less).
 *    Target: the pipeline at >= 0.8 x the loop.
 * 2. The offline extractor on 1 worker thread against one per core.
 *
 * The input is generated once, held in this process's memory (never on disk) and fed to every
 * program alike; it uses the generator's default corpus (no Pareto tail): the loop does not chunk,
 * so long documents would measure chunking rather than framework overhead. Packed against one
 * document per request on the simulator is bench/llm-throughput.js (bench/results/llm-packing-*.json).
 *
 *   npm run build && node bench/throughput.js [--docs 100000] [--rounds 3] [--offline-docs 20000] [--offline-rounds 1]
 *
 * Writes bench/results/throughput.json and bench/results/throughput.svg.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './bench-cli.js';
import { runChild, type ChildRun } from './child-run.js';
import { generatedBatches, type InputBatch } from './doc-batches.js';
import { median } from './memory-checks.js';
import { kgArgs } from './memory-runs.js';
import { downsample, round } from './probe-samples.js';
import { writeResults } from './results-file.js';
import { formatCount, svgDocument, type Series } from './svg-chart.js';

const values = benchArgs({
  script: 'bench/throughput.js',
  about: ['Framework overhead (the dry run against a hand-written loop on the same bytes) and worker scaling of the offline extractor.'],
  specs: [
    { name: 'docs', type: 'integer', default: 100000, min: 1, description: 'Documents of the overhead comparison' },
    { name: 'rounds', type: 'integer', default: 3, min: 1, description: 'Rounds of the overhead comparison (the median is reported)' },
    { name: 'offline-docs', type: 'integer', default: 20000, min: 1, description: 'Documents of the worker-scaling runs' },
    { name: 'offline-rounds', type: 'integer', default: 1, min: 1, description: 'Rounds of the worker-scaling runs' },
    { name: 'seed', type: 'integer', default: 2, description: 'Seed of the generated documents' },
  ],
});
const DOCS = values.docs;
const ROUNDS = values.rounds;
const OFFLINE_DOCS = values.offlineDocs;
const OFFLINE_ROUNDS = values.offlineRounds;
const SEED = values.seed;
const TARGET = 0.8;
const CORES = availableParallelism();
const HAND_LOOP = fileURLToPath(new URL('./hand-loop.js', import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Timed {
  program: string;
  round: number;
  wallSeconds: number;
  cpuSeconds: number | null;
  docsPerSecond: number;
  cpuDocsPerSecond: number | null;
  peakRssMb: number;
  samples: { docs: number; rssMb: number }[];
}

/** Runs one program on `input`; throws unless it exited 0 having read every document. */
async function timed(program: string, round: number, args: (summary: string) => string[], input: readonly InputBatch[], docs: number): Promise<Timed> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const summary = join(dir, 'summary.json');
  let child: ChildRun;
  try {
    child = await runChild({ args: args(summary), input, forceGc: false });
    if (child.exitCode !== 0) throw new Error(`${program} exited ${child.exitCode}: ${child.stderrTail}`);
    const read = program === 'hand loop' ? Number(/hand-loop: (\d+) documents/.exec(child.stderrTail)?.[1]) : (JSON.parse(readFileSync(summary, 'utf8')) as { docsIn: number }).docsIn;
    if (read !== docs) throw new Error(`${program} read ${read} documents, not ${docs}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const result: Timed = {
    program,
    round,
    wallSeconds: round2(child.wallSeconds),
    cpuSeconds: child.cpuSeconds === null ? null : round2(child.cpuSeconds),
    docsPerSecond: Math.round(docs / child.wallSeconds),
    cpuDocsPerSecond: child.cpuSeconds ? Math.round(docs / child.cpuSeconds) : null,
    peakRssMb: child.peakRssMb,
    samples: downsample(child.samples, 200).map((s) => ({ docs: s.docs, rssMb: s.rssMb })),
  };
  log(`  ${program}, round ${round + 1}: ${result.wallSeconds} s wall, ${result.cpuSeconds} s CPU, ${result.docsPerSecond} docs/s, peak RSS ${result.peakRssMb} MB`);
  return result;
}

const round2 = (x: number) => round(x, 2);

log(`throughput: generating ${formatCount(DOCS)} documents into memory (seed ${SEED}) ...`);
const input = [...generatedBatches(DOCS, SEED)];
log(`  ${(input.reduce((n, b) => n + b.bytes.length, 0) / 1e6).toFixed(1)} MB of JSONL; ${ROUNDS} rounds on ${CORES} cores, node ${process.version}`);

const overhead: Timed[] = [];
const ratios: { wall: number; cpu: number | null }[] = [];
const loopArgs = () => [HAND_LOOP];
const dryArgs = (summary: string) => kgArgs({ variant: 'dry-run' }, summary);
for (let r = 0; r < ROUNDS; r++) {
  // Alternating who goes first keeps a drift in the machine's load from favouring either.
  const order = r % 2 === 0 ? (['hand loop', 'dry run'] as const) : (['dry run', 'hand loop'] as const);
  const got: Record<string, Timed> = {};
  for (const program of order) got[program] = await timed(program, r, program === 'hand loop' ? loopArgs : dryArgs, input, DOCS);
  const loop = got['hand loop']!;
  const dry = got['dry run']!;
  overhead.push(loop, dry);
  ratios.push({ wall: dry.docsPerSecond / loop.docsPerSecond, cpu: loop.cpuSeconds && dry.cpuSeconds ? loop.cpuSeconds / dry.cpuSeconds : null });
}
const wallRatio = median(ratios.map((x) => x.wall));
const cpuRatios = ratios.map((x) => x.cpu).filter((x): x is number => x !== null);
const cpuRatio = cpuRatios.length ? median(cpuRatios) : null;
const medianOf = (program: string, key: 'docsPerSecond' | 'cpuDocsPerSecond') => median(overhead.filter((t) => t.program === program).map((t) => t[key] ?? NaN));
log(`dry run / hand loop: ${wallRatio.toFixed(3)} by wall time, ${cpuRatio?.toFixed(3) ?? '-'} by CPU time (median of ${ROUNDS} rounds; target >= ${TARGET})`);

log(`offline extractor: ${formatCount(OFFLINE_DOCS)} documents, 1 worker against ${CORES} ...`);
const offlineInput = [...generatedBatches(OFFLINE_DOCS, SEED)];
const offline: Timed[] = [];
for (let r = 0; r < OFFLINE_ROUNDS; r++) {
  for (const workers of r % 2 === 0 ? [1, CORES] : [CORES, 1]) {
    offline.push(await timed(`offline, ${workers} worker${workers === 1 ? '' : 's'}`, r, (summary) => kgArgs({ variant: 'offline', workers }, summary), offlineInput, OFFLINE_DOCS));
  }
}
const offlineMedian = (workers: number) => median(offline.filter((t) => t.program.startsWith(`offline, ${workers} worker`)).map((t) => t.docsPerSecond));
const oneWorker = offlineMedian(1);
const allCores = offlineMedian(CORES);
log(`offline: 1 worker ${oneWorker} docs/s, ${CORES} workers ${allCores} docs/s (x${(allCores / oneWorker).toFixed(2)})`);

const firstRound = (list: Timed[]): Series[] =>
  list.filter((t) => t.round === 0).map((t) => ({ name: `${t.program}: ${t.docsPerSecond} docs/s, peak ${t.peakRssMb} MB`, points: t.samples.map((s) => [s.docs, s.rssMb] as const) }));
const svg = svgDocument(
  [
    { title: `Dry run against the hand-written loop, ${formatCount(DOCS)} documents (round 1)`, xLabel: 'documents read', yLabel: 'RSS (MB)', series: firstRound(overhead) },
    { title: `Offline extractor, 1 worker against ${CORES}, ${formatCount(OFFLINE_DOCS)} documents`, xLabel: 'documents read', yLabel: 'RSS (MB)', series: firstRound(offline) },
  ],
  `${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${CORES} cores. Ratio dry run / loop: ${wallRatio.toFixed(3)} (wall), ${cpuRatio?.toFixed(3) ?? '-'} (CPU).`,
);
const files = writeResults(
  'throughput',
  {
    description: 'Framework overhead (dry run against a hand-written loop, same bytes, same run) and offline worker scaling',
    seed: SEED,
    corpus: 'generator defaults (log-normal body, no Pareto tail)',
    overhead: {
      docs: DOCS,
      rounds: ROUNDS,
      target: TARGET,
      ratioByWall: round(wallRatio, 3),
      ratioByCpu: cpuRatio === null ? null : round(cpuRatio, 3),
      meetsTarget: wallRatio >= TARGET,
      perRound: ratios.map((x) => ({ wall: round(x.wall, 3), cpu: x.cpu === null ? null : round(x.cpu, 3) })),
      medianDocsPerSecond: { handLoop: medianOf('hand loop', 'docsPerSecond'), dryRun: medianOf('dry run', 'docsPerSecond') },
      medianCpuDocsPerSecond: { handLoop: medianOf('hand loop', 'cpuDocsPerSecond'), dryRun: medianOf('dry run', 'cpuDocsPerSecond') },
      runs: overhead,
    },
    offline: { docs: OFFLINE_DOCS, rounds: OFFLINE_ROUNDS, cores: CORES, oneWorkerDocsPerSecond: oneWorker, allCoresDocsPerSecond: allCores, speedup: round(allCores / oneWorker, 2), runs: offline },
    llmPacking: 'bench/llm-throughput.js; results in bench/results/llm-packing-*.json',
  },
  svg,
);
for (const f of files) log(`wrote ${f}`);
