/**
 * An adaptive limit on requests in flight, for servers that send no rate-limit headers (llama.cpp,
 * vLLM, Ollama queue what they cannot serve): after TCP Vegas and Netflix's concurrency-limits.
 * It keeps the unloaded latency (the lower envelope of recent latencies against answer size),
 * estimates from each request's latency how many requests wait in the server's queue
 * (Vegas: in flight x (1 - unloaded / measured)), grows the limit while that stays near zero and
 * shrinks it when requests queue, time out or are refused (503, 429, connection errors). A pure
 * class: the clock is injected, the caller tracks nothing but the tokens it is handed.
 */

export interface ConcurrencyLimitOptions {
  /** The most requests in flight (--concurrency). */
  ceiling: number;
  /** Where it starts (default min(ceiling, 8), the fixed default it replaces). */
  initial?: number;
  /** Monotonic ms (default performance.now). */
  now?: () => number;
  /** Latencies older than this leave the unloaded-latency estimate, ms (default 5 min). */
  baselineWindowMs?: number;
  /** Without an unloaded answer for this long, one window runs at half the limit to measure one again, ms (default 2 min). */
  probeAfterMs?: number;
}

/** Handed out for a request that may start; given back with how it ended. */
export interface LimitToken {
  readonly epoch: number;
  /** Requests in flight once this one started (itself included). */
  readonly inFlight: number;
  /** The limit then: a request that started with fewer in flight says little of what the limit does. */
  readonly limit: number;
}

/** How a request ended, as the limit cares: answered (with its latency and size), overload, or neither. */
export type LimitOutcome =
  | { kind: 'answered'; latencyMs: number; size: number }
  /** A timeout, 503/502/504, 429 or connection error: the server could not take it. */
  | { kind: 'overload' }
  /** Aborted, refused as invalid, ...: says nothing of the server's load. */
  | { kind: 'ignored' };

interface Sample {
  at: number;
  size: number;
  latencyMs: number;
}

/** A window's samples before a decision: at least this many, and at least the limit's worth. */
const MIN_WINDOW = 3;
/** Growth factor per window while no queueing has been seen (slow start, doubling as TCP's does; docs/decisions.md has the measurements). */
const SLOW_START_FACTOR = 2;
/** The share the limit keeps after an overload (timeouts, 503s): multiplicative decrease. */
const OVERLOAD_FACTOR = 0.75;
/** A latency within this of the unloaded one counts as unloaded (refreshes the probe clock). */
const UNLOADED_RATIO = 1.05;
/** Latencies kept for the envelope, at most. */
const MAX_SAMPLES = 2000;

export class ConcurrencyLimit {
  private current: number;
  /** The lowest and highest limit set so far. */
  low: number;
  high: number;
  private inFlightNow = 0;
  private epoch = 0;
  private slowStart = true;
  private window: { size: number; latencyMs: number; inFlight: number }[] = [];
  private history: Sample[] = [];
  private lastUnloadedAt: number;
  /** During a probe window: the limit to return to after it. */
  private probeReturn: number | undefined;
  private readonly now: () => number;
  private readonly ceiling: number;
  private readonly baselineWindowMs: number;
  private readonly probeAfterMs: number;

  constructor(o: ConcurrencyLimitOptions) {
    if (!Number.isInteger(o.ceiling) || o.ceiling < 1) throw new RangeError(`concurrency ceiling must be a positive integer (got ${String(o.ceiling)})`);
    this.ceiling = o.ceiling;
    this.now = o.now ?? (() => performance.now());
    this.baselineWindowMs = o.baselineWindowMs ?? 5 * 60_000;
    this.probeAfterMs = o.probeAfterMs ?? 120_000;
    this.current = Math.max(1, Math.min(this.ceiling, o.initial ?? 8));
    this.low = this.high = this.current;
    this.lastUnloadedAt = this.now();
  }

  /** Requests allowed in flight now. */
  get limit(): number {
    return this.current;
  }

  get inFlight(): number {
    return this.inFlightNow;
  }

  /** A token when one more request may start now; undefined when the limit is reached. */
  tryAcquire(): LimitToken | undefined {
    if (this.inFlightNow >= this.current) return undefined;
    this.inFlightNow++;
    return { epoch: this.epoch, inFlight: this.inFlightNow, limit: this.current };
  }

  /** The request of `token` ended: its slot is free, and what it says of the server is weighed. */
  release(token: LimitToken, outcome: LimitOutcome): void {
    this.inFlightNow = Math.max(0, this.inFlightNow - 1);
    if (outcome.kind === 'ignored') return;
    if (outcome.kind === 'overload') {
      // Once per window: the requests in flight when the server choked all fail together.
      if (token.epoch !== this.epoch) return;
      this.probeReturn = undefined;
      this.slowStart = false;
      this.set(Math.floor(this.current * OVERLOAD_FACTOR));
      return;
    }
    const at = this.now();
    this.history.push({ at, size: Math.max(0, outcome.size), latencyMs: Math.max(0, outcome.latencyMs) });
    if (this.history.length > MAX_SAMPLES) this.history.shift();
    // Only requests started under the current limit tell what it does to latency; once past slow
    // start, only those that started with the limit in flight (the first of a window start with
    // fewer; a run that cannot fill the limit holds it). Slow start takes any: it only asks
    // whether anything queues yet, and waiting for full ones would double each step.
    if (token.epoch !== this.epoch || (!this.slowStart && token.inFlight < token.limit)) return;
    this.window.push({ size: outcome.size, latencyMs: outcome.latencyMs, inFlight: token.inFlight });
    if (this.window.length >= Math.max(MIN_WINDOW, this.current)) return this.decide(at);
    // Plain queueing need not wait for the whole window: every request sent meanwhile only queues too.
    if (this.window.length >= MIN_WINDOW && this.probeReturn === undefined && this.queue(at) > this.beta()) this.decide(at);
  }

