/**
 * The records that flow between stages. Every input record gets a `seq` (its 0-based ordinal
 * over the whole run, all files together) so that later stages can restore input order, and a
 * `line` (1-based line number in its file, or 1-based position in a JSON array) for people.
 */

/** Where a record came from: a file path as given, or `stdin`. */
export interface Origin {
  seq: number;
  line: number;
  source: string;
}

/** A record as read: either raw text of one JSONL line, or an already parsed JSON-array element. */
export interface RawRecord extends Origin {
  kind: 'raw';
  text?: string;
  value?: unknown;
}

export interface Doc extends Origin {
  kind: 'doc';
  id: string;
  text: string;
  meta: Record<string, unknown>;
}

/** A document without its text: what chunks and results carry back to the sink. */
export type DocRef = Omit<Doc, 'text' | 'kind'>;

export interface Chunk {
  kind: 'chunk';
  doc: DocRef;
  /** 0-based position of this chunk in its document. */
  index: number;
  /** Number of chunks of the document. */
  count: number;
  text: string;
  tokens: number;
}

export interface Pack {
  kind: 'pack';
  /** Stable for the same input and options: first chunk's seq and index. */
  id: string;
  chunks: Chunk[];
  /** Sum of the chunks' tokens (prompt template not included). */
  tokens: number;
  /** Estimated prompt tokens of the request: chunks, their delimiters and the template. */
  promptTokens: number;
  /**
   * Completion tokens to ask for (max_tokens) when an earlier attempt's answer was cut off at fewer;
   * absent: the extractor sizes the request to the answer it expects (lib/llm/output-model.ts).
   */
  askTokens?: number;
}

export type EntityType = string;

export interface Entity {
  name: string;
  type: EntityType;
  mentions: number;
}

export interface Relation {
  source: string;
  target: string;
  type: string;
  count: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** What an extractor found in one chunk (an embedder gives a vector and no entities). */
export interface ChunkExtraction {
  entities: Entity[];
  relations: Relation[];
  embedding?: number[];
}

/** The answer for one pack: extractions keyed by chunk key (`chunkKey`); absent keys are missing. */
export interface PackAnswer {
  chunks: Map<string, ChunkExtraction>;
  usage: Usage;
  /** Ids the answer named that were not in the pack (discarded). */
  inventedIds?: number;
  /** Served from --cache: no request was sent, and `usage` (what the answer cost when first asked) is not billed. */
  cached?: boolean;
  /**
   * The answer was cut off at max_tokens and these are its whole documents (the rest are asked
   * again): cut below --max-output-tokens ('sized') or at it ('cap').
   */
  cut?: 'sized' | 'cap';
  /** A whole answer to a chat request: the completion tokens its prior expected (lib/llm/output-model.ts). */
  expectedTokens?: number;
}

/** One pack's outcome after retry/split: extractions for the chunks that succeeded, failures for the rest. */
export interface PackOutcome {
  kind: 'outcome';
  pack: Pack;
  extractions: Map<string, ChunkExtraction>;
  failed: Map<string, { code: string; reason: string }>;
  usage: Usage;
}

export interface Result {
  kind: 'result';
  seq: number;
  line: number;
  source: string;
  id: string;
  entities: Entity[];
  relations: Relation[];
  meta: Record<string, unknown>;
  usage: Usage & { chunks: number };
}

export type Stage = 'read' | 'parse' | 'chunk' | 'pack' | 'extract' | 'sink';

/** A record that could not be processed: it goes to the dead-letter output, never silently away. */
export interface Failure extends Origin {
  kind: 'failure';
  id?: string;
  stage: Stage;
  /** Stable code users can match on (see lib/runtime/errors.ts). */
  code: string;
  reason: string;
  /** The start of the offending input, bounded. */
  excerpt: string;
}

/** Identifies a chunk inside a run (document seq + chunk index). */
export function chunkKey(chunk: Pick<Chunk, 'doc' | 'index'>): string {
  return `${chunk.doc.seq}.${chunk.index}`;
}

export const EXCERPT_CHARS = 200;

/** A bounded, single-line excerpt of offending input for dead letters. */
export function excerptOf(text: string, max = EXCERPT_CHARS): string {
  const head = text.length > max ? text.slice(0, max) : text;
  return head.length < text.length ? `${head}…` : head;
}

export function failure(origin: Origin, stage: Stage, code: string, reason: string, excerpt = '', id?: string): Failure {
  const f: Failure = { kind: 'failure', seq: origin.seq, line: origin.line, source: origin.source, stage, code, reason, excerpt: excerptOf(excerpt) };
  if (id !== undefined) f.id = id;
  return f;
}

export function isFailure(x: { kind: string }): x is Failure {
  return x.kind === 'failure';
}
