/**
 * What a resumable run needs from the reader: where each record ends in its input (so a checkpoint
 * can say "everything up to here is committed"), a fingerprint of every input's head (so a
 * checkpoint is not applied to another input), and where to start reading again.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';

/** Where a record ends in the run's inputs: enough to start reading just after it. */
export interface InputPosition {
  /** Index of the input in the run's list. */
  input: number;
  /** Byte offset just past the record in that input's (inflated) bytes; -1 where bytes do not apply (JSON arrays, values). */
  offset: number;
  /** The record's line (JSONL) or element position (arrays, in-memory values) in that input. */
  line: number;
  seq: number;
  /**
   * Packing starts afresh after this record (the packer was empty): a resume from here forms the
   * same packs an uninterrupted run forms, so the same requests and the same output bytes.
   */
  cut?: boolean;
}

/** An input as a checkpoint knows it: its name, size when a file, and a hash of its first bytes. */
export interface InputFingerprint {
  name: string;
  size?: number;
  headBytes: number;
  headSha256: string;
}

/** Bytes of an input's head that are hashed: enough to tell files apart, cheap to read again. */
export const HEAD_BYTES = 64 * 1024;

export function fingerprintOf(name: string, head: Buffer, size: number | undefined): InputFingerprint {
  return { name, ...(size !== undefined ? { size } : {}), headBytes: head.length, headSha256: createHash('sha256').update(head).digest('hex') };
}

/**
 * The fingerprint the reader would take of an input, without reading it: a file's head and size, a
 * stream's head (read and dropped: the caller is not going to read it); undefined for in-memory
 * values (never fingerprinted) and for a terminal on stdin (nothing to read without a user typing).
 */
export async function fingerprintInput(input: unknown): Promise<InputFingerprint | undefined> {
  if (typeof input === 'string' && input !== '-') {
    const handle = await fsp.open(input, 'r');
    try {
      const size = (await handle.stat()).size;
      const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return fingerprintOf(input, head.subarray(0, bytesRead), size);
    } finally {
      await handle.close();
    }
  }
  const named = typeof input === 'object' && input !== null && 'stream' in input ? (input as { name: string; stream: NodeJS.ReadableStream }) : undefined;
  if (input !== '-' && named === undefined) return undefined;
  const stream = named?.stream ?? process.stdin;
  if (stream === process.stdin && process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buf);
    bytes += buf.length;
    if (bytes >= HEAD_BYTES) break;
  }
  return fingerprintOf(named?.name ?? 'stdin', Buffer.concat(chunks).subarray(0, HEAD_BYTES), undefined);
}

/**
 * Positions of records read but not committed yet, oldest first. Bounded by what is in flight
 * between reader and sink: the sink takes each position as it commits the record.
 */
export class PositionLog {
  private items: InputPosition[] = [];
  private head = 0;

  note(p: InputPosition): void {
    this.items.push(p);
  }

  /** Marks `seq` as a point where packing starts afresh (see InputPosition.cut). */
  cut(seq: number): void {
    const first = this.items[this.head];
    if (!first) return;
    const p = this.items[this.head + (seq - first.seq)];
    if (p?.seq === seq) p.cut = true;
  }

  /** The position of `seq`, forgetting it and every earlier one. */
  take(seq: number): InputPosition | undefined {
    const items = this.items;
    while (this.head < items.length && items[this.head]!.seq < seq) this.head++;
    const p = items[this.head]?.seq === seq ? items[this.head++] : undefined;
    if (this.head > 4096 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return p;
  }
}

/** Given to the reader through the run context when the run is checkpointed. */
export interface InputTracking {
  positions: PositionLog;
  /** Start after this record (a resumed run). */
  resume?: InputPosition;
  /** Called once per input with its fingerprint before any of its records is handed on; throws to refuse the input. */
  verify(index: number, fingerprint: InputFingerprint): void;
}
