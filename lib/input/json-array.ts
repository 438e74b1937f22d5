/**
 * A JSON file holding an array of objects, streamed element by element with stream-json
 * (never JSON.parse of the whole file). Each element is assembled on its own, so memory is
 * bounded by the largest element, not the file.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import streamArray from 'stream-json/streamers/stream-array.js';
import { RecordCode } from '../runtime/errors.js';
import { messageOf } from '../runtime/errors.js';
import type { LineBad } from './lines.js';

export interface ArrayElement {
  /** 1-based position in the array. */
  line: number;
  value: unknown;
}

/** Yields elements; a syntax error ends the file with one LineBad naming the position. */
export async function* jsonArrayElements(bytes: AsyncIterable<Buffer>): AsyncGenerator<ArrayElement | LineBad> {
  const elements = streamArray.withParserAsStream();
  const feeding = pipeline(Readable.from(bytes, { objectMode: false }), elements).catch(() => undefined);
  let count = 0;
  try {
    for await (const item of elements as AsyncIterable<{ key: number; value: unknown }>) {
      count = item.key + 1;
      yield { line: count, value: item.value };
    }
  } catch (err) {
    yield {
      line: count + 1,
      code: RecordCode.INVALID_JSON_ARRAY,
      reason: `JSON array is malformed after element ${count}: ${messageOf(err)}; the rest of this input is skipped`,
      excerpt: '',
    };
  } finally {
    elements.destroy();
    await feeding;
  }
}
