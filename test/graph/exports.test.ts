import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { exportGraphml, GRAPHML_KEYS } from '../../lib/graph/export-graphml.js';
import { exportNeo4j, neo4jLabel, NODE_HEADER, RELATIONSHIP_HEADER } from '../../lib/graph/export-neo4j.js';
import { exportTables, ENTITY_COLUMNS, RELATIONSHIP_COLUMNS } from '../../lib/graph/export-tables.js';
import type { GraphStore } from '../../lib/graph/store.js';
import { addDocs, doc, newStore, tempDir } from '../helpers/graph.js';

/** Values that CSV, Neo4j arrays and XML each find hard. */
function trickyStore(docIds: { semicolon?: boolean; pipe?: boolean; newline?: boolean } = {}): GraphStore {
  const store = newStore();
  const id = (base: string) => `${base}${docIds.semicolon ? ';x' : ''}`;
  addDocs(store, [
    doc(
      id('doc-1'),
      [
        ['Smith, Jones & Co', 'organization', 2],
        ['He said "hi"', 'person', 2],
        ['<Tag> & Sons', 'organization'],
        ['Ünïcödé 😀', 'place'],
        ['Bad\u0001Name', 'person'],
        ['Widget', 'product line'],
      ],
      [
        ['He said "hi"', 'Smith, Jones & Co', 'works for'],
        ['Widget', '<Tag> & Sons', 'is-a'],
      ],
    ),
    doc(
      docIds.newline ? 'doc\n2' : 'doc-2',
      [
        ['SMITH, JONES & CO.', 'organization'],
        ['Ünïcödé 😀', 'place'],
      ],
      [['SMITH, JONES & CO.', 'Ünïcödé 😀', 'located_in', 3]],
    ),
    doc(
      docIds.pipe ? 'doc|3' : 'doc-3',
      [
        ['he said "HI"', 'person'],
        ['Bad\u0001Name', 'person'],
      ],
      [['he said "HI"', 'Bad\u0001Name', 'knows']],
    ),
  ]);
  return store;
}

/** The Neo4j CSV header grammar (neo4j-admin database import): name[:type[]], :ID(group), :LABEL, :TYPE, :START_ID(group), :END_ID(group). */
const HEADER_FIELD =
  /^(?:[A-Za-z_][A-Za-z0-9_]*)?:(?:ID|START_ID|END_ID)\([A-Za-z_][A-Za-z0-9_]*\)$|^:LABEL$|^:TYPE$|^[A-Za-z_][A-Za-z0-9_]*(?::(?:int|long|float|double|boolean|byte|short|char|string|point|date|localtime|time|localdatetime|datetime|duration)(?:\[\])?)?$/;

function readCsv(path: string): string[][] {
  // Strict RFC 4180 reading: any quoting error throws.
  return parse(readFileSync(path, 'utf8'), { relax_column_count: false, relax_quotes: false, skip_empty_lines: false }) as string[][];
}

