/**
 * sink: results as JSONL (stdout or --output), dead letters as JSONL (--dead-letter). Every line
 * is serialised here; a result that cannot be serialised (e.g. meta nested past the engine's
 * limit) is dead-lettered instead of breaking the output.
 */
import { RecordCode, messageOf } from '../lib/runtime/errors.js';
import { LineWriter } from '../lib/runtime/line-writer.js';
import type { Sink, SinkTarget } from '../lib/runtime/pipeline.js';
import { failure, type Failure, type Result } from '../lib/runtime/records.js';

/** The output line of one document. Field order is fixed: it is the documented schema. */
export function serialiseResult(r: Result): string {
  return JSON.stringify({ id: r.id, entities: r.entities, relations: r.relations, meta: r.meta, usage: r.usage });
}

export function serialiseFailure(f: Failure): string {
  const entry: Record<string, unknown> = { line: f.line, source: f.source };
  if (f.id !== undefined) entry.id = f.id;
  entry.stage = f.stage;
  entry.code = f.code;
  entry.reason = f.reason;
  entry.excerpt = f.excerpt;
  return JSON.stringify(entry);
}

/** `serialise` turns a result into its output line (the kg line by default). */
export function jsonlSink(options: SinkTarget, serialise: (r: Result) => string = serialiseResult): Sink {
  const keep = options.keep;
  const out = new LineWriter(options.output ?? process.stdout, typeof options.output === 'string' ? options.output : 'stdout', { keepBytes: keep?.output });
  const dead =
    options.deadLetter === undefined ? undefined : new LineWriter(options.deadLetter, typeof options.deadLetter === 'string' ? options.deadLetter : 'dead letters', { keepBytes: keep?.deadLetter });
  return {
    async write(item) {
      if (item.kind === 'failure') {
        await dead?.writeLine(serialiseFailure(item));
        return undefined;
      }
      let line: string;
      try {
        line = serialise(item);
      } catch (err) {
        const f = failure(item, 'sink', RecordCode.UNSERIALISABLE, `result cannot be serialised: ${messageOf(err)}`, '', item.id);
        await dead?.writeLine(serialiseFailure(f));
        return f;
      }
      await out.writeLine(line);
      return undefined;
    },
    offsets() {
      return { output: out.length, ...(dead ? { deadLetter: dead.length } : {}) };
    },
    async sync() {
      await Promise.all([out.sync(), dead?.sync()]);
    },
    async close() {
      await Promise.all([out.close(), dead?.close()]);
    },
  };
}
