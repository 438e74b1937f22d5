/**
 * The structured answer the LLM must give for one pack: for every document (by the id it was sent
 * with) its entities and relations. An array of objects with an `id`, not an object keyed by id:
 * strict structured outputs need every property named in the schema.
 */
import { DEFAULT_ENTITY_TYPES, DEFAULT_RELATION_TYPES } from './kg-prompt.js';

export const ANSWER_SCHEMA_NAME = 'kg_extraction';

export interface AnswerEntity {
  name: string;
  type: string;
  mentions: number;
}
export interface AnswerRelation {
  source: string;
  target: string;
  type: string;
}
export interface AnswerDocument {
  id: string;
  entities: AnswerEntity[];
  relations: AnswerRelation[];
}
export interface Answer {
  documents: AnswerDocument[];
}

export function answerJsonSchema(entityTypes: readonly string[] = DEFAULT_ENTITY_TYPES, relationTypes: readonly string[] = DEFAULT_RELATION_TYPES): Record<string, unknown> {
  const object = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });
  return object({
    documents: {
      type: 'array',
      items: object({
        id: { type: 'string' },
        entities: { type: 'array', items: object({ name: { type: 'string' }, type: { type: 'string', enum: [...entityTypes] }, mentions: { type: 'integer' } }) },
        relations: { type: 'array', items: object({ source: { type: 'string' }, target: { type: 'string' }, type: { type: 'string', enum: [...relationTypes] } }) },
      }),
    },
  });
}

/** The `response_format` of a chat completion request. */
export function responseFormat(entityTypes?: readonly string[], relationTypes?: readonly string[]) {
  return { type: 'json_schema' as const, json_schema: { name: ANSWER_SCHEMA_NAME, strict: true, schema: answerJsonSchema(entityTypes, relationTypes) } };
}

/** Bounds on an answer: it is untrusted input. */
export const ANSWER_LIMITS = {
  maxChars: 2_000_000,
  maxEntitiesPerDocument: 1000,
  maxRelationsPerDocument: 2000,
  maxNameChars: 300,
  maxMentions: 100_000,
} as const;

export class AnswerError extends Error {}

/**
 * Parses and checks an answer's content against the schema we asked for. Ids are returned as
 * given; the caller maps them to what it sent and discards the rest. Throws AnswerError.
 */
export function parseAnswer(content: string | null | undefined, entityTypes: readonly string[], relationTypes: readonly string[]): Answer {
  if (typeof content !== 'string' || content === '') throw new AnswerError('empty answer');
  if (content.length > ANSWER_LIMITS.maxChars) throw new AnswerError(`answer is ${content.length} characters, over ${ANSWER_LIMITS.maxChars}`);
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (err) {
    throw new AnswerError(`answer is not JSON: ${(err as Error).message}`);
  }
  const docs = (value as { documents?: unknown })?.documents;
  if (!Array.isArray(docs)) throw new AnswerError('answer has no "documents" array');
  const eTypes = new Set(entityTypes);
  const rTypes = new Set(relationTypes);
  return {
    documents: docs.map((d, i): AnswerDocument => {
      const at = `documents[${i}]`;
      if (!d || typeof d !== 'object') throw new AnswerError(`${at} is not an object`);
      const { id, entities, relations } = d as Record<string, unknown>;
      if (typeof id !== 'string') throw new AnswerError(`${at}.id is not a string`);
      if (!Array.isArray(entities) || !Array.isArray(relations)) throw new AnswerError(`${at} lacks entities or relations arrays`);
      if (entities.length > ANSWER_LIMITS.maxEntitiesPerDocument || relations.length > ANSWER_LIMITS.maxRelationsPerDocument) {
        throw new AnswerError(`${at} has ${entities.length} entities and ${relations.length} relations, over the limits`);
      }
      return {
        id,
        entities: entities.map((e, j) => {
          const { name, type, mentions } = (e ?? {}) as Record<string, unknown>;
          if (!isName(name) || typeof type !== 'string' || !eTypes.has(type)) throw new AnswerError(`${at}.entities[${j}] is invalid`);
          const n = typeof mentions === 'number' && Number.isFinite(mentions) ? Math.round(mentions) : 1;
          return { name: name.trim(), type, mentions: Math.min(ANSWER_LIMITS.maxMentions, Math.max(1, n)) };
        }),
        relations: relations.map((r, j) => {
          const { source, target, type } = (r ?? {}) as Record<string, unknown>;
          if (!isName(source) || !isName(target) || typeof type !== 'string' || !rTypes.has(type)) throw new AnswerError(`${at}.relations[${j}] is invalid`);
          return { source: source.trim(), target: target.trim(), type };
        }),
      };
    }),
  };
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '' && v.length <= ANSWER_LIMITS.maxNameChars;
}
