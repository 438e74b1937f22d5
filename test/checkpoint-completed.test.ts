/**
 * A completed checkpoint pins its inputs as strictly as an unfinished one: rerun with the same input
 * it does nothing (exit 0); with another input, a stdin of other bytes, or more or fewer files it is
 * refused (exit 2) and the output stays as it was.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-ckpt-done-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const news = readFileSync('examples/news.jsonl', 'utf8');
const first = join(dir, 'a.jsonl');
const other = join(dir, 'b.jsonl');
writeFileSync(first, news.split('\n').slice(0, 6).join('\n') + '\n');
writeFileSync(other, news.split('\n').slice(6, 12).join('\n') + '\n');

t.test('file inputs', async (t) => {
  const out = join(dir, 'out.jsonl');
  const ckpt = join(dir, 'run.ckpt');
  const args = (...inputs: string[]) => ['--workers', '0', '--quiet', ...inputs, '-o', out, '--checkpoint', ckpt];
  const done = await kg(args(first));
  t.equal(done.code, 0, done.stderr);
  const output = readFileSync(out);

  const again = await kg(['--workers', '0', first, '-o', out, '--checkpoint', ckpt]);
  t.equal(again.code, 0, 'the same input: nothing to do');
  t.match(again.stderr, /already completed/);

  const another = await kg(args(other));
  t.equal(another.code, 2, 'another file is refused');
  t.match(another.stderr, /checkpoint .*run\.ckpt was made with another input 1 .*its first \d+ bytes differ/);

  const more = await kg(args(first, other));
  t.equal(more.code, 2, 'an extra input is refused');
  t.match(more.stderr, /was made with 1 input; input 2 \(.*b\.jsonl\) is not one of them/);
  t.ok(readFileSync(out).equals(output), 'the output is untouched');
});

t.test('stdin', async (t) => {
  const out = join(dir, 'stdin-out.jsonl');
  const ckpt = join(dir, 'stdin.ckpt');
  const args = ['--workers', '0', '--quiet', '-o', out, '--checkpoint', ckpt];
  const done = await kg(args, { stdin: readFileSync(first) });
  t.equal(done.code, 0, done.stderr);
  const same = await kg(args, { stdin: readFileSync(first) });
  t.equal(same.code, 0, 'the same bytes on stdin: nothing to do');
  const another = await kg(args, { stdin: readFileSync(other) });
  t.equal(another.code, 2, 'other bytes on stdin are refused');
  t.match(another.stderr, /was made with another input 1 \(stdin/);
  const two = await kg([...args, first, other]);
  t.equal(two.code, 2, 'two files for a run made on stdin are refused');
});
