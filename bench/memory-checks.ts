/**
 * The two constant-memory checks of the benchmark, pure so the tests can feed them series:
 *
 * - Peak RSS: a run's peak at its end (1M documents) must stay within `limit` (default 1.1) x its
 *   peak when the first 100K documents had been read. Same process, so the comparison is free of
 *   the run-to-run spread of V8's heap residency (docs/decisions.md); `peakCheck` also compares two
 *   separate runs, which the suite reports alongside.
 * - Heap trend: over the second half of a run (by time), heap-used after a forced full GC is fitted
 *   by least squares against time; the fitted line's rise over that half must stay within
 *   max(`toleranceMb`, `toleranceShare` x the half's median heap). The first half is left out
 *   because start-up (token ranks, lexicons, JIT, V8 sizing its heap) legitimately grows it; a
 *   fitted line rather than last-minus-first because a single sample can catch a long document in
 *   flight. A leak shows as a steady rise: at 1M documents, 2 MB over the 500K documents of the
 *   second half is 4 bytes per document.
 */
import type { MemorySample } from './probe-samples.js';

export interface TrendOptions {
  /** Rise (MB) allowed over the second half whatever the heap size. @default 2 */
  toleranceMb?: number;
  /** Rise allowed as a share of the second half's median heap. @default 0.05 */
  toleranceShare?: number;
  /** Fewer samples than this in the second half: the run was too short to judge. @default 8 */
  minSamples?: number;
}

export interface TrendResult {
  ok: boolean;
  /** Why it failed, or why it could not be judged. */
  reason?: string;
  samples: number;
  /** Fitted slope, MB per minute. */
  slopeMbPerMin: number;
  /** Fitted rise over the second half, MB (negative: shrinking). */
  riseMb: number;
  toleranceMb: number;
  medianHeapMb: number;
  /** Documents read during the second half: `riseMb` spread over them, bytes per document. */
  bytesPerDoc: number | null;
}

export const TREND_DEFAULTS = { toleranceMb: 2, toleranceShare: 0.05, minSamples: 8 } as const;

/** Least-squares line through (x, y); slope 0 when every x is the same. */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  if (xs.length !== ys.length || xs.length === 0) throw new RangeError(`linearFit needs two equally long, non-empty series (got ${xs.length} and ${ys.length})`);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    sxy += dx * (ys[i]! - my);
    sxx += dx * dx;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The heap-trend check over `samples` (in time order; the probe's final line left out). */
export function heapTrend(samples: readonly MemorySample[], options: TrendOptions = {}): TrendResult {
  const o = { ...TREND_DEFAULTS, ...options };
  const empty = { samples: 0, slopeMbPerMin: 0, riseMb: 0, toleranceMb: o.toleranceMb, medianHeapMb: 0, bytesPerDoc: null };
  if (samples.some((s) => !s.afterGc)) return { ok: false, reason: 'heap was not sampled after GC (run the child with --expose-gc)', ...empty };
  if (samples.length === 0) return { ok: false, reason: 'no samples', ...empty };
  const first = samples[0]!.t;
  const last = samples[samples.length - 1]!.t;
  const mid = (first + last) / 2;
  const half = samples.filter((s) => s.t >= mid);
  if (half.length < o.minSamples) {
    return { ok: false, reason: `too few samples in the second half (${half.length} < ${o.minSamples}): the run is too short to judge`, ...empty, samples: half.length };
  }
  const minutes = half.map((s) => s.t / 60_000);
  const heap = half.map((s) => s.heapUsedMb);
  const { slope } = linearFit(minutes, heap);
  const riseMb = slope * (minutes[minutes.length - 1]! - minutes[0]!);
  const medianHeapMb = median(heap);
  const toleranceMb = Math.max(o.toleranceMb, o.toleranceShare * medianHeapMb);
  const docs = half[half.length - 1]!.docs - half[0]!.docs;
  const result: TrendResult = {
    ok: riseMb <= toleranceMb,
    samples: half.length,
    slopeMbPerMin: slope,
    riseMb,
    toleranceMb,
    medianHeapMb,
    bytesPerDoc: docs > 0 ? (riseMb * 1024 * 1024) / docs : null,
  };
  if (!result.ok) result.reason = `heap after GC rose ${riseMb.toFixed(2)} MB over the second half (tolerance ${toleranceMb.toFixed(2)} MB)`;
  return result;
}

export interface PeakCheck {
  ok: boolean;
  ratio: number;
  limit: number;
  shortPeakMb: number;
  longPeakMb: number;
  reason?: string;
}

/**
 * The process's peak RSS (getrusage, MB) when `docs` documents had been read: the first sample at or
 * past that point. Undefined when the run never got there or its samples carry no peak.
 */
export function peakAt(samples: readonly MemorySample[], docs: number): number | undefined {
  return samples.find((s) => s.docs >= docs && s.peakRssMb !== undefined)?.peakRssMb;
}

/** Peak RSS of the long run against the short run's (or of a run's end against its early part). */
export function peakCheck(shortPeakMb: number, longPeakMb: number, limit = 1.1): PeakCheck {
  if (!(shortPeakMb > 0) || !(longPeakMb > 0)) throw new RangeError(`peak RSS must be positive (got ${shortPeakMb} and ${longPeakMb})`);
  const ratio = longPeakMb / shortPeakMb;
  const check: PeakCheck = { ok: ratio <= limit, ratio, limit, shortPeakMb, longPeakMb };
  if (!check.ok) check.reason = `peak RSS ${longPeakMb} MB is ${ratio.toFixed(3)} x ${shortPeakMb} MB (limit ${limit})`;
  return check;
}
