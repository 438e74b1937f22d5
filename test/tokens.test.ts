import t from 'tap';
import { get_encoding } from 'tiktoken';
import { encodingForModel, loadTokenCounter } from '../lib/llm/tokens.js';
import { generateDocs } from '../bench/generate-docs.js';
import { VARIED_TEXTS } from './helpers/corpus.js';

t.test('models map to their encodings', async (t) => {
  t.equal(encodingForModel('gpt-4.1-mini'), 'o200k_base');
  t.equal(encodingForModel('gpt-4o-2024-08-06'), 'o200k_base');
  t.equal(encodingForModel('gpt-5-nano'), 'o200k_base');
  t.equal(encodingForModel('gpt-4'), 'cl100k_base');
  t.equal(encodingForModel('gpt-3.5-turbo'), 'cl100k_base');
  t.equal(encodingForModel('text-embedding-3-small'), 'cl100k_base');
  t.equal(encodingForModel('openai/gpt-4o-mini'), 'o200k_base');
});

for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
  t.test(`hot-path counts equal tiktoken's (${encoding})`, async (t) => {
    const reference = get_encoding(encoding);
    const counter = await loadTokenCounter(encoding);
    const texts = [...VARIED_TEXTS, ...[...generateDocs(50, 7)].map((d) => d.text), VARIED_TEXTS.join('\n')];
    let mismatches = 0;
    for (const text of texts) {
      const expected = reference.encode_ordinary(text).length;
      const got = counter.count(text);
      if (got !== expected) {
        mismatches++;
        t.equal(got, expected, `count of ${JSON.stringify(text.slice(0, 40))}`);
      }
    }
    t.equal(mismatches, 0, `all ${texts.length} texts agree`);
    reference.free();
  });
}
