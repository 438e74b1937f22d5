/**
 * What one document adds to the graph: its mentions grouped by merge key (per surface form and
 * type) and its relations grouped by (source key, target key, type). Pure and canonical: the same
 * document gives the same contribution, rows in a fixed order, and a digest that lets a re-add of
 * an unchanged document be skipped.
 */
import { createHash } from 'node:crypto';
import { normaliseName } from '../runtime/names.js';
import type { GraphDocument } from './graph-input.js';
import { edgeId, mergeKey, nodeId, normaliseType, surfaceForm } from './merge-key.js';

export interface FormCount {
  surface: string;
  type: string;
  count: number;
}

export interface NodePart {
  id: string;
  key: string;
  mentions: number;
  /** By surface, then type. */
  forms: FormCount[];
}

export interface EdgePart {
  id: string;
  sourceId: string;
  sourceKey: string;
  targetId: string;
  targetKey: string;
  type: string;
  weight: number;
}

export interface SkippedRelation {
  /** Index in the line's `relations`. */
  index: number;
  reason: string;
}

export interface Contribution {
  docId: string;
  /** By id. */
  nodes: NodePart[];
  /** By id. */
  edges: EdgePart[];
  /** SHA-1 of the canonical nodes and edges. */
  digest: string;
  /** Relations left out, with why (an endpoint that is not an entity of the document, a self-loop). */
  skipped: SkippedRelation[];
}

interface Keyed {
  key: string;
  id: string;
  mentions: number;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface MentionKeys {
  key: string;
  id: string;
  surface: string;
  type: string;
}

/**
 * Recent keys: names, types and relations recur across documents, and keying plus hashing is most
 * of the work of a contribution. Each cache is bounded: emptied when full.
 */
const CACHE_SIZE = 50_000;
const mentionCache = new Map<string, MentionKeys>();
const typeCache = new Map<string, string>();
const edgeIdCache = new Map<string, string>();

function cached<V>(cache: Map<string, V>, k: string, make: () => V): V {
  let v = cache.get(k);
  if (v === undefined) {
    if (cache.size >= CACHE_SIZE) cache.clear();
    v = make();
    cache.set(k, v);
  }
  return v;
}

function keysOf(name: string, type: string): MentionKeys {
  // Length-prefixed: names may hold any character, a separator could be ambiguous.
  return cached(mentionCache, `${name.length}:${name}${type}`, () => {
    const key = mergeKey(name, type);
    return { key, id: nodeId(key), surface: surfaceForm(name), type: normaliseType(type) };
  });
}

/** An endpoint named like several entities of the document: the most mentioned wins, then the smaller key. */
function better(a: Keyed, b: Keyed): Keyed {
  if (a.mentions !== b.mentions) return a.mentions > b.mentions ? a : b;
  return a.key <= b.key ? a : b;
}

/**
 * Finds a relation endpoint among the document's entities: the entity with exactly that name, else
 * the same surface form, else the same name compared loosely (case, spacing). The looser maps are
 * built only when a name is not found exactly (extractors name endpoints as they name entities).
 */
class EndpointIndex {
  private readonly exact = new Map<string, Keyed>();
  private surface: Map<string, Keyed> | undefined;
  private loose: Map<string, Keyed> | undefined;
  private readonly all: { name: string; keyed: Keyed }[] = [];

  add(name: string, keyed: Keyed): void {
    const seen = this.exact.get(name);
    this.exact.set(name, seen ? better(seen, keyed) : keyed);
    this.all.push({ name, keyed });
  }

  find(name: string): Keyed | undefined {
    const hit = this.exact.get(name);
    if (hit) return hit;
    if (!this.surface || !this.loose) {
      this.surface = new Map();
      this.loose = new Map();
      for (const { name: n, keyed } of this.all) {
        for (const [map, k] of [
          [this.surface, surfaceForm(n)],
          [this.loose, normaliseName(n)],
        ] as const) {
          const seen = map.get(k);
          map.set(k, seen ? better(seen, keyed) : keyed);
        }
      }
    }
    return this.surface.get(surfaceForm(name)) ?? this.loose.get(normaliseName(name));
  }
}

export function contributionOf(doc: GraphDocument): Contribution {
  const nodes = new Map<string, { key: string; id: string; mentions: number; forms: Map<string, FormCount> }>();
  const endpoints = new EndpointIndex();
  for (const e of doc.entities) {
    const { key, id, surface, type } = keysOf(e.name, e.type);
    let node = nodes.get(key);
    if (!node) nodes.set(key, (node = { key, id, mentions: 0, forms: new Map() }));
    node.mentions += e.mentions;
    const formKey = `${surface.length}:${surface}${type}`;
    const form = node.forms.get(formKey);
    if (form) form.count += e.mentions;
    else node.forms.set(formKey, { surface, type, count: e.mentions });
    endpoints.add(e.name, { key, id, mentions: e.mentions });
  }

  const edges = new Map<string, EdgePart>();
  const skipped: SkippedRelation[] = [];
  doc.relations.forEach((r, index) => {
    const source = endpoints.find(r.source);
    const target = endpoints.find(r.target);
    if (!source || !target) {
      const missing = !source ? `source ${JSON.stringify(r.source)}` : `target ${JSON.stringify(r.target)}`;
      skipped.push({ index, reason: `relations[${index}]: ${missing} is not among the document's entities` });
      return;
    }
    if (source.key === target.key) {
      skipped.push({ index, reason: `relations[${index}]: ${JSON.stringify(r.source)} and ${JSON.stringify(r.target)} are one entity after merging` });
      return;
    }
    const type = cached(typeCache, r.type, () => normaliseType(r.type));
    // Node ids have a fixed length: their concatenation with the type is unambiguous.
    const id = cached(edgeIdCache, `${source.id}${target.id}${type}`, () => edgeId(source.key, target.key, type));
    const seen = edges.get(id);
    if (seen) seen.weight += r.count;
    else edges.set(id, { id, sourceId: source.id, sourceKey: source.key, targetId: target.id, targetKey: target.key, type, weight: r.count });
  });

  const nodeParts: NodePart[] = [...nodes.values()]
    .map((n) => ({
      id: n.id,
      key: n.key,
      mentions: n.mentions,
      forms: [...n.forms.values()].sort((a, b) => byString(a.surface, b.surface) || byString(a.type, b.type)),
    }))
    .sort((a, b) => byString(a.id, b.id));
  const edgeParts = [...edges.values()].sort((a, b) => byString(a.id, b.id));
  // Ids stand for keys (and endpoints and type): what is hashed is every count and surface form.
  let canonical = '';
  for (const n of nodeParts) {
    canonical += `${n.id}\t${n.mentions}`;
    for (const f of n.forms) canonical += `\t${f.surface}\t${f.type}\t${f.count}`;
    canonical += '\n';
  }
  for (const e of edgeParts) canonical += `${e.id}\t${e.weight}\n`;
  const digest = createHash('sha1').update(canonical).digest('hex');
  return { docId: doc.id, nodes: nodeParts, edges: edgeParts, digest, skipped };
}
