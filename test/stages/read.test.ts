import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createRunContext } from '../../lib/runtime/run-context.js';
import { read, type ReadBatch, type ReadOptions } from '../../stages/read.js';
import { collect } from '../helpers/collect.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-read-'));
const opts: ReadOptions = { maxLineBytes: 1024, format: 'auto' };

async function readAll(inputs: Parameters<typeof read>[0], o = opts) {
  const ctx = createRunContext();
  const batches = await collect<ReadBatch>(read(inputs, o)(ctx));
  return { records: batches.flat(), ctx };
}

t.test('several files in sequence: seq runs on, line restarts per file', async (t) => {
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl');
  writeFileSync(a, '{"id":1}\n{"id":2}\n');
  writeFileSync(b, '{"id":3}\n');
  const { records, ctx } = await readAll([a, b]);
  t.same(
    records.map((r) => [r.seq, r.line, r.source]),
    [
      [0, 1, a],
      [1, 2, a],
      [2, 1, b],
    ],
  );
  t.equal(ctx.stats.recordsIn, 3);
  t.equal(ctx.stats.totalBytes, 27);
  t.equal(ctx.stats.bytesRead, 27);
});

t.test('gzip is detected by its magic bytes and inflated on the fly', async (t) => {
  const gz = join(dir, 'c.jsonl.gz');
  writeFileSync(gz, gzipSync('{"id":"g1","text":"a"}\n{"id":"g2","text":"b"}\n'));
  const { records } = await readAll([gz]);
  t.same(
    records.map((r) => (r.kind === 'raw' ? r.text : r.code)),
    ['{"id":"g1","text":"a"}', '{"id":"g2","text":"b"}'],
  );
});

t.test('a JSON array is streamed element by element with 1-based positions', async (t) => {
  const f = join(dir, 'd.json');
  writeFileSync(f, ' \n[{"id":"x","text":"one"},\n {"id":"y","text":"two"}]\n');
  const { records } = await readAll([f]);
  t.same(
    records.map((r) => (r.kind === 'raw' ? [r.line, r.value] : r.code)),
    [
      [1, { id: 'x', text: 'one' }],
      [2, { id: 'y', text: 'two' }],
    ],
  );
});

t.test('a gzipped JSON array works too', async (t) => {
  const f = join(dir, 'e.json.gz');
  writeFileSync(f, gzipSync('[{"id":"x","text":"one"}]'));
  const { records } = await readAll([f]);
  t.equal(records.length, 1);
  t.match(records[0], { kind: 'raw', value: { id: 'x' } });
});

t.test('a malformed JSON array dead-letters the rest of that input from the first element not read, and the next file is read', async (t) => {
  const bad = join(dir, 'bad.json');
  const good = join(dir, 'good.jsonl');
  const elements = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `e${i}`, text: 'some text here' }));
  writeFileSync(bad, `[${elements.join(',')}, {"id": oops}]`);
  writeFileSync(good, '{"id":"z"}\n');
  const { records } = await readAll([bad, good]);
  const read = records.filter((r) => r.kind === 'raw' && r.source === bad);
  t.ok(read.length > 1000, `elements before the error are read (${read.length})`);
  t.same(
    read.map((r) => r.line),
    read.map((_, i) => i + 1),
  );
  const f = records[read.length];
  t.match(f, { kind: 'failure', line: read.length + 1, code: 'INVALID_JSON_ARRAY', stage: 'read', source: bad, reason: /rest of this input is skipped/ });
  t.match(records[read.length + 1], { kind: 'raw', line: 1, source: good });
  t.equal(records.length, read.length + 2);
});

t.test('a byte stream and in-memory values are inputs too', async (t) => {
  const stream = Readable.from([Buffer.from('{"id":"s1"}\n{"id":"s2"}')]);
  const { records } = await readAll([
    { name: 'mystream', stream },
    { name: 'mem', values: [{ id: 'm1', text: 't' }, '{"id":"m2"}'] },
  ]);
  t.same(
    records.map((r) => [r.source, r.line, r.kind === 'raw' ? (r.text ?? r.value) : null]),
    [
      ['mystream', 1, '{"id":"s1"}'],
      ['mystream', 2, '{"id":"s2"}'],
      ['mem', 1, { id: 'm1', text: 't' }],
      ['mem', 2, '{"id":"m2"}'],
    ],
  );
});

t.test('--format jsonl reads a line starting with "[" as a JSONL record', async (t) => {
  const f = join(dir, 'f.jsonl');
  writeFileSync(f, '[1,2]\n{"id":1}\n');
  const { records } = await readAll([f], { ...opts, format: 'jsonl' });
  t.same(
    records.map((r) => r.kind === 'raw' && r.text),
    ['[1,2]', '{"id":1}'],
  );
});

t.test('a missing input file is a fatal error naming it', async (t) => {
  await t.rejects(readAll([join(dir, 'nope.jsonl')]), { code: 'E_FATAL', message: /nope\.jsonl/ });
});

t.test('a directory given as input: fatal, naming it and what to give instead', async (t) => {
  const sub = join(dir, 'a-dir');
  mkdirSync(sub, { recursive: true });
  const expected = { code: 'E_FATAL', message: `cannot read input ${sub}: is a directory: give the files in it (e.g. ${sub}/*.jsonl), not the directory` };
  await t.rejects(readAll([sub]), expected);
  await t.rejects(readAll([`${sub}/`]), { code: 'E_FATAL', message: `cannot read input ${sub}/: is a directory: give the files in it (e.g. ${sub}/*.jsonl), not the directory` });
});

t.test('a truncated gzip: fatal, naming the input, the bytes read and the last whole line', async (t) => {
  let body = '';
  for (let i = 1; i <= 3000; i++) body += `${JSON.stringify({ id: i, text: `doc ${i} ${(i * 7919).toString(36).repeat(6)}` })}\n`;
  const whole = gzipSync(body);
  const cut = join(dir, 'cut.jsonl.gz');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  const message = new RegExp(
    `^cannot read input ${cut.replace(/[.]/g, '\\.')}: gzip stream ends early after [\\d,]+ bytes \\([\\d,]+ bytes inflated\\): the file is truncated; the last whole line read was line [\\d,]+$`,
  );
  await t.rejects(readAll([cut]), { code: 'E_FATAL', message });
  // From a stream (stdin) too: the error of the bytes reaches the reader, the input named.
  await t.rejects(readAll([{ name: 'stdin', stream: Readable.from([whole.subarray(0, 2000)]) }]), {
    code: 'E_FATAL',
    message: /^cannot read input stdin: gzip stream ends early after 2,000 bytes .*: the stream is truncated/,
  });
});

t.test('reading stops when the run is aborted', async (t) => {
  const controller = new AbortController();
  const ctx = createRunContext(controller.signal);
  const many = Array.from({ length: 10_000 }, (_, i) => ({ id: i, text: 'x' }));
  const stream = read([{ name: 'mem', values: many }], opts)(ctx);
  const first = await new Promise<ReadBatch>((resolve, reject) => stream.pull((err, x) => (err ? reject(err) : resolve(x as ReadBatch))));
  controller.abort();
  const rest = await collect(stream);
  t.ok(first.length > 0);
  t.ok(first.length + rest.flat().length < many.length, 'not everything was read');
});
