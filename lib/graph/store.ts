/**
 * The merged graph on disk (SQLite through better-sqlite3). `add` applies a batch of document
 * contributions in one transaction: a document id seen before has its earlier contribution
 * subtracted first (re-add replaces, never doubles), then the aggregates of every node and edge the
 * batch touched are brought up to date, display name and type included. A crash mid-batch rolls the
 * whole batch back. Memory is bounded by the batch, never by the graph: nothing is cached across
 * batches and reads stream with `iterate()`.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import type { Contribution } from './contribution.js';
import { compareCodepoints } from './merge-key.js';
import { openDatabase, type OpenOptions } from './schema.js';

export interface AddReport {
  /** Documents new to the store. */
  added: number;
  /** Documents already in the store whose contribution changed: the old one was replaced. */
  replaced: number;
  /** Documents already in the store with the same contribution: nothing to do. */
  unchanged: number;
}

/** What a batch needs of a node row: its display name and type, with their mention counts. */
interface NodeState {
  node: number;
  name: string;
  nameMentions: number;
  type: string;
  typeMentions: number;
}

interface NodeDelta {
  /** Known when the batch resolved the node; read at apply time when it only lost mentions. */
  state: NodeState | undefined;
  mentions: number;
  documents: number;
  degree: number;
  aliases: Map<string, number>;
  types: Map<string, number>;
}

interface EdgeDelta {
  weight: number;
  documents: number;
}

/** The running winner among a node's aliases (or types) while its deltas are applied. */
interface Winner {
  value: string;
  count: number;
  /** The winner itself lost mentions: only a full look at the rows can tell who leads now. */
  recompute: boolean;
}

export interface NodeRow {
  node: number;
  id: string;
  key: string;
  name: string;
  type: string;
  mentions: number;
  docCount: number;
  degree: number;
}

export interface EdgeRow {
  edge: number;
  id: string;
  source: string;
  target: string;
  sourceName: string;
  targetName: string;
  type: string;
  weight: number;
  docCount: number;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Most mentions wins; ties go to the smaller codepoint string, so arrival order never matters. */
function beats(value: string, count: number, best: Winner): boolean {
  return count > best.count || (count === best.count && count > 0 && compareCodepoints(value, best.value) < 0);
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    docById: p('SELECT doc, digest FROM documents WHERE doc_id = ?'),
    insertDoc: p('INSERT INTO documents (doc_id, digest, entities, relations) VALUES (?, ?, ?, ?)'),
    updateDoc: p('UPDATE documents SET digest = ?, entities = ?, relations = ? WHERE doc = ?'),
    mentionsOfDoc: p('SELECT node, surface, type, count FROM mentions WHERE doc = ?'),
    deleteMentionsOfDoc: p('DELETE FROM mentions WHERE doc = ?'),
    edgeDocsOfDoc: p('SELECT edge, count FROM edge_docs WHERE doc = ?'),
    deleteEdgeDocsOfDoc: p('DELETE FROM edge_docs WHERE doc = ?'),
    nodeById: p('SELECT node, key, name, name_mentions AS nameMentions, type, type_mentions AS typeMentions FROM nodes WHERE id = ?'),
    nodeByRow: p('SELECT node, name, name_mentions AS nameMentions, type, type_mentions AS typeMentions FROM nodes WHERE node = ?'),
    insertNode: p("INSERT INTO nodes (id, key, name, name_mentions, type, type_mentions, mentions, doc_count, degree) VALUES (?, ?, '', 0, '', 0, 0, 0, 0)"),
    insertMention: p('INSERT INTO mentions (doc, node, surface, type, count) VALUES (?, ?, ?, ?, ?)'),
    edgeById: p('SELECT edge, source, target, type FROM edges WHERE id = ?'),
    insertEdge: p('INSERT INTO edges (id, source, target, type, weight, doc_count) VALUES (?, ?, ?, ?, 0, 0)'),
    insertEdgeDoc: p('INSERT INTO edge_docs (doc, edge, count) VALUES (?, ?, ?)'),
    updateEdge: p('UPDATE edges SET weight = weight + ?, doc_count = doc_count + ? WHERE edge = ? RETURNING weight, source, target'),
    deleteEdge: p('DELETE FROM edges WHERE edge = ?'),
    upsertAlias: p('INSERT INTO aliases (node, surface, mentions) VALUES (?, ?, ?) ON CONFLICT (node, surface) DO UPDATE SET mentions = mentions + excluded.mentions RETURNING mentions').pluck(),
    deleteAlias: p('DELETE FROM aliases WHERE node = ? AND surface = ?'),
    upsertType: p('INSERT INTO node_types (node, type, mentions) VALUES (?, ?, ?) ON CONFLICT (node, type) DO UPDATE SET mentions = mentions + excluded.mentions RETURNING mentions').pluck(),
    deleteType: p('DELETE FROM node_types WHERE node = ? AND type = ?'),
    // Most mentioned first; ties by codepoint order (BINARY collation compares UTF-8 bytes).
    topAlias: p('SELECT surface AS value, mentions AS count FROM aliases WHERE node = ? ORDER BY mentions DESC, surface LIMIT 1'),
    topType: p('SELECT type AS value, mentions AS count FROM node_types WHERE node = ? ORDER BY mentions DESC, type LIMIT 1'),
    updateNode: p(
      'UPDATE nodes SET mentions = mentions + ?, doc_count = doc_count + ?, degree = degree + ?, name = ?, name_mentions = ?, type = ?, type_mentions = ? WHERE node = ? RETURNING mentions',
    ).pluck(),
    deleteNode: p('DELETE FROM nodes WHERE node = ?'),
    nodes: p('SELECT node, id, key, name, type, mentions, doc_count AS docCount, degree FROM nodes ORDER BY id'),
    aliasesOf: p('SELECT surface FROM aliases WHERE node = ? ORDER BY mentions DESC, surface').pluck(),
    typesOf: p('SELECT type FROM node_types WHERE node = ? ORDER BY mentions DESC, type').pluck(),
    nodeDocs: p('SELECT n.id, d.doc_id AS doc FROM (SELECT DISTINCT doc, node FROM mentions) m JOIN nodes n ON n.node = m.node JOIN documents d ON d.doc = m.doc ORDER BY n.id, d.doc_id'),
    edges: p(
      'SELECT e.edge, e.id, s.id AS source, t.id AS target, s.name AS sourceName, t.name AS targetName, e.type, e.weight, e.doc_count AS docCount FROM edges e JOIN nodes s ON s.node = e.source JOIN nodes t ON t.node = e.target ORDER BY e.id',
    ),
    edgeDocs: p('SELECT e.id, d.doc_id AS doc FROM edge_docs x JOIN edges e ON e.edge = x.edge JOIN documents d ON d.doc = x.doc ORDER BY e.id, d.doc_id'),
    listsContain: p(
      'SELECT EXISTS (SELECT 1 FROM documents WHERE instr(doc_id, :text) > 0) OR EXISTS (SELECT 1 FROM aliases WHERE instr(surface, :text) > 0) OR EXISTS (SELECT 1 FROM node_types WHERE instr(type, :text) > 0)',
    ).pluck(),
    docIdsContain: p('SELECT EXISTS (SELECT 1 FROM documents WHERE instr(doc_id, ?) > 0)').pluck(),
  };
}

