import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Ajv from 'ajv/dist/2020.js';
import Database from 'better-sqlite3';
import { mergeKey } from '../../lib/graph/merge-key.js';
import { addOptionSpecs, exportOptionSpecs, statsOptionSpecs } from '../../pipelines/graph.js';
import { ROOT, jsonLines, kg, runScript } from '../helpers/cli.js';
import { tempDir } from '../helpers/graph.js';

const graph = (args: string[], options?: Parameters<typeof runScript>[2]) => runScript('pipelines/graph.js', args, options);
const dir = tempDir('sluice-graph-cli-');
const news = readFileSync(join(ROOT, 'examples/news.jsonl'), 'utf8');
const ajv = new Ajv.default({ allErrors: true });
const validDeadLetter = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/schema/dead-letter.schema.json'), 'utf8')));

/** Every export of a store, as text by file name. */
async function exports(db: string, tag: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const format of ['neo4j', 'graphml', 'tables']) {
    const path = join(dir, `${tag}-${format}${format === 'graphml' ? '.graphml' : ''}`);
    const r = await graph(['export', db, '--format', format, '--out', path]);
    if (r.code !== 0) throw new Error(`export ${format} failed: ${r.stderr}`);
    if (format === 'graphml') out[format] = readFileSync(path, 'utf8');
    else for (const f of readdirSync(path)) out[`${format}/${f}`] = readFileSync(join(path, f), 'utf8');
  }
  return out;
}

t.test('kg --graph passes every line through unchanged and builds the same graph as graph add on its output', async (t) => {
  const plain = await kg(['--quiet'], { stdin: news });
  const db = join(dir, 'kg.db');
  const withGraph = await kg(['--quiet', '--graph', db, '--graph-batch-size', '7'], { stdin: news });
  t.equal(withGraph.code, 0, withGraph.stderr);
  t.equal(withGraph.stdout, plain.stdout, 'the output is byte-identical with and without --graph');

  const out = join(dir, 'news-out.jsonl');
  writeFileSync(out, plain.stdout);
  const db2 = join(dir, 'add.db');
  const added = await graph(['add', db2, out]);
  t.equal(added.code, 0, added.stderr);
  t.match(added.stderr, /graph add: 25 lines: 25 documents added, 0 replaced, 0 unchanged, 0 bad lines/);
  t.same(await exports(db, 'kg'), await exports(db2, 'add'), 'one graph whichever way it was built');

  // Duplicate reduction on the bundled example, checked against merge keys computed here.
  const results = jsonLines(plain.stdout);
  const rows = results.reduce((n, r) => n + r.entities.length, 0);
  const keys = new Set(results.flatMap((r) => r.entities.map((e: { name: string; type: string }) => mergeKey(e.name, e.type))));
  const stats = await graph(['stats', db, '--json']);
  t.equal(stats.code, 0);
  const s = JSON.parse(stats.stdout);
  t.equal(s.documents, 25);
  t.equal(s.entityRows, rows, 'every entity row of the output is in the store');
  t.equal(s.nodes, keys.size, 'one node per merge key');
  t.ok(s.nodes < rows, `fewer nodes (${s.nodes}) than entity rows (${rows})`);

  const again = await graph(['add', db2, out, '-q']);
  t.equal(again.code, 0);
  t.equal(again.stderr, '', 'quiet');
  const checked = await graph(['check', db2]);
  t.equal(checked.code, 0);
  t.match(checked.stdout, /consistent/);
  t.same(await exports(db2, 'again'), await exports(db, 'kg2'), 'adding the same output again changes nothing');
});

t.test('kg --graph in a dry run creates no store', async (t) => {
  const db = join(dir, 'dry.db');
  const r = await kg(['examples/news.jsonl', '--dry-run', '--graph', db]);
  t.equal(r.code, 0);
  t.notOk(existsSync(db));
});

