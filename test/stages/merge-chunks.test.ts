import t from 'tap';
import { mergeChunks, mergeExtractions } from '../../stages/merge-chunks.js';
import type { Chunk, ChunkExtraction, Failure, Pack, PackOutcome, Result } from '../../lib/runtime/records.js';
import { runStage } from '../helpers/collect.js';

const chunk = (seq: number, index = 0, count = 1, tokens = 10): Chunk => ({
  kind: 'chunk',
  doc: { seq, line: seq + 1, source: 's', id: `d${seq}`, meta: { n: seq } },
  index,
  count,
  text: 't',
  tokens,
});
const ex = (...names: string[]): ChunkExtraction => ({ entities: names.map((name) => ({ name, type: 'person', mentions: 1 })), relations: [] });

function outcome(chunks: Chunk[], found: Record<string, ChunkExtraction>, failed: Record<string, string> = {}, usage = { promptTokens: 0, completionTokens: 0 }): PackOutcome {
  const pack: Pack = { kind: 'pack', id: 'p', chunks, tokens: chunks.reduce((s, c) => s + c.tokens, 0), promptTokens: 0 };
  return { kind: 'outcome', pack, extractions: new Map(Object.entries(found)), failed: new Map(Object.entries(failed).map(([k, reason]) => [k, { code: 'E_TRANSIENT', reason }])), usage };
}
const fail = (seq: number): Failure => ({ kind: 'failure', seq, line: seq + 1, source: 's', stage: 'parse', code: 'INVALID_JSON', reason: 'bad', excerpt: '' });

t.test('restores input order across failures and packs', async (t) => {
  const out = await runStage(mergeChunks(), [fail(2), outcome([chunk(0), chunk(1), chunk(3)], { '0.0': ex('A'), '1.0': ex('B'), '3.0': ex('C') }), fail(4)]);
  t.same(
    out.map((x) => x.seq),
    [0, 1, 2, 3, 4],
  );
  t.same(
    out.map((x) => x.kind),
    ['result', 'result', 'failure', 'result', 'failure'],
  );
});

t.test('unordered mode emits as completed', async (t) => {
  const out = await runStage(mergeChunks({ unordered: true }), [fail(2), outcome([chunk(0), chunk(1)], { '0.0': ex('A'), '1.0': ex('B') })]);
  t.same(
    out.map((x) => x.seq),
    [2, 0, 1],
  );
});

t.test('chunks of one document, across packs, merge into one result with de-duplicated entities', async (t) => {
  const out = await runStage(mergeChunks(), [
    outcome([chunk(0, 0, 3)], { '0.0': ex('Angela Merkel', 'Berlin') }, {}, { promptTokens: 100, completionTokens: 10 }),
    outcome([chunk(0, 1, 3), chunk(0, 2, 3)], { '0.1': ex('angela  merkel'), '0.2': ex('Paris') }, {}, { promptTokens: 50, completionTokens: 7 }),
  ]);
  t.equal(out.length, 1);
  const r = out[0] as Result;
  t.same(
    r.entities.map((e) => [e.name, e.mentions]),
    [
      ['Angela Merkel', 2],
      ['Berlin', 1],
      ['Paris', 1],
    ],
  );
  t.same(r.usage, { promptTokens: 150, completionTokens: 17, chunks: 3 });
  t.same(r.meta, { n: 0 });
});

t.test("usage is shared among a pack's documents by tokens and adds up exactly", async (t) => {
  const out = (await runStage(mergeChunks(), [
    outcome([chunk(0, 0, 1, 10), chunk(1, 0, 1, 20), chunk(2, 0, 1, 3)], { '0.0': ex(), '1.0': ex(), '2.0': ex() }, {}, { promptTokens: 1001, completionTokens: 77 }),
  ])) as Result[];
  t.equal(
    out.reduce((s, r) => s + r.usage.promptTokens, 0),
    1001,
  );
  t.equal(
    out.reduce((s, r) => s + r.usage.completionTokens, 0),
    77,
  );
  t.ok(out[1]!.usage.promptTokens > out[0]!.usage.promptTokens);
});

t.test('a document with a failed chunk is dead-lettered whole, naming the chunk', async (t) => {
  const out = await runStage(mergeChunks(), [outcome([chunk(0, 0, 2), chunk(0, 1, 2), chunk(1)], { '0.0': ex('A'), '1.0': ex('B') }, { '0.1': 'timed out' })]);
  t.match(out[0], { kind: 'failure', seq: 0, id: 'd0', stage: 'extract', code: 'EXTRACT_FAILED', reason: /chunk 2 of 2: timed out/ });
  t.match(out[1], { kind: 'result', id: 'd1' });
});

t.test('relations follow the merged entity names', async (t) => {
  const merged = mergeExtractions([
    { entities: [{ name: 'Acme', type: 'organization', mentions: 1 }], relations: [] },
    {
      entities: [
        { name: 'ACME', type: 'organization', mentions: 2 },
        { name: 'Ann', type: 'person', mentions: 1 },
      ],
      relations: [{ source: 'Ann', target: 'ACME', type: 'works_for', count: 1 }],
    },
    { entities: [], relations: [{ source: 'ann', target: 'acme', type: 'works_for', count: 1 }] },
  ]);
  t.same(merged.entities, [
    { name: 'Acme', type: 'organization', mentions: 3 },
    { name: 'Ann', type: 'person', mentions: 1 },
  ]);
  t.same(merged.relations, [{ source: 'Ann', target: 'Acme', type: 'works_for', count: 2 }]);
});

t.test('a missing sequence number is reported, not silently dropped', async (t) => {
  await t.rejects(runStage(mergeChunks(), [fail(1)]), { code: 'E_INTERNAL' });
});
