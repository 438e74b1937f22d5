/**
 * read: inputs (stdin, files in sequence, a Node stream, or in-memory values) to batches of raw
 * records, each with its seq, line and source. Gzip is detected by its magic bytes and inflated on
 * the fly; a JSON array (first non-blank byte `[`) is streamed element by element, anything else is
 * JSONL. Reading is pulled: a slow consumer stops the file being read.
 */
import { createReadStream, promises as fsp, fstatSync } from 'node:fs';
import { fingerprintOf, HEAD_BYTES, type InputPosition, type InputTracking } from '../lib/runtime/input-tracking.js';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import _ from 'highland';
import { failure, type Failure, type RawRecord } from '../lib/runtime/records.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import type { RunContext } from '../lib/runtime/run-context.js';
import type { Stream } from '../lib/runtime/stage.js';
import { LineSplitter, type LineItem } from '../lib/input/lines.js';
import { jsonArrayElements } from '../lib/input/json-array.js';
import { directoryError, inputError, withLine, type ReadPosition } from '../lib/input/read-errors.js';

export const readOptionSpecs = defineOptions([
  { name: 'max-line-bytes', type: 'integer', default: 16 * 1024 * 1024, min: 1, description: 'Longest accepted input line in bytes; a longer line is dead-lettered without being held in memory' },
  {
    name: 'format',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'jsonl', 'json'],
    description: 'Input format: jsonl, json (a top-level array), or auto (an array if the first non-blank byte is "[")',
  },
]);

export type ReadOptions = OptionsOf<typeof readOptionSpecs>;

/** A path (`-` for stdin), a byte stream, or values already in memory (objects or JSON lines). */
export type InputSpec = string | { name: string; stream: NodeJS.ReadableStream } | { name: string; values: Iterable<unknown> | AsyncIterable<unknown> };

export type ReadBatch = (RawRecord | Failure)[];

/** Records of a JSON array are handed on in batches of this many. */
const ARRAY_BATCH = 256;
const GZIP_MAGIC = [0x1f, 0x8b];

export function read(inputs: readonly InputSpec[], options: ReadOptions): (ctx: RunContext) => Stream<ReadBatch> {
  return (ctx) => _(Readable.from(readBatches(inputs, options, ctx), { objectMode: true, highWaterMark: 1 })) as Stream<ReadBatch>;
}

async function* readBatches(inputs: readonly InputSpec[], options: ReadOptions, ctx: RunContext): AsyncGenerator<ReadBatch> {
  const list = inputs.length === 0 ? ['-'] : inputs;
  ctx.stats.totalBytes = await totalSize(list);
  const tracking = ctx.input;
  const resume = tracking?.resume;
  let seq = resume ? resume.seq + 1 : 0;
  const nextSeq = () => {
    ctx.stats.recordsIn++;
    return seq++;
  };
  for (let index = 0; index < list.length; index++) {
    const input = list[index]!;
    if (ctx.signal.aborted) return;
    // A resumed run starts after the last committed record: earlier inputs are only checked.
    const from = resume === undefined || index > resume.input ? undefined : index < resume.input ? 'done' : resume;
    if (typeof input === 'object' && 'values' in input) {
      if (from !== 'done') yield* valueBatches(input.name, input.values, nextSeq, ctx, index, from?.line ?? 0);
      continue;
    }
    const name = typeof input === 'string' ? (input === '-' ? 'stdin' : input) : input.name;
    const opened = await openBytes(input, index, name, from, ctx, tracking);
    if (from === 'done') {
      opened.bytes.destroy?.();
      continue;
    }
    const inflated = await maybeGunzip(opened.bytes, name, opened.at);
    const bytes = opened.skip > 0 ? skipBytes(inflated, opened.skip) : inflated;
    const { format, bytes: body } = options.format === 'auto' ? await sniffFormat(bytes, opened.format) : { format: options.format, bytes };
    if (format === 'json') {
      yield* arrayBatches(name, body, nextSeq, ctx, index, from?.line ?? 0);
    } else {
      const start = from ? { line: from.line, offset: from.offset } : { line: 0, offset: 0 };
      yield* lineBatches(name, body, options.maxLineBytes, nextSeq, ctx, index, start);
    }
  }
}

interface OpenedInput {
  bytes: AsyncIterable<Buffer> & { destroy?: () => void };
  /** Inflated bytes still to drop before the first record to read. */
  skip: number;
  /** The format when known from the head already read (a file seeked past it). */
  format?: 'jsonl' | 'json';
  /** How far it has been read, for the message if reading fails. */
  at: ReadPosition;
}

