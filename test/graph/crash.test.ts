import t from 'tap';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { generatedResultsJsonl } from '../../bench/generate-results.js';
import { checkGraph } from '../../lib/graph/check.js';
import { GraphStore } from '../../lib/graph/store.js';
import { runScript } from '../helpers/cli.js';
import { exportAll, tempDir } from '../helpers/graph.js';

const DOCS = 8000;
const BATCH = 100;
const dir = tempDir('sluice-graph-crash-');
const input = join(dir, 'results.jsonl');

function documentsIn(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) FROM documents').pluck().get() as number;
    } finally {
      db.close();
    }
  } catch {
    return undefined; // not created yet, or the schema is being written
  }
}

/** Runs `graph add` and kill -9s it once the store holds at least `atLeast` documents. */
async function addAndKill(db: string, atLeast: number): Promise<{ signal: NodeJS.Signals | null; code: number | null }> {
  let timer: NodeJS.Timeout | undefined;
  const r = await runScript('pipelines/graph.js', ['add', db, input, '--batch-size', String(BATCH), '-q'], {
    onSpawn: (child: ChildProcess) => {
      timer = setInterval(() => {
        if ((documentsIn(db) ?? 0) >= atLeast) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 10);
    },
  });
  clearInterval(timer);
  return r;
}

t.test('kill -9 while adding leaves a consistent store of whole batches; rerunning completes the same graph', async (t) => {
  await pipeline(generatedResultsJsonl(DOCS, 11, { vocabulary: 3000 }), createWriteStream(input));

  const refDb = join(dir, 'reference.db');
  const ref = await runScript('pipelines/graph.js', ['add', refDb, input, '-q']);
  t.equal(ref.code, 0, ref.stderr);
  const reference = GraphStore.open(refDb);
  const expected = await exportAll(reference);
  reference.close();

  const db = join(dir, 'crashed.db');
  let committed = 0;
  for (const atLeast of [1000, 3500]) {
    const killed = await addAndKill(db, atLeast);
    t.equal(killed.signal, 'SIGKILL', `killed mid-run (at ${atLeast}+ documents)`);
    const store = GraphStore.open(db);
    const docs = store.db.prepare('SELECT count(*) FROM documents').pluck().get() as number;
    t.ok(docs >= atLeast && docs < DOCS, `stopped part way: ${docs} of ${DOCS} documents`);
    t.equal(docs % BATCH, 0, 'whole batches only: a batch is one transaction');
    t.same(checkGraph(store), [], 'every aggregate agrees with the per-document rows');
    store.close();
    committed = docs;
  }

  const rerun = await runScript('pipelines/graph.js', ['add', db, input]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, new RegExp(`${(DOCS - committed).toLocaleString('en-US')} documents added, 0 replaced, ${committed.toLocaleString('en-US')} unchanged`));
  const store = GraphStore.open(db);
  t.same(checkGraph(store), []);
  t.same(await exportAll(store), expected, 'byte-identical exports to an uninterrupted build');
  store.close();
});
