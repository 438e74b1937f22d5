/**
 * What a user reads when the input is not what sluice reads: a directory, a truncated gzip (fatal:
 * exit 1, the input named with the cause and how far it was read), a CSV given as JSONL and records
 * without the text field (dead letters whose reasons say what to do).
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-messages-'));
const offline = ['--extractor', 'offline', '--workers', '0'];

t.test('a directory as input: exit 1, "is a directory: give the files in it", no Node error text', async (t) => {
  const docs = join(dir, 'docs');
  mkdirSync(docs);
  writeFileSync(join(docs, 'a.jsonl'), '{"text":"Angela Merkel visited Paris."}\n');
  const r = await kg([docs, ...offline, '-o', join(dir, 'dir-out.jsonl')]);
  t.equal(r.code, 1, 'unreadable input is fatal, as before');
  t.match(r.stderr, `kg: error: cannot read input ${docs}: is a directory: give the files in it (e.g. ${docs}/*.jsonl), not the directory\n`);
  t.notMatch(r.stderr, /EISDIR|illegal operation/);
});

t.test('a truncated gzip: exit 1, the input named, the bytes and the last line read, "the file is truncated"', async (t) => {
  let body = '';
  for (let i = 1; i <= 3000; i++) body += `${JSON.stringify({ id: i, text: `Document ${i} about ${(i * 7919).toString(36).repeat(5)}.` })}\n`;
  const whole = gzipSync(body);
  const cut = join(dir, 'cut.jsonl.gz');
  writeFileSync(cut, whole.subarray(0, 10_000));
  const r = await kg([cut, ...offline, '-o', join(dir, 'gz-out.jsonl')]);
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    new RegExp(
      `kg: error: cannot read input ${cut.replace(/\./g, '\\.')}: gzip stream ends early after 10,000 bytes \\([\\d,]+ bytes inflated\\): the file is truncated; the last whole line read was line [\\d,]+\\n`,
    ),
  );
  t.notMatch(r.stderr, /unexpected end of file/);
});

t.test('a CSV given as JSONL and records without "text": the dead letters say why and what to do', async (t) => {
  const csv = join(dir, 'docs.csv');
  writeFileSync(csv, 'id,title,text\n1,Berlin,Angela Merkel visited Berlin.\n');
  const dead = join(dir, 'csv-dead.jsonl');
  const r = await kg([csv, ...offline, '-o', join(dir, 'csv-out.jsonl'), '--dead-letter', dead]);
  t.equal(r.code, 0, 'bad records are dead-lettered, as before');
  const reasons = readFileSync(dead, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { reason: string }).reason);
  t.match(reasons[0], /the line looks like a CSV header \(id, title, text\): sluice reads JSONL .*not CSV/);
  t.match(reasons[1], /the line looks like comma-separated fields \(CSV\)/);

  const noText = join(dir, 'body.jsonl');
  writeFileSync(noText, '{"id":"a","body":"Angela Merkel visited Berlin.","title":"x"}\n');
  const r2 = await kg([noText, ...offline, '-o', join(dir, 'body-out.jsonl')]);
  t.equal(r2.code, 0);
  t.match(r2.stderr, 'field "text" is missing; the record has fields: id, body, title; give --text-field');
});
