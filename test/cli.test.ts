import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Ajv from 'ajv/dist/2020.js';
import split2 from 'split2';
import { generatedJsonl } from '../bench/generate-docs.js';
import { kgOptionSpecs } from '../pipelines/kg.js';
import { cliOptionSpecs } from '../lib/cli/run-cli.js';
import { ROOT, jsonLines, kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
const news = readFileSync(join(ROOT, 'examples/news.jsonl'), 'utf8');
const newsIds = jsonLines(news).map((d) => d.id);
const ajv = new Ajv.default({ allErrors: true });
const validResult = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/schema/result.schema.json'), 'utf8')));
const validDeadLetter = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'docs/schema/dead-letter.schema.json'), 'utf8')));

t.test('stdin to stdout: one schema-valid line per document, in input order, with real entities', async (t) => {
  const r = await kg([], { stdin: news });
  t.equal(r.code, 0, r.stderr);
  const out = jsonLines(r.stdout);
  t.same(
    out.map((o) => o.id),
    newsIds,
  );
  for (const o of out) t.ok(validResult(o), `${o.id} valid: ${ajv.errorsText(validResult.errors)}`);
  const first = out[0];
  t.ok(first.entities.some((e: { name: string; type: string }) => e.name === 'Christine Lagarde' && e.type === 'person'));
  t.ok(first.entities.some((e: { name: string; type: string }) => e.name === 'Frankfurt' && e.type === 'place'));
  t.equal(first.meta.title, 'European Central Bank holds rates as inflation cools');
  t.match(r.stderr, /documents {2}in 25, out 25, dead-lettered 0/);
  t.notMatch(r.stderr, /docs\/s .*ETA/, 'no progress when stderr is not a terminal');
});

t.test('file arguments are read in sequence, gzip included; --workers 0 gives the same output', async (t) => {
  const gz = join(dir, 'news.jsonl.gz');
  writeFileSync(gz, gzipSync(news));
  const r = await kg(['examples/news.jsonl', gz, '--quiet']);
  t.equal(r.code, 0);
  t.same(
    jsonLines(r.stdout).map((o) => o.id),
    [...newsIds, ...newsIds],
  );
  const single = await kg(['examples/news.jsonl', gz, '--quiet', '--workers', '0']);
  t.equal(single.stdout, r.stdout);
});

t.test('bad records are dead-lettered with line, id and reason; the run succeeds', async (t) => {
  const dead = join(dir, 'dead.jsonl');
  const r = await kg(['examples/messy.jsonl', '--dead-letter', dead]);
  t.equal(r.code, 0);
  const out = jsonLines(r.stdout);
  const dl = jsonLines(readFileSync(dead, 'utf8'));
  t.same(
    out.map((o) => o.id),
    ['m-1', '7', 'examples/messy.jsonl:8', 'm-10'],
  );
  t.same(
    dl.map((d) => [d.line, d.code]),
    [
      [2, 'INVALID_JSON'],
      [4, 'MISSING_TEXT'],
      [5, 'EMPTY_TEXT'],
      [6, 'NOT_AN_OBJECT'],
      [9, 'TEXT_NOT_STRING'],
    ],
  );
  for (const d of dl) t.ok(validDeadLetter(d), ajv.errorsText(validDeadLetter.errors));
  t.match(r.stderr, /in 9, out 4, dead-lettered 5/);
});

t.test('without --dead-letter, stderr names the count and the first reasons, even with --quiet', async (t) => {
  const r = await kg(['examples/messy.jsonl', '--quiet']);
  t.equal(r.code, 0);
  t.match(r.stderr, /^5 record\(s\) dead-lettered/);
  t.match(r.stderr, /examples\/messy\.jsonl:4 id=m-3 \[parse MISSING_TEXT\] field "text" is missing/);
  t.notMatch(r.stderr, /documents {2}in/, 'no summary with --quiet');
  const clean = await kg(['examples/news.jsonl', '--quiet']);
  t.equal(clean.stderr, '', 'nothing at all on stderr for a clean quiet run');
});

t.test('--help lists every flag with its default, and the exit codes', async (t) => {
  const r = await kg(['--help']);
  t.equal(r.code, 0);
  for (const spec of [...kgOptionSpecs, ...cliOptionSpecs]) {
    t.match(r.stdout, `--${spec.name}`, `lists --${spec.name}`);
    if (spec.default !== undefined && spec.type !== 'boolean') t.match(r.stdout, `[default: ${spec.default}]`, `default of --${spec.name}`);
  }
  t.match(r.stdout, /Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 .*\n {2}4 .*\n {2}130/);
});