interface IdDoc {
  id: string;
  doc: string;
}

/**
 * Document lists of all nodes (or edges) from one scan sorted by (id, document id), read in step
 * with the rows sorted by id: a merge join, so no list is looked up row by row and none is held.
 */
export class DocLists {
  private head: IdDoc | undefined;

  constructor(private readonly rows: IterableIterator<IdDoc>) {
    this.advance();
  }

  private advance(): void {
    const r = this.rows.next();
    this.head = r.done ? undefined : r.value;
  }

  /** The document ids of `id`; ids must be asked for in increasing order, each list read to its end. */
  *take(id: string): Generator<string> {
    // Ids are hex: JavaScript and SQLite order them alike.
    while (this.head !== undefined && this.head.id < id) this.advance();
    while (this.head !== undefined && this.head.id === id) {
      yield this.head.doc;
      this.advance();
    }
  }

  close(): void {
    this.rows.return?.();
  }
}

/** One batch's work in progress: the deltas it gathers and the rows it has resolved. */
class Batch {
  readonly report: AddReport = { added: 0, replaced: 0, unchanged: 0 };
  readonly nodeDeltas = new Map<number, NodeDelta>();
  readonly edgeDeltas = new Map<number, EdgeDelta>();
  // Rows resolved in this batch only: memory stays bounded by the batch.
  readonly nodeRows = new Map<string, NodeState>();
  readonly edgeRows = new Map<string, number>();

  nodeDelta(node: number, state?: NodeState): NodeDelta {
    let d = this.nodeDeltas.get(node);
    if (!d) this.nodeDeltas.set(node, (d = { state, mentions: 0, documents: 0, degree: 0, aliases: new Map(), types: new Map() }));
    else if (state) d.state = state;
    return d;
  }

  edgeDelta(edge: number): EdgeDelta {
    let d = this.edgeDeltas.get(edge);
    if (!d) this.edgeDeltas.set(edge, (d = { weight: 0, documents: 0 }));
    return d;
  }
}

