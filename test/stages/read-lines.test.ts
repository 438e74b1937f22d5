import t from 'tap';
import { LineSplitter, type LineItem } from '../../lib/input/lines.js';

function split(chunks: (string | Buffer)[], max = 1024): { items: LineItem[]; blank: number } {
  const s = new LineSplitter(max);
  const items: LineItem[] = [];
  for (const c of chunks) items.push(...s.push(typeof c === 'string' ? Buffer.from(c) : c));
  items.push(...s.end());
  // Byte offsets (`end`) are checked in test/input-tracking.test.ts.
  return { items: items.map(({ end: _end, ...rest }) => rest as LineItem), blank: s.blankLines };
}

t.test('numbers lines from 1 and keeps the last line without a newline', async (t) => {
  const { items } = split(['{"a":1}\n{"a":2}\n{"a":3}']);
  t.same(items, [
    { line: 1, text: '{"a":1}' },
    { line: 2, text: '{"a":2}' },
    { line: 3, text: '{"a":3}' },
  ]);
});

t.test('blank and whitespace-only lines are skipped but counted, and keep numbering', async (t) => {
  const { items, blank } = split(['a\n\n   \n\t\r\nb\n']);
  t.same(items, [
    { line: 1, text: 'a' },
    { line: 5, text: 'b' },
  ]);
  t.equal(blank, 3);
});

t.test('CRLF endings and a BOM are stripped', async (t) => {
  const { items } = split(['\uFEFF{"x":1}\r\n{"x":2}\r\n']);
  t.same(
    items.map((i) => ('text' in i ? i.text : i.code)),
    ['{"x":1}', '{"x":2}'],
  );
});

t.test('lines and multi-byte characters split across chunks are joined', async (t) => {
  const bytes = Buffer.from('{"t":"Zürich 🎉"}\n{"t":"ok"}\n');
  const chunks = [...bytes].map((b) => Buffer.from([b])); // one byte per chunk
  const { items } = split(chunks);
  t.same(items, [
    { line: 1, text: '{"t":"Zürich 🎉"}' },
    { line: 2, text: '{"t":"ok"}' },
  ]);
});

t.test('invalid UTF-8 becomes a failure naming the line; the next line is fine', async (t) => {
  const { items } = split([Buffer.concat([Buffer.from('{"t":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"t":"b"}\n')])]);
  t.equal(items.length, 2);
  t.match(items[0], { line: 1, code: 'INVALID_UTF8' });
  t.has(items[1], { line: 2, text: '{"t":"b"}' });
});

t.test('a line over the limit is refused with its size, never held whole', async (t) => {
  const long = 'x'.repeat(10_000);
  // Spread over many chunks so the guard works on the partial line, not per chunk.
  const chunks = ['{"a":1}\n', ...long.match(/.{1,100}/g)!, '\n{"a":2}\n'];
  const s = new LineSplitter(1000);
  const items: LineItem[] = [];
  let maxHeld = 0;
  for (const c of chunks) {
    items.push(...s.push(Buffer.from(c)));
    maxHeld = Math.max(
      maxHeld,
      (s as unknown as { parts: Buffer[] }).parts.reduce((n, b) => n + b.length, 0),
    );
  }
  items.push(...s.end());
  t.ok(maxHeld <= 1000, `held at most the limit (${maxHeld} bytes)`);
  t.has(items[0], { line: 1, text: '{"a":1}' });
  t.match(items[1], { line: 2, code: 'LINE_TOO_LONG', reason: /10000 bytes, over --max-line-bytes 1000/ });
  t.ok((items[1] as { excerpt: string }).excerpt.length <= 800, 'excerpt is bounded');
  t.has(items[2], { line: 3, text: '{"a":2}' });
});

t.test('an over-long line inside a single chunk is refused too', async (t) => {
  const { items } = split([`${'y'.repeat(50)}\nshort\n`], 20);
  t.match(items[0], { line: 1, code: 'LINE_TOO_LONG' });
  t.has(items[1], { line: 2, text: 'short' });
});

t.test('an over-long last line without a newline is refused', async (t) => {
  const { items } = split(['ok\n', 'z'.repeat(30)], 20);
  t.equal(items.length, 2);
  t.match(items[1], { line: 2, code: 'LINE_TOO_LONG' });
});
