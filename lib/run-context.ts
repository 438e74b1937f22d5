/** What every stage of one run shares: counters for progress and the summary, and the stop signal. */
import { setMaxListeners } from 'node:events';
import type { Failure } from './records.js';

export class RunStats {
  readonly startedAt = Date.now();
  /** Input bytes consumed (compressed bytes for .gz), and the total when known (files). */
  bytesRead = 0;
  totalBytes: number | undefined = undefined;
  blankLines = 0;
  /** Records read (every one gets a seq): documents in. */
  recordsIn = 0;
  docsParsed = 0;
  chunks = 0;
  /** Tokens of the chunks (document text), counted locally. */
  textTokens = 0;
  packs = 0;
  packedDocs = 0;
  requests = 0;
  retries = 0;
  splits = 0;
  promptTokens = 0;
  completionTokens = 0;
  inventedIds = 0;
  resultsOut = 0;
  entitiesOut = 0;
  docsWithoutEntities = 0;
  deadLettered = 0;
  readonly deadLetterByCode = new Map<string, number>();
  /** The first few dead letters, shown on stderr when there is no --dead-letter file. */
  readonly firstFailures: Failure[] = [];

  noteFailure(f: Failure): void {
    this.deadLettered++;
    this.deadLetterByCode.set(f.code, (this.deadLetterByCode.get(f.code) ?? 0) + 1);
    if (this.firstFailures.length < FIRST_FAILURES_KEPT) this.firstFailures.push(f);
  }
}

export const FIRST_FAILURES_KEPT = 5;

export interface RunContext {
  readonly stats: RunStats;
  /** Aborted on SIGINT/SIGTERM or a fatal error: the reader stops, in-flight work settles. */
  readonly signal: AbortSignal;
}

export function createRunContext(signal?: AbortSignal): RunContext {
  const s = signal ?? new AbortController().signal;
  // Every request in flight listens for the stop (and removes its listener after): with
  // --concurrency over 10 that is more than Node's leak-warning default, and not a leak.
  setMaxListeners(MAX_SIGNAL_LISTENERS, s);
  return { stats: new RunStats(), signal: s };
}

const MAX_SIGNAL_LISTENERS = 10_000;
