/** What a graph store holds: totals, how much merging did, and the most connected entities. */
import type { GraphStore } from './store.js';

export interface GraphStats {
  documents: number;
  nodes: number;
  edges: number;
  /** Rows of per-document mentions: one per (document, surface form, type), as the result lines listed them. */
  entityRows: number;
  /** (document, node) pairs: entity rows after merging within each document. */
  documentNodes: number;
  /** Sum of mention counts. */
  mentions: number;
  /** Distinct surface forms over all nodes. */
  surfaceForms: number;
  /** Surface forms merged into a node beyond its first: surfaceForms - nodes. */
  merges: number;
  /** Nodes seen with more than one type (all kept; the most frequent is `type`). */
  multiTypeNodes: number;
  /** Sum of edge weights. */
  relationWeight: number;
  topEntities: { id: string; name: string; type: string; mentions: number; docCount: number; degree: number }[];
  topRelationTypes: { type: string; edges: number; weight: number }[];
  topEdges: { source: string; type: string; target: string; weight: number; docCount: number }[];
}

export function graphStats(store: GraphStore, top = 10): GraphStats {
  const db = store.db;
  const one = <T>(sql: string): T => db.prepare(sql).get() as T;
  const n = one<{ nodes: number; mentions: number | null; documentNodes: number | null }>('SELECT count(*) AS nodes, sum(mentions) AS mentions, sum(doc_count) AS documentNodes FROM nodes');
  const e = one<{ edges: number; weight: number | null }>('SELECT count(*) AS edges, sum(weight) AS weight FROM edges');
  const documents = one<{ c: number }>('SELECT count(*) AS c FROM documents').c;
  const entityRows = one<{ c: number }>('SELECT count(*) AS c FROM mentions').c;
  const surfaceForms = one<{ c: number }>('SELECT count(*) AS c FROM aliases').c;
  const multiTypeNodes = one<{ c: number }>('SELECT count(*) AS c FROM (SELECT node FROM node_types GROUP BY node HAVING count(*) > 1)').c;
  return {
    documents,
    nodes: n.nodes,
    edges: e.edges,
    entityRows,
    documentNodes: n.documentNodes ?? 0,
    mentions: n.mentions ?? 0,
    surfaceForms,
    merges: surfaceForms - n.nodes,
    multiTypeNodes,
    relationWeight: e.weight ?? 0,
    topEntities: db.prepare('SELECT id, name, type, mentions, doc_count AS docCount, degree FROM nodes ORDER BY doc_count DESC, mentions DESC, id LIMIT ?').all(top) as GraphStats['topEntities'],
    topRelationTypes: db.prepare('SELECT type, count(*) AS edges, sum(weight) AS weight FROM edges GROUP BY type ORDER BY edges DESC, type LIMIT ?').all(top) as GraphStats['topRelationTypes'],
    topEdges: db
      .prepare(
        'SELECT s.name AS source, e.type, t.name AS target, e.weight, e.doc_count AS docCount FROM edges e JOIN nodes s ON s.node = e.source JOIN nodes t ON t.node = e.target ORDER BY e.weight DESC, e.id LIMIT ?',
      )
      .all(top) as GraphStats['topEdges'],
  };
}

export function formatStats(s: GraphStats, path: string): string {
  const f = (x: number) => x.toLocaleString('en-US');
  const ratio = s.nodes > 0 ? (s.entityRows / s.nodes).toFixed(2) : '0';
  const lines = [
    `graph ${path}`,
    `  documents       ${f(s.documents)}`,
    `  nodes           ${f(s.nodes)} (from ${f(s.entityRows)} entity rows: ${ratio} per node; ${f(s.mentions)} mentions)`,
    `  edges           ${f(s.edges)} (total weight ${f(s.relationWeight)})`,
    `  merges made     ${f(s.merges)} (surface forms merged into a node beyond its first; ${f(s.surfaceForms)} surface forms in all)`,
    `  type clashes    ${f(s.multiTypeNodes)} nodes seen with more than one type (all kept)`,
  ];
  if (s.topEntities.length > 0) {
    lines.push('', '  top entities (documents, mentions, degree):');
    for (const t of s.topEntities) lines.push(`    ${t.name} [${t.type}]  ${f(t.docCount)}  ${f(t.mentions)}  ${f(t.degree)}`);
  }
  if (s.topRelationTypes.length > 0) {
    lines.push('', '  relation types (edges, weight):');
    for (const t of s.topRelationTypes) lines.push(`    ${t.type}  ${f(t.edges)}  ${f(t.weight)}`);
  }
  if (s.topEdges.length > 0) {
    lines.push('', '  heaviest relations (weight, documents):');
    for (const t of s.topEdges) lines.push(`    ${t.source} -${t.type}-> ${t.target}  ${f(t.weight)}  ${f(t.docCount)}`);
  }
  return lines.join('\n');
}
