/**
 * Export output: text gathered into ~64 KiB writes, a full stream awaited (`drain`), written to a
 * temporary file beside the target and renamed over it only when complete, so an interrupted
 * export never leaves a file that looks finished. A write error is a SluiceError naming the file.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';

const FLUSH_BYTES = 64 * 1024;

/** Waits for `drain` or `error`, then removes both listeners (racing two `once` would leave one behind per wait). */
function drainOrError(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
  });
}

export class TextFileWriter {
  private parts: string[] = [];
  private size = 0;
  private error: Error | undefined;
  private readonly stream: WriteStream;
  private readonly temp: string;

  constructor(readonly path: string, options: { mode?: number } = {}) {
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.stream = createWriteStream(this.temp, { mode: options.mode ?? 0o644 });
    this.stream.on('error', (err) => {
      this.error ??= err;
    });
  }

  /** Buffers text; call `flush` (or `maybeFlush`) to hand it on with backpressure. */
  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  /** Flushes when enough is buffered: cheap to await after every row. */
  async maybeFlush(): Promise<void> {
    if (this.size >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    this.check();
    if (this.size === 0) return;
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(data)) await drainOrError(this.stream);
    this.check();
  }

  /** Flushes, closes and moves the finished file into place. */
  async commit(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'close').catch(() => undefined);
    this.check();
    try {
      renameSync(this.temp, this.path);
    } catch (err) {
      throw new SluiceError(ErrorCode.OUTPUT, `cannot write ${this.path}: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Drops the unfinished file. */
  abort(): void {
    this.stream.destroy();
    try {
      rmSync(this.temp, { force: true });
    } catch {
      // Not ours to remove (e.g. a directory in its way): the export failed either way.
    }
  }

  private check(): void {
    if (this.error) {
      const code = (this.error as NodeJS.ErrnoException).code;
      const hint = code === 'ENOSPC' ? ' (disk full)' : '';
      throw new SluiceError(ErrorCode.OUTPUT, `cannot write ${this.path}: ${messageOf(this.error)}${hint}`, { cause: this.error });
    }
  }
}

/** Writes several files; all are moved into place at the end, or none if anything fails. */
export async function writeFiles(paths: readonly string[], fill: (writers: TextFileWriter[]) => Promise<void>): Promise<void> {
  const writers = paths.map((p) => new TextFileWriter(p));
  try {
    await fill(writers);
    for (const w of writers) await w.flush();
  } catch (err) {
    for (const w of writers) w.abort();
    throw err;
  }
  for (let i = 0; i < writers.length; i++) {
    try {
      await writers[i]!.commit();
    } catch (err) {
      for (const w of writers.slice(i + 1)) w.abort();
      throw err;
    }
  }
}
