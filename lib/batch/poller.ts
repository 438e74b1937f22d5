/**
 * The batch poller and downloader: the created batches are polled (from 0.25 s, doubling while
 * nothing changes, up to --poll-interval) until each is done; a finished batch's output and error
 * files are read line by line into the ledger and handed to the waiting packs; what a batch lacks
 * fails (to be retried). A batch failed over the enqueued-token limit waits for the others to
 * finish, then its lines fail and go again in smaller files. It also keeps the run's batch counters.
 */
import type { Batch } from 'openai/resources/batches';
import { ErrorCode, codeOf } from '../runtime/errors.js';
import { sleep } from '../runtime/backoff.js';
import type { RunStats } from '../runtime/run-context.js';
import type { BatchApi } from './api.js';
import type { BatchLedger, FileRow } from './ledger.js';
import { lineOutcome, type LineOutcome } from './outcome.js';
import type { BatchWaiters } from './waiters.js';

export interface BatchPollerOptions {
  apiKey?: string;
  /** Longest wait in seconds between polls. */
  pollInterval: number;
  /** Aborted when the run closes: polling and downloading stop at once. */
  closing: AbortSignal;
  /** A batch failed with token_limit_exceeded after enqueueing this many tokens. */
  overTokenLimit(tokens: number): void;
}

