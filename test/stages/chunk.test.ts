import t from 'tap';
import { get_encoding } from 'tiktoken';
import { chunkDocument, validateChunkOptions } from '../../stages/chunk.js';
import { loadTokenCounter } from '../../lib/llm/tokens.js';
import type { Doc } from '../../lib/runtime/records.js';
import { VARIED_TEXTS } from '../helpers/corpus.js';

const counter = await loadTokenCounter('o200k_base');
const reference = get_encoding('o200k_base');
const doc = (text: string, seq = 0): Doc => ({ kind: 'doc', seq, line: seq + 1, source: 'test', id: `d${seq}`, text, meta: { k: 1 } });
const sentence = (i: number) => `Sentence number ${i} talks about Berlin and the weather in some detail. `;

t.test('a document under the limit is one chunk with its exact token count', async (t) => {
  const chunks = chunkDocument(doc('Short text about Paris.'), counter, { chunkTokens: 100, chunkOverlap: 10 });
  t.equal(chunks.length, 1);
  t.match(chunks[0], { index: 0, count: 1, text: 'Short text about Paris.', tokens: reference.encode_ordinary('Short text about Paris.').length, doc: { id: 'd0', meta: { k: 1 } } });
});

t.test('a long document becomes bounded, overlapping chunks cut at sentence ends', async (t) => {
  const text = Array.from({ length: 200 }, (_, i) => sentence(i)).join('');
  const chunks = chunkDocument(doc(text), counter, { chunkTokens: 120, chunkOverlap: 20 });
  t.ok(chunks.length > 10);
  for (const c of chunks) {
    t.ok(c.tokens <= 120, `chunk ${c.index} has ${c.tokens} tokens`);
    t.equal(c.tokens, reference.encode_ordinary(c.text).length, 'exact count');
    t.equal(c.count, chunks.length);
    t.match(c.text, /^Sentence number \d+ .*detail\.$/s, 'starts and ends on sentence boundaries');
  }
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!.text;
    const firstSentence = chunks[i]!.text.split('. ')[0]!;
    t.ok(prev.includes(firstSentence), `chunk ${i} overlaps the previous one`);
  }
  // Every sentence is in some chunk.
  for (let i = 0; i < 200; i++)
    t.ok(
      chunks.some((c) => c.text.includes(`Sentence number ${i} `)),
      `sentence ${i} kept`,
    );
});

t.test('no overlap when chunk-overlap is 0', async (t) => {
  const text = Array.from({ length: 50 }, (_, i) => sentence(i)).join('');
  const chunks = chunkDocument(doc(text), counter, { chunkTokens: 60, chunkOverlap: 0 });
  const all = chunks.map((c) => c.text).join(' ');
  for (let i = 0; i < 50; i++) t.equal(all.split(`Sentence number ${i} `).length - 1, 1, `sentence ${i} appears once`);
});

t.test('a sentence longer than the limit is cut at whitespace; a run with no spaces anywhere', async (t) => {
  const words = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
  const blob = 'x'.repeat(5000);
  for (const text of [words, blob, VARIED_TEXTS.join(' ').repeat(20)]) {
    const chunks = chunkDocument(doc(text), counter, { chunkTokens: 50, chunkOverlap: 5 });
    t.ok(chunks.length > 1);
    for (const c of chunks) t.ok(c.tokens <= 50 && c.tokens === reference.encode_ordinary(c.text).length);
  }
});

t.test('a 200,000-word document is chunked, not refused', async (t) => {
  const text = Array.from({ length: 20_000 }, (_, i) => `This is sentence ${i} with ten words in it. `).join('');
  const chunks = chunkDocument(doc(text), counter, { chunkTokens: 1200, chunkOverlap: 100 });
  t.ok(chunks.length > 150, `${chunks.length} chunks`);
  t.ok(chunks.every((c) => c.tokens <= 1200));
  t.ok(chunks[chunks.length - 1]!.text.includes('sentence 19999 '), 'the end is kept');
});

t.test('chunking is deterministic', async (t) => {
  const text = Array.from({ length: 100 }, (_, i) => sentence(i)).join('');
  const a = chunkDocument(doc(text), counter, { chunkTokens: 80, chunkOverlap: 10 });
  const b = chunkDocument(doc(text), counter, { chunkTokens: 80, chunkOverlap: 10 });
  t.same(a, b);
});

t.test('an overlap over half the chunk size is refused, naming both flags', async (t) => {
  t.throws(() => validateChunkOptions({ chunkTokens: 100, chunkOverlap: 60 }), { code: 'E_USAGE', message: /--chunk-overlap \(60\).*--chunk-tokens \(100\)/ });
});

t.teardown(() => reference.free());
