/**
 * Consistency of a graph store: SQLite's own integrity check, then every aggregate recomputed from
 * the per-document rows it is derived from. `node pipelines/graph.js check` runs it; after a crash
 * it shows that the store holds whole batches only. Each query streams (GROUP BY over the primary
 * keys, or a sort SQLite spills to disk), so a large store is checked in bounded memory.
 */
import type { GraphStore } from './store.js';

/** A name for the problem and the SQL counting its offending rows (0 when consistent). */
const CHECKS: readonly [string, string][] = [
  [
    'node mentions or document counts differ from their mention rows',
    `SELECT count(*) FROM nodes n LEFT JOIN (SELECT node, sum(count) AS mentions, count(DISTINCT doc) AS docs FROM mentions GROUP BY node) m ON m.node = n.node
     WHERE m.node IS NULL OR n.mentions != m.mentions OR n.doc_count != m.docs`,
  ],
  [
    'mention rows point at a missing node or document',
    'SELECT count(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node = m.node) OR NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc = m.doc)',
  ],
  [
    'alias counts differ from the mention rows',
    `SELECT count(*) FROM (SELECT node, surface, sum(count) AS c FROM mentions GROUP BY node, surface) m FULL JOIN aliases a ON a.node = m.node AND a.surface = m.surface
     WHERE a.node IS NULL OR m.node IS NULL OR a.mentions != m.c`,
  ],
  [
    'node type counts differ from the mention rows',
    `SELECT count(*) FROM (SELECT node, type, sum(count) AS c FROM mentions GROUP BY node, type) m FULL JOIN node_types t ON t.node = m.node AND t.type = m.type
     WHERE t.node IS NULL OR m.node IS NULL OR t.mentions != m.c`,
  ],
  [
    'display name or type is not the most frequent (ties by codepoint)',
    `SELECT count(*) FROM nodes n
     WHERE n.name IS NOT (SELECT surface FROM aliases a WHERE a.node = n.node ORDER BY mentions DESC, surface LIMIT 1)
        OR n.name_mentions IS NOT (SELECT max(mentions) FROM aliases a WHERE a.node = n.node)
        OR n.type IS NOT (SELECT type FROM node_types t WHERE t.node = n.node ORDER BY mentions DESC, type LIMIT 1)
        OR n.type_mentions IS NOT (SELECT max(mentions) FROM node_types t WHERE t.node = n.node)`,
  ],
  [
    'edge weights or document counts differ from their document rows',
    `SELECT count(*) FROM edges e LEFT JOIN (SELECT edge, sum(count) AS weight, count(*) AS docs FROM edge_docs GROUP BY edge) x ON x.edge = e.edge
     WHERE x.edge IS NULL OR e.weight != x.weight OR e.doc_count != x.docs`,
  ],
  [
    'edge document rows point at a missing edge or document',
    'SELECT count(*) FROM edge_docs x WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE e.edge = x.edge) OR NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc = x.doc)',
  ],
  ['edges point at a missing node', 'SELECT count(*) FROM edges e WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node = e.source) OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node = e.target)'],
  [
    'node degrees differ from their edges',
    `SELECT count(*) FROM nodes n LEFT JOIN (SELECT node, count(*) AS c FROM (SELECT source AS node FROM edges UNION ALL SELECT target FROM edges) GROUP BY node) d ON d.node = n.node
     WHERE n.degree != coalesce(d.c, 0)`,
  ],
  [
    'document entity or relation counts differ from their rows',
    `SELECT count(*) FROM documents d
     WHERE d.entities != (SELECT count(DISTINCT node) FROM mentions m WHERE m.doc = d.doc)
        OR d.relations != (SELECT count(*) FROM edge_docs x WHERE x.doc = d.doc)`,
  ],
];

/** Problems found, each with the number of rows concerned; empty when the store is consistent. */
export function checkGraph(store: GraphStore): string[] {
  const problems: string[] = [];
  const integrity = store.db.pragma('integrity_check', { simple: true });
  if (integrity !== 'ok') problems.push(`sqlite integrity_check: ${String(integrity)}`);
  for (const [what, sql] of CHECKS) {
    const bad = store.db.prepare(sql).pluck().get() as number;
    if (bad > 0) problems.push(`${what}: ${bad}`);
  }
  return problems;
}
