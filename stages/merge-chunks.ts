/**
 * merge-chunks: per-chunk extractions back into one result per document (entities de-duplicated
 * by normalised name and type, mentions summed), in input order unless unordered. A document with
 * a chunk that failed for good is dead-lettered whole, with the chunk's reason. Out-of-order
 * holding is bounded by the extract window (packs x documents per pack).
 */
import _ from 'highland';
import { ErrorCode, RecordCode, SluiceError } from '../lib/errors.js';
import { chunkKey, failure, type ChunkExtraction, type DocRef, type Entity, type Failure, type PackOutcome, type Relation, type Result } from '../lib/records.js';
import type { StageTransform } from '../lib/stage.js';
import { normaliseName } from '../lib/names.js';

export interface MergeOptions {
  unordered?: boolean;
}

interface PendingDoc {
  ref: DocRef;
  count: number;
  got: number;
  parts: (ChunkExtraction | undefined)[];
  failed?: { index: number; code: string; reason: string };
  promptTokens: number;
  completionTokens: number;
}

export function mergeChunks(options: MergeOptions = {}): StageTransform<PackOutcome | Failure, Result | Failure> {
  return (input) => {
    const pending = new Map<number, PendingDoc>();
    const ready = new Map<number, Result | Failure>();
    let next = 0;
    return input.consume<Result | Failure>((err, item, push, nextFn) => {
      if (err) {
        push(err);
        return nextFn();
      }
      if (_.isNil(item)) {
        if (pending.size > 0 || ready.size > 0) {
          push(new SluiceError(ErrorCode.INTERNAL, `merge ended with ${pending.size} incomplete and ${ready.size} unreleased documents (expected seq ${next})`));
        }
        return push(null, _.nil);
      }
      const done: (Result | Failure)[] = [];
      if (item.kind === 'failure') done.push(item);
      else for (const d of absorb(item, pending)) done.push(d);
      for (const d of done) {
        if (options.unordered) emit(d);
        else ready.set(d.seq, d);
      }
      if (!options.unordered) {
        for (let d = ready.get(next); d !== undefined; d = ready.get(next)) {
          ready.delete(next);
          next++;
          emit(d);
        }
      }
      nextFn();

      function emit(d: Result | Failure): void {
        push(null, d);
      }
    });
  };
}

/** Adds one pack's outcome; returns the documents it completed. */
function absorb(outcome: PackOutcome, pending: Map<number, PendingDoc>): (Result | Failure)[] {
  const out: (Result | Failure)[] = [];
  const { promptTokens, completionTokens } = outcome.usage;
  const packTokens = outcome.pack.tokens || 1;
  let givenPrompt = 0;
  let givenCompletion = 0;
  const chunks = outcome.pack.chunks;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    let doc = pending.get(c.doc.seq);
    if (!doc) {
      doc = { ref: c.doc, count: c.count, got: 0, parts: new Array(c.count), promptTokens: 0, completionTokens: 0 };
      pending.set(c.doc.seq, doc);
    }
    // Usage is shared by token weight; the last chunk takes the rounding remainder.
    const last = i === chunks.length - 1;
    const p = last ? promptTokens - givenPrompt : Math.floor((promptTokens * c.tokens) / packTokens);
    const q = last ? completionTokens - givenCompletion : Math.floor((completionTokens * c.tokens) / packTokens);
    givenPrompt += p;
    givenCompletion += q;
    doc.promptTokens += p;
    doc.completionTokens += q;
    const key = chunkKey(c);
    const ex = outcome.extractions.get(key);
    const bad = outcome.failed.get(key);
    if (ex) doc.parts[c.index] = ex;
    else if (!doc.failed) doc.failed = { index: c.index, ...(bad ?? { code: ErrorCode.INTERNAL, reason: 'no extraction and no error for this chunk' }) };
    doc.got++;
    if (doc.got === doc.count) {
      pending.delete(c.doc.seq);
      out.push(finish(doc));
    }
  }
  return out;
}

function finish(doc: PendingDoc): Result | Failure {
  const { ref } = doc;
  if (doc.failed) {
    const where = doc.count > 1 ? `chunk ${doc.failed.index + 1} of ${doc.count}: ` : '';
    return failure(ref, 'extract', RecordCode.EXTRACT_FAILED, `${where}${doc.failed.reason} [${doc.failed.code}]`, '', ref.id);
  }
  const { entities, relations } = mergeExtractions(doc.parts as ChunkExtraction[]);
  return {
    kind: 'result',
    seq: ref.seq,
    line: ref.line,
    source: ref.source,
    id: ref.id,
    entities,
    relations,
    meta: ref.meta,
    usage: { promptTokens: doc.promptTokens, completionTokens: doc.completionTokens, chunks: doc.count },
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