  /** Above this estimated queue the limit sheds requests; below alpha it grows (both grow with the limit: a wide window jitters). */
  private alpha(): number {
    return Math.max(0.5, 0.1 * this.current);
  }

  private beta(): number {
    return Math.max(1.5, 0.2 * this.current);
  }

  /**
   * The window's estimated queue (Vegas), against the envelope of the latencies kept: past slow
   * start the median of its requests', so that a size the envelope knows only from queued answers
   * does not hide it.
   */
  private queue(at: number): number {
    while (this.history.length > 0 && this.history[0]!.at < at - this.baselineWindowMs) this.history.shift();
    const envelope = lowerEnvelope(this.history.map((s) => [s.size, s.latencyMs]));
    const queues = this.window.map((s) => {
      const base = envelopeAt(envelope, s.size);
      const ratio = base > 0 && s.latencyMs > 0 ? s.latencyMs / base : 1;
      if (ratio <= UNLOADED_RATIO) this.lastUnloadedAt = at;
      return s.inFlight * Math.max(0, 1 - 1 / ratio);
    });
    // Slow start stops at the first sign of queueing: the mean, which a few queued answers move.
    if (this.slowStart) return queues.reduce((x, y) => x + y, 0) / queues.length;
    queues.sort((a, b) => a - b);
    const mid = queues.length >> 1;
    return queues.length % 2 === 1 ? queues[mid]! : (queues[mid - 1]! + queues[mid]!) / 2;
  }

  private decide(at: number): void {
    const queue = this.queue(at);
    if (this.probeReturn !== undefined) {
      // The probe measured the unloaded latency again; back to where the limit was.
      const back = this.probeReturn;
      this.probeReturn = undefined;
      // Measured or not (a server now slower throughout), the next probe is a while away.
      this.lastUnloadedAt = at;
      this.set(back);
      return;
    }
    // No answer as fast as the unloaded one for a long while: the envelope may have drifted up
    // with queueing, so one window at half the limit measures it again.
    if (at - this.lastUnloadedAt > this.probeAfterMs && this.current > 1) {
      this.probeReturn = this.current;
      return this.set(Math.ceil(this.current / 2));
    }
    const alpha = this.alpha();
    const beta = this.beta();
    if (this.slowStart) {
      if (queue < alpha) return this.set(Math.ceil(this.current * SLOW_START_FACTOR));
      this.slowStart = false;
    }
    if (queue < alpha) return this.set(this.current + 1);
    // Remove the requests that only queue, keeping about alpha of them waiting.
    if (queue > beta) return this.set(this.current - Math.max(1, Math.floor(queue - alpha)));
    this.set(this.current);
  }

  /** A new limit within 1..ceiling; a new epoch, a fresh window. */
  private set(limit: number): void {
    this.current = Math.max(1, Math.min(this.ceiling, limit));
    this.low = Math.min(this.low, this.current);
    this.high = Math.max(this.high, this.current);
    this.epoch++;
    this.window = [];
  }
}

/**
 * The lower convex envelope of (size, latency) points, non-decreasing in size: the unloaded
 * latency as a + b x size would draw it, without knowing a or b. Queued requests lie above it.
 */
export function lowerEnvelope(points: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const hull: [number, number][] = [];
  for (const [x, y] of sorted) {
    if (hull.length > 0 && hull[hull.length - 1]![0] === x) continue; // the lower of equal sizes came first
    while (hull.length >= 2) {
      const [x1, y1] = hull[hull.length - 2]!;
      const [x2, y2] = hull[hull.length - 1]!;
      // Drop the middle point when it lies on or above the line from the first to the new one.
      if ((y2 - y1) * (x - x1) >= (y - y1) * (x2 - x1)) hull.pop();
      else break;
    }
    hull.push([x, y]);
  }
  // A larger answer never takes less time unloaded: start at the lowest point.
  let lowest = 0;
  for (let i = 1; i < hull.length; i++) if (hull[i]![1] < hull[lowest]![1]) lowest = i;
  return hull.slice(lowest);
}

/** The envelope's latency at `size`: flat left of it, its last slope right of it (proportional with one point). */
export function envelopeAt(envelope: readonly (readonly [number, number])[], size: number): number {
  if (envelope.length === 0) return 0;
  const first = envelope[0]!;
  if (size <= first[0]) return first[1];
  const last = envelope[envelope.length - 1]!;
  if (size >= last[0]) {
    if (envelope.length === 1) return last[0] > 0 ? (last[1] * size) / last[0] : last[1];
    const prev = envelope[envelope.length - 2]!;
    return last[1] + ((last[1] - prev[1]) / (last[0] - prev[0])) * (size - last[0]);
  }
  let i = 1;
  while (envelope[i]![0] < size) i++;
  const [x1, y1] = envelope[i - 1]!;
  const [x2, y2] = envelope[i]!;
  return y1 + ((y2 - y1) * (size - x1)) / (x2 - x1);
}