export class GraphStore {
  readonly db: Database.Database;
  private readonly q: ReturnType<typeof prepare>;

  private constructor(
    db: Database.Database,
    readonly path: string,
  ) {
    this.db = db;
    this.q = prepare(db);
  }

  static open(path: string, options: OpenOptions = {}): GraphStore {
    return new GraphStore(openDatabase(path, options), path);
  }

  /** Adds (or replaces) documents in one transaction. Throws on an id collision; nothing is then written. */
  add(contributions: readonly Contribution[]): AddReport {
    return this.db.transaction(() => {
      const batch = new Batch();
      for (const c of contributions) this.addOne(c, batch);
      // Edges first: a node whose last mention went also lost its last edge, and degrees are on nodes.
      for (const [edge, d] of batch.edgeDeltas) this.applyEdge(edge, d, batch);
      for (const [node, d] of batch.nodeDeltas) this.applyNode(node, d);
      return batch.report;
    })();
  }

  private addOne(c: Contribution, batch: Batch): void {
    const q = this.q;
    const old = q.docById.get(c.docId) as { doc: number; digest: string } | undefined;
    let doc: number;
    if (old) {
      if (old.digest === c.digest) {
        batch.report.unchanged++;
        return;
      }
      doc = old.doc;
      this.subtract(doc, batch);
      q.updateDoc.run(c.digest, c.nodes.length, c.edges.length, doc);
      batch.report.replaced++;
    } else {
      doc = Number(q.insertDoc.run(c.docId, c.digest, c.nodes.length, c.edges.length).lastInsertRowid);
      batch.report.added++;
    }
    for (const n of c.nodes) {
      const state = this.resolveNode(n.id, n.key, batch);
      const d = batch.nodeDelta(state.node, state);
      d.mentions += n.mentions;
      d.documents += 1;
      for (const f of n.forms) {
        bump(d.aliases, f.surface, f.count);
        bump(d.types, f.type, f.count);
        q.insertMention.run(doc, state.node, f.surface, f.type, f.count);
      }
    }
    for (const e of c.edges) {
      const source = this.resolveNode(e.sourceId, e.sourceKey, batch).node;
      const target = this.resolveNode(e.targetId, e.targetKey, batch).node;
      const edge = this.resolveEdge(e.id, source, target, e.type, batch);
      const d = batch.edgeDelta(edge);
      d.weight += e.weight;
      d.documents += 1;
      q.insertEdgeDoc.run(doc, edge, e.weight);
    }
  }

  /** Takes a stored document's contribution out of the aggregates (as deltas) and deletes its rows. */
  private subtract(doc: number, batch: Batch): void {
    const q = this.q;
    const seen = new Set<number>();
    for (const m of q.mentionsOfDoc.iterate(doc) as IterableIterator<{ node: number; surface: string; type: string; count: number }>) {
      const d = batch.nodeDelta(m.node);
      d.mentions -= m.count;
      bump(d.aliases, m.surface, -m.count);
      bump(d.types, m.type, -m.count);
      if (!seen.has(m.node)) {
        seen.add(m.node);
        d.documents -= 1;
      }
    }
    q.deleteMentionsOfDoc.run(doc);
    for (const x of q.edgeDocsOfDoc.iterate(doc) as IterableIterator<{ edge: number; count: number }>) {
      const d = batch.edgeDelta(x.edge);
      d.weight -= x.count;
      d.documents -= 1;
    }
    q.deleteEdgeDocsOfDoc.run(doc);
  }

  private resolveNode(id: string, key: string, batch: Batch): NodeState {
    const known = batch.nodeRows.get(id);
    if (known !== undefined) return known;
    let state = this.q.nodeById.get(id) as (NodeState & { key: string }) | undefined;
    if (state) {
      if (state.key !== key) throw new SluiceError(ErrorCode.INTERNAL, `node id collision: keys ${JSON.stringify(state.key)} and ${JSON.stringify(key)} both hash to ${id}`);
    } else {
      state = { node: Number(this.q.insertNode.run(id, key).lastInsertRowid), key, name: '', nameMentions: 0, type: '', typeMentions: 0 };
    }
    batch.nodeRows.set(id, state);
    return state;
  }

  private resolveEdge(id: string, source: number, target: number, type: string, batch: Batch): number {
    const known = batch.edgeRows.get(id);
    if (known !== undefined) return known;
    const row = this.q.edgeById.get(id) as { edge: number; source: number; target: number; type: string } | undefined;
    let edge: number;
    if (row) {
      if (row.source !== source || row.target !== target || row.type !== type) throw new SluiceError(ErrorCode.INTERNAL, `edge id collision at ${id}`);
      edge = row.edge;
    } else {
      edge = Number(this.q.insertEdge.run(id, source, target, type).lastInsertRowid);
    }
    batch.edgeRows.set(id, edge);
    return edge;
  }

