import t from 'tap';
import type { Failure, Result } from '../../lib/runtime/records.js';
import { graphStats } from '../../lib/graph/stats.js';
import { graphSink } from '../../stages/graph-sink.js';
import { runStage } from '../helpers/collect.js';
import { newStore } from '../helpers/graph.js';

const result = (seq: number, names: string[]): Result => ({
  kind: 'result',
  seq,
  line: seq + 1,
  source: 's',
  id: `d${seq}`,
  entities: names.map((name) => ({ name, type: 'organization', mentions: 1 })),
  relations: names.length > 1 ? [{ source: names[0]!, target: names[1]!, type: 'partner_of', count: 1 }] : [],
  meta: { n: seq },
  usage: { promptTokens: 0, completionTokens: 0, chunks: 1 },
});
const fail = (seq: number): Failure => ({ kind: 'failure', seq, line: seq + 1, source: 's', stage: 'parse', code: 'INVALID_JSON', reason: 'bad', excerpt: '' });

t.test('passes every item on unchanged and in order, and adds the results to the store in batches', async (t) => {
  const store = newStore();
  const input = [result(0, ['Apple Inc.', 'Microsoft']), fail(1), result(2, ['APPLE INC']), result(3, []), fail(4), result(5, ['Microsoft Corp', 'Apple'])];
  const copy = structuredClone(input);
  const out = await runStage(graphSink(store, { batchSize: 2 }), input);
  t.same(out, copy, 'the same items, same order, untouched');
  t.equal(out[0], input[0], 'the very same objects');
  t.match(graphStats(store), { documents: 4, nodes: 2, edges: 2, surfaceForms: 5, merges: 3 });
});

t.test('a store that cannot be written fails the stream with its error', async (t) => {
  const store = newStore();
  store.db.pragma('query_only = ON');
  await t.rejects(runStage(graphSink(store, { batchSize: 10 }), [result(0, ['Apple'])]), /readonly|read-only|query_only|attempt to write/i);
});
