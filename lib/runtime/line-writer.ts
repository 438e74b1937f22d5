/**
 * The one buffered writer: text (JSONL lines, export rows) gathered into ~64 KiB writes, each awaited
 * (a full stream waits for `drain`), with an explicit flush-and-close contract, and a write error
 * that becomes a fatal SluiceError naming the output instead of a crash or silent loss. A file
 * target knows how many bytes it holds and can be synced, which is what a checkpoint records.
 * The sinks write lines to it; the graph exports write rows through lib/graph/text-writer.ts, which
 * adds write-to-a-temporary-file-then-rename on top.
 */
import { closeSync, fsync, ftruncateSync, openSync, write } from 'node:fs';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { Writable } from 'node:stream';
import { ErrorCode, SluiceError, messageOf } from './errors.js';

const FLUSH_BYTES = 64 * 1024;
const writeAt = promisify(write);
const fsyncFd = promisify(fsync);

export interface LineWriterOptions {
  /** A file target keeps its first `keepBytes` bytes (a resumed run) instead of being truncated to 0. */
  keepBytes?: number;
  /** Permission bits of a file created here (before the umask). @default 0o666 */
  mode?: number;
}

export class LineWriter {
  private buffer: string[] = [];
  private buffered = 0;
  private error: Error | undefined;
  private readonly stream: Writable | undefined;
  private fd: number | undefined;
  /** Bytes in the file (file targets): what was there and kept, plus what was written. */
  bytes = 0;
  /** Bytes of the lines given so far, written or still buffered (file targets). */
  get length(): number {
    return this.bytes + this.bufferedBytes;
  }
  private bufferedBytes = 0;

  /** `target`: a file path (created or truncated), or a stream (not ended on close when it is stdout/stderr). */
  constructor(
    target: string | Writable,
    readonly name = typeof target === 'string' ? target : 'output',
    options: LineWriterOptions = {},
  ) {
    if (typeof target === 'string') {
      try {
        if (options.keepBytes !== undefined) {
          this.fd = openSync(target, 'r+');
          ftruncateSync(this.fd, options.keepBytes);
          this.bytes = options.keepBytes;
        } else {
          this.fd = openSync(target, 'w', options.mode ?? 0o666);
        }
      } catch (err) {
        this.fail(err as Error);
      }
      return;
    }
    this.stream = target;
    target.on('error', (err) => {
      this.error ??= err;
    });
  }

  /** Resolves at once unless the buffer is full; then after it is written. */
  async writeLine(line: string): Promise<void> {
    this.append(line);
    this.append('\n');
    await this.maybeFlush();
  }

  /** Buffers text as it is (no line end); `maybeFlush` or `flush` hands it on. */
  append(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.fd !== undefined) this.bufferedBytes += Buffer.byteLength(text);
  }

  /** Flushes when enough is buffered: cheap to await after every line or row. */
  async maybeFlush(): Promise<void> {
    if (this.buffered >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    this.check();
    if (this.buffered === 0) return;
    const data = this.buffer.join('');
    this.buffer = [];
    this.buffered = 0;
    this.bufferedBytes = 0;
    if (this.fd !== undefined) {
      const buf = Buffer.from(data);
      try {
        let done = 0;
        while (done < buf.length) done += (await writeAt(this.fd, buf, done, buf.length - done, this.bytes + done)).bytesWritten;
      } catch (err) {
        this.error ??= err as Error;
      }
      this.bytes += buf.length;
    } else if (!this.stream!.write(data)) {
      // once() rejects on 'error' and removes its listeners either way (a race of two once()s would
      // leave one behind per wait).
      await once(this.stream!, 'drain').catch(() => undefined);
    }
    this.check();
  }

  /** Flushes and, for a file, waits until its bytes are on disk. */
  async sync(): Promise<void> {
    await this.flush();
    if (this.fd === undefined) return;
    try {
      await fsyncFd(this.fd);
    } catch (err) {
      this.error ??= err as Error;
    }
    this.check();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      if (this.fd !== undefined) {
        const fd = this.fd;
        this.fd = undefined;
        closeSync(fd);
      }
    }
  }

  /** Releases the file without flushing (an abandoned output: its contents no longer matter). */
  closeQuietly(): void {
    this.buffer = [];
    this.buffered = 0;
    this.bufferedBytes = 0;
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Already unusable: nothing more to release.
    }
  }

  private check(): void {
    if (this.error) this.fail(this.error);
  }

  private fail(err: Error): never {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'ENOSPC' ? ' (disk full)' : code === 'EPIPE' ? ' (the reader went away)' : '';
    throw new SluiceError(ErrorCode.OUTPUT, `cannot write ${this.name}: ${messageOf(err)}${hint}`, { cause: err });
  }
}
