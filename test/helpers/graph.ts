/** Building small graph stores and reading every export back as text, for the graph tests. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contributionOf } from '../../lib/graph/contribution.js';
import { exportGraphml } from '../../lib/graph/export-graphml.js';
import { exportNeo4j } from '../../lib/graph/export-neo4j.js';
import { exportTables } from '../../lib/graph/export-tables.js';
import type { GraphDocument } from '../../lib/graph/graph-input.js';
import { GraphStore, type AddReport } from '../../lib/graph/store.js';
import { seededRandom } from '../../simulator/seeded-random.js';

export function tempDir(prefix = 'sluice-graph-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let stores = 0;
export function newStore(dir = tempDir()): GraphStore {
  return GraphStore.open(join(dir, `g${++stores}.db`), { create: true });
}

type E = [name: string, type: string, mentions?: number];
type R = [source: string, target: string, type: string, count?: number];

export function doc(id: string, entities: E[], relations: R[] = []): GraphDocument {
  return {
    id,
    entities: entities.map(([name, type, mentions]) => ({ name, type, mentions: mentions ?? 1 })),
    relations: relations.map(([source, target, type, count]) => ({ source, target, type, count: count ?? 1 })),
  };
}

export function addDocs(store: GraphStore, docs: readonly GraphDocument[], batchSize = 3): AddReport {
  const total: AddReport = { added: 0, replaced: 0, unchanged: 0 };
  for (let i = 0; i < docs.length; i += batchSize) {
    const r = store.add(docs.slice(i, i + batchSize).map(contributionOf));
    total.added += r.added;
    total.replaced += r.replaced;
    total.unchanged += r.unchanged;
  }
  return total;
}

/** Every file of every export, by relative path, as text. */
export async function exportAll(store: GraphStore, dir = tempDir('sluice-export-')): Promise<Record<string, string>> {
  await exportNeo4j(store, join(dir, 'neo4j'));
  await exportTables(store, join(dir, 'tables'));
  await exportGraphml(store, join(dir, 'graph.graphml'));
  const out: Record<string, string> = {};
  for (const f of ['graph.graphml', ...readdirSync(join(dir, 'neo4j')).map((x) => `neo4j/${x}`), ...readdirSync(join(dir, 'tables')).map((x) => `tables/${x}`)]) {
    out[f] = readFileSync(join(dir, f), 'utf8');
  }
  return out;
}

/** A seeded Fisher-Yates shuffle (a copy). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
