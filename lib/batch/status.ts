/**
 * `--status` in batch mode: where every batch of a run stands, read from the ledger in the
 * --checkpoint directory (read-only: a status never changes the run) and, for batches not yet
 * collected, from the provider (batches.retrieve). A collected batch's request counts are the
 * ledger's (answered, failed, sent): the provider need not be asked about what is done. Nothing is
 * read from the input.
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { LEDGER_FILE } from './ledger.js';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import { classifyError } from '../llm/client.js';

interface Row {
  seq: number;
  name: string;
  state: string;
  requests: number;
  batch_id: string | null;
  batch_status: string | null;
  errors: string | null;
}

export async function batchStatus(dir: string, checkpointFile: string, client: OpenAI, apiKey: string | undefined): Promise<string> {
  const path = join(dir, LEDGER_FILE);
  if (!existsSync(path)) throw new SluiceError(ErrorCode.USAGE, `no batch ledger in ${dir}: is it the --checkpoint directory of a --batch-api run?`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  let files: Row[];
  let requests: { state: string; n: number }[];
  let perFile: { file_seq: number; state: string; n: number }[];
  try {
    files = db.prepare('SELECT seq, name, state, requests, batch_id, batch_status, errors FROM files ORDER BY seq').all() as Row[];
    requests = db.prepare('SELECT state, count(*) AS n FROM requests GROUP BY state').all() as { state: string; n: number }[];
    perFile = db.prepare('SELECT file_seq, state, count(*) AS n FROM requests GROUP BY file_seq, state').all() as { file_seq: number; state: string; n: number }[];
  } finally {
    db.close();
  }
  const n = (x: number) => x.toLocaleString('en-US');
  const lines: string[] = [];
  const commit = join(dir, checkpointFile);
  if (existsSync(commit)) {
    try {
      const c = JSON.parse(readFileSync(commit, 'utf8')) as { complete?: boolean; counters?: { records?: number }; sessions?: number };
      lines.push(`run: ${c.complete ? 'complete' : 'not complete'}; ${n(c.counters?.records ?? 0)} records committed to the output; ${c.sessions ?? 0} session(s)`);
    } catch (err) {
      lines.push(`run: the commit file ${commit} cannot be read (${messageOf(err)})`);
    }
  }
  const by = Object.fromEntries(requests.map((r) => [r.state, r.n]));
  const countOf = (seq: number, state: string) => perFile.find((r) => r.file_seq === seq && r.state === state)?.n ?? 0;
  lines.push(`requests: ${n(by.answered ?? 0)} answered, ${n(by.failed ?? 0)} failed, ${n(by.pending ?? 0)} pending; ${files.length} input file(s)`);
  lines.push('');
  lines.push('file   batch                              status        requests (done/failed/total)  note');
  for (const f of files) {
    let status = f.batch_status ?? (f.state === 'sealed' ? 'not uploaded' : f.state === 'uploaded' ? 'uploaded, no batch' : f.state);
    let counts = `-/-/${n(f.requests)}`;
    let note = f.errors ?? '';
    if (f.batch_id && f.state !== 'done') {
      try {
        const b = await client.batches.retrieve(f.batch_id);
        status = b.status;
        if (b.request_counts) counts = `${n(b.request_counts.completed)}/${n(b.request_counts.failed)}/${n(b.request_counts.total)}`;
      } catch (err) {
        note = `could not ask the provider: ${classifyError(err, apiKey, false).message}`;
      }
    } else if (f.state === 'done') {
      counts = `${n(countOf(f.seq, 'answered'))}/${n(countOf(f.seq, 'failed'))}/${n(f.requests)}`;
      note ||= 'answers collected';
    }
    lines.push(`${String(f.seq).padEnd(6)} ${(f.batch_id ?? '-').padEnd(34)} ${status.padEnd(13)} ${counts.padEnd(29)} ${note}`.trimEnd());
  }
  return lines.join('\n');
}
