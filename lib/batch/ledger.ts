/**
 * The batch ledger (`--batch-api`, in the `--checkpoint` directory): an embedded SQLite database
 * (better-sqlite3) of what a batch run has written, uploaded and created, and what came back. One
 * row per sealed input file (its upload's file id, its batch id and status) and one row per request
 * line (custom_id, the pack it belongs to, its answer or error once downloaded). Nothing of it is
 * held in memory: a rerun of the same command finds every pack's latest request here and waits for,
 * or reuses, its answer instead of uploading it again. WAL mode with synchronous NORMAL: a kill -9
 * loses nothing committed; a power cut may lose the last commits, which the reconciliation by
 * listing files and batches covers (see docs/decisions.md). No API key is ever stored.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import { describeTables, inspectSqliteFile, openWalDatabase, userVersionOf } from '../runtime/sqlite-file.js';

export const LEDGER_FILE = 'batches.sqlite';
/** Bumped when the schema changes meaning: another format is refused. */
export const LEDGER_FORMAT = 1;

/** A sealed input file's life: written and fsynced, uploaded (file id), created (batch id), answers downloaded. */
export type FileState = 'sealed' | 'uploaded' | 'created' | 'done';

export interface FileRow {
  seq: number;
  name: string;
  state: FileState;
  requests: number;
  bytes: number;
  tokens: number;
  fileId: string | null;
  batchId: string | null;
  /** The provider's last status of the batch (completed, expired, failed, ...). */
  batchStatus: string | null;
  /** The provider's errors of a failed batch, as text. */
  errors: string | null;
}

export type RequestState = 'pending' | 'answered' | 'failed';

export interface RequestRow {
  customId: string;
  packId: string;
  /** The pack id before any split: `--batch-retry live` sends every part of a failed pack live. */
  root: string;
  /** The attempt of this pack id (1, 2, ...): custom_id is `${packId}~${n}`. */
  n: number;
  fileSeq: number;
  state: RequestState;
  /** The response body (JSON text) of a 200 line. */
  answer: string | null;
  /** `{code, message}` of a failed line. */
  error: string | null;
  /** The session that used the row's outcome (0: none yet). */
  consumed: number;
}

export interface NewRequest {
  customId: string;
  packId: string;
  root: string;
  n: number;
}

