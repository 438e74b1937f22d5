/**
 * Groups a document's mentions into entities.
 *
 * A weakly typed mention (strength < 3) whose words appear, in order, inside
 * a longer typed mention of the same text is an alias of it: "Merkel" ->
 * "Angela Merkel", "Novo" -> "Novo Nordisk", "Real" -> "Real Madrid". It joins
 * the nearest such longer mention before it (or, failing that, the first one
 * after it) and takes that entity's type. All other mentions group by their
 * normalised name; the type of a group is the one with the most evidence
 * (sum of strengths). Runs in O(mentions x log) so long texts stay linear.
 */
import type { Mention, MentionType } from './classify.js';

export interface ResolvedEntity {
  name: string;
  type: MentionType;
  mentions: number;
  /** Index of the first mention (for ordering). */
  first: number;
}

export interface Resolution {
  entities: ResolvedEntity[];
  /** Entity index of each mention, -1 when the mention was dropped. */
  entityOf: Int32Array;
}

/** Longer mentions in which the given word occurs, in text order. */
type AnchorIndex = Map<string, number[]>;

function wordCount(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 32) n++;
  return n;
}

function buildAnchors(mentions: Mention[]): AnchorIndex {
  const index: AnchorIndex = new Map();
  for (let m = 0; m < mentions.length; m++) {
    const mention = mentions[m] as Mention;
    if (mention.type === null || !mention.key.includes(' ')) continue;
    for (const word of new Set(mention.key.split(' '))) {
      let list = index.get(word);
      if (list === undefined) index.set(word, (list = []));
      list.push(m);
    }
  }
  return index;
}

/** The nearest anchor (before m, else after) whose key contains m's key as whole words. */
function findAnchor(mentions: Mention[], index: AnchorIndex, m: number): number {
  const mention = mentions[m] as Mention;
  const firstWord = mention.key.split(' ', 1)[0] as string;
  const list = index.get(firstWord);
  if (list === undefined) return -1;
  const needle = ' ' + mention.key + ' ';
  const words = wordCount(mention.key);
  const fits = (a: number): boolean => {
    const anchor = mentions[a] as Mention;
    // A mention with real evidence of another type is not an alias ("Can Tho" near "Can Tho University").
    if (mention.type !== null && mention.type !== anchor.type && mention.strength >= 2) return false;
    return a !== m && wordCount(anchor.key) > words && (' ' + anchor.key + ' ').includes(needle);
  };
  // Binary search for the last anchor before m.
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < m) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && i >= lo - 8; i--) if (fits(list[i] as number)) return list[i] as number;
  for (let i = lo; i < list.length && i < lo + 8; i++) if (fits(list[i] as number)) return list[i] as number;
  return -1;
}

export function resolveEntities(mentions: Mention[]): Resolution {
  const index = buildAnchors(mentions);
  // Canonical group key of each mention.
  const groupOf: string[] = new Array(mentions.length);
  const aliased = new Uint8Array(mentions.length);
  for (let m = 0; m < mentions.length; m++) {
    const mention = mentions[m] as Mention;
    groupOf[m] = mention.key;
    if (mention.strength >= 3) continue;
    const anchor = findAnchor(mentions, index, m);
    if (anchor !== -1) {
      groupOf[m] = (mentions[anchor] as Mention).key;
      aliased[m] = 1;
    }
  }
  // A group named by an anchor that is itself an alias follows it (one more hop is enough
  // for "Lula" -> "Lula da Silva" -> "Luiz Inacio Lula da Silva").
  const hop = new Map<string, string>();
  for (let m = 0; m < mentions.length; m++) {
    const key = (mentions[m] as Mention).key;
    if (aliased[m] === 1 && key.includes(' ') && !hop.has(key)) hop.set(key, groupOf[m] as string);
  }
  for (let m = 0; m < mentions.length; m++) {
    let g = groupOf[m] as string;
    for (let step = 0; step < 3; step++) {
      const next = hop.get(g);
      if (next === undefined || next === g) break;
      g = next;
    }
    groupOf[m] = g;
  }

  // Vote on each group's type; aliases don't vote (they inherit).
  interface Group {
    votes: Record<MentionType, number>;
    mentions: number;
    first: number;
    best: number;
    aliasType: MentionType | null;
    /** Type of the group's first typed mention: breaks voting ties. */
    firstType: MentionType | null;
  }
  const groups = new Map<string, Group>();
  for (let m = 0; m < mentions.length; m++) {
    const mention = mentions[m] as Mention;
    const g = groupOf[m] as string;
    let group = groups.get(g);
    if (group === undefined) {
      group = { votes: { person: 0, organization: 0, place: 0 }, mentions: 0, first: m, best: m, aliasType: null, firstType: null };
      groups.set(g, group);
    }
    group.mentions++;
    if (mention.type !== null) {
      if (aliased[m] === 0) {
        group.votes[mention.type] += mention.strength + 0.5;
        if (group.firstType === null) group.firstType = mention.type;
      } else if (group.aliasType === null) group.aliasType = mention.type;
    }
    const best = mentions[group.best] as Mention;
    const words = wordCount(mention.key);
    const bestWords = wordCount(best.key);
    if (words > bestWords || (words === bestWords && mention.name.length > best.name.length)) group.best = m;
  }

  const entities: ResolvedEntity[] = [];
  const entityOfGroup = new Map<string, number>();
  const ordered = [...groups.entries()].sort((a, b) => a[1].first - b[1].first);
  for (const [g, group] of ordered) {
    const v = group.votes;
    if (group.firstType !== null) v[group.firstType] += 0.01;
    let type: MentionType | null = null;
    let best = 0;
    for (const t of ['person', 'organization', 'place'] as const) {
      if (v[t] > best) {
        best = v[t];
        type = t;
      }
    }
    if (type === null) type = group.aliasType;
    if (type === null) continue;
    entityOfGroup.set(g, entities.length);
    entities.push({ name: (mentions[group.best] as Mention).name, type, mentions: group.mentions, first: group.first });
  }
  const entityOf = new Int32Array(mentions.length).fill(-1);
  for (let m = 0; m < mentions.length; m++) {
    const e = entityOfGroup.get(groupOf[m] as string);
    if (e !== undefined) entityOf[m] = e;
  }
  return { entities, entityOf };
}
