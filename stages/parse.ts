/**
 * parse: raw records to documents `{id, text, meta}`. A bad record becomes a dead-letter entry
 * naming its line and the reason; the run goes on.
 */
import { RecordCode, messageOf } from '../lib/runtime/errors.js';
import { failure, type Doc, type Failure, type RawRecord } from '../lib/runtime/records.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import type { StageTransform } from '../lib/runtime/stage.js';
import { csvHint, missingFieldHint } from '../lib/input/record-hints.js';

export const parseOptionSpecs = defineOptions([
  { name: 'id-field', type: 'string', default: 'id', description: 'Field holding the document id (dots reach into nested objects); numbers become strings; a missing id becomes "<source>:<line>"' },
  { name: 'text-field', type: 'string', default: 'text', description: 'Field holding the document text (dots reach into nested objects)' },
]);

export type ParseOptions = OptionsOf<typeof parseOptionSpecs>;

export type ParsedBatch = (Doc | Failure)[];

export function parse(options: ParseOptions): StageTransform<(RawRecord | Failure)[], ParsedBatch> {
  const parseOne = recordParser(options);
  return (input, ctx) =>
    input.map((batch) => {
      const out: ParsedBatch = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        const rec = batch[i]!;
        const item = rec.kind === 'raw' ? parseOne(rec) : rec;
        if (item.kind === 'doc') ctx.stats.docsParsed++;
        out[i] = item;
      }
      return out;
    });
}

/** A raw record's JSON value: parsed from its line, or as a JSON array's element already is; INVALID_JSON otherwise. */
export function jsonValueOf(rec: RawRecord): { value: unknown } | Failure {
  if (rec.text === undefined) return { value: rec.value };
  try {
    return { value: JSON.parse(rec.text) };
  } catch (err) {
    return failure(rec, 'parse', RecordCode.INVALID_JSON, `invalid JSON: ${messageOf(err)}${csvHint(rec.text, rec.line)}`, rec.text);
  }
}

/** The pure core: one raw record to a document or a failure. */
export function recordParser(options: ParseOptions): (rec: RawRecord) => Doc | Failure {
  const idPath = options.idField.split('.');
  const textPath = options.textField.split('.');
  // Top-level fields are skipped in the hot loop; a nested one is cut out of a copy of its parent,
  // so the rest of that object stays in meta.
  const topSkip = new Set([idPath, textPath].filter((p) => p.length === 1).map((p) => p[0]));
  const nested = [idPath, textPath].filter((p) => p.length > 1);
  return (rec) => {
    const read = jsonValueOf(rec);
    if ('kind' in read) return read;
    const { value } = read;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return failure(rec, 'parse', RecordCode.NOT_AN_OBJECT, `record is ${typeLabel(value)}, not a JSON object`, excerptSource(rec, value));
    }
    const obj = value as Record<string, unknown>;
    const idValue = dig(obj, idPath);
    let id: string;
    if (idValue === undefined || idValue === null) {
      id = `${rec.source}:${rec.line}`;
    } else if (typeof idValue === 'string' && idValue !== '') {
      id = idValue;
    } else if (typeof idValue === 'number' && Number.isFinite(idValue)) {
      id = String(idValue);
    } else {
      const why = idValue === '' ? 'is empty' : `is ${typeLabel(idValue)}, not a string or number`;
      return failure(rec, 'parse', RecordCode.INVALID_ID, `field "${options.idField}" ${why}`, excerptSource(rec, value));
    }
    const text = dig(obj, textPath);
    if (text === undefined || text === null) {
      return failure(rec, 'parse', RecordCode.MISSING_TEXT, `field "${options.textField}" is missing${missingFieldHint(obj)}`, excerptSource(rec, value), id);
    }
    if (typeof text !== 'string') {
      return failure(rec, 'parse', RecordCode.TEXT_NOT_STRING, `field "${options.textField}" is ${typeLabel(text)}, not a string`, excerptSource(rec, value), id);
    }
    if (text.trim() === '') {
      return failure(rec, 'parse', RecordCode.EMPTY_TEXT, `field "${options.textField}" is empty`, excerptSource(rec, value), id);
    }
    let meta: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) if (!topSkip.has(k)) meta[k] = obj[k];
    for (const path of nested) meta = withoutPath(meta, path);
    return { kind: 'doc', seq: rec.seq, line: rec.line, source: rec.source, id, text, meta };
  };
}

function typeLabel(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function dig(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * `obj` without the field at `path`, copying only the objects along the path (the input is never
 * changed); a parent left empty goes too, since all it held was the selected field.
 */
export function withoutPath(obj: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined || !Object.hasOwn(obj, key)) return obj;
  const out = { ...obj };
  if (rest.length === 0) {
    delete out[key];
    return out;
  }
  const child = obj[key];
  if (child === null || typeof child !== 'object' || Array.isArray(child)) return obj;
  const trimmed = withoutPath(child as Record<string, unknown>, rest);
  if (Object.keys(trimmed).length === 0) delete out[key];
  else out[key] = trimmed;
  return out;
}

function excerptSource(rec: RawRecord, value: unknown): string {
  if (rec.text !== undefined) return rec.text.slice(0, 400);
  try {
    return (JSON.stringify(value) ?? '').slice(0, 400);
  } catch {
    return '';
  }
}
