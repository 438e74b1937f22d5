/**
 * What every merge stage shares (merge-chunks, merge-embeddings): pack outcomes gathered back into
 * their documents, each pack's usage shared among its chunks by tokens (the last chunk of a pack
 * takes the rounding remainder, so shares add up exactly), a document with a chunk that failed for
 * good dead-lettered whole with that chunk's reason, and input order restored by `seq` (or
 * completion order when unordered). A merge stage supplies only `finish`: a document's complete
 * chunk extractions to its result. Out-of-order holding is bounded by the extract window.
 */
import _ from 'highland';
import { ErrorCode, RecordCode, SluiceError } from './errors.js';
import { chunkKey, failure, type ChunkExtraction, type DocRef, type Failure, type PackOutcome, type Usage } from './records.js';
import type { StageTransform } from './stage.js';

export interface MergeOptions {
  /** Emit documents as they complete instead of in input order. @default false */
  unordered?: boolean;
}

/** A document all of whose chunks came back with an extraction. */
export interface CompletedDoc {
  ref: DocRef;
  /** Extraction of each chunk, by chunk index. */
  parts: ChunkExtraction[];
  /** Tokens of each chunk's text, by chunk index. */
  tokens: number[];
  /** The document's share of the usage of the requests its chunks were in. */
  usage: Usage;
}

interface PendingDoc {
  ref: DocRef;
  count: number;
  got: number;
  parts: (ChunkExtraction | undefined)[];
  tokens: number[];
  failed?: { index: number; code: string; reason: string };
  promptTokens: number;
  completionTokens: number;
}

/** The merge stage around `finish`; failures from earlier stages pass through, in order. */
export function mergeByDocument<R extends { seq: number }>(finish: (doc: CompletedDoc) => R | Failure, options: MergeOptions = {}): StageTransform<PackOutcome | Failure, R | Failure> {
  return (input, ctx) => {
    const pending = new Map<number, PendingDoc>();
    const ready = new Map<number, R | Failure>();
    // A resumed run's first record comes after the committed ones.
    let next = (ctx.input?.resume?.seq ?? -1) + 1;
    return input.consume<R | Failure>((err, item, push, nextFn) => {
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
      const done: (R | Failure)[] = [];
      if (item.kind === 'failure') done.push(item);
      else for (const doc of absorb(item, pending)) done.push(doc.failed ? docFailure(doc) : finish(completed(doc)));
      for (const d of done) {
        if (options.unordered) push(null, d);
        else ready.set(d.seq, d);
      }
      if (!options.unordered) {
        for (let d = ready.get(next); d !== undefined; d = ready.get(next)) {
          ready.delete(next);
          next++;
          push(null, d);
        }
      }
      nextFn();
    });
  };
}

/** Adds one pack's outcome; returns the documents it completed. */
function absorb(outcome: PackOutcome, pending: Map<number, PendingDoc>): PendingDoc[] {
  const out: PendingDoc[] = [];
  const { promptTokens, completionTokens } = outcome.usage;
  const packTokens = outcome.pack.tokens || 1;
  let givenPrompt = 0;
  let givenCompletion = 0;
  const chunks = outcome.pack.chunks;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    let doc = pending.get(c.doc.seq);
    if (!doc) {
      doc = { ref: c.doc, count: c.count, got: 0, parts: new Array(c.count), tokens: new Array(c.count).fill(0), promptTokens: 0, completionTokens: 0 };
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
    doc.tokens[c.index] = c.tokens;
    const key = chunkKey(c);
    const ex = outcome.extractions.get(key);
    const bad = outcome.failed.get(key);
    if (ex) doc.parts[c.index] = ex;
    else if (!doc.failed) doc.failed = { index: c.index, ...(bad ?? { code: ErrorCode.INTERNAL, reason: 'no extraction and no error for this chunk' }) };
    doc.got++;
    if (doc.got === doc.count) {
      pending.delete(c.doc.seq);
      out.push(doc);
    }
  }
  return out;
}

function completed(doc: PendingDoc): CompletedDoc {
  return { ref: doc.ref, parts: doc.parts as ChunkExtraction[], tokens: doc.tokens, usage: { promptTokens: doc.promptTokens, completionTokens: doc.completionTokens } };
}

/** The dead letter of a document with a failed chunk: names the chunk (when there are several) and its reason. */
function docFailure(doc: PendingDoc): Failure {
  const { ref, failed } = doc;
  const where = doc.count > 1 ? `chunk ${failed!.index + 1} of ${doc.count}: ` : '';
  return failure(ref, 'extract', RecordCode.EXTRACT_FAILED, `${where}${failed!.reason} [${failed!.code}]`, '', ref.id);
}
