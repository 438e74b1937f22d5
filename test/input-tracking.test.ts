/** The pieces resume stands on: byte offsets of lines, and the log of positions awaiting commit. */
import t from 'tap';
import { PositionLog } from '../lib/runtime/input-tracking.js';
import { LineSplitter } from '../lib/input/lines.js';

t.test('LineSplitter: each line carries the byte offset just past it, across chunks, CRLF and multi-byte text', async (t) => {
  const text = 'ab\r\n{"x":"é"}\n\n  \nlast';
  const bytes = Buffer.from(text);
  const s = new LineSplitter(1024);
  const items = [...s.push(bytes.subarray(0, 5)), ...s.push(bytes.subarray(5, 12)), ...s.push(bytes.subarray(12)), ...s.end()];
  t.same(
    items.map((i) => [i.line, i.end]),
    [
      [1, 4],
      [2, Buffer.byteLength('ab\r\n{"x":"é"}\n')],
      [5, bytes.length],
    ],
  );
  // Resuming at an offset: line numbers and offsets continue from there.
  const at = items[1]!.end!;
  const resumed = new LineSplitter(1024, { line: 2, offset: at });
  const rest = [...resumed.push(bytes.subarray(at)), ...resumed.end()];
  t.same(
    rest.map((i) => [i.line, i.end, 'text' in i ? i.text : i.code]),
    [[5, bytes.length, 'last']],
  );
});

t.test('LineSplitter: an over-long line still reports where it ends', async (t) => {
  const s = new LineSplitter(4);
  const items = [...s.push(Buffer.from('123456789\nok\n'))];
  t.same(
    items.map((i) => [i.line, i.end, 'code' in i ? i.code : i.text]),
    [
      [1, 10, 'LINE_TOO_LONG'],
      [2, 13, 'ok'],
    ],
  );
});

t.test('PositionLog: take() forgets earlier positions, cut() marks one, memory stays bounded', async (t) => {
  const log = new PositionLog();
  for (let seq = 0; seq < 10; seq++) log.note({ input: 0, offset: seq * 10, line: seq + 1, seq });
  log.cut(4);
  log.cut(99); // not in the log: ignored
  t.equal(log.take(2)?.offset, 20);
  t.equal(log.take(2), undefined, 'taken once');
  t.equal(log.take(4)?.cut, true);
  t.notOk(log.take(5)?.cut);
  let found = 0;
  for (let seq = 10; seq < 100_000; seq++) {
    log.note({ input: 0, offset: seq, line: seq, seq });
    if (log.take(seq - 1)?.seq === seq - 1) found++;
  }
  t.equal(found, 100_000 - 10, 'every position found as the sink reaches it');
  const internal = (log as unknown as { items: unknown[] }).items;
  t.ok(internal.length < 10_000, `compacted: ${internal.length} entries held`);
});
