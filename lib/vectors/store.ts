/**
 * The contract of a vector store: what `embed.js --store` writes through and `search.js` reads
 * through, kept alike by the embedded store and Postgres/pgvector so tests can run one suite on both.
 */

/** What a store holds vectors of: fixed when the store is created, checked on every open. */
export interface StoreIdentity {
  /** The embedding model's name, as the embed run's `--model` (or the offline embedder's name). */
  model: string;
  dimensions: number;
}

/** One chunk's vector: `index` is its 0-based position in its document, `tokens` its size. */
export interface ChunkVector {
  index: number;
  tokens: number;
  vector: readonly number[];
}

/**
 * Everything a store keeps of one document. Upserting it replaces every row the id had before
 * (a rerun adds no second set; a document now of fewer chunks loses the rest).
 */
export interface DocumentVectors {
  id: string;
  /** Every chunk in order; a one-chunk document has exactly one, index 0. */
  chunks: readonly ChunkVector[];
  /** The document's `meta`, returned with its search hits. */
  meta: Record<string, unknown>;
}

/** One document found by a search: its best chunk's cosine similarity (higher is nearer). */
export interface SearchHit {
  id: string;
  score: number;
  /** The chunk that scored, for passage-level use. */
  chunk: number;
  meta: Record<string, unknown>;
}

export interface VectorStoreStats {
  /** Rows: chunk vectors. */
  vectors: number;
  documents: number;
  dimensions: number;
  model: string;
}

export interface VectorStore {
  /** For messages: the path, or the Postgres URL without its password. */
  readonly location: string;
  readonly identity: StoreIdentity;
  /** Replaces each document's rows; atomic per call (a crash keeps all of a call or none). */
  upsert(docs: readonly DocumentVectors[]): Promise<void>;
  /** The `k` documents nearest `query` (one hit per document), best first. */
  search(query: readonly number[], k: number): Promise<SearchHit[]>;
  stats(): Promise<VectorStoreStats>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /**
   * The identity of the vectors about to be written. A new store takes it; an existing store must
   * hold the same model and dimensions, or opening fails with a usage error naming the store and
   * both identities. Absent: open to read, and a store that does not exist is an error naming it.
   */
  identity?: StoreIdentity;
}
