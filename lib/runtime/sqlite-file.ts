/**
 * Our SQLite files (the response cache, the graph store, the batch ledger) are opened so that a file
 * that is not ours is never changed: an existing file is first looked at over a read-only
 * connection, and one that holds another program's tables, or a format this version does not read,
 * is refused before any pragma touches it (even `journal_mode = WAL` rewrites the header).
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface SqliteFileKind {
  /** Tables every file of this kind holds: a file without them is not ours. */
  tables: readonly string[];
  /** The format this version reads and writes. */
  format: number;
  /** The format a file records, read over a read-only connection (undefined: none recorded). */
  formatOf(db: Database.Database, tables: readonly string[]): number | undefined;
  /** The refusal of a file that is not of this kind, in the caller's words. */
  foreign(tables: readonly string[]): Error;
  /** The refusal of a file of this kind in another format. */
  otherFormat(found: number): Error;
}

/**
 * 'new' when there is nothing yet (no file, an empty file, or an empty database), 'ours' for a file
 * of this kind in this format; throws the kind's refusal otherwise, leaving the file as it was.
 * SQLite's own errors (not a database, damaged) are thrown as they are, for the caller to word.
 */
export function inspectSqliteFile(path: string, kind: SqliteFileKind): 'new' | 'ours' {
  const size = statSync(path, { throwIfNoEntry: false })?.size;
  if (size === undefined || size === 0) return 'new';
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const format = kind.formatOf(db, tables);
    if (tables.length === 0 && format === undefined) return 'new';
    if (format !== undefined && format !== kind.format) throw kind.otherFormat(format);
    if (format === undefined || kind.tables.some((name) => !tables.includes(name))) throw kind.foreign(tables);
    return 'ours';
  } finally {
    db.close();
  }
}

/**
 * A read-write connection as our files use one: WAL (readers do not block the writer), NORMAL sync
 * (a crash of the process loses nothing committed; a power cut may lose the last commits), and, when
 * given, a wait for another process's lock instead of failing at once. Call after inspectSqliteFile.
 */
export function openWalDatabase(path: string, options: { busyTimeoutMs?: number } = {}): Database.Database {
  const db = new Database(path);
  try {
    // Before anything that locks, so a second process opening the same file waits.
    if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The format kept in SQLite's `user_version` header field (0: none). */
export function userVersionOf(db: Database.Database): number | undefined {
  const version = db.pragma('user_version', { simple: true }) as number;
  return version === 0 ? undefined : version;
}

/** How a refusal names what a file holds. */
export function describeTables(tables: readonly string[]): string {
  return tables.length === 0 ? 'no tables' : `tables ${tables.slice(0, 6).join(', ')}${tables.length > 6 ? ', ...' : ''}`;
}