t.test('Neo4j: header grammar, RFC 4180 rows, arrays on the delimiter the import command names, ids that resolve', async (t) => {
  for (const [ids, delimiter, arg] of [
    [{}, ';', "'" + ';' + "'"],
    [{ semicolon: true }, '|', "'|'"],
    [{ semicolon: true, pipe: true, newline: true }, '\u001f', 'U+001F'],
  ] as const) {
    const store = trickyStore(ids);
    const dir = tempDir();
    const report = await exportNeo4j(store, dir);
    t.same(readdirSync(dir).sort(), ['import.sh', 'nodes.csv', 'relationships.csv'], 'no temporary files left');
    const script = readFileSync(join(dir, 'import.sh'), 'utf8');
    t.match(script, `neo4j-admin database import full "\${1:-neo4j}" --nodes=nodes.csv --relationships=relationships.csv --array-delimiter=${arg}`);
    t.equal(script.includes('--multiline-fields=true'), ids.newline === true, 'multiline only when a document id holds a line break');
    t.ok(statSync(join(dir, 'import.sh')).mode & 0o100, 'import.sh is executable');
    t.match(report.next, /^cd .* && neo4j-admin database import full neo4j /);

    const nodes = readCsv(join(dir, 'nodes.csv'));
    const rels = readCsv(join(dir, 'relationships.csv'));
    for (const [name, header] of [
      ['nodes', nodes[0]!],
      ['relationships', rels[0]!],
    ] as const) {
      for (const field of header) t.match(field, HEADER_FIELD, `${name} header field ${field}`);
    }
    t.same(nodes[0], NODE_HEADER);
    t.same(rels[0], RELATIONSHIP_HEADER);
    t.equal(nodes[0]!.filter((f) => /:ID\(/.test(f)).length, 1, 'one ID column');
    t.ok(['START_ID', 'END_ID'].every((k) => rels[0]!.some((f) => f.startsWith(`:${k}(Entity)`))) && rels[0]!.includes(':TYPE'));

    const col = (header: string[], name: string) => header.indexOf(name);
    const byId = new Map(nodes.slice(1).map((r) => [r[0]!, r]));
    t.equal(byId.size, nodes.length - 1, 'node ids are unique');
    t.equal(nodes.length - 1, report.nodes);
    for (const row of nodes.slice(1)) {
      t.equal(row.length, NODE_HEADER.length);
      for (const f of ['mentions:int', 'docCount:int', 'degree:int']) t.match(row[col(NODE_HEADER, f)], /^\d+$/);
      const docs = row[col(NODE_HEADER, 'docs:string[]')]!.split(delimiter);
      t.equal(docs.length, Number(row[col(NODE_HEADER, 'docCount:int')]), `docs list of ${row[2]} splits into docCount items`);
      t.ok(row[col(NODE_HEADER, 'aliases:string[]')]!.split(delimiter).includes(row[2]!), 'the name is among the aliases');
      t.match(row[1], /^Entity(?:[;|\u001f][A-Za-z0-9]+)?$/);
      t.ok(row[1]!.startsWith('Entity') && (row[1] === 'Entity' || row[1]!.split(delimiter).length === 2), 'labels on the array delimiter');
    }
    for (const row of rels.slice(1)) {
      t.equal(row.length, RELATIONSHIP_HEADER.length);
      t.ok(byId.has(row[0]!) && byId.has(row[1]!), 'both ends are nodes');
      t.match(row[2], /^[A-Z0-9_]+$/);
      t.equal(row[6]!.split(delimiter).length, Number(row[5]));
    }
    const smith = [...byId.values()].find((r) => r[col(NODE_HEADER, 'key')] === 'smith, jones')!;
    t.equal(smith[2], 'Smith, Jones & Co');
    t.same(smith[col(NODE_HEADER, 'aliases:string[]')]!.split(delimiter), ['Smith, Jones & Co', 'SMITH, JONES & CO.']);
    t.equal(smith[1], `Entity${delimiter}Organization`);
    const quoted = [...byId.values()].find((r) => r[2]!.startsWith('He said'))!;
    t.equal(quoted[2], 'He said "hi"', 'inner quotes survive the round trip');
    t.equal(quoted[col(NODE_HEADER, 'key')], 'he said "hi', 'a quote at the end of a name is dropped from the key');
    t.ok(rels.slice(1).some((r) => r[2] === 'WORKS_FOR') && rels.slice(1).some((r) => r[2] === 'IS_A'));
  }
  t.equal(neo4jLabel('product_line'), 'ProductLine');
  t.equal(neo4jLabel('person'), 'Person');
});

t.test('GraphML: valid XML, keys declared with attr.type and named ids, every value typed and read back', async (t) => {
  const store = trickyStore({ newline: true });
  const path = join(tempDir(), 'sub', 'g.graphml');
  const report = await exportGraphml(store, path);
  const xml = readFileSync(path, 'utf8');
  t.equal(XMLValidator.validate(xml), true, 'well-formed');
  t.notMatch(xml, /[\u0001-\u0008\u000b\u000c\u000e-\u001f]/, 'no characters XML 1.0 forbids');
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ['key', 'node', 'edge', 'data'].includes(name),
  }).parse(xml);
  const g = parsed.graphml;
  t.equal(g['@_xmlns'], 'http://graphml.graphdrawing.org/xmlns');
  const keys = new Map<string, { for: string; name: string; type: string }>(g.key.map((k: any) => [k['@_id'], { for: k['@_for'], name: k['@_attr.name'], type: k['@_attr.type'] }]));
  t.equal(keys.size, GRAPHML_KEYS.length);
  for (const [id, k] of keys) {
    t.notMatch(id, /^d\d+$/, `key id ${id} is a name, not d0..dN`);
    t.ok(['string', 'int'].includes(k.type), `${id} declares attr.type`);
    t.ok(k.name && (k.for === 'node' || k.for === 'edge'));
  }
  t.equal(g.graph['@_edgedefault'], 'directed');
  const nodes = g.graph.node as any[];
  const edges = g.graph.edge as any[];
  t.equal(nodes.length, report.nodes);
  t.equal(edges.length, report.edges);
  const nodeIds = new Set(nodes.map((n) => n['@_id']));
  const value = (el: any, key: string) => {
    const d = (el.data as any[]).find((x) => x['@_key'] === key);
    return d === undefined ? undefined : String(d['#text'] ?? '');
  };
  for (const el of [...nodes, ...edges]) {
    for (const d of el.data as any[]) {
      const k = keys.get(d['@_key']);
      t.ok(k && k.for === (nodes.includes(el) ? 'node' : 'edge'), `data ${d['@_key']} refers to a declared ${k?.for} key`);
      if (k?.type === 'int') t.match(String(d['#text']), /^\d+$/);
    }
  }
  for (const e of edges) t.ok(nodeIds.has(e['@_source']) && nodeIds.has(e['@_target']), 'edge ends are nodes');
  const bad = nodes.find((n) => value(n, 'mergeKey')!.startsWith('bad'))!;
  t.equal(value(bad, 'label'), 'Bad\ufffdName', 'a control character becomes U+FFFD');
  const smith = nodes.find((n) => value(n, 'mergeKey') === 'smith, jones')!;
  t.same(JSON.parse(value(smith, 'aliases')!), ['Smith, Jones & Co', 'SMITH, JONES & CO.'], 'lists are JSON arrays in strings');
  t.same(JSON.parse(value(smith, 'docs')!), ['doc\n2', 'doc-1'], 'a line break inside a value survives; codepoint order');
  t.equal(
    value(
      nodes.find((n) => value(n, 'mergeKey') === '<tag> & sons'),
      'label',
    ),
    '<Tag> & Sons',
  );
  t.equal(
    value(
      nodes.find((n) => value(n, 'mergeKey') === 'ünïcödé 😀'),
      'label',
    ),
    'Ünïcödé 😀',
  );
  t.ok(edges.every((e) => Number(value(e, 'weight')) >= 1));
});

