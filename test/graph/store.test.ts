import t from 'tap';
import { generateResults } from '../../bench/generate-results.js';
import { checkGraph } from '../../lib/graph/check.js';
import { contributionOf } from '../../lib/graph/contribution.js';
import type { GraphDocument } from '../../lib/graph/graph-input.js';
import { mergeKey, nodeId } from '../../lib/graph/merge-key.js';
import { graphStats } from '../../lib/graph/stats.js';
import type { GraphStore } from '../../lib/graph/store.js';
import { addDocs, doc, exportAll, newStore, shuffled } from '../helpers/graph.js';

interface NodeView {
  name: string;
  type: string;
  types: string[];
  aliases: string[];
  mentions: number;
  docCount: number;
  degree: number;
  docs: string[];
}

/** Every node by merge key, read through the same iterators the exports use. */
function nodesOf(store: GraphStore): Map<string, NodeView> {
  const out = new Map<string, NodeView>();
  for (const [n, docs] of store.nodesWithDocs()) {
    out.set(n.key, {
      name: n.name,
      type: n.type,
      types: [...store.typesOf(n.node)],
      aliases: [...store.aliasesOf(n.node)],
      mentions: n.mentions,
      docCount: n.docCount,
      degree: n.degree,
      docs: [...docs],
    });
  }
  return out;
}

function edgesOf(store: GraphStore): Map<string, { weight: number; docCount: number; docs: string[] }> {
  const out = new Map<string, { weight: number; docCount: number; docs: string[] }>();
  for (const [e, docs] of store.edgesWithDocs()) out.set(`${e.sourceName} -${e.type}-> ${e.targetName}`, { weight: e.weight, docCount: e.docCount, docs: [...docs] });
  return out;
}

const corpus: GraphDocument[] = [
  doc(
    'd2',
    [
      ['Apple Inc.', 'organization', 2],
      ['Tim Cook', 'person'],
      ['Cupertino', 'place'],
    ],
    [
      ['Tim Cook', 'Apple Inc.', 'works_for'],
      ['Apple Inc.', 'Cupertino', 'located_in'],
    ],
  ),
  doc(
    'd1',
    [
      ['APPLE INC', 'organization'],
      ['Apple', 'organization'],
      ['tim cook', 'person'],
    ],
    [['tim cook', 'APPLE INC', 'works for', 2]],
  ),
  doc(
    'd10',
    [
      ['Apple', 'organization'],
      ["Apple's", 'organization'],
      ['Apple', 'product'],
      ['Cupertino', 'place'],
    ],
    [['Apple', 'Cupertino', 'LOCATED-IN']],
  ),
];

t.test('entities merge across documents with their provenance; relations weighted by how often they were seen', async (t) => {
  const store = newStore();
  t.same(addDocs(store, corpus, 2), { added: 3, replaced: 0, unchanged: 0 });
  const nodes = nodesOf(store);
  t.same([...nodes.keys()].sort(), ['apple', 'cupertino', 'tim cook']);
  t.same(nodes.get('apple'), {
    name: 'Apple',
    type: 'organization',
    types: ['organization', 'product'],
    aliases: ['Apple', 'Apple Inc.', 'APPLE INC', "Apple's"],
    mentions: 7,
    docCount: 3,
    degree: 2,
    docs: ['d1', 'd10', 'd2'],
  });
  t.same(nodes.get('tim cook'), { name: 'Tim Cook', type: 'person', types: ['person'], aliases: ['Tim Cook', 'tim cook'], mentions: 2, docCount: 2, degree: 1, docs: ['d1', 'd2'] });
  t.same(
    edgesOf(store),
    new Map([
      ['Apple -located_in-> Cupertino', { weight: 2, docCount: 2, docs: ['d10', 'd2'] }],
      ['Tim Cook -works_for-> Apple', { weight: 3, docCount: 2, docs: ['d1', 'd2'] }],
    ]),
    'relation types normalised; weights summed; endpoints by merge key',
  );
  t.same(checkGraph(store), []);
  const stats = graphStats(store);
  t.match(stats, { documents: 3, nodes: 3, edges: 2, entityRows: 10, mentions: 11, surfaceForms: 7, merges: 4, multiTypeNodes: 1, relationWeight: 5 });
  t.equal(stats.topEntities[0]!.name, 'Apple');
});

