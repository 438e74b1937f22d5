/**
 * Buffered line output with backpressure and an explicit flush-and-close contract: lines are
 * gathered into ~64 KiB writes, a full stream is awaited (`drain`), and a write error becomes a
 * fatal SluiceError naming the output instead of a crash or silent loss.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ErrorCode, SluiceError, messageOf } from './errors.js';

const FLUSH_BYTES = 64 * 1024;

export class LineWriter {
  private buffer: string[] = [];
  private buffered = 0;
  private error: Error | undefined;
  private readonly ownsStream: boolean;
  private readonly stream: Writable;

  /** `target`: a file path (created or truncated), or a stream (not ended on close when it is stdout/stderr). */
  constructor(target: string | Writable, readonly name = typeof target === 'string' ? target : 'output') {
    this.ownsStream = typeof target === 'string';
    this.stream = typeof target === 'string' ? createWriteStream(target) : target;
    this.stream.on('error', (err) => {
      this.error ??= err;
    });
  }

  /** Resolves at once unless the stream is full; then after it drains. */
  async writeLine(line: string): Promise<void> {
    this.buffer.push(line, '\n');
    this.buffered += line.length + 1;
    if (this.buffered >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    this.check();
    if (this.buffered === 0) return;
    const data = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    if (!this.stream.write(data)) {
      await Promise.race([once(this.stream, 'drain'), once(this.stream, 'error')]).catch(() => undefined);
    }
    this.check();
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.ownsStream) {
      this.stream.end();
      await once(this.stream, 'finish').catch(() => undefined);
      this.check();
    }
  }

  private check(): void {
    if (this.error) {
      const code = (this.error as NodeJS.ErrnoException).code;
      const hint = code === 'ENOSPC' ? ' (disk full)' : code === 'EPIPE' ? ' (the reader went away)' : '';
      throw new SluiceError(ErrorCode.OUTPUT, `cannot write ${this.name}: ${messageOf(this.error)}${hint}`, { cause: this.error });
    }
  }
}