export class BatchLedger {
  readonly runId: string;
  readonly session: number;
  private readonly q;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    const meta = (key: string) => db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
    this.runId = meta('run_id')!;
    this.session = Number(meta('session') ?? '0') + 1;
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('session', ?)").run(String(this.session));
    this.q = {
      latest: db.prepare<[string], RawRequest>('SELECT * FROM requests WHERE pack_id = ? ORDER BY n DESC LIMIT 1'),
      request: db.prepare<[string], RawRequest>('SELECT * FROM requests WHERE custom_id = ?'),
      insertFile: db.prepare('INSERT INTO files (seq, name, state, requests, bytes, tokens) VALUES (?, ?, ?, ?, ?, ?)'),
      insertRequest: db.prepare("INSERT OR REPLACE INTO requests (custom_id, pack_id, root, n, file_seq, state, consumed) VALUES (?, ?, ?, ?, ?, 'pending', 0)"),
      files: db.prepare<[], RawFile>('SELECT * FROM files ORDER BY seq'),
      file: db.prepare<[number], RawFile>('SELECT * FROM files WHERE seq = ?'),
      setFile: db.prepare('UPDATE files SET state = ?, file_id = ?, batch_id = ?, batch_status = ?, errors = ? WHERE seq = ?'),
      answer: db.prepare("UPDATE requests SET state = 'answered', answer = ?, error = NULL WHERE custom_id = ? AND file_seq = ?"),
      fail: db.prepare("UPDATE requests SET state = 'failed', error = ?, answer = NULL WHERE custom_id = ? AND file_seq = ?"),
      failPending: db.prepare("UPDATE requests SET state = 'failed', error = ? WHERE file_seq = ? AND state = 'pending'"),
      pendingOf: db.prepare<[number], string>("SELECT custom_id FROM requests WHERE file_seq = ? AND state = 'pending'").pluck(),
      consume: db.prepare('UPDATE requests SET consumed = ? WHERE custom_id = ?'),
      failedRoot: db.prepare<[string, string], number>("SELECT 1 FROM requests WHERE root = ? AND state = 'failed' AND custom_id != ? LIMIT 1").pluck(),
      nextSeq: db.prepare<[], number>('SELECT COALESCE(MAX(seq), 0) + 1 FROM files').pluck(),
    };
  }

  /** Opens (creating) the ledger in `path`; a damaged or foreign file is a fatal error naming it. */
  static open(path: string): BatchLedger {
    let db: Database.Database | undefined;
    try {
      inspectSqliteFile(path, {
        tables: ['meta', 'files', 'requests'],
        format: LEDGER_FORMAT,
        formatOf: userVersionOf,
        foreign: (tables) =>
          new SluiceError(
            ErrorCode.FATAL,
            `batch ledger ${path} is not a sluice ledger (an SQLite database holding ${describeTables(tables)}); it was left as it is: give another --checkpoint directory`,
          ),
        otherFormat: (found) => new SluiceError(ErrorCode.FATAL, `batch ledger ${path} is in format ${found}, this sluice reads format ${LEDGER_FORMAT}`),
      });
      db = openWalDatabase(path);
      const opened = db;
      opened
        .transaction(() => {
          const version = opened.pragma('user_version', { simple: true }) as number;
          if (version === 0) {
            opened.exec(`
            CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
            CREATE TABLE files (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, requests INTEGER NOT NULL, bytes INTEGER NOT NULL, tokens INTEGER NOT NULL,
              file_id TEXT, batch_id TEXT, batch_status TEXT, errors TEXT);
            CREATE TABLE requests (custom_id TEXT PRIMARY KEY NOT NULL, pack_id TEXT NOT NULL, root TEXT NOT NULL, n INTEGER NOT NULL, file_seq INTEGER NOT NULL,
              state TEXT NOT NULL, answer TEXT, error TEXT, consumed INTEGER NOT NULL);
            CREATE INDEX requests_by_pack ON requests (pack_id, n);
            CREATE INDEX requests_by_file ON requests (file_seq, state);
            CREATE INDEX requests_by_root ON requests (root, state);
          `);
            // Names this run to the provider (batch metadata, file names): how a crash between create
            // returning and the ledger noting it is reconciled.
            opened.prepare("INSERT INTO meta (key, value) VALUES ('run_id', ?)").run(randomBytes(8).toString('hex'));
            opened.pragma(`user_version = ${LEDGER_FORMAT}`);
          } else if (version !== LEDGER_FORMAT) {
            throw new SluiceError(ErrorCode.FATAL, `batch ledger ${path} is in format ${version}, this sluice reads format ${LEDGER_FORMAT}`);
          }
        })
        .immediate();
      return new BatchLedger(opened, path);
    } catch (err) {
      db?.close();
      if (err instanceof SluiceError) throw err;
      throw new SluiceError(ErrorCode.FATAL, `batch ledger ${path} cannot be opened (${messageOf(err)}); it is damaged or not a sluice ledger: move the --checkpoint directory away to start over`, {
        cause: err,
      });
    }
  }

  /** The pack's latest request, if any. */
  latest(packId: string): RequestRow | undefined {
    const r = this.q.latest.get(packId);
    return r && requestRow(r);
  }

  request(customId: string): RequestRow | undefined {
    const r = this.q.request.get(customId);
    return r && requestRow(r);
  }

  nextFileSeq(): number {
    return this.q.nextSeq.get()!;
  }

  /** A sealed input file and its lines, in one transaction: a crash leaves both or neither. */
  addFile(file: Pick<FileRow, 'seq' | 'name' | 'requests' | 'bytes' | 'tokens'>, requests: readonly NewRequest[]): void {
    this.db.transaction(() => {
      this.q.insertFile.run(file.seq, file.name, 'sealed', file.requests, file.bytes, file.tokens);
      for (const r of requests) this.q.insertRequest.run(r.customId, r.packId, r.root, r.n, file.seq);
    })();
  }

  files(): FileRow[] {
    return this.q.files.all().map(fileRow);
  }

  file(seq: number): FileRow | undefined {
    const f = this.q.file.get(seq);
    return f && fileRow(f);
  }

  updateFile(f: FileRow): void {
    this.q.setFile.run(f.state, f.fileId, f.batchId, f.batchStatus, f.errors, f.seq);
  }

  /** Outcomes of downloaded lines, in one transaction. */
  record(fileSeq: number, lines: readonly ({ customId: string; answer: string } | { customId: string; error: string })[]): void {
    this.db.transaction(() => {
      for (const l of lines) {
        if ('answer' in l) this.q.answer.run(l.answer, l.customId, fileSeq);
        else this.q.fail.run(l.error, l.customId, fileSeq);
      }
    })();
  }

  /** Custom ids of the file's lines with no outcome yet. */
  pending(fileSeq: number): string[] {
    return this.q.pendingOf.all(fileSeq);
  }

  /** Every line of the file without an outcome fails with `error`. */
  failPending(fileSeq: number, error: string): void {
    this.q.failPending.run(error, fileSeq);
  }

  consume(customId: string): void {
    this.q.consume.run(this.session, customId);
  }

  /** A request of this root pack failed (other than `except`): `--batch-retry live` goes live for it. */
  rootFailed(root: string, except: string): boolean {
    return this.q.failedRoot.get(root, except) === 1;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface RawRequest {
  custom_id: string;
  pack_id: string;
  root: string;
  n: number;
  file_seq: number;
  state: RequestState;
  answer: string | null;
  error: string | null;
  consumed: number;
}

interface RawFile {
  seq: number;
  name: string;
  state: FileState;
  requests: number;
  bytes: number;
  tokens: number;
  file_id: string | null;
  batch_id: string | null;
  batch_status: string | null;
  errors: string | null;
}

function requestRow(r: RawRequest): RequestRow {
  return { customId: r.custom_id, packId: r.pack_id, root: r.root, n: r.n, fileSeq: r.file_seq, state: r.state, answer: r.answer, error: r.error, consumed: r.consumed };
}

function fileRow(f: RawFile): FileRow {
  return { seq: f.seq, name: f.name, state: f.state, requests: f.requests, bytes: f.bytes, tokens: f.tokens, fileId: f.file_id, batchId: f.batch_id, batchStatus: f.batch_status, errors: f.errors };
}
