/**
 * merge-embeddings: per-chunk vectors back into one result per document, in input order unless
 * unordered. A one-chunk document's vector is the model's, as answered. A chunked document (longer
 * than --chunk-tokens) keeps every chunk's vector in `chunks`, and its `embedding` is the mean of
 * the chunk vectors weighted by their tokens, re-normalised to unit length (so cosine similarity
 * and dot product agree, as they do for the model's own vectors). A document with a chunk that
 * failed for good is dead-lettered whole (lib/runtime/merge-docs.ts, shared with merge-chunks).
 */
import { mergeByDocument, type CompletedDoc, type MergeOptions } from '../lib/runtime/merge-docs.js';
import { ErrorCode, RecordCode } from '../lib/runtime/errors.js';
import { failure, type Failure, type PackOutcome, type Result } from '../lib/runtime/records.js';
import type { StageTransform } from '../lib/runtime/stage.js';

export interface ChunkEmbedding {
  /** 0-based position of the chunk in its document. */
  index: number;
  /** Tokens of the chunk's text (the weight of its vector in the document's). */
  tokens: number;
  embedding: number[];
}

/** One document's embedding: what the embed pipeline emits instead of a kg `Result`. */
export interface EmbeddingResult {
  kind: 'result';
  seq: number;
  line: number;
  source: string;
  id: string;
  embedding: number[];
  /** The model asked for (`--model`). */
  model: string;
  meta: Record<string, unknown>;
  /** The document's share of the prompt tokens of its requests, and its chunk count. */
  usage: { promptTokens: number; chunks: number };
  /** Only for a document of more than one chunk. */
  chunks?: ChunkEmbedding[];
}

export interface MergeEmbeddingsOptions extends MergeOptions {
  /** Written on every result. */
  model: string;
}

export function mergeEmbeddings(options: MergeEmbeddingsOptions): StageTransform<PackOutcome | Failure, EmbeddingResult | Failure> {
  return mergeByDocument((doc) => finish(doc, options.model), options);
}

function finish(doc: CompletedDoc, model: string): EmbeddingResult | Failure {
  const { ref } = doc;
  const vectors: number[][] = [];
  for (const [i, part] of doc.parts.entries()) {
    // The embedder gives every chunk a vector; anything else is a bug, not a bad record.
    const v = part.embedding;
    if (!v || v.length === 0 || v.length !== (vectors[0]?.length ?? v.length)) {
      return failure(
        ref,
        'extract',
        RecordCode.EXTRACT_FAILED,
        `chunk ${i + 1} of ${doc.parts.length}: ${v ? 'vector width differs from the other chunks' : 'no vector'} [${ErrorCode.INTERNAL}]`,
        '',
        ref.id,
      );
    }
    vectors.push(v);
  }
  const result: EmbeddingResult = {
    kind: 'result',
    seq: ref.seq,
    line: ref.line,
    source: ref.source,
    id: ref.id,
    embedding: vectors.length === 1 ? vectors[0]! : weightedUnitMean(vectors, doc.tokens),
    model,
    meta: ref.meta,
    usage: { promptTokens: doc.usage.promptTokens, chunks: vectors.length },
  };
  if (vectors.length > 1) result.chunks = vectors.map((embedding, index) => ({ index, tokens: doc.tokens[index] ?? 0, embedding }));
  return result;
}

/**
 * The mean of `vectors` weighted by `weights` (equal weights if they sum to 0), scaled to unit
 * length; a mean of length 0 (opposite vectors) is returned as is.
 */
export function weightedUnitMean(vectors: readonly (readonly number[])[], weights: readonly number[]): number[] {
  const width = vectors[0]?.length ?? 0;
  const total = weights.reduce((s, w) => s + w, 0);
  const mean = new Array<number>(width).fill(0);
  for (const [i, v] of vectors.entries()) {
    const w = total > 0 ? (weights[i] ?? 0) / total : 1 / vectors.length;
    for (let k = 0; k < width; k++) mean[k]! += w * v[k]!;
  }
  let norm = 0;
  for (const x of mean) norm += x * x;
  norm = Math.sqrt(norm);
  return norm > 0 ? mean.map((x) => x / norm) : mean;
}

/**
 * The output line of one document. Field order is fixed: `id, embedding, model, meta, usage`, then
 * `chunks` for a chunked document. Components are written at float32 precision (the API's own:
 * at most 9 significant digits, which read back to the same float32), so base64 and float answers
 * give the same line. Throws on a non-finite component or a record that is not an embedding, which
 * the sink turns into an UNSERIALISABLE dead letter.
 */
export function serialiseEmbedding(r: EmbeddingResult | Result): string {
  if (!('embedding' in r) || !Array.isArray(r.embedding)) throw new Error('not an embedding result');
  const line: Record<string, unknown> = { id: r.id, embedding: float32(r.embedding), model: r.model, meta: r.meta, usage: r.usage };
  if (r.chunks) line.chunks = r.chunks.map((c) => ({ index: c.index, tokens: c.tokens, embedding: float32(c.embedding) }));
  return JSON.stringify(line);
}

function float32(vector: readonly number[]): number[] {
  return vector.map((x) => {
    const f = Math.fround(x);
    if (!Number.isFinite(f)) throw new Error(`vector component ${x} is not a finite float32`);
    return Number(f.toPrecision(9));
  });
}