t.test('the display name is the most frequent surface form; a tie goes to codepoint order, whatever the arrival order', async (t) => {
  const a = doc('a', [['ACME', 'organization']]);
  const b = doc('b', [['Acme', 'organization']]);
  for (const order of [
    [a, b],
    [b, a],
  ]) {
    const store = newStore();
    addDocs(store, order, 1);
    t.equal(nodesOf(store).get('acme')!.name, 'ACME', `tie -> ACME ("C" < "c"), order ${order.map((d) => d.id).join(',')}`);
    addDocs(store, [doc('c', [['Acme', 'organization']])]);
    t.equal(nodesOf(store).get('acme')!.name, 'Acme', 'then the more frequent one');
    t.same(checkGraph(store), []);
  }
});

t.test('a type clash keeps one node with every type; the most frequent is its type', async (t) => {
  const store = newStore();
  addDocs(store, [doc('1', [['Jordan', 'place', 3]]), doc('2', [['Jordan', 'person', 2]]), doc('3', [['Jordan', 'person', 2]])]);
  const n = nodesOf(store).get('jordan')!;
  t.equal(n.type, 'person', '4 person mentions over 3 place mentions');
  t.same(n.types, ['person', 'place']);
  t.equal(nodesOf(store).size, 1);
});

t.test('re-adding a document id replaces its contribution: never doubled, removed entities disappear', async (t) => {
  const store = newStore();
  addDocs(store, corpus);
  const before = await exportAll(store);
  t.same(addDocs(store, corpus), { added: 0, replaced: 0, unchanged: 3 }, 'the same lines again change nothing');
  t.same(await exportAll(store), before, 'byte-identical after a repeated add');

  const changed = doc('d2', [['Apple', 'organization', 5]], []);
  t.same(addDocs(store, [changed]), { added: 0, replaced: 1, unchanged: 0 });
  const nodes = nodesOf(store);
  t.equal(nodes.get('apple')!.mentions, 2 + 3 + 5, 'd2 now contributes 5 mentions, not 2 + 5');
  t.same(nodes.get('tim cook')!.docs, ['d1'], 'd2 no longer mentions Tim Cook');
  t.same(edgesOf(store).get('Apple -located_in-> Cupertino'), { weight: 1, docCount: 1, docs: ['d10'] });
  t.same(edgesOf(store).get('tim cook -works_for-> Apple'), { weight: 2, docCount: 1, docs: ['d1'] }, 'named by its only remaining surface form');
  t.same(checkGraph(store), []);

  const fresh = newStore();
  addDocs(fresh, [corpus[1]!, corpus[2]!, changed]);
  t.same(await exportAll(store), await exportAll(fresh), 'same graph as if d2 had only ever been the new version');

  addDocs(store, [doc('d10', [['Zed', 'person']])]);
  addDocs(store, [doc('d1', [['Zed', 'person']])]);
  addDocs(store, [doc('d2', [['Zed', 'person']])]);
  t.same([...nodesOf(store).keys()], ['zed'], 'nodes whose last mention went are deleted');
  t.same(edgesOf(store).size, 0, 'and their edges');
  t.equal(nodesOf(store).get('zed')!.degree, 0);
  t.same(checkGraph(store), []);
});

t.test('the same document twice in one batch: the later one wins', async (t) => {
  const store = newStore();
  t.same(addDocs(store, [doc('x', [['Alpha', 'person']]), doc('x', [['Beta', 'person']])], 10), { added: 1, replaced: 1, unchanged: 0 });
  t.same([...nodesOf(store).keys()], ['beta']);
  t.same(checkGraph(store), []);
});

