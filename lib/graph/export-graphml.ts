/**
 * GraphML export, one directed graph: keys declared with `attr.type` and named ids (Gephi reads
 * ids like d0..dN as its own properties), a node `label` (Gephi's node label), edge `weight`
 * (Gephi's edge weight), list values as JSON arrays in strings. Characters XML 1.0 cannot carry
 * (most control characters, lone surrogates) become U+FFFD. Nodes, then edges, each by id.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExportReport } from './export-neo4j.js';
import type { GraphStore } from './store.js';
import { writeFiles, type TextFileWriter } from './text-writer.js';

interface KeyDef {
  id: string;
  for: 'node' | 'edge';
  name: string;
  type: 'string' | 'int';
}

export const GRAPHML_KEYS: readonly KeyDef[] = [
  { id: 'label', for: 'node', name: 'label', type: 'string' },
  { id: 'type', for: 'node', name: 'type', type: 'string' },
  { id: 'types', for: 'node', name: 'types', type: 'string' },
  { id: 'aliases', for: 'node', name: 'aliases', type: 'string' },
  { id: 'mentions', for: 'node', name: 'mentions', type: 'int' },
  { id: 'docCount', for: 'node', name: 'docCount', type: 'int' },
  { id: 'degree', for: 'node', name: 'degree', type: 'int' },
  { id: 'docs', for: 'node', name: 'docs', type: 'string' },
  { id: 'mergeKey', for: 'node', name: 'mergeKey', type: 'string' },
  { id: 'relation', for: 'edge', name: 'relation', type: 'string' },
  { id: 'weight', for: 'edge', name: 'weight', type: 'int' },
  { id: 'edgeDocCount', for: 'edge', name: 'docCount', type: 'int' },
  { id: 'edgeDocs', for: 'edge', name: 'docs', type: 'string' },
];

// Not allowed in XML 1.0 documents, even escaped.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;
// Element content only (attributes hold hex ids): a CR is escaped or parsers would turn it into LF.
const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };

export function xmlText(s: string): string {
  return s.replace(INVALID_XML, '\ufffd').replace(/[&<>\r]/gu, (c) => XML_ESCAPES[c]!);
}

function data(key: string, value: string | number): string {
  return `<data key="${key}">${typeof value === 'number' ? value : xmlText(value)}</data>`;
}

/** A JSON array of strings, streamed into a data element. */
async function listData(out: TextFileWriter, key: string, items: Iterable<string>): Promise<void> {
  out.write(`<data key="${key}">[`);
  let first = true;
  for (const item of items) {
    out.write(`${first ? '' : ','}${xmlText(JSON.stringify(item))}`);
    first = false;
    await out.maybeFlush();
  }
  out.write(']</data>');
}

/** Writes one GraphML file at `path` (its directory created if absent). */
export async function exportGraphml(store: GraphStore, path: string): Promise<ExportReport> {
  mkdirSync(dirname(path), { recursive: true });
  return store.snapshot(async () => {
    let nodes = 0;
    let edges = 0;
    await writeFiles([path], async ([out]) => {
      const w = out!;
      w.write('<?xml version="1.0" encoding="UTF-8"?>\n');
      w.write(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n',
      );
      for (const k of GRAPHML_KEYS) w.write(`  <key id="${k.id}" for="${k.for}" attr.name="${k.name}" attr.type="${k.type}"/>\n`);
      w.write('  <graph id="sluice" edgedefault="directed">\n');
      for (const [n, docs] of store.nodesWithDocs()) {
        w.write(`    <node id="${n.id}">${data('label', n.name)}${data('type', n.type)}`);
        await listData(w, 'types', store.typesOf(n.node));
        await listData(w, 'aliases', store.aliasesOf(n.node));
        w.write(`${data('mentions', n.mentions)}${data('docCount', n.docCount)}${data('degree', n.degree)}`);
        await listData(w, 'docs', docs);
        w.write(`${data('mergeKey', n.key)}</node>\n`);
        nodes++;
        await w.maybeFlush();
      }
      for (const [e, docs] of store.edgesWithDocs()) {
        w.write(`    <edge id="${e.id}" source="${e.source}" target="${e.target}">${data('relation', e.type)}${data('weight', e.weight)}${data('edgeDocCount', e.docCount)}`);
        await listData(w, 'edgeDocs', docs);
        w.write('</edge>\n');
        edges++;
        await w.maybeFlush();
      }
      w.write('  </graph>\n</graphml>\n');
    });
    return { files: [path], nodes, edges };
  });
}