  /** An edge that appears or disappears changes its endpoints' degrees (both are in the batch: they were mentioned by the documents that made the change). */
  private applyEdge(edge: number, d: EdgeDelta, batch: Batch): void {
    if (d.weight === 0 && d.documents === 0) return;
    const row = this.q.updateEdge.get(d.weight, d.documents, edge) as { weight: number; source: number; target: number };
    const before = row.weight - d.weight;
    let degree = 0;
    if (row.weight === 0) {
      this.q.deleteEdge.run(edge);
      if (before > 0) degree = -1;
    } else if (before === 0) {
      degree = 1;
    }
    if (degree !== 0) {
      batch.nodeDelta(row.source).degree += degree;
      batch.nodeDelta(row.target).degree += degree;
    }
  }

  /**
   * One node's aliases, types and counts, and its display name and type: the most mentioned
   * surface form and type, ties by codepoint. Counts that grew are compared with the current
   * winner; only when the winner itself lost mentions is the choice recomputed from the rows.
   */
  private applyNode(node: number, d: NodeDelta): void {
    const q = this.q;
    const state = d.state ?? (q.nodeByRow.get(node) as NodeState);
    const name: Winner = { value: state.name, count: state.nameMentions, recompute: false };
    const type: Winner = { value: state.type, count: state.typeMentions, recompute: false };
    const apply = (deltas: Map<string, number>, upsert: Database.Statement, remove: Database.Statement, best: Winner) => {
      for (const [value, by] of deltas) {
        if (by === 0) continue;
        const count = upsert.get(node, value, by) as number;
        if (count === 0) remove.run(node, value);
        if (value === best.value) {
          best.count = count;
          if (by < 0) best.recompute = true;
        } else if (beats(value, count, best)) {
          best.value = value;
          best.count = count;
        }
      }
      if (best.recompute) Object.assign(best, (best === name ? q.topAlias : q.topType).get(node) ?? { value: '', count: 0 });
    };
    apply(d.aliases, q.upsertAlias, q.deleteAlias, name);
    apply(d.types, q.upsertType, q.deleteType, type);
    const mentions = q.updateNode.get(d.mentions, d.documents, d.degree, name.value, name.count, type.value, type.count, node) as number;
    if (mentions === 0) q.deleteNode.run(node);
  }

  /**
   * Runs `fn` inside one read transaction, so that everything it reads is one snapshot even while
   * another process adds to the store (WAL readers are not blocked and see no partial batch).
   */
  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN');
    try {
      return await fn();
    } finally {
      this.db.exec('COMMIT');
    }
  }

  /** Every node, by id. */
  nodes(): IterableIterator<NodeRow> {
    return this.q.nodes.iterate() as IterableIterator<NodeRow>;
  }

  /** A node's surface forms, most mentioned first, then by codepoint. */
  aliasesOf(node: number): IterableIterator<string> {
    return this.q.aliasesOf.iterate(node) as IterableIterator<string>;
  }

  /** A node's observed types, most mentioned first, then by codepoint. */
  typesOf(node: number): IterableIterator<string> {
    return this.q.typesOf.iterate(node) as IterableIterator<string>;
  }

  /** Every node by id, with its document ids by codepoint (streamed: read a list before the next node). */
  *nodesWithDocs(): Generator<[NodeRow, Iterable<string>]> {
    const lists = new DocLists(this.q.nodeDocs.iterate() as IterableIterator<IdDoc>);
    try {
      for (const n of this.nodes()) yield [n, lists.take(n.id)];
    } finally {
      lists.close();
    }
  }

  /** Every edge with its endpoints' ids and names, by edge id. */
  edges(): IterableIterator<EdgeRow> {
    return this.q.edges.iterate() as IterableIterator<EdgeRow>;
  }

  /** Every edge by id, with its document ids by codepoint (streamed: read a list before the next edge). */
  *edgesWithDocs(): Generator<[EdgeRow, Iterable<string>]> {
    const lists = new DocLists(this.q.edgeDocs.iterate() as IterableIterator<IdDoc>);
    try {
      for (const e of this.edges()) yield [e, lists.take(e.id)];
    } finally {
      lists.close();
    }
  }

  /** True when a document id, a surface form or a type contains `text` (exports pick list delimiters by it). */
  listValuesContain(text: string): boolean {
    return this.q.listsContain.get({ text }) === 1;
  }

  docIdsContain(text: string): boolean {
    return this.q.docIdsContain.get(text) === 1;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
