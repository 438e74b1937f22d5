/**
 * What the docs show is what the code does: the README's example output line is the line kg prints
 * for that document, every `sqlite3 graph.db "..."` query in the docs runs on a real graph store, and
 * the README's dead-letter table lists exactly the record codes the code has.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordCode } from '../lib/runtime/errors.js';
import { jsonLines, kg, ROOT } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const docs = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => ({ name: `docs/${f}`, text: readFileSync(join(ROOT, 'docs', f), 'utf8') }));

t.test("the README's example output is what kg prints for that document", async (t) => {
  const block = /## What comes out[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(block, 'the README has a json example under "What comes out"');
  const shown = JSON.parse(block!.replace(/\n\s*/g, ''));
  const graph = join(dir, 'news.db');
  const r = await kg(['examples/news.jsonl', '--quiet', '--graph', graph]);
  t.equal(r.code, 0, r.stderr);
  const printed = jsonLines(r.stdout).find((line) => line.id === shown.id);
  t.same(printed, shown, `the line for ${shown.id}, field for field and in order`);
  t.equal(JSON.stringify(printed), JSON.stringify(shown), 'the same key order too');
});

t.test('every sqlite3 query in the docs runs on a graph store built from the example', async (t) => {
  const graph = join(dir, 'news.db');
  const db = new Database(graph, { readonly: true, fileMustExist: true });
  t.teardown(() => db.close());
  let queries = 0;
  for (const page of [{ name: 'README.md', text: readme }, ...docs]) {
    for (const m of page.text.matchAll(/^sqlite3 \S+ "([^"]+)"$/gm)) {
      queries++;
      const sql = m[1]!;
      let rows: unknown[] = [];
      t.doesNotThrow(() => (rows = db.prepare(sql).all()), `${page.name}: ${sql}`);
      t.ok(rows.length > 0, `${page.name}: rows from ${sql}`);
    }
  }
  t.ok(queries >= 4, `${queries} queries run`);
});

t.test("the README's dead-letter table lists every record code, and only those", async (t) => {
  const table = /\| code \| stage \| cause \|\n\| --- \| --- \| --- \|\n((?:\|.*\|\n)+)/.exec(readme)?.[1] ?? '';
  const listed = [...table.matchAll(/`([A-Z_0-9]+)`/g)].map((m) => m[1]!).filter((c) => !c.startsWith('--'));
  t.same([...new Set(listed)].sort(), Object.values(RecordCode).sort());
});
