/**
 * The simulator's "model": reads the documents out of a chat request the way lib/llm/kg-prompt.ts
 * delimits them and answers, per document id, with what the offline extractor (lib/ner) finds,
 * restricted to the entity and relation types the request's JSON schema allows.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Answer, AnswerDocument } from '../lib/llm/kg-answer.js';
import { parseDocumentBlocks } from '../lib/llm/kg-prompt.js';
import type { Extraction } from '../lib/ner/index.js';

type Extract = (text: string) => Extraction;
let extractor: Promise<Extract> | undefined;

/**
 * The offline extractor, imported on first use (its language model takes a second or two to load)
 * and run once on a sample, so that the first request does not pay its warm-up either.
 */
export function loadExtractor(): Promise<Extract> {
  extractor ??= import('../lib/ner/index.js').then((m) => {
    m.extractEntities('Angela Merkel met the board of Siemens in Berlin.');
    return m.extractEntities;
  });
  return extractor;
}

/** The text of a message's `content`: a string, an array of parts (text parts joined), or null. Undefined if it is none of these. */
export function contentText(content: unknown): string | undefined {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let text = '';
  for (const part of content) {
    if (typeof part !== 'object' || part === null) return undefined;
    const p = part as { type?: unknown; text?: unknown };
    if (p.type === 'text' && typeof p.text === 'string') text += p.text;
  }
  return text;
}

/** The documents of a request: every user message's text, parsed as lib/llm/kg-prompt.ts formats them. */
export function requestDocuments(messages: readonly { role?: unknown; content?: unknown }[]): { id: string; text: string }[] {
  return messages.filter((m) => m.role === 'user').flatMap((m) => parseDocumentBlocks(contentText(m.content) ?? ''));
}

export interface TypeFilter {
  entityTypes?: ReadonlySet<string>;
  relationTypes?: ReadonlySet<string>;
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function enumAt(schema: unknown, path: readonly string[]): ReadonlySet<string> | undefined {
  const e = at(schema, path);
  return Array.isArray(e) ? new Set(e.filter((x): x is string => typeof x === 'string')) : undefined;
}

/**
 * The allowed types from a `response_format` of type `json_schema`, read from the schema's enums
 * (documents.items.properties.{entities,relations}.items.properties.type.enum). No enum, no filter.
 */
export function typeFilter(responseFormat: unknown): TypeFilter {
  if (at(responseFormat, ['type']) !== 'json_schema') return {};
  const schema = at(responseFormat, ['json_schema', 'schema']);
  const item = (list: string) => ['properties', 'documents', 'items', 'properties', list, 'items', 'properties', 'type', 'enum'];
  const filter: TypeFilter = {};
  const entityTypes = enumAt(schema, item('entities'));
  const relationTypes = enumAt(schema, item('relations'));
  if (entityTypes) filter.entityTypes = entityTypes;
  if (relationTypes) filter.relationTypes = relationTypes;
  return filter;
}

/** One document's answer from an extraction: types filtered, relations to dropped entities dropped. */
export function answerDocument(id: string, extraction: Extraction, filter: TypeFilter): AnswerDocument {
  const entities = extraction.entities.filter((e) => !filter.entityTypes || filter.entityTypes.has(e.type)).map((e) => ({ name: e.name, type: e.type as string, mentions: e.mentions }));
  const kept = new Set(entities.map((e) => e.name));
  const relations = extraction.relations
    .filter((r) => (!filter.relationTypes || filter.relationTypes.has(r.type)) && kept.has(r.source) && kept.has(r.target))
    .map((r) => ({ source: r.source, target: r.target, type: r.type }));
  return { id, entities, relations };
}

/**
 * Extractions by text, least recently used dropped first: a retried or split pack sends the same
 * texts again, and the extractor is the simulator's main CPU cost.
 */
export class ExtractionCache {
  private readonly map = new Map<string, Extraction>();

  constructor(
    private readonly extract: Extract,
    private readonly maxEntries = 2000,
  ) {}

  get(text: string): Extraction {
    let e = this.map.get(text);
    if (e) {
      this.map.delete(text);
    } else {
      e = this.extract(text);
      if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value as string);
    }
    this.map.set(text, e);
    return e;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * The answer for a pack. Extraction is synchronous CPU work (a few ms per thousand words), so the
 * event loop gets a turn between documents: concurrent requests interleave instead of queueing.
 */
export async function buildAnswer(docs: readonly { id: string; text: string }[], filter: TypeFilter, cache: ExtractionCache): Promise<Answer> {
  const documents: AnswerDocument[] = [];
  for (const d of docs) {
    documents.push(answerDocument(d.id, cache.get(d.text), filter));
    await yieldToLoop();
  }
  return { documents };
}
