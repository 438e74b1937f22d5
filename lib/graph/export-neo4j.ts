/**
 * Neo4j export: CSV files for `neo4j-admin database import full` (nodes.csv, relationships.csv)
 * and import.sh holding the exact command. Header grammar: `id:ID(Entity)`, `:LABEL`, typed
 * properties (`mentions:int`, `aliases:string[]`, ...), `:START_ID(Entity)`, `:END_ID(Entity)`,
 * `:TYPE`. Arrays use `;` unless a value contains it; then the first delimiter no value contains,
 * passed to the command as `--array-delimiter`. Rows by id; lists in the store's documented order.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { csvField, csvRow, writeCsvList, type ListFormat } from './csv.js';
import type { GraphStore } from './store.js';
import { writeFiles } from './text-writer.js';

export interface ExportReport {
  files: string[];
  nodes: number;
  edges: number;
  /** What to run next, for the user (Neo4j: the import command). */
  next?: string;
}

export const NODE_HEADER = ['id:ID(Entity)', ':LABEL', 'name', 'type', 'types:string[]', 'aliases:string[]', 'mentions:int', 'docCount:int', 'degree:int', 'docs:string[]', 'key'];
export const RELATIONSHIP_HEADER = [':START_ID(Entity)', ':END_ID(Entity)', ':TYPE', 'id', 'weight:int', 'docCount:int', 'docs:string[]'];

/** Candidates in order of preference; the last is the ASCII unit separator, which text rarely holds. */
const ARRAY_DELIMITERS = [';', '|', '\u001f'] as const;

/** "organization" -> "Organization", "event_type" -> "EventType"; only letters and digits remain. */
export function neo4jLabel(type: string): string {
  return type
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** How neo4j-admin is told the delimiter: printable ones as themselves, others as U+XXXX. */
function delimiterArgument(d: string): string {
  return d === '\u001f' ? 'U+001F' : `'${d}'`;
}

/** A path as one shell word, quoted only when it needs to be. */
function shellQuote(s: string): string {
  return /^[\w./-]+$/u.test(s) ? s : `'${s.replace(/'/gu, "'\\''")}'`;
}

export function importCommand(delimiter: string, multiline: boolean, database = 'neo4j'): string {
  return `neo4j-admin database import full ${database} --nodes=nodes.csv --relationships=relationships.csv --array-delimiter=${delimiterArgument(delimiter)}${multiline ? ' --multiline-fields=true' : ''}`;
}

/** Writes nodes.csv, relationships.csv and import.sh into `dir` (created if absent). */
export async function exportNeo4j(store: GraphStore, dir: string): Promise<ExportReport> {
  mkdirSync(dir, { recursive: true });
  return store.snapshot(async () => {
    const delimiter = ARRAY_DELIMITERS.find((d) => !store.listValuesContain(d));
    if (delimiter === undefined) throw new SluiceError(ErrorCode.FATAL, 'cannot export to Neo4j: document ids or names contain every array delimiter we can use (";", "|" and U+001F)');
    // Surface forms and types have whitespace collapsed; only document ids can hold a line break.
    const multiline = store.docIdsContain('\n') || store.docIdsContain('\r');
    const list: ListFormat = { open: '', separator: delimiter, close: '', item: (s) => s };
    const files = [join(dir, 'nodes.csv'), join(dir, 'relationships.csv')];
    let nodes = 0;
    let edges = 0;
    await writeFiles(files, async ([nodeOut, edgeOut]) => {
      nodeOut!.write(csvRow(NODE_HEADER));
      for (const [n, docs] of store.nodesWithDocs()) {
        const label = neo4jLabel(n.type);
        nodeOut!.write(`${csvField(n.id)},${csvField(label === '' || label === 'Entity' ? 'Entity' : `Entity${delimiter}${label}`)},${csvField(n.name)},${csvField(n.type)},`);
        await writeCsvList(nodeOut!, store.typesOf(n.node), list);
        nodeOut!.write(',');
        await writeCsvList(nodeOut!, store.aliasesOf(n.node), list);
        nodeOut!.write(`,${n.mentions},${n.docCount},${n.degree},`);
        await writeCsvList(nodeOut!, docs, list);
        nodeOut!.write(`,${csvField(n.key)}\n`);
        nodes++;
        await nodeOut!.maybeFlush();
      }
      edgeOut!.write(csvRow(RELATIONSHIP_HEADER));
      for (const [e, docs] of store.edgesWithDocs()) {
        edgeOut!.write(`${csvField(e.source)},${csvField(e.target)},${csvField(e.type.toUpperCase())},${csvField(e.id)},${e.weight},${e.docCount},`);
        await writeCsvList(edgeOut!, docs, list);
        edgeOut!.write('\n');
        edges++;
        await edgeOut!.maybeFlush();
      }
    });
    const command = importCommand(delimiter, multiline, '"${1:-neo4j}"');
    const script = join(dir, 'import.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        '# Imports nodes.csv and relationships.csv into a new Neo4j database (Neo4j 5.19 or later; stop it first).',
        '# Usage: sh import.sh [DATABASE]   (default: neo4j). Written by: node pipelines/graph.js export --format neo4j',
        'cd "$(dirname "$0")" || exit 1',
        `exec ${command}`,
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    return { files: [...files, script], nodes, edges, next: `cd ${shellQuote(dir)} && ${importCommand(delimiter, multiline)}` };
  });
}
