/**
 * The latency model behind per-request deadlines and hedging: it learns how long answered requests
 * took as a function of their size (a fixed part plus a part per completion token, fitted robustly
 * over a window of recent answers) and gives, for a new request of an expected size, the predicted
 * high quantile of its latency and a deadline (k times that, between a floor and a ceiling). Until
 * enough answers were seen the deadline is the ceiling (--timeout-ms) and no quantile is predicted.
 * A pure class: the clock is injected, nothing is sent.
 */
import { performance } from 'node:perf_hooks';

export interface LatencyModelOptions {
  /** The deadline never goes below this (ms): a spike at a small size is not a hang. */
  floorMs: number;
  /** ...nor above this (ms), and it is the deadline until the model is warm (--timeout-ms). */
  ceilingMs: number;
  /** Deadline = k x the predicted high quantile. @default 3 */
  k?: number;
  /** The quantile of the residuals above the fit. @default 0.99 */
  quantile?: number;
  /** Answers observed before the model predicts anything. @default 20 */
  warmup?: number;
  /** Answers the fit is made over, the most recent ones (the server's speed drifts). @default 256 */
  window?: number;
  /** The clock, ms. @default performance.now */
  now?: () => number;
}

/** The fit over the window: latency ≈ fixedMs + perTokenMs x tokens, and the high quantile of what lies above it. */
export interface LatencyFit {
  fixedMs: number;
  perTokenMs: number;
  /** The chosen quantile of the residuals (>= 0), added to the line for the high quantile. */
  residualMs: number;
  /** The largest size observed: a request beyond it with no slope known is scaled, not guessed. */
  maxTokens: number;
  /** False when every answer of the window had the same size: the slope is unknown, not zero. */
  sloped: boolean;
  samples: number;
}

/** Refit after this many new answers once the window is large (Theil-Sen is quadratic in the window). */
const REFIT_EVERY = 8;

export class LatencyModel {
  private readonly floorMs: number;
  private readonly ceilingMs: number;
  private readonly k: number;
  private readonly quantile: number;
  private readonly warmup: number;
  private readonly size: number;
  readonly now: () => number;
  /** Ring buffers of the window: completion tokens and latency (ms) of each answer. */
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private next = 0;
  private observed = 0;
  private sinceFit = 0;
  private current: LatencyFit | undefined;

  constructor(o: LatencyModelOptions) {
    for (const [name, v] of [
      ['floorMs', o.floorMs],
      ['ceilingMs', o.ceilingMs],
    ] as const)
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`latency model: ${name} must be a positive number (got ${String(v)})`);
    // A floor above the ceiling (e.g. --timeout-ms 5000 with the default --min-timeout-ms) is the ceiling.
    this.ceilingMs = o.ceilingMs;
    this.floorMs = Math.min(o.floorMs, o.ceilingMs);
    this.k = o.k ?? 3;
    this.quantile = o.quantile ?? 0.99;
    this.warmup = o.warmup ?? 20;
    this.size = o.window ?? 256;
    if (!(this.k >= 1)) throw new RangeError(`latency model: k must be >= 1 (got ${this.k})`);
    if (!(this.quantile > 0 && this.quantile < 1)) throw new RangeError(`latency model: quantile must be in (0, 1) (got ${this.quantile})`);
    if (!Number.isInteger(this.warmup) || this.warmup < 2) throw new RangeError(`latency model: warmup must be an integer >= 2 (got ${this.warmup})`);
    if (!Number.isInteger(this.size) || this.size < this.warmup) throw new RangeError(`latency model: window must be an integer >= warmup (got ${this.size})`);
    this.now = o.now ?? (() => performance.now());
  }

  /** Answers observed so far (all time, not only the window). */
  get samples(): number {
    return this.observed;
  }

  /** An answered request: its completion tokens and how long it took from sending (ms). */
  observe(tokens: number, latencyMs: number): void {
    if (!Number.isFinite(tokens) || tokens < 0 || !Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.xs[this.next] = tokens;
    this.ys[this.next] = latencyMs;
    this.next = (this.next + 1) % this.size;
    this.observed++;
    this.sinceFit++;
  }

  /** The request sent at `startedAt` (from `now()`) was answered with `tokens` completion tokens. */
  answered(startedAt: number, tokens: number): void {
    this.observe(tokens, this.now() - startedAt);
  }

  /** The fit over the window, or undefined during warm-up. */
  fit(): LatencyFit | undefined {
    if (this.observed < this.warmup) return undefined;
    if (this.current === undefined || this.sinceFit >= (this.xs.length < 64 ? 1 : REFIT_EVERY)) {
      this.current = theilSen(this.xs, this.ys, this.quantile);
      this.sinceFit = 0;
    }
    return this.current;
  }

  /** The predicted high quantile of the latency of a request expected to produce `tokens` (ms), or undefined while warming up. */
  highQuantileMs(tokens: number): number | undefined {
    const f = this.fit();
    if (!f) return undefined;
    const size = Math.max(0, tokens);
    // No slope was seen (every answer the same size): beyond the sizes seen, scale up in proportion
    // (as if all of the latency were per token), which overestimates and so cannot cut a real answer short.
    if (!f.sloped && size > f.maxTokens && f.maxTokens > 0) return (f.fixedMs + f.residualMs) * (size / f.maxTokens);
    return f.fixedMs + f.perTokenMs * size + f.residualMs;
  }

  /** The deadline of a request expected to produce `tokens` (ms): k x the high quantile, floored and capped; the ceiling while warming up. */
  deadlineMs(tokens: number): number {
    const q = this.highQuantileMs(tokens);
    if (q === undefined) return this.ceilingMs;
    return Math.round(Math.min(this.ceilingMs, Math.max(this.floorMs, this.k * q)));
  }
}

/**
 * Theil-Sen: the slope is the median of the slopes between pairs of answers of different sizes,
 * the intercept the median of what is left; robust to the odd slow answer, which a least-squares
 * fit would follow. Slope and intercept are kept >= 0 (a latency does not shrink with size).
 */
function theilSen(xs: readonly number[], ys: readonly number[], quantile: number): LatencyFit {
  const n = xs.length;
  const slopes: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xs[i]!;
      if (dx !== 0) slopes.push((ys[j]! - ys[i]!) / dx);
    }
  const perTokenMs = slopes.length > 0 ? Math.max(0, median(slopes)) : 0;
  const fixedMs = Math.max(0, median(ys.map((y, i) => y - perTokenMs * xs[i]!)));
  const residuals = ys.map((y, i) => y - fixedMs - perTokenMs * xs[i]!);
  return { fixedMs, perTokenMs, residualMs: Math.max(0, quantileOf(residuals, quantile)), maxTokens: Math.max(...xs), sloped: slopes.length > 0, samples: n };
}

function median(values: number[]): number {
  return quantileOf(values, 0.5);
}

/** The q-quantile by linear interpolation between the order statistics. */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
