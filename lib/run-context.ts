/** What every stage of one run shares: counters for progress and the summary, and the stop signal. */
import { setMaxListeners } from 'node:events';
import type { InputTracking } from './input-tracking.js';
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
  /** Checkpointed runs: records already committed when this session started, and sessions so far. */
  resumedAt: number | undefined = undefined;
  sessions: number | undefined = undefined;
  /** The checkpoint said the run had already completed: nothing was done. */
  alreadyComplete = false;
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
  /** Set when the run is checkpointed: the reader notes record positions and checks inputs. */
  input?: InputTracking;
  /** Checked before every request: a reason to stop the run instead of sending it (e.g. the cost cap). */
  beforeRequest?: () => string | undefined;
  /** Why the run stopped early, when it stopped itself (the first reason given to stop()). */
  stopReason?: string;
  /** Stops the run as a signal would: reading stops, in-flight work settles. */
  stop(reason: string): void;
}

/** `signal`: an outside stop (SIGINT, a caller's AbortController); the run can also stop itself. */
export function createRunContext(signal?: AbortSignal): RunContext {
  const controller = new AbortController();
  // Every request in flight listens for the stop (and removes its listener after): with
  // --concurrency over 10 that is more than Node's leak-warning default, and not a leak.
  setMaxListeners(MAX_SIGNAL_LISTENERS, controller.signal);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  const ctx: RunContext = {
    stats: new RunStats(),
    signal: controller.signal,
    stop(reason) {
      ctx.stopReason ??= reason;
      controller.abort();
    },
  };
  return ctx;
}

const MAX_SIGNAL_LISTENERS = 10_000;
