import t from 'tap';
import { generateDocs } from '../../bench/generate-docs.js';
import { generatedBatches } from '../../bench/doc-batches.js';

const words = (text: string) => text.split(' ').length;

t.test('without a tail share the sequence is what it always was', async (t) => {
  const plain = [...generateDocs(200, 5)];
  t.same([...generateDocs(200, 5, { tailShare: 0 })], plain);
  t.same([...generateDocs(200, 5, {})], plain);
  t.notSame([...generateDocs(200, 6)], plain, 'the seed matters');
});

t.test('a tail share adds long documents, capped at maxWords', async (t) => {
  const body = [...generateDocs(4000, 1)].map((d) => words(d.text));
  const tailed = [...generateDocs(4000, 1, { tailShare: 0.05, tailMinWords: 2000, maxWords: 8000 })].map((d) => words(d.text));
  const long = (xs: number[]) => xs.filter((n) => n >= 2000).length;
  t.ok(long(body) < 20, `body alone: ${long(body)} documents of 2000+ words`);
  t.ok(long(tailed) > 150 && long(tailed) < 260, `5% tail: ${long(tailed)} of 4000`);
  // A document stops at the sentence that reaches its target: at most one sentence over.
  t.ok(Math.max(...tailed) < 8000 + 20, `longest ${Math.max(...tailed)}`);
});

t.test('batches carry the documents they hold, and every document once', async (t) => {
  const batches = [...generatedBatches(3000, 9, {}, 16 * 1024)];
  t.ok(batches.length > 10);
  t.equal(
    batches.reduce((n, b) => n + b.docs, 0),
    3000,
  );
  for (const b of batches) t.equal(b.bytes.toString().split('\n').length - 1, b.docs);
  const ids = batches.flatMap((b) =>
    b.bytes
      .toString()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id),
  );
  t.same(
    ids,
    [...generateDocs(3000, 9)].map((d) => d.id),
  );
});
