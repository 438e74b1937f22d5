/**
 * A batch input file being written: JSONL request lines appended to disk as packs arrive (never
 * held whole in memory), with the counts that decide when it is full: requests, bytes and
 * enqueued tokens. Sealing fsyncs and closes it; only then is it recorded in the ledger.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { NewRequest } from './ledger.js';

export interface InputFileLimits {
  maxRequests: number;
  maxBytes: number;
  /** Enqueued tokens (prompt + max output tokens) per file; undefined: no limit. */
  maxTokens?: number;
}

export class BatchInputFile {
  requests: NewRequest[] = [];
  bytes = 0;
  tokens = 0;
  private fd: number | undefined;

  constructor(
    readonly seq: number,
    readonly name: string,
    readonly path: string,
  ) {
    this.fd = openSync(path, 'w');
  }

  /** Whether a line of `bytes` and `tokens` still fits (a first line always does: it goes alone). */
  fits(bytes: number, tokens: number, limits: InputFileLimits): boolean {
    if (this.requests.length === 0) return true;
    return this.requests.length + 1 <= limits.maxRequests && this.bytes + bytes <= limits.maxBytes && (limits.maxTokens === undefined || this.tokens + tokens <= limits.maxTokens);
  }

  append(line: Buffer, tokens: number, request: NewRequest): void {
    writeSync(this.fd!, line);
    this.bytes += line.length;
    this.tokens += tokens;
    this.requests.push(request);
  }

  seal(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Closes without sealing (the run stops): the file is discarded on the next run. */
  abandon(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
