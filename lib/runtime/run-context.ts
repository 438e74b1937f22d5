/** What every stage of one run shares: counters for progress and the summary, and the stop signal. */
import { setMaxListeners } from 'node:events';
import type { ReusableWork } from './checkpoint.js';
import type { Circuit } from './circuit.js';
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
  /** The offline extractor ran: no API was called, so requests, retries, splits and cost mean nothing. */
  offline = false;
  /** Whole-run counters: requests, retries and splits (restored from a checkpoint, then this session's added). */
  requests = 0;
  retries = 0;
  splits = 0;
  /** This session: requests abandoned at their (learned) deadline, and hedges sent (second copies of a slow request). */
  timedOut = 0;
  hedged = 0;
  /** Tokens billed this run (requests sent, failed attempts included): what costs money. */
  promptTokens = 0;
  completionTokens = 0;
  /** --cache: lookups answered from the cache (no request, nothing billed) and lookups that were not. */
  cacheHits = 0;
  cacheMisses = 0;
  /** Tokens of the answers served from the cache: what they cost when first asked, not billed this run. */
  cachedPromptTokens = 0;
  cachedCompletionTokens = 0;
  inventedIds = 0;
  /**
   * Answers cut off at max_tokens this session (their whole documents kept, the rest asked again;
   * with none whole, asked again with more room, or split at the cap): all of them, and those cut
   * at --max-output-tokens itself. Splits whose cause was a cut-off, of `splits`.
   */
  cutOffs = 0;
  cutOffsAtCap = 0;
  splitsCutOff = 0;
  /** Whole chat answers sent this session, their completion tokens, and what the answer prior expected of them. */
  answersMeasured = 0;
  answerTokensMeasured = 0;
  expectedTokensMeasured = 0;
  /** --batch-api: batches created over the whole run (from the ledger), in progress now, and their request counts. */
  batchesCreated = 0;
  batchesInProgress = 0;
  batchRequestsTotal = 0;
  batchRequestsDone = 0;
  /** --batch-api: output and error file lines downloaded this session, and lines failed (error file, expired, missing). */
  batchLinesAnswered = 0;
  batchLinesFailed = 0;
  /**
   * This session's packs whose work has ended (answered, split and answered, or dead-lettered): their
   * documents (a chunk counts 1/its document's chunks), chunks and text tokens; and of those that
   * sent a request, the same with the tokens their requests were billed. The projection
   * (lib/cli/projection.ts) divides the one by the other: the same packs' cost and work.
   */
  settledDocs = 0;
  settledChunks = 0;
  settledTextTokens = 0;
  billedChunks = 0;
  billedTextTokens = 0;
  billedPromptTokens = 0;
  billedCompletionTokens = 0;
  /** This session's dead letters from before packing (bad records): documents that never reach a request. */
  failedBeforePacking = 0;
  /** The adaptive limit on requests in flight (a server without rate-limit headers): now, lowest and highest; unset when it never counted. */
  concurrencyLimit: { current: number; low: number; high: number } | undefined = undefined;
  resultsOut = 0;
  entitiesOut = 0;
  docsWithoutEntities = 0;
  deadLettered = 0;
  /** Checkpointed runs: records already committed when this session started, and sessions so far. */
  resumedAt: number | undefined = undefined;
  sessions: number | undefined = undefined;
  /** A resumed run: the whole-run work counters as restored, so this session's share can be told apart. */
  restoredWork: { requests: number; retries: number; splits: number } | undefined = undefined;
  /** The checkpoint said the run had already completed: nothing was done. */
  alreadyComplete = false;
  readonly deadLetterByCode = new Map<string, number>();
  /** The first few dead letters, shown on stderr when there is no --dead-letter file. */
  readonly firstFailures: Failure[] = [];

  /** A result handed on (written, or yielded to the caller): a document out, and its entities. */
  noteResult(r: { entities?: readonly unknown[] }): void {
    this.resultsOut++;
    // Pipelines without entities (embeddings) leave the entity counters alone.
    if (Array.isArray(r.entities)) {
      this.entitiesOut += r.entities.length;
      if (r.entities.length === 0) this.docsWithoutEntities++;
    }
  }

  /** A dead letter, from any stage or the sink. */
  noteFailure(f: Failure): void {
    this.deadLettered++;
    if (f.stage !== 'extract' && f.stage !== 'sink') this.failedBeforePacking++;
    this.deadLetterByCode.set(f.code, (this.deadLetterByCode.get(f.code) ?? 0) + 1);
    if (this.firstFailures.length < FIRST_FAILURES_KEPT) this.firstFailures.push(f);
  }
}

export const FIRST_FAILURES_KEPT = 5;

/**
 * Events that counters cannot carry (durations, sizes for histograms, what is in flight), for
 * whoever watches the run (lib/cli/metrics.ts). Every method is optional and must be cheap.
 */
export interface RunObserver {
  /** A request left for the API (after rate-limit admission). */
  requestStarted?(): void;
  /**
   * ...and ended: `status` is the HTTP status ("200", "429") or one of REQUEST_OUTCOMES when there
   * was none; `seconds` is the time from sending to the answer or error.
   */
  requestEnded?(status: RequestStatus, seconds: number): void;
  /** token-pack formed a pack of this many documents. */
  packFormed?(documents: number): void;
}

/** Ends of a request without an HTTP status: a fixed set, so metric labels stay bounded. */
export const REQUEST_OUTCOMES = ['timeout', 'connection', 'aborted', 'error'] as const;
/** An HTTP status as three digits, or one of REQUEST_OUTCOMES. */
export type RequestStatus = `${number}` | (typeof REQUEST_OUTCOMES)[number];

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
  /** The run's circuit (lib/runtime/circuit.ts): created by retry/split, shared by every pack. */
  circuit?: Circuit;
  /** Packs being worked on (extract): a stopping run waits for them, so their requests are counted. */
  readonly inFlight: Set<Promise<unknown>>;
  /**
   * Told after each checkpoint commit the seq of the last record committed: work kept for a resume
   * (scale-out's answered jobs in Redis) up to there can be let go.
   */
  onCommit?: (seq: number) => void;
  /** Work already counted that a resumed session would get back unpaid and count again: a commit leaves it out. */
  reusableWork?: ReusableWork;
  /** Set before the run starts (e.g. by lib/cli/metrics.ts); absent, nothing is observed. */
  observer?: RunObserver;
}

/** `signal`: an outside stop (SIGINT, a caller's AbortController); the run can also stop itself. */
export function createRunContext(signal?: AbortSignal, observer?: RunObserver): RunContext {
  const controller = new AbortController();
  // Every request in flight listens for the stop (and removes its listener after): with
  // --concurrency over 10 that is more than Node's leak-warning default, and not a leak.
  setMaxListeners(MAX_SIGNAL_LISTENERS, controller.signal);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  const ctx: RunContext = {
    stats: new RunStats(),
    signal: controller.signal,
    inFlight: new Set(),
    stop(reason) {
      ctx.stopReason ??= reason;
      controller.abort();
    },
    ...(observer ? { observer } : {}),
  };
  return ctx;
}

const MAX_SIGNAL_LISTENERS = 10_000;
