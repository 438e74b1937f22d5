/**
 * merge-chunks: per-chunk extractions back into one result per document (entities de-duplicated
 * by normalised name and type, mentions summed), in input order unless unordered. A document with
 * a chunk that failed for good is dead-lettered whole, with the chunk's reason. Out-of-order
 * holding is bounded by the extract window (packs x documents per pack). Gathering, usage sharing,
 * dead-lettering and ordering live in lib/runtime/merge-docs.ts, shared with merge-embeddings.
 */
import { mergeByDocument, type CompletedDoc, type MergeOptions } from '../lib/runtime/merge-docs.js';
import type { ChunkExtraction, Entity, Failure, PackOutcome, Relation, Result } from '../lib/runtime/records.js';
import type { StageTransform } from '../lib/runtime/stage.js';
import { normaliseName } from '../lib/runtime/names.js';

export type { MergeOptions } from '../lib/runtime/merge-docs.js';

export function mergeChunks(options: MergeOptions = {}): StageTransform<PackOutcome | Failure, Result | Failure> {
  return mergeByDocument(finish, options);
}

function finish(doc: CompletedDoc): Result {
  const { ref } = doc;
  const { entities, relations } = mergeExtractions(doc.parts);
  return {
    kind: 'result',
    seq: ref.seq,
    line: ref.line,
    source: ref.source,
    id: ref.id,
    entities,
    relations,
    meta: ref.meta,
    usage: { promptTokens: doc.usage.promptTokens, completionTokens: doc.usage.completionTokens, chunks: doc.parts.length },
  };
}

/** Entities merged by normalised name + type (first surface form kept); relations by endpoints + type. */
export function mergeExtractions(parts: readonly ChunkExtraction[]): ChunkExtraction {
  if (parts.length === 1) return parts[0]!;
  const entities = new Map<string, Entity>();
  const display = new Map<string, string>();
  for (const part of parts) {
    for (const e of part.entities) {
      const norm = normaliseName(e.name);
      const key = `${e.type}\u0000${norm}`;
      const seen = entities.get(key);
      if (seen) seen.mentions += e.mentions;
      else entities.set(key, { ...e });
      if (!display.has(norm)) display.set(norm, e.name);
    }
  }
  const relations = new Map<string, Relation>();
  for (const part of parts) {
    for (const r of part.relations) {
      const source = display.get(normaliseName(r.source)) ?? r.source;
      const target = display.get(normaliseName(r.target)) ?? r.target;
      const key = `${normaliseName(source)}\u0000${normaliseName(target)}\u0000${r.type}`;
      const seen = relations.get(key);
      if (seen) seen.count += r.count;
      else relations.set(key, { source, target, type: r.type, count: r.count });
    }
  }
  return { entities: [...entities.values()], relations: [...relations.values()] };
}
