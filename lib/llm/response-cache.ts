/**
 * The response cache (`--cache DIR`): answers that passed validation, kept in an embedded SQLite
 * database (better-sqlite3) under a sha256 of everything that determines them: the endpoint and
 * the request body exactly as sent (model, messages or input, response_format, max_tokens,
 * temperature, ...). The API key is in a header, never in the body: it is neither hashed nor
 * stored. Nothing is held in memory; every lookup is one indexed read. WAL mode and a busy timeout
 * let several runs share one cache directory. Beside the answers, a second table remembers which
 * requests were cut off at max_tokens with nothing whole (a marker per key, never the cut answer),
 * so a rerun asks again with more room, or splits, as that run did, without sending them again. See docs/decisions.md.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SluiceError, codeOf, messageOf } from '../runtime/errors.js';
import { describeTables, inspectSqliteFile, openWalDatabase, userVersionOf, type SqliteFileKind } from '../runtime/sqlite-file.js';
import { defineOptions } from '../runtime/options.js';
import type { PackAnswer } from '../runtime/records.js';
import type { RunStats } from '../runtime/run-context.js';

export const cacheOptionSpecs = defineOptions([
  {
    name: 'cache',
    type: 'string',
    // Where answers come from, not what they are: a resumed run may add or drop the cache.
    operational: true,
    description:
      'Keep every LLM answer that passed validation in this directory (an SQLite file; created if missing) and reuse it: a request already answered is not sent again, nor billed. Runs may share one directory at once',
  },
]);

/** The database file inside the cache directory (with its -wal and -shm companions while open). */
export const CACHE_FILE = 'responses.sqlite';
/** Bumped when the key or the stored value changes meaning: an older or newer cache is refused. */
export const CACHE_FORMAT = 1;
/** How long a write waits for another run's write to the same cache before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/** The ways an SQLite error is explained to the user (the rest say SQLite's own message). */
const EXPLAINED: Record<string, string> = {
  SQLITE_NOTADB: 'is not a sluice cache (not an SQLite database, or its header is damaged)',
  SQLITE_CORRUPT: 'is damaged',
  SQLITE_FULL: 'cannot grow: the disk is full',
  SQLITE_READONLY: 'is read-only',
  SQLITE_CANTOPEN: 'cannot be opened',
  SQLITE_BUSY: `stayed locked by another run for over ${BUSY_TIMEOUT_MS / 1000} s`,
  SQLITE_IOERR: 'could not be read or written (I/O error)',
};

/** A request remembered as cut off: the reason its error gave and the tokens that attempt was billed. */
export interface Truncation {
  reason: string;
  usage: { promptTokens: number; completionTokens: number };
}

interface TruncationRow {
  reason: string;
  prompt_tokens: number;
  completion_tokens: number;
}

export class ResponseCache {
  private readonly select: Database.Statement<[Buffer], string>;
  private readonly upsert: Database.Statement<[Buffer, string, number]>;
  private readonly selectCut: Database.Statement<[Buffer], TruncationRow>;
  private readonly upsertCut: Database.Statement<[Buffer, string, number, number, number]>;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {
    this.select = db.prepare<[Buffer], string>('SELECT value FROM responses WHERE key = ?').pluck();
    this.upsert = db.prepare<[Buffer, string, number]>('INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)');
    this.selectCut = db.prepare<[Buffer], TruncationRow>('SELECT reason, prompt_tokens, completion_tokens FROM truncated WHERE key = ?');
    this.upsertCut = db.prepare<[Buffer, string, number, number, number]>('INSERT OR REPLACE INTO truncated (key, reason, prompt_tokens, completion_tokens, created) VALUES (?, ?, ?, ?, ?)');
  }

