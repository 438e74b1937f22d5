/**
 * Export output: the runtime's buffered writer (lib/runtime/line-writer.ts) aimed at a temporary file
 * beside the target, renamed over it only when complete, so an interrupted export never leaves a
 * file that looks finished. A write error is a SluiceError naming the target file.
 */
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import { LineWriter } from '../runtime/line-writer.js';

export class TextFileWriter {
  private readonly temp: string;
  private readonly out: LineWriter;

  constructor(
    readonly path: string,
    options: { mode?: number } = {},
  ) {
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.out = new LineWriter(this.temp, path, { mode: options.mode ?? 0o644 });
  }

  /** Buffers text; call `flush` (or `maybeFlush`) to hand it on with backpressure. */
  write(text: string): void {
    this.out.append(text);
  }

  /** Flushes when enough is buffered: cheap to await after every row. */
  maybeFlush(): Promise<void> {
    return this.out.maybeFlush();
  }

  flush(): Promise<void> {
    return this.out.flush();
  }

  /** Flushes, closes and moves the finished file into place. */
  async commit(): Promise<void> {
    await this.out.close();
    try {
      renameSync(this.temp, this.path);
    } catch (err) {
      throw new SluiceError(ErrorCode.OUTPUT, `cannot write ${this.path}: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Drops the unfinished file. */
  abort(): void {
    this.out.closeQuietly();
    try {
      rmSync(this.temp, { force: true });
    } catch {
      // Not ours to remove (e.g. a directory in its way): the export failed either way.
    }
  }
}

/** Writes several files; all are moved into place at the end, or none if anything fails. */
export async function writeFiles(paths: readonly string[], fill: (writers: TextFileWriter[]) => Promise<void>): Promise<void> {
  const writers: TextFileWriter[] = [];
  try {
    for (const p of paths) writers.push(new TextFileWriter(p));
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
