/**
 * A checkpoint written before an option was marked operational still resumes: older sluice pinned
 * `--graph-batch-size` in every checkpoint, and a checkpoint of that kind must not be refused for it
 * now that the option may change between sessions. An option that shapes the output still must match.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-ckpt-compat-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('an older checkpoint that pinned an option now operational resumes; a shaping option is still checked', async (t) => {
  const out = join(dir, 'out.jsonl');
  const ckpt = join(dir, 'run.ckpt');
  const args = ['--workers', '0', 'examples/news.jsonl', '-o', out, '--checkpoint', ckpt];
  const first = await kg(['--quiet', ...args]);
  t.equal(first.code, 0, first.stderr);
  const state = JSON.parse(readFileSync(ckpt, 'utf8'));
  t.notOk('graphBatchSize' in state.options, 'an operational option is not pinned now');

  // As sluice before this change wrote it: --graph-batch-size among the pinned options.
  writeFileSync(ckpt, JSON.stringify({ ...state, options: { ...state.options, graphBatchSize: 500 } }));
  const older = await kg(args);
  t.equal(older.code, 0, older.stderr);
  t.match(older.stderr, /already completed/);

  writeFileSync(ckpt, JSON.stringify({ ...state, options: { ...state.options, maxDocs: 3 } }));
  const shaped = await kg(args);
  t.equal(shaped.code, 2, 'another --max-docs is refused');
  t.match(shaped.stderr, /was made with other options: --max-docs was 3, now 10/);
});
