/**
 * The batch input-file writer: request lines appended to the open input file (BatchInputFile),
 * which is sealed when full (requests, bytes, enqueued tokens) or when no line was added for
 * --batch-flush-ms; a sealed file goes in the ledger with its lines in one transaction, and is
 * handed on to be submitted. A file left unsealed when the run stops is discarded by the next run.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import type { PackRequest } from '../runtime/extractor.js';
import { BatchInputFile, type InputFileLimits } from './input-file.js';
import type { BatchLedger, NewRequest } from './ledger.js';

export interface BatchWriterOptions {
  /** Where the input files are written (inside the --checkpoint directory). */
  inputs: string;
  pipeline: string;
  /** The API path of every line (the codec's). */
  url: string;
  batchMaxRequests: number;
  batchMaxBytes: number;
  batchMaxTokens?: number;
  batchFlushMs: number;
  /** A sealed file, in the ledger: to be submitted. */
  sealed(seq: number): void;
  /** A file that could not be written: the run stops. */
  failed(err: unknown): void;
}

export class BatchWriter {
  private open: BatchInputFile | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Lowered after token_limit_exceeded: smaller files for what follows. */
  private tokenCap: number | undefined;

  constructor(
    private readonly ledger: BatchLedger,
    private readonly o: BatchWriterOptions,
  ) {
    this.tokenCap = o.batchMaxTokens;
    // An input file not in the ledger was being written when the run stopped: nothing of it was
    // sent, and its packs are written again when the pipeline comes to them.
    const known = new Set(ledger.files().map((f) => f.name));
    for (const name of readdirSync(o.inputs)) if (!known.has(name)) rmSync(join(o.inputs, name), { force: true });
  }

  /** A batch of `tokens` enqueued tokens went over the limit: later files hold at most half of it. */
  lowerTokenCap(tokens: number): void {
    this.tokenCap = Math.max(1, Math.min(this.tokenCap ?? Infinity, Math.floor(tokens / 2)));
  }

  private limits(): InputFileLimits {
    return { maxRequests: this.o.batchMaxRequests, maxBytes: this.o.batchMaxBytes, ...(this.tokenCap !== undefined ? { maxTokens: this.tokenCap } : {}) };
  }

  /** Appends the request line to the open input file (sealing a full one first); returns the file's seq. */
  append(request: PackRequest, r: NewRequest): number {
    const line = Buffer.from(`${JSON.stringify({ custom_id: r.customId, method: 'POST', url: this.o.url, body: request.body })}\n`);
    // Prompt + max_tokens, as the enqueued-token limit counts: the request's own figures.
    const tokens = request.promptTokens + request.outputTokens;
    if (this.open && !this.open.fits(line.length, tokens, this.limits())) this.seal();
    if (!this.open) {
      const seq = this.ledger.nextFileSeq();
      const name = `sluice-${this.o.pipeline}-${this.ledger.runId}-${String(seq).padStart(5, '0')}.jsonl`;
      this.open = new BatchInputFile(seq, name, join(this.o.inputs, name));
    }
    this.open.append(line, tokens, r);
    const seq = this.open.seq;
    if (this.open.requests.length >= this.o.batchMaxRequests) this.seal();
    else this.armFlush();
    return seq;
  }

  private armFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.closed) this.seal();
    }, this.o.batchFlushMs);
  }

  /** The open file is fsynced, then it and its lines go in the ledger in one transaction, then it is submitted. */
  private seal(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const f = this.open;
    if (!f || f.requests.length === 0) return;
    this.open = undefined;
    try {
      f.seal();
      this.ledger.addFile({ seq: f.seq, name: f.name, requests: f.requests.length, bytes: f.bytes, tokens: f.tokens }, f.requests);
    } catch (err) {
      this.o.failed(new SluiceError(ErrorCode.OUTPUT, `cannot write batch input file ${f.path}: ${messageOf(err)}`, { cause: err }));
      return;
    }
    this.o.sealed(f.seq);
  }

  /** The run stops: an unsealed file is discarded by the next run (its packs are written again). */
  abandon(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.open?.abandon();
  }
}
