/**
 * Bytes to JSONL lines, with a bounded line length measured in bytes. Hand-written rather than
 * split2 (see docs/decisions.md): split2's `skipOverflow` drops an over-long line silently, which
 * would lose the record and shift line numbers, it measures UTF-16 units rather than bytes, and its
 * decoder replaces invalid UTF-8 without telling. Here an over-long line is never held whole: once
 * it passes the limit only its first bytes (for the excerpt) and its length are kept.
 */
import { isUtf8 } from 'node:buffer';
import { EXCERPT_CHARS } from '../runtime/records.js';
import { RecordCode } from '../runtime/errors.js';

export interface LineOk {
  line: number;
  /** Byte offset just past this line's newline in the (inflated) input: where a resume starts. */
  end: number;
  text: string;
}
export interface LineBad {
  line: number;
  end?: number;
  code: string;
  reason: string;
  excerpt: string;
}
export type LineItem = LineOk | LineBad;

const NEWLINE = 0x0a;
const EXCERPT_BYTES = EXCERPT_CHARS * 4;

export class LineSplitter {
  /** Lines consisting only of whitespace: skipped (not records), but counted. */
  blankLines = 0;
  private lineNo: number;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private overflow = false;
  private overflowHead: Buffer | undefined;
  /** Bytes of the input before the current chunk. */
  private base: number;

  /** `start`: where the bytes given begin (line number and offset), when reading resumes mid-input. */
  constructor(
    private readonly maxLineBytes: number,
    start: { line: number; offset: number } = { line: 0, offset: 0 },
  ) {
    this.lineNo = start.line;
    this.base = start.offset;
  }

  /** Splits one chunk; returns the lines it completed. */
  push(chunk: Buffer): LineItem[] {
    const out: LineItem[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      this.append(chunk.subarray(start, nl));
      this.finishLine(out, this.base + nl + 1);
      start = nl + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
    this.base += chunk.length;
    return out;
  }

  /** Flushes a last line that has no newline at end of file. */
  end(): LineItem[] {
    const out: LineItem[] = [];
    if (this.partBytes > 0 || this.overflow) this.finishLine(out, this.base);
    return out;
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.overflow) {
      this.partBytes += piece.length;
      return;
    }
    if (this.partBytes + piece.length > this.maxLineBytes) {
      // Keep only the head for the excerpt; the rest of this line is counted, not held.
      const held = Buffer.concat([...this.parts, piece.subarray(0, EXCERPT_BYTES)]);
      this.overflowHead = held.subarray(0, EXCERPT_BYTES);
      this.overflow = true;
      this.parts = [];
      this.partBytes += piece.length;
      return;
    }
    this.parts.push(piece);
    this.partBytes += piece.length;
  }

  private finishLine(out: LineItem[], end: number): void {
    const line = ++this.lineNo;
    const bytes = this.partBytes;
    if (this.overflow) {
      const head = (this.overflowHead ?? Buffer.alloc(0)).toString('utf8');
      out.push({ line, end, code: RecordCode.LINE_TOO_LONG, reason: `line is ${bytes} bytes, over --max-line-bytes ${this.maxLineBytes}`, excerpt: head });
      this.reset();
      return;
    }
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, bytes);
    this.reset();
    let length = buf.length;
    if (length > 0 && buf[length - 1] === 0x0d) length--; // CRLF
    const body = length === buf.length ? buf : buf.subarray(0, length);
    if (!isUtf8(body)) {
      out.push({ line, end, code: RecordCode.INVALID_UTF8, reason: 'line is not valid UTF-8', excerpt: body.subarray(0, EXCERPT_BYTES).toString('utf8') });
      return;
    }
    let text = body.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // BOM (first line, or concatenated files)
    if (isBlank(text)) {
      this.blankLines++;
      return;
    }
    out.push({ line, end, text });
  }

  private reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.overflow = false;
    this.overflowHead = undefined;
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c && c !== 0xa0 && c !== 0xfeff) return false;
  }
  return true;
}
