/**
 * chunk: a document over `--chunk-tokens` becomes token-bounded chunks that overlap by about
 * `--chunk-overlap` tokens, cut at sentence boundaries where possible (then at whitespace, then
 * anywhere). Token counts are exact for the model's encoding.
 */
import _ from 'highland';
import { usageError } from '../lib/runtime/errors.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import type { Chunk, Doc, DocRef, Failure } from '../lib/runtime/records.js';
import type { StageTransform } from '../lib/runtime/stage.js';
import { tokenCounterForModel, type TokenCounter } from '../lib/llm/tokens.js';

export const DEFAULT_MODEL = 'gpt-4.1-mini';

export const chunkOptionSpecs = defineOptions([
  { name: 'chunk-tokens', type: 'integer', default: 1200, min: 16, description: 'Largest chunk in tokens; a longer document is split into chunks' },
  { name: 'chunk-overlap', type: 'integer', default: 100, min: 0, description: 'Tokens a chunk repeats from the end of the previous one (kept below chunk-tokens / 2)' },
  { name: 'model', type: 'string', default: DEFAULT_MODEL, description: 'Model name: picks the token encoding, the price and (with an LLM extractor) the model called' },
]);

export type ChunkOptions = OptionsOf<typeof chunkOptionSpecs>;

export type ChunkBatch = (Chunk | Failure)[];

export function chunk(options: ChunkOptions): StageTransform<(Doc | Failure)[], ChunkBatch> {
  validateChunkOptions(options);
  return (input, ctx) =>
    _(tokenCounterForModel(options.model)).flatMap((counter) =>
      input.map((batch) => {
        const out: ChunkBatch = [];
        for (const item of batch) {
          if (item.kind !== 'doc') {
            out.push(item);
            continue;
          }
          for (const c of chunkDocument(item, counter, options)) {
            ctx.stats.chunks++;
            ctx.stats.textTokens += c.tokens;
            out.push(c);
          }
        }
        return out;
      }),
    );
}

export function validateChunkOptions(o: Pick<ChunkOptions, 'chunkTokens' | 'chunkOverlap'>): void {
  if (o.chunkOverlap * 2 > o.chunkTokens) {
    throw usageError(`--chunk-overlap (${o.chunkOverlap}) must be at most half of --chunk-tokens (${o.chunkTokens})`);
  }
}

interface Piece {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Sentence ends: terminal punctuation with optional closing quotes/brackets, then whitespace; CJK
 * full stops (no space follows them); or a line break. A regex, not Intl.Segmenter: the segmenter is quadratic on long
 * strings here (27 s for a 200,000-word document) and chunking only prefers sentence ends.
 */
const SENTENCE_END = /[.!?\u2026]+["'\u201d\u2019)\]]*\s+|[\u3002\uff01\uff1f]+\s*|\n\s*/g;

/** The pure core: one document to its chunks. */
export function chunkDocument(doc: Doc, counter: TokenCounter, o: Pick<ChunkOptions, 'chunkTokens' | 'chunkOverlap'>): Chunk[] {
  const ref: DocRef = { seq: doc.seq, line: doc.line, source: doc.source, id: doc.id, meta: doc.meta };
  const total = counter.count(doc.text);
  if (total <= o.chunkTokens) return [{ kind: 'chunk', doc: ref, index: 0, count: 1, text: doc.text, tokens: total }];

  const pieces = splitPieces(doc.text, counter, o.chunkTokens);
  const texts: { text: string; tokens: number }[] = [];
  let a = 0;
  while (a < pieces.length) {
    let b = a;
    let sum = pieces[a]!.tokens;
    while (b + 1 < pieces.length && sum + pieces[b + 1]!.tokens <= o.chunkTokens) sum += pieces[++b]!.tokens;
    // Sums of pieces approximate the joined count (BPE can merge across a boundary): check exactly.
    let text = doc.text.slice(pieces[a]!.start, pieces[b]!.end).trim();
    let tokens = counter.count(text);
    while (tokens > o.chunkTokens && b > a) {
      b--;
      text = doc.text.slice(pieces[a]!.start, pieces[b]!.end).trim();
      tokens = counter.count(text);
    }
    if (text !== '') texts.push({ text, tokens });
    if (b + 1 >= pieces.length) break;
    // The next chunk starts with the trailing pieces of this one worth at most `chunkOverlap` tokens.
    let next = b + 1;
    let overlap = 0;
    while (next - 1 > a && overlap + pieces[next - 1]!.tokens <= o.chunkOverlap) overlap += pieces[--next]!.tokens;
    a = next;
  }
  return texts.map((t, index) => ({ kind: 'chunk', doc: ref, index, count: texts.length, text: t.text, tokens: t.tokens }));
}

/** Sentences, each no longer than `limit` tokens (a longer one is halved at whitespace, recursively). */
function splitPieces(text: string, counter: TokenCounter, limit: number): Piece[] {
  const out: Piece[] = [];
  let start = 0;
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(text); m !== null; m = SENTENCE_END.exec(text)) {
    const end = m.index + m[0].length;
    pushBounded(text, start, end, counter, limit, out);
    start = end;
  }
  if (start < text.length) pushBounded(text, start, text.length, counter, limit, out);
  return out;
}

function pushBounded(text: string, start: number, end: number, counter: TokenCounter, limit: number, out: Piece[]): void {
  const tokens = counter.count(text.slice(start, end));
  if (tokens <= limit || end - start <= 1) {
    out.push({ start, end, tokens });
    return;
  }
  const mid = cutPoint(text, start, end);
  pushBounded(text, start, mid, counter, limit, out);
  pushBounded(text, mid, end, counter, limit, out);
}

/** Near the middle, preferring whitespace, never inside a surrogate pair. */
function cutPoint(text: string, start: number, end: number): number {
  const middle = start + Math.floor((end - start) / 2);
  const reach = Math.floor((end - start) / 4);
  for (let d = 0; d <= reach; d++) {
    if (isSpace(text.charCodeAt(middle + d))) return middle + d + 1;
    if (isSpace(text.charCodeAt(middle - d))) return middle - d + 1;
  }
  const c = text.charCodeAt(middle);
  return c >= 0xdc00 && c <= 0xdfff ? middle + 1 : middle;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}
