/**
 * Co-occurrence relations: two distinct entities mentioned in the same
 * sentence are related; the relation type comes from the pair of entity
 * types (RELATION_TYPES), and `sentences` counts the sentences that mention
 * both.
 *
 * Orientation is deterministic: the entity whose type comes first in
 * person < organization < place is the source ("person affiliated_with
 * organization", "organization located_in place"); for two entities of the
 * same type the one that appears first in the text is the source.
 *
 * A sentence with n entities has n(n-1)/2 pairs; long lists would explode, so
 * each sentence contributes at most `maxPairs` pairs, nearest neighbours
 * first (entities adjacent in the sentence, then two apart, ...). Nearby
 * mentions are the likelier real relations, and the work per sentence stays
 * O(maxPairs) whatever the sentence length.
 */
import type { MentionType } from './classify.js';

/** Default cap on relation pairs contributed by one sentence. */
export const MAX_PAIRS_PER_SENTENCE = 15;

const TYPE_ORDER: Record<MentionType, number> = { person: 0, organization: 1, place: 2 };

/** Relation type for a (source type, target type) pair, source type <= target type. */
export const RELATION_TYPES = {
  'person|person': 'associated_with',
  'person|organization': 'affiliated_with',
  'person|place': 'located_in',
  'organization|organization': 'associated_with',
  'organization|place': 'located_in',
  'place|place': 'related_to',
} as const satisfies Record<string, string>;

export type RelationType = (typeof RELATION_TYPES)[keyof typeof RELATION_TYPES];

export interface RelationEntity {
  name: string;
  type: MentionType;
  /** Position of first appearance in the text (smaller = earlier). */
  first: number;
}

export interface PairRelation {
  source: string;
  target: string;
  type: RelationType;
  sentences: number;
}

/** Relation type and orientation for two entities. */
export function orient(a: RelationEntity, b: RelationEntity): { source: RelationEntity; target: RelationEntity; type: RelationType } {
  const ta = TYPE_ORDER[a.type];
  const tb = TYPE_ORDER[b.type];
  const aFirst = ta < tb || (ta === tb && a.first <= b.first);
  const source = aFirst ? a : b;
  const target = aFirst ? b : a;
  const type = RELATION_TYPES[`${source.type}|${target.type}` as keyof typeof RELATION_TYPES];
  return { source, target, type };
}

/**
 * @param sentenceEntities entity indices per sentence, in order of mention (duplicates allowed)
 */
export function relate(entities: RelationEntity[], sentenceEntities: Iterable<number[]>, maxPairs: number = MAX_PAIRS_PER_SENTENCE): PairRelation[] {
  const cap = Math.max(0, Math.floor(maxPairs));
  const byPair = new Map<string, PairRelation>();
  for (const list of sentenceEntities) {
    // Distinct entities in order of first mention in the sentence.
    const seen = new Set<number>();
    const distinct: number[] = [];
    for (const e of list) {
      if (!seen.has(e)) {
        seen.add(e);
        distinct.push(e);
      }
    }
    let budget = cap;
    for (let d = 1; d < distinct.length && budget > 0; d++) {
      for (let i = 0; i + d < distinct.length && budget > 0; i++) {
        const a = entities[distinct[i] as number] as RelationEntity;
        const b = entities[distinct[i + d] as number] as RelationEntity;
        const { source, target, type } = orient(a, b);
        const key = source.name + '\u0000' + source.type + '\u0000' + target.name + '\u0000' + target.type;
        const existing = byPair.get(key);
        if (existing !== undefined) existing.sentences++;
        else byPair.set(key, { source: source.name, target: target.name, type, sentences: 1 });
        budget--;
      }
    }
  }
  return [...byPair.values()];
}
