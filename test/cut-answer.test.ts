/** wholeDocuments (lib/llm/cut-answer.ts): what a cut answer holds whole, and nothing else. */
import t from 'tap';
import { wholeDocuments } from '../lib/llm/cut-answer.js';

const doc = (id: string, name: string) => JSON.stringify({ id, entities: [{ name, type: 'person', mentions: 1 }], relations: [] });
const full = `{"documents":[${doc('D1', 'Ada')},${doc('D2', 'Grace "Amazing" Hopper } ]')},${doc('D3', 'Linus')}]}`;

t.test('a cut answer gives back its whole documents as a closed answer', async (t) => {
  const cut = full.slice(0, full.indexOf('Linus'));
  const whole = wholeDocuments(cut);
  t.ok(whole);
  t.same(
    (JSON.parse(whole!) as { documents: { id: string }[] }).documents.map((d) => d.id),
    ['D1', 'D2'],
    'braces and brackets inside strings do not count',
  );
});

t.test('a cut right after a document keeps it; one inside the first keeps nothing', async (t) => {
  const afterFirst = full.slice(0, full.indexOf(',{"id":"D2"'));
  t.same((JSON.parse(wholeDocuments(afterFirst)!) as { documents: unknown[] }).documents.length, 1);
  t.equal(wholeDocuments(full.slice(0, 30)), undefined, 'nothing whole');
  t.equal(wholeDocuments('{"documents":['), undefined);
  t.equal(wholeDocuments(''), undefined);
});

t.test('an answer cut after its documents array closed has every document', async (t) => {
  t.same((JSON.parse(wholeDocuments(full.slice(0, -1))!) as { documents: unknown[] }).documents.length, 3);
});

t.test('what is not the schema shape gives nothing', async (t) => {
  t.equal(wholeDocuments('[{"id":"D1"},{"id":"D2"'), undefined, 'an array at the top');
  t.equal(wholeDocuments('{"a":{"b":[{"c":1},{"d":'), undefined, 'objects nested deeper are not documents');
  t.equal(wholeDocuments('not json at all {'), undefined);
  t.equal(wholeDocuments('{"documents":[{"id":"D1"}'), '{"documents":[{"id":"D1"}]}', 'closed and parsed; the schema check comes after');
});