t.test('usage errors exit 2 and name the flag', async (t) => {
  const unknown = await kg(['--no-such-flag']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /no-such-flag/);
  const bad = await kg(['--chunk-tokens', 'many']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--chunk-tokens must be an integer, got "many"/);
  const low = await kg(['--max-docs', '0']);
  t.equal(low.code, 2);
  t.match(low.stderr, /--max-docs must be >= 1/);
  const overlap = await kg(['--chunk-tokens', '100', '--chunk-overlap', '80'], { stdin: news });
  t.equal(overlap.code, 2);
  t.match(overlap.stderr, /--chunk-overlap/);
});

t.test('a usage error found while building the pipeline leaves an existing output file alone', async (t) => {
  const out = join(dir, 'keep.jsonl');
  writeFileSync(out, 'precious\n');
  const r = await kg(['examples/news.jsonl', '-o', out, '--chunk-tokens', '100', '--chunk-overlap', '80']);
  t.equal(r.code, 2);
  t.equal(readFileSync(out, 'utf8'), 'precious\n');
});

t.test('fatal errors exit 1 with a clear message', async (t) => {
  const missing = await kg([join(dir, 'missing.jsonl')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /error: cannot read input .*missing\.jsonl/);
  const unwritable = await kg(['examples/news.jsonl', '--output', join(dir, 'no/such/dir/out.jsonl')]);
  t.equal(unwritable.code, 1);
  t.match(unwritable.stderr, /error: cannot write .*out\.jsonl/);
});

t.test('--output, --summary and --progress', async (t) => {
  const out = join(dir, 'out.jsonl');
  const summary = join(dir, 'summary.json');
  const r = await kg(['examples/news.jsonl', '--output', out, '--summary', summary, '--progress']);
  t.equal(r.code, 0);
  t.equal(r.stdout, '', 'nothing on stdout');
  t.same(
    jsonLines(readFileSync(out, 'utf8')).map((o) => o.id),
    newsIds,
  );
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  t.match(s, { pipeline: 'kg', docsIn: 25, docsOut: 25, deadLettered: 0, interrupted: false });
  t.ok(s.peakRssMb > 0 && s.entitiesPerDoc > 1);
  t.match(r.stderr, /kg 25 docs {2}100\.0% of input bytes read {2}~25 docs in all {2}.*docs\/s {2}.*tok\/s/, 'progress line');
});

t.test('--dry-run prints tokens, requests and cost, and extracts nothing', async (t) => {
  const r = await kg(['examples/news.jsonl', '--dry-run', '--max-docs', '5']);
  t.equal(r.code, 0);
  t.match(r.stdout, /dry run: nothing was sent/);
  t.match(r.stdout, /requests {9}5 \(25 chunks, 5\.00 documents per request\)/);
  t.match(r.stdout, /estimated cost {3}\$\d+\.\d{4} for gpt-4\.1-mini/);
  t.notMatch(r.stdout, /"entities"/);
  const local = await kg(['examples/news.jsonl', '--dry-run', '--model', 'my-local-model']);
  t.match(local.stdout, /no price for my-local-model/);
  const priced = await kg(['examples/news.jsonl', '--dry-run', '--model', 'my-local-model', '--price-input', '0', '--price-output', '0']);
  t.match(priced.stdout, /estimated cost {3}\$0\.0000 for my-local-model/);
});

t.test('SIGINT stops reading, writes whole lines only, and exits 130', async (t) => {
  let sent = false;
  const r = await kg(['--workers', '1'], {
    stdin: generatedJsonl(200_000, 3),
    onSpawn: (child) => {
      // The signal goes once the first whole result line has come out.
      child.stdout!.pipe(split2()).on('data', () => {
        if (!sent) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      });
    },
  });
  t.equal(r.code, 130, r.stderr);
  t.match(r.stderr, /SIGINT: stopping/);
  t.match(r.stderr, /kg: interrupted/);
  t.ok(r.stdout.endsWith('\n'), 'ends on a whole line');
  const out = jsonLines(r.stdout);
  t.ok(out.length > 0 && out.length < 200_000, `${out.length} results before the stop`);
  t.same(
    out.map((o) => o.id),
    out.map((_o, i) => `doc-${i + 1}`),
    'an in-order prefix of the input',
  );
});