  /** Opens (creating the directory and the database if missing) or throws a fatal error that says why. */
  static open(dir: string): ResponseCache {
    const file = join(dir, CACHE_FILE);
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) throw new SluiceError(ErrorCode.FATAL, `--cache ${dir} is a file; give a directory`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new SluiceError(ErrorCode.FATAL, `cannot create the --cache directory ${dir}: ${messageOf(err)}`);
    }
    let db: Database.Database | undefined;
    try {
      inspectSqliteFile(file, CACHE_KIND(file));
      // A power cut may lose the last answers, which a cache can afford (they are asked again).
      db = openWalDatabase(file, { busyTimeoutMs: BUSY_TIMEOUT_MS });
      const opened = db;
      opened
        .transaction(() => {
          const version = opened.pragma('user_version', { simple: true }) as number;
          if (version === 0) {
            opened.exec('CREATE TABLE responses (key BLOB PRIMARY KEY NOT NULL, value TEXT NOT NULL, created INTEGER NOT NULL)');
            opened.pragma(`user_version = ${CACHE_FORMAT}`);
          } else if (version !== CACHE_FORMAT) {
            throw new SluiceError(ErrorCode.FATAL, `--cache ${file} is in format ${version}, this sluice reads format ${CACHE_FORMAT}; give another --cache directory`);
          }
          // Added within format 1 (no bump): a cache made before it gains the table, and a sluice
          // that predates it ignores it (a file of ours is known by its `responses` table).
          opened.exec(
            'CREATE TABLE IF NOT EXISTS truncated (key BLOB PRIMARY KEY NOT NULL, reason TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, created INTEGER NOT NULL)',
          );
        })
        .immediate();
      return new ResponseCache(opened, file);
    } catch (err) {
      db?.close();
      throw cacheError(file, err);
    }
  }

  /** The stored answer for a key, or undefined. */
  get(key: Buffer): string | undefined {
    try {
      return this.select.get(key);
    } catch (err) {
      throw cacheError(this.file, err);
    }
  }

  /** Stores (or replaces) the answer for a key. */
  put(key: Buffer, value: string): void {
    try {
      this.upsert.run(key, value, Math.floor(Date.now() / 1000));
    } catch (err) {
      throw cacheError(this.file, err);
    }
  }

  /** How a request's answer was cut off, if it ever was (its error's message, what it was billed); else undefined. */
  truncation(key: Buffer): Truncation | undefined {
    try {
      const row = this.selectCut.get(key);
      return row && { reason: row.reason, usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens } };
    } catch (err) {
      throw cacheError(this.file, err);
    }
  }

  /** Remembers that the answer to a key was cut off at max_tokens (the answer itself is not kept). */
  markTruncated(key: Buffer, cut: Truncation): void {
    try {
      this.upsertCut.run(key, cut.reason, cut.usage.promptTokens, cut.usage.completionTokens, Math.floor(Date.now() / 1000));
    } catch (err) {
      throw cacheError(this.file, err);
    }
  }

  /** Number of answers stored (tests, diagnostics). */
  size(): number {
    return this.db.prepare('SELECT count(*) FROM responses').pluck().get() as number;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** What a response cache file is, for the check that leaves other files untouched. */
const CACHE_KIND = (file: string): SqliteFileKind => ({
  tables: ['responses'],
  format: CACHE_FORMAT,
  formatOf: userVersionOf,
  foreign: (tables) =>
    new SluiceError(ErrorCode.FATAL, `--cache ${file} is not a sluice cache (an SQLite database holding ${describeTables(tables)}); it was left as it is: give another --cache directory`),
  otherFormat: (found) => new SluiceError(ErrorCode.FATAL, `--cache ${file} is in format ${found}, this sluice reads format ${CACHE_FORMAT}; give another --cache directory`),
});

/** A fatal error naming the cache file and what to do; the run stops (exit 1). */
function cacheError(file: string, err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  const code = codeOf(err) ?? '';
  // Extended codes (SQLITE_IOERR_WRITE, SQLITE_CORRUPT_VTAB) are explained by their primary code.
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? '';
  const why = EXPLAINED[primary] ?? `failed: ${messageOf(err)}`;
  return new SluiceError(ErrorCode.FATAL, `--cache ${file} ${why}${code ? ` [${code}]` : ''}; move it away (or give another --cache directory) to start a new cache`, { cause: err });
}

/**
 * The key of a request: sha256 over a canonical JSON (object keys sorted) of the cache format,
 * the endpoint and the body as sent. Anything that changes the answer changes the key.
 */
export function requestKey(endpoint: string, body: unknown): Buffer {
  return createHash('sha256')
    .update(canonicalJson({ format: CACHE_FORMAT, endpoint, body }))
    .digest();
}

/**
 * The endpoint as it enters the key: base URL and path, without user info, query or fragment (a
 * URL can carry credentials; they are no part of what determines an answer).
 */
export function endpointOf(baseURL: string, path: string): string {
  try {
    const u = new URL(baseURL);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}${path}`;
  } catch {
    return `${baseURL.replace(/\/+$/, '')}${path}`;
  }
}

export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(x) ?? 'null';
}

/**
 * A lookup as the extractors make it: the answer `use` makes of the stored value (a hit), or
 * undefined (a miss: the caller sends the request). A stored value that `use` refuses (throws or
 * returns undefined) counts as a miss; the fresh answer will replace it.
 */
export function lookup<T>(cache: ResponseCache, key: Buffer, stats: RunStats | undefined, use: (stored: string) => T | undefined): T | undefined {
  const stored = cache.get(key);
  let answer: T | undefined;
  if (stored !== undefined) {
    try {
      answer = use(stored);
    } catch {
      answer = undefined;
    }
  }
  if (stats) {
    if (answer === undefined) stats.cacheMisses++;
    else stats.cacheHits++;
  }
  return answer;
}

/** A pack's answer served from the cache, marked `cached` (not billed), or undefined on a miss. */
export function cachedAnswer(cache: ResponseCache, key: Buffer, stats: RunStats | undefined, readStored: (stored: string) => PackAnswer | undefined): PackAnswer | undefined {
  return lookup(cache, key, stats, (stored) => {
    const answer = readStored(stored);
    return answer ? { ...answer, cached: true } : undefined;
  });
}
