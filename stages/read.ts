/**
 * read: inputs (stdin, files in sequence, a Node stream, or in-memory values) to batches of raw
 * records, each with its seq, line and source. Gzip is detected by its magic bytes and inflated on
 * the fly; a JSON array (first non-blank byte `[`) is streamed element by element, anything else is
 * JSONL. Reading is pulled: a slow consumer stops the file being read.
 */
import { createReadStream, promises as fsp, fstatSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import _ from 'highland';
import { failure, type Failure, type RawRecord } from '../lib/records.js';
import { SluiceError, ErrorCode, messageOf } from '../lib/errors.js';
import type { OptionSpec } from '../lib/options.js';
import type { RunContext } from '../lib/run-context.js';
import type { Stream } from '../lib/stage.js';
import { LineSplitter, type LineItem } from './read-lines.js';
import { jsonArrayElements } from './read-json-array.js';

export const readOptionSpecs: readonly OptionSpec[] = [
  { name: 'max-line-bytes', type: 'integer', default: 16 * 1024 * 1024, min: 1, description: 'Longest accepted input line in bytes; a longer line is dead-lettered without being held in memory' },
  { name: 'format', type: 'string', default: 'auto', choices: ['auto', 'jsonl', 'json'], description: 'Input format: jsonl, json (a top-level array), or auto (an array if the first non-blank byte is "[")' },
];

export interface ReadOptions {
  maxLineBytes: number;
  format: 'auto' | 'jsonl' | 'json';
}

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
  let seq = 0;
  const nextSeq = () => {
    ctx.stats.recordsIn++;
    return seq++;
  };
  for (const input of list) {
    if (ctx.signal.aborted) return;
    if (typeof input === 'object' && 'values' in input) {
      yield* valueBatches(input.name, input.values, nextSeq, ctx);
      continue;
    }
    const name = typeof input === 'string' ? (input === '-' ? 'stdin' : input) : input.name;
    const raw = typeof input === 'string' ? openInput(input) : input.stream;
    const counted = countBytes(raw as AsyncIterable<Buffer>, ctx);
    const bytes = await maybeGunzip(counted);
    const { format, bytes: body } = options.format === 'auto' ? await sniffFormat(bytes) : { format: options.format, bytes };
    if (format === 'json') {
      yield* arrayBatches(name, body, nextSeq, ctx);
    } else {
      yield* lineBatches(name, body, options.maxLineBytes, nextSeq, ctx);
    }
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
      if (!st.isFile()) return undefined; // a pipe: size unknown
      total += st.size;
    } catch (err) {
      throw new SluiceError(ErrorCode.FATAL, `cannot read input ${input}: ${messageOf(err)}`, { cause: err });
    }
  }
  return total;
}

async function* countBytes(source: AsyncIterable<Buffer | string>, ctx: RunContext): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    ctx.stats.bytesRead += buf.length;
    yield buf;
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

async function maybeGunzip(source: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  const { first, all } = await peek(source);
  if (!first || first[0] !== GZIP_MAGIC[0] || first[1] !== GZIP_MAGIC[1]) return all;
  return Readable.from(all).pipe(createGunzip());
}

async function sniffFormat(source: AsyncIterable<Buffer>): Promise<{ format: 'jsonl' | 'json'; bytes: AsyncIterable<Buffer> }> {
  const { first, all } = await peek(source);
  let format: 'jsonl' | 'json' = 'jsonl';
  if (first) {
    for (const b of first) {
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue; // blanks, BOM
      format = b === 0x5b ? 'json' : 'jsonl';
      break;
    }
  }
  return { format, bytes: all };
}

function toRecord(name: string, item: LineItem, seq: number): RawRecord | Failure {
  const origin = { seq, line: item.line, source: name };
  if ('code' in item) return failure(origin, 'read', item.code, item.reason, item.excerpt);
  return { kind: 'raw', ...origin, text: item.text };
}

async function* lineBatches(name: string, bytes: AsyncIterable<Buffer>, maxLineBytes: number, nextSeq: () => number, ctx: RunContext): AsyncGenerator<ReadBatch> {
  const splitter = new LineSplitter(maxLineBytes);
  let blanks = 0;
  const flushBlanks = () => {
    ctx.stats.blankLines += splitter.blankLines - blanks;
    blanks = splitter.blankLines;
  };
  for await (const chunk of bytes) {
    const items = splitter.push(chunk);
    flushBlanks();
    if (items.length > 0) yield items.map((it) => toRecord(name, it, nextSeq()));
    if (ctx.signal.aborted) return;
  }
  const rest = splitter.end();
  flushBlanks();
  if (rest.length > 0) yield rest.map((it) => toRecord(name, it, nextSeq()));
}

async function* arrayBatches(name: string, bytes: AsyncIterable<Buffer>, nextSeq: () => number, ctx: RunContext): AsyncGenerator<ReadBatch> {
  let batch: ReadBatch = [];
  for await (const el of jsonArrayElements(bytes)) {
    const seq = nextSeq();
    batch.push('code' in el ? toRecord(name, el, seq) : { kind: 'raw', seq, line: el.line, source: name, value: el.value });
    if (batch.length >= ARRAY_BATCH) {
      yield batch;
      batch = [];
      if (ctx.signal.aborted) return;
    }
  }
  if (batch.length > 0) yield batch;
}

async function* valueBatches(name: string, values: Iterable<unknown> | AsyncIterable<unknown>, nextSeq: () => number, ctx: RunContext): AsyncGenerator<ReadBatch> {
  let batch: ReadBatch = [];
  let line = 0;
  for await (const value of values) {
    line++;
    const seq = nextSeq();
    batch.push(typeof value === 'string' ? { kind: 'raw', seq, line, source: name, text: value } : { kind: 'raw', seq, line, source: name, value });
    if (batch.length >= ARRAY_BATCH) {
      yield batch;
      batch = [];
      if (ctx.signal.aborted) return;
    }
  }
  if (batch.length > 0) yield batch;
}
