/**
 * GraphRAG-style tables: entities.csv (id, title, type, description, text_unit_ids, frequency,
 * degree) and relationships.csv (id, source, target, description, weight, text_unit_ids), with
 * GraphRAG's column names so its users can bring them over. A text unit here is a document;
 * `frequency` is the number of documents; lists are JSON arrays; relationship source and target
 * are entity titles, as in GraphRAG. sluice extracts no descriptions, so `description` is a
 * sentence built from what the graph knows (types, aliases; the relation in words).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { csvField, csvRow, quoteInner, writeCsvList, JSON_LIST } from './csv.js';
import type { ExportReport } from './export-neo4j.js';
import type { GraphStore } from './store.js';
import { writeFiles, type TextFileWriter } from './text-writer.js';

export const ENTITY_COLUMNS = ['id', 'title', 'type', 'description', 'text_unit_ids', 'frequency', 'degree'];
export const RELATIONSHIP_COLUMNS = ['id', 'source', 'target', 'description', 'weight', 'text_unit_ids'];

/** "Apple Inc. (organization; also product). Also known as: Apple, APPLE INC." as one quoted cell, aliases streamed. */
async function writeDescription(out: TextFileWriter, name: string, types: readonly string[], aliases: Iterable<string>): Promise<void> {
  const typeText = types.length > 1 ? `${types[0]}; also ${types.slice(1).join(', ')}` : (types[0] ?? '');
  out.write(`"${quoteInner(`${name} (${typeText}).`)}`);
  let last: string | undefined;
  for (const a of aliases) {
    if (a === name) continue;
    out.write(quoteInner(last === undefined ? ` Also known as: ${a}` : `, ${a}`));
    last = a;
    await out.maybeFlush();
  }
  out.write(last === undefined || last.endsWith('.') ? '"' : '."');
}

/** Writes entities.csv and relationships.csv into `dir` (created if absent). */
export async function exportTables(store: GraphStore, dir: string): Promise<ExportReport> {
  mkdirSync(dir, { recursive: true });
  return store.snapshot(async () => {
    const files = [join(dir, 'entities.csv'), join(dir, 'relationships.csv')];
    let nodes = 0;
    let edges = 0;
    await writeFiles(files, async ([entityOut, relationOut]) => {
      const out = entityOut!;
      out.write(csvRow(ENTITY_COLUMNS));
      for (const [n, docs] of store.nodesWithDocs()) {
        out.write(`${csvField(n.id)},${csvField(n.name)},${csvField(n.type)},`);
        // A node has few types; its aliases and documents are streamed.
        await writeDescription(out, n.name, [...store.typesOf(n.node)], store.aliasesOf(n.node));
        out.write(',');
        await writeCsvList(out, docs, JSON_LIST);
        out.write(`,${n.docCount},${n.degree}\n`);
        nodes++;
        await out.maybeFlush();
      }
      const rel = relationOut!;
      rel.write(csvRow(RELATIONSHIP_COLUMNS));
      for (const [e, docs] of store.edgesWithDocs()) {
        const description = `${e.sourceName} ${e.type.replace(/_/gu, ' ')} ${e.targetName}`;
        rel.write(`${csvField(e.id)},${csvField(e.sourceName)},${csvField(e.targetName)},${csvField(description)},${e.weight},`);
        await writeCsvList(rel, docs, JSON_LIST);
        rel.write('\n');
        edges++;
        await rel.maybeFlush();
      }
    });
    return { files, nodes, edges };
  });
}