t.test('a name losing its lead is replaced by the next most frequent (recomputed)', async (t) => {
  const store = newStore();
  addDocs(store, [doc('1', [['IBM', 'organization', 5]]), doc('2', [['I.B.M.', 'organization', 3]]), doc('3', [['Ibm', 'organization', 3]])]);
  t.equal(nodesOf(store).get('ibm')!.name, 'IBM');
  addDocs(store, [doc('1', [['IBM', 'organization', 1]])]);
  t.equal(nodesOf(store).get('ibm')!.name, 'I.B.M.', 'a 3-3 tie: "I.B.M." < "Ibm" by codepoint');
  t.same(checkGraph(store), []);
});

t.test('incremental adds give the graph a single add would', async (t) => {
  const docs = [...generateResults(300, 7, { vocabulary: 60 })];
  const once = newStore();
  addDocs(once, docs, 50);
  const parts = newStore();
  addDocs(parts, docs.slice(0, 100), 50);
  addDocs(parts, docs.slice(100, 250), 7);
  addDocs(parts, docs.slice(250), 1000);
  t.same(await exportAll(parts), await exportAll(once));
  t.same(checkGraph(parts), []);
});

t.test('order independence: shuffled input, other batch sizes, replaced and restored documents give byte-identical exports', async (t) => {
  const docs = [...generateResults(400, 3, { vocabulary: 40, skew: 0.8 })];
  const reference = newStore();
  addDocs(reference, docs, 64);
  const expected = await exportAll(reference);
  t.ok(graphStats(reference).merges > 0, 'the corpus has variants to merge');

  for (const [seed, batch] of [
    [1, 1],
    [2, 17],
    [3, 400],
  ] as const) {
    const store = newStore();
    addDocs(store, shuffled(docs, seed), batch);
    t.same(await exportAll(store), expected, `shuffle ${seed}, batches of ${batch}`);
  }

  // Documents first added with other content, then restored: the graph forgets the detour.
  const detour = newStore();
  const altered = docs.slice(0, 150).map((d, i) => ({ ...d, entities: d.entities.slice(i % 3), relations: [] }));
  addDocs(detour, shuffled(altered, 9), 25);
  addDocs(detour, shuffled(docs, 10), 33);
  t.same(await exportAll(detour), expected, 'after replacing 150 documents with their originals');
  t.same(checkGraph(detour), []);
});

t.test('relations to unknown entities or collapsing onto one node are left out, with the reason', async (t) => {
  const c = contributionOf(
    doc(
      'r',
      [
        ['Apple Inc.', 'organization'],
        ['Apple', 'organization'],
        ['Tim Cook', 'person'],
      ],
      [
        ['Tim Cook', 'Steve Jobs', 'works_for'],
        ['Apple Inc.', 'Apple', 'same_as'],
        ['  tim   COOK ', 'apple', 'works_for'],
      ],
    ),
  );
  t.same(
    c.skipped.map((s) => s.index),
    [0, 1],
  );
  t.match(c.skipped[0]!.reason, /relations\[0\]: target "Steve Jobs" is not among the document's entities/);
  t.match(c.skipped[1]!.reason, /are one entity after merging/);
  t.equal(c.edges.length, 1, 'endpoints found loosely (case and spacing)');
  t.equal(c.edges[0]!.sourceId, nodeId(mergeKey('Tim Cook', 'person')));
});

t.test('an id collision (two keys, one id) stops the batch and writes nothing of it', async (t) => {
  const store = newStore();
  addDocs(store, [doc('before', [['Someone', 'person']])]);
  // What a 64-bit collision would look like: a stored node whose id is apple's but whose key is not.
  store.db.prepare("UPDATE nodes SET id = ? WHERE key = 'someone'").run(nodeId('apple'));
  t.throws(() => store.add([contributionOf(doc('new', [['Zebra', 'animal']])), contributionOf(doc('clash', [['Apple', 'organization']]))]), {
    code: 'E_INTERNAL',
    message: /node id collision: keys "someone" and "apple"/,
  });
  t.equal(store.db.prepare('SELECT count(*) FROM documents').pluck().get(), 1, 'the whole batch rolled back');
});
