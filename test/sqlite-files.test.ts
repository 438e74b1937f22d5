/**
 * Our SQLite files refuse what is not theirs and leave it byte for byte as it was: a response cache
 * given a graph store (or any SQLite file), a graph store given a cache, a batch ledger given a graph
 * store, and each of them given a newer format of itself.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { CACHE_FILE, CACHE_FORMAT, ResponseCache } from '../lib/llm/response-cache.js';
import { BatchLedger, LEDGER_FILE, LEDGER_FORMAT } from '../lib/batch/ledger.js';
import { GraphStore } from '../lib/graph/store.js';
import { SCHEMA_VERSION } from '../lib/graph/schema.js';
import { kg, runScript } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'sluice-sqlite-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(root, `${++n}-${name}`);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const graphCli = (args: string[]) => runScript('pipelines/graph.js', args);

/** A graph store with one document in it, closed (its WAL folded back into the file). */
async function aGraphStore(): Promise<string> {
  const path = fresh('graph.db');
  const built = await kg(['examples/news.jsonl', '--quiet', '--graph', path, '-o', fresh('out.jsonl')]);
  if (built.code !== 0) throw new Error(built.stderr);
  return path;
}

function aCache(): string {
  const dir = fresh('cache');
  const cache = ResponseCache.open(dir);
  cache.put(Buffer.alloc(32, 1), '{"answer":1}');
  cache.close();
  return join(dir, CACHE_FILE);
}

function anotherProgramsDatabase(): string {
  const path = fresh('other.sqlite');
  const db = new Database(path);
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
  db.close();
  return path;
}

function futureFormat(path: string, setup: (db: Database.Database) => void): string {
  const db = new Database(path);
  setup(db);
  db.close();
  return path;
}

t.test("--cache: a graph store or another program's database is refused (exit 1) and left untouched", async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  for (const [what, make] of [
    ['a graph store', aGraphStore],
    ["another program's database", async () => anotherProgramsDatabase()],
  ] as const) {
    const dir = fresh('cache');
    mkdirSync(dir);
    copyFileSync(await make(), join(dir, CACHE_FILE));
    const before = sha(join(dir, CACHE_FILE));
    const r = await kg(['examples/news.jsonl', '--base-url', sim.url, '--cache', dir]);
    t.equal(r.code, 1, `${what}: exit 1`);
    t.match(r.stderr, /--cache .*responses\.sqlite is not a sluice cache \(an SQLite database holding tables .*\); it was left as it is/, `${what}: the message says what it is`);
    t.equal(sha(join(dir, CACHE_FILE)), before, `${what}: byte for byte as it was`);
    t.equal(sim.stats().requests, 0, `${what}: nothing was sent`);
  }
});

t.test('a cache in a newer format is refused before anything touches it', async (t) => {
  const dir = fresh('cache');
  mkdirSync(dir);
  const file = futureFormat(join(dir, CACHE_FILE), (db) => {
    db.exec('CREATE TABLE responses (key BLOB PRIMARY KEY NOT NULL, value TEXT NOT NULL, created INTEGER NOT NULL)');
    db.pragma(`user_version = ${CACHE_FORMAT + 1}`);
  });
  const before = sha(file);
  t.throws(() => ResponseCache.open(dir), { code: 'FATAL', message: new RegExp(`is in format ${CACHE_FORMAT + 1}, this sluice reads format ${CACHE_FORMAT}`) });
  t.equal(sha(file), before, 'untouched');
  t.same(readdirSync(dir), [CACHE_FILE], 'no journal left beside it');
});

t.test("graph add: a cache or another program's database is refused and left untouched", async (t) => {
  for (const [what, path] of [
    ['a response cache', aCache()],
    ["another program's database", anotherProgramsDatabase()],
  ] as const) {
    const before = sha(path);
    const r = await graphCli(['add', path, 'examples/news.jsonl']);
    t.equal(r.code, 1, `${what}: exit 1`);
    t.match(r.stderr, /is an SQLite database but not a sluice graph store \(it holds tables .*\); it was left as it is/, what);
    t.equal(sha(path), before, `${what}: byte for byte as it was`);
  }
});

t.test('a graph store in a newer schema version is refused and left untouched', async (t) => {
  const path = await aGraphStore();
  const store = new Database(path);
  store.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
  store.pragma('journal_mode = DELETE');
  store.close();
  const before = sha(path);
  t.throws(() => GraphStore.open(path, { create: true }), { code: 'FATAL', message: new RegExp(`has graph schema version ${SCHEMA_VERSION + 1}; this sluice reads version ${SCHEMA_VERSION}`) });
  t.equal(sha(path), before, 'untouched');
});

t.test('the batch ledger: a foreign database or a newer format is refused and left untouched', async (t) => {
  const foreign = fresh(LEDGER_FILE);
  copyFileSync(anotherProgramsDatabase(), foreign);
  const before = sha(foreign);
  t.throws(() => BatchLedger.open(foreign), { code: 'FATAL', message: /is not a sluice ledger \(an SQLite database holding tables notes\); it was left as it is/ });
  t.equal(sha(foreign), before, 'foreign: untouched');

  const future = futureFormat(fresh(LEDGER_FILE), (db) => db.pragma(`user_version = ${LEDGER_FORMAT + 1}`));
  const was = sha(future);
  t.throws(() => BatchLedger.open(future), { code: 'FATAL', message: new RegExp(`is in format ${LEDGER_FORMAT + 1}, this sluice reads format ${LEDGER_FORMAT}`) });
  t.equal(sha(future), was, 'newer format: untouched');
});

t.test('our own files, and new ones, still open', async (t) => {
  const cacheFile = aCache();
  const dir = join(cacheFile, '..');
  const cache = ResponseCache.open(dir);
  t.equal(cache.size(), 1, 'an existing cache keeps its answers');
  cache.close();
  const ledgerPath = fresh(LEDGER_FILE);
  BatchLedger.open(ledgerPath).close();
  t.ok(existsSync(ledgerPath));
  BatchLedger.open(ledgerPath).close();
  const graph = await aGraphStore();
  const store = GraphStore.open(graph, { create: true });
  store.close();
  t.pass('a graph store opens again');
});