/**
 * Opens an input, fingerprinting its head when the run is tracked. A plain (not gzipped) JSONL file
 * that resumes mid-way is opened at the resume offset; anything else is read from the start and
 * the committed bytes are dropped (cheap: nothing is parsed).
 */
async function openBytes(
  input: string | { name: string; stream: NodeJS.ReadableStream },
  index: number,
  name: string,
  from: InputPosition | 'done' | undefined,
  ctx: RunContext,
  tracking: InputTracking | undefined,
): Promise<OpenedInput> {
  const path = typeof input === 'string' && input !== '-' ? input : undefined;
  if (path && tracking) {
    const { head, size } = await readHead(path);
    tracking.verify(index, fingerprintOf(name, head, size));
    if (from === 'done') {
      ctx.stats.bytesRead += size;
      return { bytes: (async function* () {})(), skip: 0, at: { bytes: size } };
    }
    const gzipped = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
    const format = formatOf(head);
    if (from && from.offset > 0 && !gzipped && format === 'jsonl') {
      ctx.stats.bytesRead += from.offset;
      const at = { bytes: from.offset };
      return { bytes: countBytes(createReadStream(path, { start: from.offset, highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>, ctx, name, at), skip: 0, format, at };
    }
  }
  const raw = typeof input === 'string' ? openInput(input) : input.stream;
  const at: ReadPosition = { bytes: 0 };
  let bytes = countBytes(raw as AsyncIterable<Buffer>, ctx, name, at);
  if (!path && tracking) bytes = verifiedHead(bytes, (head) => tracking.verify(index, fingerprintOf(name, head, undefined)));
  const skip = from && from !== 'done' && from.offset > 0 ? from.offset : 0;
  if (from === 'done') {
    // An earlier stream input of a resumed run: its head is checked, the rest drained.
    for await (const _chunk of bytes) void _chunk;
  }
  return { bytes, skip, at };
}

async function readHead(path: string): Promise<{ head: Buffer; size: number }> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, 'r');
    const size = (await handle.stat()).size;
    const buf = Buffer.alloc(Math.min(HEAD_BYTES, size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return { head: buf.subarray(0, bytesRead), size };
  } catch (err) {
    throw inputError(path, err);
  } finally {
    await handle?.close();
  }
}

/** Holds back the first HEAD_BYTES (or all, if shorter) until `check` has seen them. */
async function* verifiedHead(source: AsyncIterable<Buffer>, check: (head: Buffer) => void): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let checked = false;
  for await (const chunk of source) {
    if (checked) {
      yield chunk;
      continue;
    }
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes >= HEAD_BYTES) {
      const all = Buffer.concat(held);
      check(all.subarray(0, HEAD_BYTES));
      checked = true;
      yield all;
    }
  }
  if (!checked) {
    const all = Buffer.concat(held);
    check(all);
    if (all.length > 0) yield all;
  }
}

/** Drops the first `count` bytes. */
async function* skipBytes(source: AsyncIterable<Buffer>, count: number): AsyncGenerator<Buffer> {
  let left = count;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

function openInput(path: string): NodeJS.ReadableStream {
  if (path === '-') return process.stdin;
  return createReadStream(path, { highWaterMark: 64 * 1024 });
}

async function totalSize(inputs: readonly InputSpec[]): Promise<number | undefined> {
  let total = 0;
  for (const input of inputs) {
    if (typeof input !== 'string') return undefined;
    try {
      const st = input === '-' ? fstatSync(0) : await fsp.stat(input);
      if (st.isDirectory()) throw directoryError(input);
      if (!st.isFile()) return undefined; // a pipe: size unknown
      total += st.size;
    } catch (err) {
      throw inputError(input, err);
    }
  }
  return total;
}

/** Counts the bytes read (for progress and for the message if reading fails); a read error names the input. */
async function* countBytes(source: AsyncIterable<Buffer | string>, ctx: RunContext, name: string, at: ReadPosition): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      ctx.stats.bytesRead += buf.length;
      at.bytes += buf.length;
      yield buf;
    }
  } catch (err) {
    throw inputError(name, err, at);
  }
}