t.test('graph add: bad lines are named by line, id and reason, counted, and the run goes on', async (t) => {
  const input = join(dir, 'bad.jsonl');
  const good = (id: string, name: string) => JSON.stringify({ id, entities: [{ name, type: 'person', mentions: 1 }], relations: [] });
  writeFileSync(
    input,
    [
      good('a', 'Ada Lovelace'),
      '{"id": "b", "entities": [',
      '[1, 2, 3]',
      JSON.stringify({ entities: [] }),
      JSON.stringify({ id: 'e', entities: 'Ada' }),
      JSON.stringify({ id: 'f', entities: [{ type: 'person' }] }),
      JSON.stringify({ id: 'g', entities: [{ name: 'X', type: 'person' }], relations: [{ source: 'X', target: 'Y', type: 'knows', count: 0 }] }),
      '',
      good('h', 'Charles Babbage'),
      JSON.stringify({ id: 'i', entities: [{ name: 'Ada', type: 'person' }], relations: [{ source: 'Ada', target: 'Nobody', type: 'knows' }] }),
    ].join('\n') + '\n',
  );
  const db = join(dir, 'bad.db');
  const r = await graph(['add', db, input]);
  t.equal(r.code, 0, 'bad lines are not a failure');
  t.match(r.stderr, /^6 bad line\(s\) skipped \(write them all with --dead-letter FILE\); first:/);
  t.match(r.stderr, /bad\.jsonl:2 \[INVALID_JSON\] invalid JSON/);
  t.match(r.stderr, /bad\.jsonl:3 \[NOT_AN_OBJECT\] line is an array, not a JSON object/);
  t.match(r.stderr, /bad\.jsonl:4 \[INVALID_ID\] field "id" is missing/);
  t.match(r.stderr, /bad\.jsonl:5 id=e \[INVALID_RESULT\] field "entities" is a string, not an array/);
  t.match(r.stderr, /bad\.jsonl:6 id=f \[INVALID_RESULT\] entities\[0\]\.name must be a non-empty string/);
  t.match(r.stderr, /1 relation\(s\) left out of the graph; first:\n {2}.*bad\.jsonl:10 id=i relations\[0\]: target "Nobody" is not among the document's entities/);
  t.match(r.stderr, /9 lines \(and 1 blank\): 3 documents added, 0 replaced, 0 unchanged, 6 bad lines/, 'the blank line is skipped and said so');

  const dead = join(dir, 'dead.jsonl');
  const withDead = await graph(['add', join(dir, 'bad2.db'), input, '--dead-letter', dead, '-q']);
  t.equal(withDead.code, 0);
  t.equal(withDead.stderr, '', 'with --dead-letter and --quiet, nothing on stderr');
  const letters = jsonLines(readFileSync(dead, 'utf8'));
  t.same(
    letters.map((d) => [d.line, d.id, d.code]),
    [
      [2, undefined, 'INVALID_JSON'],
      [3, undefined, 'NOT_AN_OBJECT'],
      [4, undefined, 'INVALID_ID'],
      [5, 'e', 'INVALID_RESULT'],
      [6, 'f', 'INVALID_RESULT'],
      [7, 'g', 'INVALID_RESULT'],
    ],
  );
  t.match(letters[5].reason, /relations\[0\]\.count must be a positive integer, got 0/);
  for (const d of letters) t.ok(validDeadLetter(d), ajv.errorsText(validDeadLetter.errors));

  const stats = JSON.parse((await graph(['stats', db, '--json'])).stdout);
  t.match(stats, { documents: 3, nodes: 3, edges: 0 });
});

t.test('graph add reads stdin, gzip, several files; re-adding and extending', async (t) => {
  const db = join(dir, 'stdin.db');
  const line = (id: string, name: string) => `${JSON.stringify({ id, entities: [{ name, type: 'organization', mentions: 2 }] })}\n`;
  const first = await graph(['add', db], { stdin: line('1', 'Apple Inc.') + line('2', 'APPLE INC') });
  t.equal(first.code, 0, first.stderr);
  const second = await graph(['add', db], { stdin: line('2', 'Apple') + line('3', 'Apple') });
  t.match(second.stderr, /2 lines: 1 documents added, 1 replaced, 0 unchanged/);
  const s = JSON.parse((await graph(['stats', db, '--json'])).stdout);
  t.match(s, { documents: 3, nodes: 1, mentions: 6, surfaceForms: 2, merges: 1 });
  t.equal(s.topEntities[0].name, 'Apple', '4 mentions of "Apple" over 2 of "Apple Inc."');

  const gz = join(dir, 'more.jsonl.gz');
  writeFileSync(gz, gzipSync(line('4', 'Apple Computer') + line('5', 'Apple')));
  const plain = join(dir, 'more.json');
  writeFileSync(plain, JSON.stringify([{ id: '6', entities: [{ name: 'Apple', type: 'organization' }] }]));
  const files = await graph(['add', db, gz, plain]);
  t.equal(files.code, 0, files.stderr);
  t.match(files.stderr, /3 lines: 3 documents added/, 'a gzipped JSONL file and a JSON array, in sequence');
  t.match(JSON.parse((await graph(['stats', db, '--json'])).stdout), { documents: 6, nodes: 2 });
});

t.test('export, stats, check and --help: output and usage', async (t) => {
  const db = join(dir, 'cmd.db');
  await graph(['add', db], {
    stdin: JSON.stringify({
      id: 'x',
      entities: [
        { name: 'Berlin', type: 'place' },
        { name: 'Angela Merkel', type: 'person' },
      ],
      relations: [{ source: 'Angela Merkel', target: 'Berlin', type: 'located_in' }],
    }),
  });
  const neo = await graph(['export', db, '--format', 'neo4j', '--out', join(dir, 'neo')]);
  t.equal(neo.code, 0, neo.stderr);
  t.match(neo.stdout, /exported 2 nodes and 1 edges: .*nodes\.csv, .*relationships\.csv, .*import\.sh/);
  t.match(neo.stdout, /import with: cd .*neo && neo4j-admin database import full neo4j --nodes=nodes\.csv --relationships=relationships\.csv --array-delimiter=';'/);
  const stats = await graph(['stats', db]);
  t.match(stats.stdout, /nodes {11}2 \(from 2 entity rows/);
  t.match(stats.stdout, /Angela Merkel -located_in-> Berlin/);

  for (const [cmd, specs] of [
    ['add', addOptionSpecs],
    ['export', exportOptionSpecs],
    ['stats', statsOptionSpecs],
  ] as const) {
    const help = await graph([cmd, '--help']);
    t.equal(help.code, 0);
    for (const s of specs) t.match(help.stdout, `--${s.name}`, `${cmd} --help lists --${s.name}`);
  }
  const top = await graph(['--help']);
  t.equal(top.code, 0);
  t.match(top.stdout, /Commands:\n {2}add GRAPH \[FILE\.\.\.\]/);
  t.match(top.stdout, /Exit codes:/);
});

t.test("graph's --help lists graph's exit codes, not kg's --max-cost", async (t) => {
  for (const args of [['--help'], ['add', '--help'], ['export', '--help'], ['stats', '--help'], ['check', '--help']]) {
    const help = await graph(args);
    t.equal(help.code, 0);
    const table = help.stdout.slice(help.stdout.indexOf('Exit codes:'));
    t.match(table, /\n {2}0 {4}the command completed/, `${args.join(' ')}: 0`);
    t.match(table, /\n {2}1 {4}fatal: .*check found the store not consistent/, `${args.join(' ')}: 1`);
    t.match(table, /\n {2}2 {4}usage/, `${args.join(' ')}: 2`);
    t.match(table, /\n {2}130 {2}add interrupted/, `${args.join(' ')}: 130`);
    t.notMatch(table, /\n {2}3 |--max-cost/, `${args.join(' ')}: no exit code 3, which graph cannot return`);
  }
});

t.test('usage errors exit 2; a store that is missing, not SQLite or not a graph exits 1', async (t) => {
  const db = join(dir, 'usage.db');
  await graph(['add', db], { stdin: '' });
  const cases: [string[], RegExp][] = [
    [[], /a command is required: add, export, stats, check/],
    [['merge', db], /unknown command "merge"/],
    [['add'], /add: the graph file is required/],
    [['add', db, '--no-such-flag'], /no-such-flag/],
    [['add', db, '--batch-size', '0'], /--batch-size must be >= 1/],
    [['export', db, '--out', join(dir, 'x')], /--format is required/],
    [['export', db, '--format', 'xml', '--out', join(dir, 'x')], /--format must be one of neo4j, graphml, tables, got "xml"/],
    [['export', db, '--format', 'graphml'], /--out is required \(a file\)/],
    [['export', db, '--format', 'graphml', '--out', dir], /is a directory; graphml writes one file/],
    [['export', db, '--format', 'tables', '--out', db], /is a file; tables writes a directory/],
    [['stats', db, 'extra'], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    const r = await graph(args);
    t.equal(r.code, 2, `exit 2: ${args.join(' ')}`);
    t.match(r.stderr, message);
  }
  const noInput = await graph(['add', join(dir, 'never.db'), join(dir, 'no-such-input.jsonl')]);
  t.equal(noInput.code, 1);
  t.match(noInput.stderr, /error: cannot read input .*no-such-input\.jsonl: no such file/);
  t.notOk(existsSync(join(dir, 'never.db')), 'no empty store is left behind');

  const missing = await graph(['stats', join(dir, 'missing.db')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /error: no graph store at .*missing\.db \(build one with: node pipelines\/graph\.js add/);
  t.notOk(existsSync(join(dir, 'missing.db')), 'stats does not create a store');

  const text = join(dir, 'text.db');
  writeFileSync(text, 'this is not a database, just some text that is long enough to have a header'.repeat(10));
  const notSqlite = await graph(['add', text], { stdin: '' });
  t.equal(notSqlite.code, 1);
  t.match(notSqlite.stderr, /is not an SQLite database/);

  const other = join(dir, 'other.db');
  const o = new Database(other);
  o.exec('CREATE TABLE t (x)');
  o.close();
  const notGraph = await graph(['export', other, '--format', 'graphml', '--out', join(dir, 'o.graphml')]);
  t.equal(notGraph.code, 1);
  t.match(notGraph.stderr, /is an SQLite database but not a sluice graph store/);
  t.notOk(existsSync(join(dir, 'o.graphml')));
});
