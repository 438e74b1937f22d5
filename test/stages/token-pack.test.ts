import t from 'tap';
import { Packer, tokenPack, type TokenPackOptions } from '../../stages/token-pack.js';
import type { Chunk, Failure, Pack } from '../../lib/runtime/records.js';
import { runStage } from '../helpers/collect.js';

const chunkOf = (seq: number, tokens: number, index = 0, count = 1): Chunk => ({
  kind: 'chunk',
  doc: { seq, line: seq + 1, source: 's', id: `d${seq}`, meta: {} },
  index,
  count,
  text: 'x',
  tokens,
});

function packAll(chunks: Chunk[], o: TokenPackOptions = { tokenBudget: 1000, maxDocs: 3, templateTokens: 100, perChunkTokens: 10 }): Pack[] {
  const p = new Packer(o);
  return [...chunks.flatMap((c) => p.add(c)), ...p.flush()];
}

t.test('packs stay under the budget with the template and per-chunk cost counted', async (t) => {
  const packs = packAll([chunkOf(0, 400), chunkOf(1, 400), chunkOf(2, 400), chunkOf(3, 50)]);
  t.same(
    packs.map((p) => p.chunks.map((c) => c.doc.seq)),
    [
      [0, 1],
      [2, 3],
    ],
  );
  for (const p of packs) t.ok(p.promptTokens <= 1000, `${p.id}: ${p.promptTokens}`);
  t.equal(packs[0]!.promptTokens, 100 + 2 * 10 + 2 * 400);
});

t.test('at most max-docs documents per pack; chunks of one document count once', async (t) => {
  const chunks = [chunkOf(0, 5), chunkOf(1, 5, 0, 2), chunkOf(1, 5, 1, 2), chunkOf(2, 5), chunkOf(3, 5), chunkOf(4, 5)];
  const packs = packAll(chunks);
  t.same(
    packs.map((p) => p.chunks.map((c) => `${c.doc.seq}.${c.index}`)),
    [
      ['0.0', '1.0', '1.1', '2.0'],
      ['3.0', '4.0'],
    ],
  );
});

t.test('deterministic, with stable ids', async (t) => {
  const chunks = Array.from({ length: 100 }, (_, i) => chunkOf(i, 17 + ((i * 37) % 300)));
  const a = packAll(chunks);
  const b = packAll(chunks);
  t.same(a, b);
  t.equal(a[0]!.id, 'p0.0');
});

t.test('a chunk too large for any pack still goes, alone', async (t) => {
  const packs = packAll([chunkOf(0, 10), chunkOf(1, 5000), chunkOf(2, 10)]);
  t.same(
    packs.map((p) => p.chunks.map((c) => c.doc.seq)),
    [[0], [1], [2]],
  );
});

t.test('a budget with no room after the template is refused', async (t) => {
  t.throws(() => new Packer({ tokenBudget: 100, maxDocs: 1, templateTokens: 100 }), { code: 'E_USAGE' });
});

t.test('the stage passes failures through and flushes the last pack', async (t) => {
  const f: Failure = { kind: 'failure', seq: 1, line: 2, source: 's', stage: 'parse', code: 'INVALID_JSON', reason: 'r', excerpt: '' };
  const out = await runStage(tokenPack({ tokenBudget: 1000, maxDocs: 10 }), [[chunkOf(0, 5), f, chunkOf(2, 5)]]);
  t.same(
    out.map((x) => x.kind),
    ['failure', 'pack'],
  );
  t.same(
    (out[1] as Pack).chunks.map((c) => c.doc.seq),
    [0, 2],
  );
});

t.test('with an answer to fit, a pack closes before its expected answer passes the share of --max-output-tokens', async (t) => {
  // Expected answer per chunk: 20 + 2 x 100 = 220 tokens; the frame adds 6; 80% of 1000 is 800.
  const answer = { prior: { answerBaseTokens: 20, answerTokensRatio: 2 }, maxOutputTokens: 1000 };
  const o = { tokenBudget: 100_000, maxDocs: 50, answer };
  const chunks = Array.from({ length: 10 }, (_, i) => chunkOf(i, 100));
  const packs = packAll(chunks, o);
  t.same(
    packs.map((p) => p.chunks.length),
    [3, 3, 3, 1],
    'three chunks expect 666 tokens of answer, a fourth would pass 800',
  );
  t.same(
    packAll(chunks, o).map((p) => p.id),
    packs.map((p) => p.id),
    'the same packs every time',
  );
  t.equal(packAll(chunks, { tokenBudget: 100_000, maxDocs: 50 }).length, 1, 'without an answer to fit, only the prompt budget and max-docs close packs');
  const big = packAll([chunkOf(0, 1000), chunkOf(1, 10)], o);
  t.same(
    big.map((p) => p.chunks.length),
    [1, 1],
    'a chunk whose answer alone is expected over the cap still goes, alone',
  );
});
