/**
 * Runs a plan of memory runs, judges them, and writes bench/results/<name>.json and .svg.
 *
 * Judged: every run must be sound (exit 0, every document accounted for); every streaming run's
 * heap after GC must show no upward trend over its second half; every streaming run longer than
 * 100K documents must end with a peak RSS within 1.1 x its own peak at 100K documents. For a
 * variant run at two sizes, the larger run's peak against the smaller run's is reported too, not
 * judged: separate processes differ by up to ~15% in RSS (docs/decisions.md). The eager variant is
 * shown, never judged on memory (its growth is the point).
 */
import { cpus } from 'node:os';
import { peakCheck, type PeakCheck } from './memory-checks.js';
import { measureRun, runLabel, type RunRecord, type RunRequest, type Variant } from './memory-runs.js';
import { writeResults } from './results-file.js';
import { startSimulatorProcess } from './simulator-process.js';
import { formatCount, svgDocument, type ChartSpec } from './svg-chart.js';
import type { GenerateOptions } from './generate-docs.js';

export interface SuitePlan {
  name: string;
  description: string;
  seed: number;
  corpus: GenerateOptions;
  runs: Omit<RunRequest, 'seed' | 'corpus' | 'baseUrl'>[];
}

export interface PeakPair extends PeakCheck {
  variant: Variant;
  shortDocs: number;
  longDocs: number;
}

export interface SuiteOutcome {
  ok: boolean;
  runs: RunRecord[];
  peaks: PeakPair[];
  failures: string[];
  files: string[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export async function runSuite(plan: SuitePlan): Promise<SuiteOutcome> {
  const started = performance.now();
  log(`${plan.name}: ${plan.runs.length} runs on ${cpus().length} cores, node ${process.version}`);
  const runs: RunRecord[] = [];
  for (const request of plan.runs) {
    log(`${runLabel(request)} ...`);
    // A fresh simulator per LLM run, in its own process: its state and CPU stay out of the figures.
    const sim = request.variant === 'llm' ? await startSimulatorProcess() : undefined;
    try {
      const record = await measureRun({ ...request, seed: plan.seed, corpus: plan.corpus, baseUrl: sim?.url }, log);
      runs.push(record);
      log(
        `  ${record.label}: ${record.wallSeconds} s, ${record.docsPerSecond} docs/s, peak RSS ${record.peakRssMb} MB, heap rise over 2nd half ${record.heapTrend.riseMb.toFixed(2)} MB${record.problems.length ? `; PROBLEMS: ${record.problems.join('; ')}` : ''}`,
      );
    } finally {
      await sim?.stop();
    }
  }

  const failures = judge(runs);
  const peaks = peakPairs(runs);

  const outcome: SuiteOutcome = { ok: failures.length === 0, runs, peaks, failures, files: [] };
  outcome.files = writeResults(
    plan.name,
    {
      description: plan.description,
      seed: plan.seed,
      corpus: plan.corpus,
      ok: outcome.ok,
      failures,
      wallSeconds: Math.round((performance.now() - started) / 1000),
      peaks,
      runs,
    },
    chart(plan, runs),
  );
  printTable(runs, peaks);
  for (const f of outcome.files) log(`wrote ${f}`);
  log(outcome.ok ? `${plan.name}: constant memory: OK` : `${plan.name}: FAILED\n  ${failures.join('\n  ')}`);
  return outcome;
}

/** What fails the suite: unsound runs, and for streaming runs a heap trend or a peak that grew. */
export function judge(runs: readonly RunRecord[]): string[] {
  const failures: string[] = [];
  for (const r of runs) {
    for (const p of r.problems) failures.push(`${r.label}: ${p}`);
    if (r.variant === 'eager') continue;
    if (!r.heapTrend.ok) failures.push(`${r.label}: ${r.heapTrend.reason}`);
    for (const w of r.workerHeapTrends) if (!w.ok) failures.push(`${r.label}, worker thread ${w.thread}: ${w.reason}`);
    if (r.peakGrowth && !r.peakGrowth.ok) failures.push(`${r.label}: ${r.peakGrowth.reason}, its peak at ${formatCount(r.peakGrowth.referenceDocs)} documents`);
  }
  return failures;
}

/** For every variant (eager aside) run at two or more sizes: the largest against the smallest. */
export function peakPairs(runs: readonly RunRecord[], limit?: number): PeakPair[] {
  const out: PeakPair[] = [];
  const byVariant = new Map<string, RunRecord[]>();
  for (const r of runs) {
    if (r.variant === 'eager' || r.problems.length > 0) continue;
    const key = `${r.variant}/${r.workers ?? ''}`;
    byVariant.set(key, [...(byVariant.get(key) ?? []), r]);
  }
  for (const list of byVariant.values()) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => a.docs - b.docs);
    const short = sorted[0]!;
    const long = sorted[sorted.length - 1]!;
    if (short.docs === long.docs) continue;
    out.push({ variant: short.variant, shortDocs: short.docs, longDocs: long.docs, ...peakCheck(short.peakRssMb, long.peakRssMb, limit) });
  }
  return out;
}

/** One RSS chart per input size, one line per variant. */
function chart(plan: SuitePlan, runs: readonly RunRecord[]): string {
  const sizes = [...new Set(runs.map((r) => r.docs))].sort((a, b) => a - b);
  const charts: ChartSpec[] = sizes.map((size) => ({
    title: `RSS while streaming ${formatCount(size)} documents through pipelines/kg (${plan.name})`,
    xLabel: 'documents read by the pipeline',
    yLabel: 'RSS (MB)',
    series: runs.filter((r) => r.docs === size).map((r) => ({ name: `${r.label}: peak ${r.peakRssMb} MB`, points: r.samples.map((s) => [s.docs, s.rssMb] as const) })),
  }));
  const when = new Date().toISOString().slice(0, 10);
  return svgDocument(charts, `${when}, node ${process.version}, ${cpus().length} cores; RSS sampled every 250 ms; peak from getrusage at exit. bench/results/${plan.name}.json has the figures.`);
}

function printTable(runs: readonly RunRecord[], peaks: readonly PeakPair[]): void {
  const rows = [['run', 'wall s', 'docs/s', 'peak RSS MB', 'heap MB (last)', 'heap rise 2nd half MB', 'tolerance MB', 'worker heap rise MB']];
  for (const r of runs) {
    const workers = r.workerHeapTrends.map((w) => w.riseMb.toFixed(2)).join(', ') || '-';
    rows.push([r.label, String(r.wallSeconds), String(r.docsPerSecond), String(r.peakRssMb), String(r.lastHeapMb ?? '-'), r.heapTrend.riseMb.toFixed(2), r.heapTrend.toleranceMb.toFixed(2), workers]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  for (const r of runs) {
    const g = r.peakGrowth;
    if (g)
      log(`peak RSS ${r.label}: at the end ${g.longPeakMb} MB / at ${formatCount(g.referenceDocs)} documents ${g.shortPeakMb} MB = ${g.ratio.toFixed(3)} (limit ${g.limit}) ${g.ok ? 'OK' : 'FAIL'}`);
  }
  for (const p of peaks)
    log(`peak RSS ${p.variant}, separate runs (reported, not judged): ${formatCount(p.longDocs)} ${p.longPeakMb} MB / ${formatCount(p.shortDocs)} ${p.shortPeakMb} MB = ${p.ratio.toFixed(3)}`);
}