t.test('tables: GraphRAG column names, JSON lists of document ids, titles that link', async (t) => {
  const store = trickyStore();
  const dir = tempDir();
  await exportTables(store, dir);
  const entities = readCsv(join(dir, 'entities.csv'));
  const relationships = readCsv(join(dir, 'relationships.csv'));
  t.same(entities[0], ENTITY_COLUMNS);
  t.same(entities[0], ['id', 'title', 'type', 'description', 'text_unit_ids', 'frequency', 'degree']);
  t.same(relationships[0], ['id', 'source', 'target', 'description', 'weight', 'text_unit_ids']);
  t.same(relationships[0], RELATIONSHIP_COLUMNS);
  const titles = new Set(entities.slice(1).map((r) => r[1]));
  for (const r of entities.slice(1)) {
    const units = JSON.parse(r[4]!);
    t.equal(units.length, Number(r[5]), 'frequency = number of documents');
    t.match(r[6], /^\d+$/);
    t.ok(r[3]!.startsWith(`${r[1]} (`), 'the description starts with the title and type');
  }
  for (const r of relationships.slice(1)) {
    t.ok(titles.has(r[1]) && titles.has(r[2]), 'source and target are entity titles');
    t.ok(Array.isArray(JSON.parse(r[5]!)));
  }
  const smith = entities.find((r) => r[1] === 'Smith, Jones & Co')!;
  t.equal(smith[3], 'Smith, Jones & Co (organization). Also known as: SMITH, JONES & CO.');
  t.equal(entities.find((r) => r[1] === 'Widget')![3], 'Widget (product_line).');
  t.ok(relationships.some((r) => r[3] === 'He said "hi" works for Smith, Jones & Co'));
});

t.test('exports are deterministic and never leave a half-written file', async (t) => {
  const store = trickyStore();
  const a = tempDir();
  const b = tempDir();
  await exportTables(store, a);
  await exportTables(store, b);
  for (const f of ['entities.csv', 'relationships.csv']) t.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), f);
  const blocked = join(tempDir(), 'graph.graphml');
  // A directory where the temporary file would go makes the write fail: nothing is left behind.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(blocked, '..', `.graph.graphml.${process.pid}.tmp`));
  await t.rejects(exportGraphml(store, blocked), { code: 'E_OUTPUT', message: /cannot write .*graph\.graphml/ });
  t.notOk(existsSync(blocked));
});