const FIRST_POLL_MS = 250;
/** Downloaded lines recorded per ledger transaction. */
const RECORD_CHUNK = 500;
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export class BatchPoller {
  private readonly tracked = new Set<number>();
  /** Tracked files failed with token_limit_exceeded, waiting for the other batches to finish. */
  private readonly draining = new Set<number>();
  private readonly batchCounts = new Map<number, { total: number; completed: number; failed: number }>();
  private polling = false;
  /** Ends the poller's current wait: a batch was created, or the run closes. */
  private wake: AbortController | undefined;
  private stats: RunStats | undefined;

  constructor(
    private readonly api: BatchApi,
    private readonly ledger: BatchLedger,
    private readonly waiters: BatchWaiters,
    private readonly o: BatchPollerOptions,
  ) {
    o.closing.addEventListener('abort', () => this.wake?.abort(), { once: true });
  }

  private get closed(): boolean {
    return this.o.closing.aborted;
  }

  /** The run's counters, from the first pack on. */
  attach(stats: RunStats): void {
    if (this.stats) return;
    this.stats = stats;
    this.count();
  }

  /** A created batch: polled until done (polling starts, or the current wait ends, now). */
  track(seq: number): void {
    this.tracked.add(seq);
    this.poll();
    this.wake?.abort();
  }

  private poll(): void {
    if (this.polling) return;
    this.polling = true;
    void this.pollLoop()
      .catch((err: unknown) => this.waiters.fail(err))
      .finally(() => {
        this.polling = false;
      });
  }

  private async pollLoop(): Promise<void> {
    let delay = FIRST_POLL_MS;
    while (!this.closed && this.tracked.size > 0) {
      this.wake = new AbortController();
      await sleep(delay, this.wake.signal).catch(() => undefined);
      let changed = false;
      for (const seq of [...this.tracked]) {
        if (this.closed) return;
        const f = this.ledger.file(seq)!;
        if (this.draining.has(seq)) {
          // Failed over the enqueued-token limit: its lines go again once no other batch holds the queue.
          if (this.draining.size < this.tracked.size) continue;
          this.draining.delete(seq);
          this.tracked.delete(seq);
          this.finishFile(f, 'failed', f.errors, { code: ErrorCode.TRANSIENT, message: `batch ${f.batchId} failed: ${f.errors ?? 'token_limit_exceeded'}` });
          changed = true;
          continue;
        }
        let b: Batch;
        try {
          b = await this.api.retrieve(f.batchId!);
        } catch (err) {
          const code = codeOf(err);
          if (code === ErrorCode.FATAL || code === ErrorCode.USAGE) throw err;
          // A failed poll is asked again at the next round.
          continue;
        }
        if (this.closed) return;
        if (b.request_counts) this.batchCounts.set(seq, b.request_counts);
        if (b.status !== f.batchStatus) {
          changed = true;
          f.batchStatus = b.status;
          this.ledger.updateFile(f);
        }
        if (TERMINAL.has(b.status)) {
          this.batchCounts.delete(seq);
          if (await this.collect(f, b)) this.tracked.delete(seq);
        }
      }
      this.count();
      delay = changed ? FIRST_POLL_MS : Math.min(delay * 2, this.o.pollInterval * 1000);
    }
  }

  /**
   * A finished batch: every answer it has is kept; what it lacks fails (and is retried). False when
   * its lines wait for the queue to drain (token_limit_exceeded while other batches are in progress).
   */
  private async collect(f: FileRow, b: Batch): Promise<boolean> {
    if (b.status === 'failed') {
      const errors = b.errors?.data ?? [];
      const text = errors.map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}${e.line != null ? ` (line ${e.line})` : ''}`).join('; ') || 'no reason given';
      const tokenLimit = errors.some((e) => e.code === 'token_limit_exceeded');
      if (tokenLimit) {
        // Over the enqueued-token limit: later files are smaller, and these lines go again once
        // the batches in progress are done (sooner, they would only fail again and use up retries).
        this.o.overTokenLimit(f.tokens);
        f.errors = text;
        this.ledger.updateFile(f);
        this.draining.add(f.seq);
        return false;
      }
      this.finishFile(f, b.status, text, { code: ErrorCode.EXTRACT, message: `batch ${b.id} failed: ${text}` });
      return true;
    }
    for (const fileId of [b.output_file_id, b.error_file_id]) if (fileId) await this.download(f, b.id, fileId);
    if (this.closed) return false;
    const why =
      b.status === 'expired'
        ? 'batch_expired: the batch expired before this request ran'
        : b.status === 'cancelled'
          ? 'batch_cancelled: the batch was cancelled before this request ran'
          : 'the line is missing from the batch output and error files';
    this.finishFile(f, b.status, null, { code: ErrorCode.TRANSIENT, message: `batch ${b.id}: ${why}` });
    return true;
  }

  /** Lines without an outcome fail with `error` (their custom_id added), the file is done, its waiters answered. */
  finishFile(f: FileRow, status: string, errors: string | null, error: { code: string; message: string }): void {
    const pending = this.ledger.pending(f.seq);
    const outcomes = pending.map((customId) => ({ customId, error: JSON.stringify({ code: error.code, message: error.message.replace(/^(batch \S+)/, `$1 custom_id ${customId}`) }) }));
    this.ledger.record(f.seq, outcomes);
    f.state = 'done';
    f.batchStatus = status;
    f.errors = errors;
    this.ledger.updateFile(f);
    if (this.stats) this.stats.batchLinesFailed += outcomes.length;
    this.waiters.answer(f.seq, outcomes);
  }

  private async download(f: FileRow, batchId: string, fileId: string): Promise<void> {
    let chunk: LineOutcome[] = [];
    const flush = () => {
      this.ledger.record(f.seq, chunk);
      this.waiters.answer(f.seq, chunk);
      chunk = [];
    };
    for await (const line of this.api.lines(fileId)) {
      if (this.closed) return;
      const outcome = lineOutcome(line, batchId, this.o.apiKey);
      if (!outcome) continue;
      if (this.stats) {
        if ('answer' in outcome) this.stats.batchLinesAnswered++;
        else this.stats.batchLinesFailed++;
      }
      chunk.push(outcome);
      if (chunk.length >= RECORD_CHUNK) flush();
    }
    flush();
  }

  /** Batch counters for progress and the summary. */
  count(): void {
    if (!this.stats) return;
    const files = this.ledger.files();
    this.stats.batchesCreated = files.filter((f) => f.batchId !== null).length;
    let total = 0;
    let done = 0;
    for (const c of this.batchCounts.values()) {
      total += c.total;
      done += c.completed + c.failed;
    }
    this.stats.batchRequestsTotal = total;
    this.stats.batchRequestsDone = done;
    this.stats.batchesInProgress = this.tracked.size;
  }
}
