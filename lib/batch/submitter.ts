/**
 * The batch submitter: each sealed input file is uploaded, its batch created and handed to the
 * poller, one file after another, each step noted in the ledger as it is done. A file found in
 * the ledger at start (`resumed`) is first looked up at the provider, by name for the upload and
 * by the run's metadata for the batch, so a crash between a step and its note repeats nothing.
 * Transient failures retry with the run's backoff; a file that still cannot be submitted has its
 * lines failed (retried by retry/split), and a fatal error stops the run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, codeOf, messageOf } from '../runtime/errors.js';
import { backoffMs, sleep } from '../runtime/backoff.js';
import { FILE_KEY, RUN_KEY, type BatchApi } from './api.js';
import type { BatchLedger } from './ledger.js';
import type { BatchPoller } from './poller.js';

export interface BatchSubmitterOptions {
  /** Where the sealed input files are (removed once their batch is created). */
  inputs: string;
  pipeline: string;
  /** The API path the batches run (the codec's). */
  url: string;
  /** Retries of an upload or a create that failed transiently, and their backoff base. */
  maxRetries: number;
  retryBaseMs: number;
  /** Aborted when the run closes: nothing more is uploaded or created. */
  closing: AbortSignal;
  /** A fatal error: the run stops. */
  failed(err: unknown): void;
}

export class BatchSubmitter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly api: BatchApi,
    private readonly ledger: BatchLedger,
    private readonly poller: BatchPoller,
    private readonly o: BatchSubmitterOptions,
  ) {}

  private get closed(): boolean {
    return this.o.closing.aborted;
  }

  /** Uploads, creates and tracks a sealed file, after the files before it. `resumed`: found in the ledger at start. */
  submit(seq: number, resumed: boolean): void {
    this.chain = this.chain.then(() => this.advance(seq, resumed)).catch((err: unknown) => this.failFile(seq, err));
  }

  /** Resolves once the file being submitted (if any) has stopped. */
  settled(): Promise<void> {
    return this.chain.catch(() => undefined);
  }

  private async advance(seq: number, resumed: boolean): Promise<void> {
    const f = this.ledger.file(seq)!;
    if (this.closed) return;
    if (f.state === 'sealed') {
      // The upload may have gone through before a crash kept the ledger from noting it.
      let id = resumed ? await this.api.findUpload(f.name, f.bytes) : undefined;
      id ??= (await this.retrying(() => this.api.upload(join(this.o.inputs, f.name), f.name))).id;
      if (this.closed) return;
      f.state = 'uploaded';
      f.fileId = id;
      this.ledger.updateFile(f);
    }
    if (f.state === 'uploaded') {
      // Likewise the batch: found by the run's metadata, never created twice.
      let b = resumed ? await this.api.findBatch(this.ledger.runId, seq) : undefined;
      b ??= await this.retrying(() => this.api.create(f.fileId!, this.o.url, { [RUN_KEY]: this.ledger.runId, [FILE_KEY]: String(seq), sluice_pipeline: this.o.pipeline }));
      if (this.closed) return;
      f.state = 'created';
      f.batchId = b.id;
      f.batchStatus = b.status;
      this.ledger.updateFile(f);
      rmSync(join(this.o.inputs, f.name), { force: true });
      this.poller.count();
    }
    if (f.state === 'created') this.poller.track(seq);
  }

  private async retrying<T>(f: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await f();
      } catch (err) {
        if (codeOf(err) !== ErrorCode.TRANSIENT || retry >= this.o.maxRetries || this.closed) throw err;
        // Full jitter up to base x 2^retry, uncapped as it always was (--max-retry-after-ms is retry/split's).
        await sleep(backoffMs(retry, { retryBaseMs: this.o.retryBaseMs, maxRetryAfterMs: Infinity }), this.o.closing);
      }
    }
  }

  /** A file that could not be submitted: fatal errors stop the run; otherwise its lines fail and are retried. */
  private failFile(seq: number, err: unknown): void {
    if (this.closed) return;
    const code = codeOf(err);
    if (code === ErrorCode.FATAL || code === ErrorCode.OUTPUT || code === ErrorCode.USAGE) return this.o.failed(err);
    const f = this.ledger.file(seq);
    if (!f) return;
    this.poller.finishFile(f, 'not_submitted', messageOf(err), { code: ErrorCode.TRANSIENT, message: `input file ${f.name} could not be submitted: ${messageOf(err)}` });
  }
}
