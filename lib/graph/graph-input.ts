/**
 * A result line (docs/schema/result.schema.json) checked as input to the graph: the fields the
 * graph uses (id, entities, relations), each with a reason naming the offending field when it is
 * wrong. Lines written by other tools are accepted when they carry these fields; `mentions` and
 * `count` default to 1 when absent. Everything else on the line (meta, usage) is ignored.
 */
import { RecordCode } from '../runtime/errors.js';
import type { Entity, Relation } from '../runtime/records.js';

export interface GraphDocument {
  id: string;
  entities: Entity[];
  relations: Relation[];
}

export interface InputProblem {
  kind: 'problem';
  code: string;
  reason: string;
  /** The document id, when the line got that far. */
  id?: string;
}

function problem(code: string, reason: string, id?: string): InputProblem {
  return id === undefined ? { kind: 'problem', code, reason } : { kind: 'problem', code, reason, id };
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? 'a string' : typeof v;
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function count(v: unknown): number | undefined {
  if (v === undefined) return 1;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : undefined;
}

export function isProblem(x: GraphDocument | InputProblem): x is InputProblem {
  return (x as InputProblem).kind === 'problem';
}

/** A parsed JSON value to the graph's view of a document, or the first reason it cannot be one. */
export function graphDocumentOf(value: unknown): GraphDocument | InputProblem {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return problem(RecordCode.NOT_AN_OBJECT, `line is ${describe(value)}, not a JSON object`);
  const o = value as Record<string, unknown>;
  let id: string;
  if (nonEmptyString(o.id)) id = o.id;
  else if (typeof o.id === 'number' && Number.isFinite(o.id)) id = String(o.id);
  else return problem(RecordCode.INVALID_ID, o.id === undefined ? 'field "id" is missing' : `field "id" is ${describe(o.id)}, not a non-empty string`);
  if (!Array.isArray(o.entities)) return problem(RecordCode.INVALID_RESULT, o.entities === undefined ? 'field "entities" is missing' : `field "entities" is ${describe(o.entities)}, not an array`, id);
  if (o.relations !== undefined && !Array.isArray(o.relations)) return problem(RecordCode.INVALID_RESULT, `field "relations" is ${describe(o.relations)}, not an array`, id);

  const entities: Entity[] = [];
  for (let i = 0; i < o.entities.length; i++) {
    const e = o.entities[i] as Record<string, unknown> | null;
    const at = `entities[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return problem(RecordCode.INVALID_RESULT, `${at} is ${describe(e)}, not an object`, id);
    if (!nonEmptyString(e.name)) return problem(RecordCode.INVALID_RESULT, `${at}.name must be a non-empty string`, id);
    if (!nonEmptyString(e.type)) return problem(RecordCode.INVALID_RESULT, `${at}.type must be a non-empty string`, id);
    const mentions = count(e.mentions);
    if (mentions === undefined) return problem(RecordCode.INVALID_RESULT, `${at}.mentions must be a positive integer, got ${JSON.stringify(e.mentions)}`, id);
    entities.push({ name: e.name, type: e.type, mentions });
  }

  const relations: Relation[] = [];
  const given = (o.relations ?? []) as unknown[];
  for (let i = 0; i < given.length; i++) {
    const r = given[i] as Record<string, unknown> | null;
    const at = `relations[${i}]`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return problem(RecordCode.INVALID_RESULT, `${at} is ${describe(r)}, not an object`, id);
    for (const field of ['source', 'target', 'type'] as const) {
      if (!nonEmptyString(r[field])) return problem(RecordCode.INVALID_RESULT, `${at}.${field} must be a non-empty string`, id);
    }
    const c = count(r.count);
    if (c === undefined) return problem(RecordCode.INVALID_RESULT, `${at}.count must be a positive integer, got ${JSON.stringify(r.count)}`, id);
    relations.push({ source: r.source as string, target: r.target as string, type: r.type as string, count: c });
  }
  return { id, entities, relations };
}
