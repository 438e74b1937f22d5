/**
 * `--status` of a batch run whose batches are collected shows their request counts from the ledger
 * (done/failed/total), not `-/-/N` (issue 15, item 12b).
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDocs } from '../bench/generate-docs.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { LEDGER_FILE } from '../lib/batch/ledger.js';
import { kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-batch-status-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'in.jsonl');
writeFileSync(input, `${[...generateDocs(40, 3, { medianWords: 60, maxWords: 200 })].map((d) => JSON.stringify(d)).join('\n')}\n`);

t.test('a completed batch shows its request counts', async (t) => {
  const sim = await startSimulator({ batchLatencyMs: 100 });
  t.teardown(() => sim.close());
  const state = join(dir, 'state');
  const run = await kg([
    '--quiet',
    '--base-url',
    sim.url,
    '--batch-api',
    '--poll-interval',
    '0.05',
    '--batch-flush-ms',
    '200',
    '--batch-max-requests',
    '2',
    input,
    '-o',
    join(dir, 'out.jsonl'),
    '--checkpoint',
    state,
  ]);
  t.equal(run.code, 0, run.stderr);
  const db = new Database(join(state, LEDGER_FILE), { readonly: true });
  const files = db.prepare('SELECT seq, requests FROM files ORDER BY seq').all() as { seq: number; requests: number }[];
  const answered = db.prepare("SELECT file_seq AS seq, count(*) AS n FROM requests WHERE state = 'answered' GROUP BY file_seq").all() as { seq: number; n: number }[];
  db.close();
  t.ok(files.length > 1, `${files.length} batches`);

  const status = await kg(['--batch-api', '--status', '--checkpoint', state, '--base-url', sim.url]);
  t.equal(status.code, 0, status.stderr);
  const lines = status.stdout.split('\n').filter((l) => /^\d+\s+batch_\S+\s+completed/.test(l));
  t.equal(lines.length, files.length, 'one line per batch');
  t.notMatch(status.stdout, /-\/-\//, 'no batch without its counts');
  for (const f of files) {
    const line = lines.find((l) => l.startsWith(`${f.seq} `)) ?? '';
    const done = answered.find((a) => a.seq === f.seq)?.n ?? 0;
    t.match(line, new RegExp(`\\s${done}/0/${f.requests}\\s+answers collected`), `batch ${f.seq}: ${done} answered of ${f.requests}`);
  }
});
