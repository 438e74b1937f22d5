/**
 * The projection of a run while it runs: the whole run's cost and the time left, from what has been
 * measured so far (docs/decisions.md, "The cost projected while a run runs"). Pure: it reads
 * counters and a clock, so progress, metrics, the summary and the --max-cost warning agree.
 *
 * Work is counted in units: a chunk's text tokens plus `chunkUnits` (the answer prior's per-chunk
 * part in text tokens, 80 / 1.6 = 50 by default), since a chunk's answer, and so its cost, is a
 * fixed part plus a share of its text (lib/llm/output-model.ts).
 *
 *   documents in all  = records read x total bytes / bytes read       (both counted by the reader)
 *   units left        = units chunked and not yet settled
 *                       + units per document chunked x documents not yet chunked
 *   projected cost    = cost spent + cost per unit of the settled packs x units left
 *   ETA               = documents not yet settled / documents settled per second (this session)
 *
 * A pack is settled when its work has ended (answered, split and answered, or dead-lettered): the
 * cost and the units it is divided by are the same packs', so the reader running ahead, packs in
 * flight (billed in part or not yet) and answers held for ordered output do not skew it. Without a
 * known input size (stdin from a pipe) there is no projection.
 */
import type { AnswerPriorOptions } from '../llm/output-model.js';
import { costUsd, type Price } from '../llm/prices.js';
import type { RunStats } from '../runtime/run-context.js';

/** The counters a projection reads (RunStats has them all; tests pass fakes). */
export type ProjectionStats = Pick<
  RunStats,
  | 'startedAt'
  | 'bytesRead'
  | 'totalBytes'
  | 'recordsIn'
  | 'resumedAt'
  | 'docsParsed'
  | 'chunks'
  | 'textTokens'
  | 'promptTokens'
  | 'completionTokens'
  | 'settledDocs'
  | 'settledChunks'
  | 'settledTextTokens'
  | 'billedChunks'
  | 'billedTextTokens'
  | 'billedPromptTokens'
  | 'billedCompletionTokens'
  | 'failedBeforePacking'
>;

export interface ProjectionModel {
  /** Prices the cost; without it only the ETA is projected. */
  price?: Price;
  /** Units of work a chunk counts beyond its text tokens (see above); 0 where answers are not generated (embeddings). */
  chunkUnits?: number;
}

export interface Projection {
  /** Documents expected in the whole input (earlier sessions of a resumed run included). */
  docsTotal: number;
  /** The share of them whose work has ended (earlier sessions included), 0..1. */
  fraction: number;
  /** Projected cost of the whole run in USD (earlier sessions included); absent until there is evidence, or without a price. */
  costUsd?: number;
  /** Seconds until the last document is settled, at this session's rate; absent until there is evidence. */
  etaSeconds?: number;
}

/**
 * Chunks settled before a projection is given: 2% of the session's documents, at least 10 (one or
 * two packs say little) and at most 100 (a large corpus need not wait for 2%: 100 documents already
 * give the cost per unit within a few percent).
 */
export function evidenceNeeded(sessionDocs: number): number {
  return Math.min(sessionDocs, Math.max(MIN_EVIDENCE_DOCS, Math.min(MAX_EVIDENCE_DOCS, EVIDENCE_SHARE * sessionDocs)));
}
const MIN_EVIDENCE_DOCS = 10;
const MAX_EVIDENCE_DOCS = 100;
const EVIDENCE_SHARE = 0.02;

/** A chunk's units beyond its text tokens for answers of this prior (base + ratio x tokens: cost goes as base / ratio + tokens). */
export function chunkUnitsOf(prior: AnswerPriorOptions): number {
  return prior.answerTokensRatio > 0 ? prior.answerBaseTokens / prior.answerTokensRatio : 0;
}

/** The projection now; undefined when the input's size is unknown or nothing has been read yet. */
export function project(s: ProjectionStats, model: ProjectionModel = {}, now: number = Date.now()): Projection | undefined {
  if (!s.totalBytes || s.bytesRead <= 0 || s.recordsIn <= 0) return undefined;
  // The reader counts bytes and records together, so their ratio holds for what it has not read.
  const docsTotal = s.bytesRead >= s.totalBytes ? s.recordsIn : (s.recordsIn * s.totalBytes) / s.bytesRead;
  const before = s.resumedAt ?? 0;
  // Bad records never reach a pack: they are finished, at no cost.
  const settled = s.settledDocs + s.failedBeforePacking;
  const docsLeft = Math.max(0, docsTotal - before - settled);
  const needed = evidenceNeeded(Math.max(0, docsTotal - before));
  const p: Projection = { docsTotal, fraction: Math.min(1, (before + settled) / docsTotal) };
  const price = model.price;
  if (price) {
    const spent = costUsd(price, s.promptTokens, s.completionTokens);
    if (docsLeft === 0) p.costUsd = spent;
    else if (s.billedChunks >= needed && s.billedChunks > 0) {
      const k = model.chunkUnits ?? 0;
      const chunked = s.textTokens + k * s.chunks;
      const perDoc = s.docsParsed > 0 ? chunked / s.docsParsed : 0;
      const notChunked = Math.max(0, docsTotal - before - s.docsParsed - s.failedBeforePacking);
      const unitsLeft = Math.max(0, chunked - (s.settledTextTokens + k * s.settledChunks)) + perDoc * notChunked;
      // Answers from --cache cost nothing but say nothing of what the rest will cost: the rate is of
      // billed packs only, and the work left is assumed billed (an upper bound when more will come
      // from the cache).
      const billedUnits = s.billedTextTokens + k * s.billedChunks;
      if (billedUnits > 0) p.costUsd = spent + (costUsd(price, s.billedPromptTokens, s.billedCompletionTokens) / billedUnits) * unitsLeft;
    }
  }
  const seconds = (now - s.startedAt) / 1000;
  if (docsLeft === 0) p.etaSeconds = 0;
  else if (s.settledChunks >= needed && settled > 0 && seconds > 0) p.etaSeconds = docsLeft / (settled / seconds);
  return p;
}

/** The --max-cost warning's text when the projection exceeds the cap, once there is evidence. */
export function overCapWarning(p: Projection | undefined, cap: number): string | undefined {
  if (p?.costUsd === undefined || p.costUsd <= cap) return undefined;
  return `projected cost ~$${p.costUsd.toFixed(4)} exceeds --max-cost $${cap} (at ${(p.fraction * 100).toFixed(1)}% of the documents); the run goes on and stops when $${cap} is spent`;
}
