/**
 * RFC 4180 fields: a field holding a comma, a double quote or a line break is quoted, quotes
 * inside doubled; rows end with LF. List cells are streamed item by item, so a node seen in a
 * million documents is written without its list ever being one string.
 */
import type { TextFileWriter } from './text-writer.js';

const NEEDS_QUOTES = /[",\r\n]/u;

/** Text going inside a quoted field: quotes doubled. */
export function quoteInner(text: string): string {
  return text.replace(/"/gu, '""');
}

export function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return NEEDS_QUOTES.test(value) ? `"${quoteInner(value)}"` : value;
}

export function csvRow(fields: readonly (string | number)[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}

export interface ListFormat {
  open: string;
  separator: string;
  close: string;
  item: (s: string) => string;
}

/** A JSON array of strings (tables, GraphML): unambiguous whatever the items contain. */
export const JSON_LIST: ListFormat = { open: '[', separator: ',', close: ']', item: (s) => JSON.stringify(s) };

/** Writes one always-quoted CSV cell holding `items` in `format`. */
export async function writeCsvList(out: TextFileWriter, items: Iterable<string>, format: ListFormat): Promise<void> {
  out.write(`"${quoteInner(format.open)}`);
  let first = true;
  for (const item of items) {
    out.write(quoteInner(`${first ? '' : format.separator}${format.item(item)}`));
    first = false;
    await out.maybeFlush();
  }
  out.write(`${quoteInner(format.close)}"`);
}
