/**
 * The parent's side of bench/memory-probe.ts: one probe line to a checked sample, and the figures
 * a run is judged by (peak RSS, heap-used after GC). Pure, so the tests can feed it lines.
 */

/** What the probe writes, in bytes; `final` is the line written at exit, with the peak RSS. */
export interface ProbeSample {
  /** The thread that wrote it: 0 the main thread, > 0 a worker thread (its own heap). */
  thread: number;
  /** ms since the probe started (in that thread) */
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** heapUsed was read right after a forced full GC (the child ran with --expose-gc). */
  afterGc: boolean;
  final?: boolean;
  /** Peak RSS of the process so far (getrusage); on every main-thread line, required on the final one. */
  maxRss?: number;
  /** CPU time of the process, all threads, user + system, ms; on the final line only. */
  cpuMs?: number;
}

/** A probe sample placed on the documents axis: MB, and the documents the child had read then. */
export interface MemorySample {
  thread: number;
  t: number;
  docs: number;
  rssMb: number;
  heapUsedMb: number;
  /** The process's peak RSS up to this sample (getrusage), when the line carried it. */
  peakRssMb?: number;
  afterGc: boolean;
}

const NUMBER_FIELDS = ['t', 'rss', 'heapUsed', 'heapTotal', 'external'] as const;

/** Parses one probe line; throws naming what is wrong (a truncated or foreign line). */
export function parseProbeLine(line: string): ProbeSample {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`probe line is not JSON: ${line.slice(0, 80)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`probe line is not an object: ${line.slice(0, 80)}`);
  const o = value as Record<string, unknown>;
  for (const k of NUMBER_FIELDS) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`probe line: ${k} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  if (typeof o.afterGc !== 'boolean') throw new Error('probe line: afterGc must be a boolean');
  if (!Number.isInteger(o.thread) || (o.thread as number) < 0) throw new Error(`probe line: thread must be a non-negative integer, got ${JSON.stringify(o.thread)}`);
  const sample: ProbeSample = {
    thread: o.thread as number,
    t: o.t as number,
    rss: o.rss as number,
    heapUsed: o.heapUsed as number,
    heapTotal: o.heapTotal as number,
    external: o.external as number,
    afterGc: o.afterGc,
  };
  if (o.maxRss !== undefined) {
    if (typeof o.maxRss !== 'number' || !Number.isFinite(o.maxRss) || o.maxRss <= 0) throw new Error(`probe line: maxRss must be a positive number, got ${JSON.stringify(o.maxRss)}`);
    sample.maxRss = o.maxRss;
  }
  if (o.final === true) {
    if (sample.maxRss === undefined) throw new Error('probe line: the final line needs a positive maxRss');
    if (typeof o.cpuMs !== 'number' || !Number.isFinite(o.cpuMs) || o.cpuMs < 0) throw new Error('probe line: the final line needs a non-negative cpuMs');
    sample.final = true;
    sample.cpuMs = o.cpuMs;
  }
  return sample;
}

const MB = 1024 * 1024;

export function toMemorySample(s: ProbeSample, docs: number): MemorySample {
  const sample: MemorySample = { thread: s.thread, t: s.t, docs, rssMb: round(s.rss / MB, 1), heapUsedMb: round(s.heapUsed / MB, 2), afterGc: s.afterGc };
  if (s.maxRss !== undefined) sample.peakRssMb = round(s.maxRss / MB, 1);
  return sample;
}

export function mb(bytes: number): number {
  return round(bytes / MB, 1);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Splits a byte stream into probe lines across chunk boundaries. Returns the complete lines of
 * `chunk`; the partial tail waits for the next chunk.
 */
export class LineBuffer {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }

  /** What is left at end of stream (a line without its newline: the child died mid-write). */
  end(): string {
    const rest = this.rest;
    this.rest = '';
    return rest;
  }
}

/** Keeps at most `max` points, evenly spread, always the first and the last (for charts and result files). */
export function downsample<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  if (max < 2) return points.slice(0, max);
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]!);
  return out;
}
