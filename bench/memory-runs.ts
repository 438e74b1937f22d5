/**
 * One memory run: a variant of the kg pipeline in a child process under the probe, fed `docs`
 * generated documents on stdin, checked for lost documents through its --summary file.
 *
 * Variants: `dry-run` (read, parse, chunk, pack), `offline` (local NER on worker threads), `llm`
 * (the openai extractor against the simulator), `eager` (bench/eager-kg.js: the whole input in an
 * array first, then the dry run's work; the point of comparison, never asserted).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild, type ChildRun } from './child-run.js';
import { generatedBatches } from './doc-batches.js';
import type { GenerateOptions } from './generate-docs.js';
import { heapTrend, peakAt, peakCheck, type PeakCheck, type TrendResult } from './memory-checks.js';
import { downsample, type MemorySample } from './probe-samples.js';
import { formatCount } from './svg-chart.js';

export const VARIANTS = ['dry-run', 'offline', 'llm', 'eager'] as const;
export type Variant = (typeof VARIANTS)[number];

const KG = fileURLToPath(new URL('../pipelines/kg.js', import.meta.url));
const EAGER = fileURLToPath(new URL('./eager-kg.js', import.meta.url));
/** Samples kept per run in the result file (every sample is used for the checks). */
const SAMPLES_KEPT = 400;
const PROGRESS_EVERY_MS = 15_000;
/** A run's peak is judged against its own peak at this many documents (the issue's 100K). */
export const REFERENCE_DOCS = 100_000;

export interface RunRequest {
  variant: Variant;
  docs: number;
  seed: number;
  corpus: GenerateOptions;
  /** Offline worker threads (default: the CPU count). */
  workers?: number;
  /** The simulator's base URL, for `llm`. */
  baseUrl?: string;
  timeoutMs?: number;
  /** The peak at the end is judged against the peak at this many documents. @default REFERENCE_DOCS */
  referenceDocs?: number;
}

export interface RunRecord {
  variant: Variant;
  label: string;
  docs: number;
  workers?: number;
  exitCode: number | null;
  wallSeconds: number;
  docsPerSecond: number;
  /** CPU time of the child (all threads), seconds: less disturbed by a busy machine than wall time. */
  cpuSeconds: number | null;
  peakRssMb: number;
  /** Peak RSS at `referenceDocs` documents, and the check of the final peak against it (runs longer than that). */
  peakGrowth: (PeakCheck & { referenceDocs: number }) | null;
  /** Heap used after GC: the run's last sample, MB. */
  lastHeapMb: number | null;
  summary: { docsIn: number; docsOut: number; deadLettered: number } | null;
  heapTrend: TrendResult;
  /** The same check on each worker thread's heap (offline extractor): a leak in a worker shows here. */
  workerHeapTrends: (TrendResult & { thread: number; lastHeapMb: number | null })[];
  /** Empty when the run is sound; otherwise what went wrong (exit code, lost documents). */
  problems: string[];
  samples: Pick<MemorySample, 't' | 'docs' | 'rssMb' | 'heapUsedMb'>[];
}

export function kgArgs(r: Pick<RunRequest, 'variant' | 'workers' | 'baseUrl'>, summaryPath: string): string[] {
  const common = ['--quiet', '--summary', summaryPath];
  switch (r.variant) {
    case 'dry-run':
      return [KG, '--dry-run', ...common];
    case 'eager':
      return [EAGER, '--dry-run', ...common];
    case 'offline':
      return [KG, '--extractor', 'offline', ...(r.workers !== undefined ? ['--workers', String(r.workers)] : []), ...common];
    case 'llm':
      if (!r.baseUrl) throw new Error('the llm variant needs the simulator base URL');
      return [KG, '--extractor', 'openai', '--base-url', r.baseUrl, ...common];
  }
}

export function runLabel(r: Pick<RunRequest, 'variant' | 'docs' | 'workers'>): string {
  const what =
    r.variant === 'eager' ? 'eager (dry run, input in an array)' : r.variant === 'offline' && r.workers !== undefined ? `offline, ${r.workers} worker${r.workers === 1 ? '' : 's'}` : r.variant;
  return `${what}, ${formatCount(r.docs)}`;
}

