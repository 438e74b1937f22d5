/**
 * --cache remembers requests whose answers were cut off at --max-output-tokens (a marker per key,
 * never the cut answer): a rerun takes the same splits and retries without sending anything, bills
 * nothing, and writes the same bytes (issue 15, item 10).
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { CACHE_FILE, CACHE_FORMAT, ResponseCache } from '../lib/llm/response-cache.js';
import { kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cache-truncated-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'in.jsonl');
writeFileSync(input, `${[...generateDocs(60, 7, { medianWords: 60, maxWords: 200 })].map((d) => JSON.stringify({ id: d.id, text: d.text })).join('\n')}\n`);
const summaryOf = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const read = (file: string) => readFileSync(file, 'utf8');

t.test('a rerun of a run whose packs were cut off sends nothing, bills nothing and writes the same bytes', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const cache = join(dir, 'cache');
  // 300 completion tokens, and a prior that expects a tenth of the answers' real size: packs of
  // about ten documents are cut off at the cap, most lone documents are not, some are.
  const args = (n: number) => [
    '--answer-tokens-ratio',
    '0.2',
    '--answer-base-tokens',
    '10',
    input,
    '--base-url',
    sim.url,
    '--cache',
    cache,
    '--max-output-tokens',
    '300',
    '--summary',
    join(dir, `s${n}.json`),
    '--dead-letter',
    join(dir, `d${n}.jsonl`),
    '-o',
    join(dir, `o${n}.jsonl`),
  ];
  const first = await kg([...args(1), '--retry-base-ms', '1']);
  t.equal(first.code, 0, first.stderr);
  const s1 = summaryOf(join(dir, 's1.json'));
  const sent = sim.stats().requests;
  t.ok(s1.splits > 0, `${s1.splits} splits of cut-off packs`);
  t.ok(s1.retries > 0, `${s1.retries} retries of cut-off lone documents, sent again within the run`);
  t.ok(s1.deadLettered > 0, `${s1.deadLettered} documents cut off however often asked`);
  t.equal(s1.requests, sent, 'the first run counts what it sent');
  // A hedge (a second copy of a slow request) is sent, not looked up.
  t.equal(s1.cacheMisses, sent - s1.hedged);

  sim.reset();
  // The default backoff (2 s base): a remembered cut is not waited for, nothing being sent.
  const started = Date.now();
  const second = await kg(args(2));
  const took = Date.now() - started;
  t.equal(second.code, 0, second.stderr);
  t.equal(sim.stats().requests, 0, 'no request reached the server');
  t.equal(read(join(dir, 'o2.jsonl')), read(join(dir, 'o1.jsonl')), 'byte-identical output');
  t.equal(read(join(dir, 'd2.jsonl')), read(join(dir, 'd1.jsonl')), 'byte-identical dead letters');
  const s2 = summaryOf(join(dir, 's2.json'));
  t.match(s2, { requests: 0, splits: s1.splits, retries: s1.retries, cacheHits: sent - s1.hedged, cacheMisses: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 });
  t.equal(s2.cachedPromptTokens, s1.promptTokens, 'what the first run was billed, cut-off attempts included, is reused');
  t.ok(took < 10_000, `the rerun took ${took} ms: no backoff for what was not sent`);
});

t.test('a cache made before the marker table gains it and keeps its answers', async (t) => {
  const old = join(dir, 'old');
  mkdirSync(old);
  const db = new Database(join(old, CACHE_FILE));
  db.exec('CREATE TABLE responses (key BLOB PRIMARY KEY NOT NULL, value TEXT NOT NULL, created INTEGER NOT NULL)');
  db.prepare('INSERT INTO responses VALUES (?, ?, 0)').run(Buffer.from('k'), 'v');
  db.pragma(`user_version = ${CACHE_FORMAT}`);
  db.close();
  const cache = ResponseCache.open(old);
  t.teardown(() => cache.close());
  t.equal(cache.get(Buffer.from('k')), 'v');
  t.equal(cache.truncation(Buffer.from('k')), undefined);
  cache.markTruncated(Buffer.from('k'), { reason: 'cut', usage: { promptTokens: 3, completionTokens: 4 } });
  t.same(cache.truncation(Buffer.from('k')), { reason: 'cut', usage: { promptTokens: 3, completionTokens: 4 } });
});
