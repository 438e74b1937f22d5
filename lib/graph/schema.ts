/**
 * The graph store's SQLite schema (documented for users in docs/graph.md, who may query it with
 * `sqlite3 graph.db`) and opening a store: WAL journal, a schema version, and clear errors for a
 * missing file, a file that is not SQLite, or an SQLite file that is not a graph store.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ErrorCode, SluiceError, codeOf, messageOf } from '../runtime/errors.js';
import { describeTables, inspectSqliteFile } from '../runtime/sqlite-file.js';

export const SCHEMA_VERSION = 1;

/**
 * Per-document contributions (`mentions`, `edge_docs`) are the source of truth; `nodes`,
 * `aliases`, `node_types` and `edges` are aggregates kept equal to them in the same transaction,
 * so a re-added document can be subtracted exactly. The contribution tables are clustered by
 * document: adding appends to them, and a document's rows are found without an index; exports get
 * each node's documents from one sorted scan (SQLite's sorter spills to temporary files). Internal
 * integer keys (`node`, `doc`, `edge`) depend on arrival order and never leave the store; `id`
 * columns are stable hashes.
 */
export const SCHEMA_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE documents (
  doc       INTEGER PRIMARY KEY,
  doc_id    TEXT NOT NULL UNIQUE,
  digest    TEXT NOT NULL,
  entities  INTEGER NOT NULL,
  relations INTEGER NOT NULL
);

CREATE TABLE nodes (
  node      INTEGER PRIMARY KEY,
  id        TEXT NOT NULL UNIQUE,
  key       TEXT NOT NULL,
  name      TEXT NOT NULL,
  name_mentions INTEGER NOT NULL,
  type      TEXT NOT NULL,
  type_mentions INTEGER NOT NULL,
  mentions  INTEGER NOT NULL,
  doc_count INTEGER NOT NULL,
  degree    INTEGER NOT NULL
);

CREATE TABLE aliases (
  node     INTEGER NOT NULL,
  surface  TEXT NOT NULL,
  mentions INTEGER NOT NULL,
  PRIMARY KEY (node, surface)
) WITHOUT ROWID;

CREATE TABLE node_types (
  node     INTEGER NOT NULL,
  type     TEXT NOT NULL,
  mentions INTEGER NOT NULL,
  PRIMARY KEY (node, type)
) WITHOUT ROWID;

CREATE TABLE mentions (
  doc     INTEGER NOT NULL,
  node    INTEGER NOT NULL,
  surface TEXT NOT NULL,
  type    TEXT NOT NULL,
  count   INTEGER NOT NULL,
  PRIMARY KEY (doc, node, surface, type)
) WITHOUT ROWID;

CREATE TABLE edges (
  edge      INTEGER PRIMARY KEY,
  id        TEXT NOT NULL UNIQUE,
  source    INTEGER NOT NULL,
  target    INTEGER NOT NULL,
  type      TEXT NOT NULL,
  weight    INTEGER NOT NULL,
  doc_count INTEGER NOT NULL
);

CREATE TABLE edge_docs (
  doc   INTEGER NOT NULL,
  edge  INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (doc, edge)
) WITHOUT ROWID;

CREATE VIEW relationships AS
  SELECT e.id, s.name AS source, t.name AS target, e.type, e.weight, e.doc_count, s.id AS source_id, t.id AS target_id
  FROM edges e JOIN nodes s ON s.node = e.source JOIN nodes t ON t.node = e.target;

CREATE VIEW entity_documents AS
  SELECT n.id, n.name, d.doc_id, sum(m.count) AS mentions
  FROM mentions m JOIN nodes n ON n.node = m.node JOIN documents d ON d.doc = m.doc
  GROUP BY m.doc, m.node;
`;

export interface OpenOptions {
  /** Create the file and the schema when absent (add); otherwise the store must exist (export, stats). */
  create?: boolean;
  /** Refuse writes (export, stats, check). */
  readonly?: boolean;
  /** SQLite page cache, MiB: what the store may hold in memory. @default 64 */
  cacheMb?: number;
}

export const DEFAULT_CACHE_MB = 64;
/** How long a writer waits for another process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

function fatal(message: string, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.FATAL, message, cause === undefined ? undefined : { cause });
}

export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  if (!options.create && !existsSync(path)) throw fatal(`no graph store at ${path} (build one with: node pipelines/graph.js add ${path} < out.jsonl)`);
  let db: Database.Database;
  try {
    inspectSqliteFile(path, {
      tables: ['meta', 'documents', 'nodes', 'edges'],
      format: SCHEMA_VERSION,
      formatOf: (probe, tables) => {
        if (!tables.includes('meta')) return undefined;
        const v = probe.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
        return v === undefined ? undefined : Number(v);
      },
      foreign: (tables) => fatal(`${path} is an SQLite database but not a sluice graph store (it holds ${describeTables(tables)}); it was left as it is`),
      otherFormat: (found) => fatal(`${path} has graph schema version ${found}; this sluice reads version ${SCHEMA_VERSION}`),
    });
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    const notSqlite = codeOf(err) === 'SQLITE_NOTADB';
    throw fatal(notSqlite ? `${path} is not an SQLite database (a graph store is made by: node pipelines/graph.js add ${path})` : `cannot open graph store ${path}: ${messageOf(err)}`, err);
  }
  try {
    // A read-only SQLite connection cannot checkpoint or remove the WAL on close, and fails where it
    // cannot create the -shm file; a read-write one with query_only refuses writes all the same.
    db = new Database(path, { fileMustExist: !options.create });
  } catch (err) {
    throw fatal(`cannot open graph store ${path}: ${messageOf(err)}`, err);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL: readers (export, stats) do not block the writer; NORMAL sync is crash-consistent in WAL.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = ${-1024 * (options.cacheMb ?? DEFAULT_CACHE_MB)}`);
    ensureSchema(db, path, options.create ?? false);
    if (options.readonly) db.pragma('query_only = ON');
  } catch (err) {
    db.close();
    if (err instanceof SluiceError) throw err;
    const notSqlite = codeOf(err) === 'SQLITE_NOTADB';
    throw fatal(notSqlite ? `${path} is not an SQLite database (a graph store is made by: node pipelines/graph.js add ${path})` : `cannot open graph store ${path}: ${messageOf(err)}`, err);
  }
  return db;
}

function ensureSchema(db: Database.Database, path: string, create: boolean): void {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  if (tables.length === 0) {
    if (!create) throw fatal(`${path} is an empty database, not a graph store`);
    db.transaction(() => {
      db.exec(SCHEMA_SQL);
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)').run('schema_version', String(SCHEMA_VERSION), 'created_by', 'sluice');
    })();
    return;
  }
  if (!tables.includes('meta')) throw fatal(`${path} is an SQLite database but not a sluice graph store (no meta table)`);
  const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as string | undefined;
  if (version !== String(SCHEMA_VERSION)) {
    throw fatal(`${path} has graph schema version ${version ?? 'none'}; this sluice reads version ${SCHEMA_VERSION}`);
  }
}