export async function measureRun(r: RunRequest, log: (line: string) => void = () => undefined): Promise<RunRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const summaryPath = join(dir, 'summary.json');
  const label = runLabel(r);
  let lastLog = performance.now();
  try {
    const child: ChildRun = await runChild({
      args: kgArgs(r, summaryPath),
      // piscina's workers otherwise block in Atomics.wait between tasks and their probe never gets
      // a turn; async waits leave their event loops free (docs/decisions.md).
      env: r.variant === 'offline' ? { PISCINA_ENABLE_ASYNC_ATOMICS: '1' } : {},
      input: generatedBatches(r.docs, r.seed, r.corpus),
      timeoutMs: r.timeoutMs,
      onSample: (s) => {
        if (performance.now() - lastLog < PROGRESS_EVERY_MS) return;
        lastLog = performance.now();
        log(`  ${label}: ${formatCount(s.docs)} documents read, RSS ${s.rssMb} MB, heap after GC ${s.heapUsedMb} MB`);
      },
    });
    const summary = readSummary(summaryPath);
    const problems = soundness(r, child, summary);
    const referenceDocs = r.referenceDocs ?? REFERENCE_DOCS;
    const peakGrowth = growth(child, r.docs, referenceDocs);
    // A long run must be judged on its growth: a missing reference is a problem, not a pass.
    if (r.docs > referenceDocs && peakGrowth === null && child.exitCode === 0) problems.push(`no peak RSS at ${formatCount(referenceDocs)} documents to judge the final peak against`);
    const last = child.samples[child.samples.length - 1];
    return {
      variant: r.variant,
      label,
      docs: r.docs,
      ...(r.workers !== undefined ? { workers: r.workers } : {}),
      exitCode: child.exitCode,
      wallSeconds: Math.round(child.wallSeconds * 100) / 100,
      docsPerSecond: Math.round(r.docs / child.wallSeconds),
      cpuSeconds: child.cpuSeconds === null ? null : Math.round(child.cpuSeconds * 100) / 100,
      peakRssMb: child.peakRssMb,
      peakGrowth,
      lastHeapMb: last?.heapUsedMb ?? null,
      summary,
      heapTrend: heapTrend(child.samples),
      workerHeapTrends: [...child.workerSamples].map(([thread, list]) => ({ thread, lastHeapMb: list[list.length - 1]?.heapUsedMb ?? null, ...heapTrend(list) })),
      problems,
      samples: downsample(child.samples, SAMPLES_KEPT).map(({ t, docs, rssMb, heapUsedMb }) => ({ t, docs, rssMb, heapUsedMb })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function growth(child: ChildRun, docs: number, referenceDocs: number): RunRecord['peakGrowth'] {
  if (docs <= referenceDocs || !child.peakFromExitLine) return null;
  const early = peakAt(child.samples, referenceDocs);
  return early === undefined ? null : { referenceDocs, ...peakCheck(early, child.peakRssMb) };
}

function readSummary(path: string): RunRecord['summary'] {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as { docsIn: number; docsOut: number; deadLettered: number };
    return { docsIn: s.docsIn, docsOut: s.docsOut, deadLettered: s.deadLettered };
  } catch {
    return null;
  }
}

/** A run whose figures can be trusted: it exited 0 and accounted for every document. */
function soundness(r: RunRequest, child: ChildRun, summary: RunRecord['summary']): string[] {
  const problems: string[] = [];
  if (child.timedOut) problems.push(`killed after ${r.timeoutMs} ms`);
  if (child.exitCode !== 0) problems.push(`exit code ${child.exitCode}${child.signal ? ` (${child.signal})` : ''}: ${child.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
  if (!child.peakFromExitLine) problems.push('no exit line from the probe: peak RSS is the largest sample');
  if (child.probeError) problems.push(`unreadable probe output: ${child.probeError}`);
  if (child.docsIn !== r.docs) problems.push(`fed ${child.docsIn} documents, not ${r.docs}`);
  if (!summary) {
    problems.push('no summary file');
    return problems;
  }
  if (summary.docsIn !== r.docs) problems.push(`the pipeline read ${summary.docsIn} documents, not ${r.docs}`);
  if (summary.deadLettered !== 0) problems.push(`${summary.deadLettered} documents dead-lettered`);
  const extracted = r.variant === 'offline' || r.variant === 'llm';
  if (extracted && summary.docsOut !== r.docs) problems.push(`${summary.docsOut} results for ${r.docs} documents`);
  return problems;
}
