/**
 * The progress line on a terminal: it fits the terminal's width whatever the width (a wrapped line
 * cannot be rewritten in place, each update would add a line), and it says what its percentage counts.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { Progress } from '../lib/cli/progress.js';
import { RunStats } from '../lib/runtime/run-context.js';

/** A terminal of `columns` columns that keeps what is written. */
function fakeTerminal(columns: number): Writable & { columns: number; text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      stream.text += chunk.toString();
      done();
    },
  }) as Writable & { columns: number; text: string };
  stream.columns = columns;
  stream.text = '';
  return stream;
}

/** A run part-way: every field of the line shows (percentage, estimate, ETA, rates, dead letters, retries, batches, cost). */
function busyStats(): RunStats {
  const s = new RunStats();
  Object.assign(s, { startedAt: Date.now() - 10_000, totalBytes: 1_000_000, bytesRead: 83_000, recordsIn: 1234, resultsOut: 1200, deadLettered: 12, textTokens: 4_500_000, retries: 7 });
  Object.assign(s, { batchesInProgress: 2, batchRequestsDone: 1500, batchRequestsTotal: 4000, requests: 40 });
  return s;
}

/** The lines a terminal shows: each `\r` starts the line again. */
function shownLines(text: string): string[] {
  return text.split(/[\r\n]/).filter((l) => l.length > 0);
}

for (const columns of [20, 40, 60, 80, 120]) {
  t.test(`a terminal of ${columns} columns: no line reaches the width, the label shows`, async (t) => {
    const out = fakeTerminal(columns);
    const p = new Progress(busyStats(), out, { label: 'kg', tty: true, intervalMs: 5, cost: () => 1.2345, maxCost: 5 });
    p.start();
    await new Promise((r) => setTimeout(r, 30));
    p.stop();
    const lines = shownLines(out.text);
    t.ok(lines.length > 1, 'several updates');
    for (const line of lines) {
      t.ok(line.length < columns, `${JSON.stringify(line)} (${line.length}) fits in ${columns}`);
      t.match(line, /^kg 1,212 docs/, 'the label and the count first');
    }
    if (columns >= 60) t.match(lines[0]!, /8\.3% of input bytes read/, 'the percentage says it counts input bytes');
    if (columns >= 120) t.match(lines[0]!, /\$1\.2345 of \$5/, 'the cost kept before the rates');
  });
}

t.test('fields are dropped by importance, not cut mid-way', async (t) => {
  const p = new Progress(busyStats(), fakeTerminal(80), { label: 'kg', tty: true });
  const full = p.line();
  t.match(full, /8\.3% of input bytes read {2}~14,867 docs in all {2}ETA .* docs\/s {2}.* tok\/s {2}dead-lettered 12 {2}retries 7/, 'the whole line');
  const narrow = p.line(59);
  t.ok(narrow.length <= 59);
  t.notMatch(narrow, /tok\/s/, 'tokens/s goes first');
  t.match(narrow, /^kg 1,212 docs {2}8\.3% of input bytes read/, 'the count and the percentage stay');
  t.equal(p.line(5), 'kg 1,', 'the first field alone is cut to the width');
});

t.test('not a terminal: whole lines, not fitted', async (t) => {
  const out = fakeTerminal(20);
  const p = new Progress(busyStats(), out, { label: 'kg', tty: false });
  p.stop();
  t.match(out.text, /^kg 1,212 docs {2}8\.3% of input bytes read .*retries 7.*\n$/);
});

t.test('the projection: "~$X projected" beside the cost, and its ETA instead of the one from documents written', async (t) => {
  const p = new Progress(busyStats(), fakeTerminal(200), {
    label: 'kg',
    tty: true,
    cost: () => 1.2345,
    maxCost: 5,
    projection: () => ({ docsTotal: 15_000, fraction: 0.1, costUsd: 12.5, etaSeconds: 3725 }),
  });
  t.match(p.line(), /ETA 1:02:05 .*\$1\.2345 of \$5 {2}~\$12\.5000 projected/);
  const unknown = new Progress(busyStats(), fakeTerminal(200), { label: 'kg', tty: true, cost: () => 1.2345, projection: () => undefined });
  t.notMatch(unknown.line(), /projected/, 'not known yet: left out');
  t.match(unknown.line(), /ETA \d/, 'the ETA from the documents written until then');
});