/** Reads the first chunk, then replays it in front of the rest. */
async function peek(source: AsyncIterable<Buffer>): Promise<{ first: Buffer | undefined; all: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? undefined : head.value;
  async function* replay(): AsyncGenerator<Buffer> {
    if (first) yield first;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { first, all: replay() };
}

async function maybeGunzip(source: AsyncIterable<Buffer>, name: string, at: ReadPosition): Promise<AsyncIterable<Buffer>> {
  const { first, all } = await peek(source);
  if (!first || first[0] !== GZIP_MAGIC[0] || first[1] !== GZIP_MAGIC[1]) return all;
  // pipeline, not pipe: an error of the file reaches the reader instead of leaving it waiting.
  return inflate(
    pipeline(Readable.from(all), createGunzip(), () => {}),
    name,
    at,
  );
}

/** The inflated bytes, counted; zlib's error (a truncated or corrupt file) names the input and how far it was read. */
async function* inflate(gunzip: AsyncIterable<Buffer>, name: string, at: ReadPosition): AsyncGenerator<Buffer> {
  at.inflated = 0;
  try {
    for await (const chunk of gunzip) {
      at.inflated += chunk.length;
      yield chunk;
    }
  } catch (err) {
    throw inputError(name, err, at);
  }
}

async function sniffFormat(source: AsyncIterable<Buffer>, known?: 'jsonl' | 'json'): Promise<{ format: 'jsonl' | 'json'; bytes: AsyncIterable<Buffer> }> {
  if (known) return { format: known, bytes: source };
  const { first, all } = await peek(source);
  return { format: first ? formatOf(first) : 'jsonl', bytes: all };
}

/** A JSON array if the first non-blank byte (BOM skipped) is `[`, JSONL otherwise. */
function formatOf(head: Buffer): 'jsonl' | 'json' {
  for (const b of head) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x5b ? 'json' : 'jsonl';
  }
  return 'jsonl';
}

function toRecord(name: string, item: LineItem, seq: number, ctx: RunContext, input: number): RawRecord | Failure {
  const origin = { seq, line: item.line, source: name };
  ctx.input?.positions.note({ input, offset: item.end ?? -1, line: item.line, seq });
  if ('code' in item) return failure(origin, 'read', item.code, item.reason, item.excerpt);
  return { kind: 'raw', ...origin, text: item.text };
}

async function* lineBatches(
  name: string,
  bytes: AsyncIterable<Buffer>,
  maxLineBytes: number,
  nextSeq: () => number,
  ctx: RunContext,
  input: number,
  start: { line: number; offset: number },
): AsyncGenerator<ReadBatch> {
  const splitter = new LineSplitter(maxLineBytes, start);
  let blanks = 0;
  const flushBlanks = () => {
    ctx.stats.blankLines += splitter.blankLines - blanks;
    blanks = splitter.blankLines;
  };
  let lastLine = start.line;
  try {
    for await (const chunk of bytes) {
      const items = splitter.push(chunk);
      flushBlanks();
      if (items.length > 0) {
        lastLine = items[items.length - 1]!.line;
        yield items.map((it) => toRecord(name, it, nextSeq(), ctx, input));
      }
      if (ctx.signal.aborted) return;
    }
  } catch (err) {
    throw withLine(err, lastLine);
  }
  const rest = splitter.end();
  flushBlanks();
  if (rest.length > 0) yield rest.map((it) => toRecord(name, it, nextSeq(), ctx, input));
}

async function* arrayBatches(name: string, bytes: AsyncIterable<Buffer>, nextSeq: () => number, ctx: RunContext, input: number, after: number): AsyncGenerator<ReadBatch> {
  let batch: ReadBatch = [];
  for await (const el of jsonArrayElements(bytes)) {
    // A resumed run re-parses a JSON array up to its committed element (no byte offsets there).
    if (el.line <= after) continue;
    const seq = nextSeq();
    if ('code' in el) batch.push(toRecord(name, el, seq, ctx, input));
    else {
      ctx.input?.positions.note({ input, offset: -1, line: el.line, seq });
      batch.push({ kind: 'raw', seq, line: el.line, source: name, value: el.value });
    }
    if (batch.length >= ARRAY_BATCH) {
      yield batch;
      batch = [];
      if (ctx.signal.aborted) return;
    }
  }
  if (batch.length > 0) yield batch;
}

async function* valueBatches(name: string, values: Iterable<unknown> | AsyncIterable<unknown>, nextSeq: () => number, ctx: RunContext, input: number, after: number): AsyncGenerator<ReadBatch> {
  let batch: ReadBatch = [];
  let line = 0;
  for await (const value of values) {
    line++;
    if (line <= after) continue;
    const seq = nextSeq();
    ctx.input?.positions.note({ input, offset: -1, line, seq });
    batch.push(typeof value === 'string' ? { kind: 'raw', seq, line, source: name, text: value } : { kind: 'raw', seq, line, source: name, value });
    if (batch.length >= ARRAY_BATCH) {
      yield batch;
      batch = [];
      if (ctx.signal.aborted) return;
    }
  }
  if (batch.length > 0) yield batch;
}
