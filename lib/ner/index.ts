/**
 * Offline entity and relation extraction (used when no LLM API key is set).
 *
 * Pipeline, all in-process and deterministic:
 *   wink-nlp tokens + sentences (wink-tokens.ts)
 *   -> capitalised candidate phrases (phrases.ts)
 *   -> typed mentions from gazetteers, name structure and context (classify.ts,
 *      gazetteer.ts from compromise's lexicon, cue-words.ts)
 *   -> entities: aliases merged, type voted per name (aliases.ts)
 *   -> relations between entities sharing a sentence (relations.ts).
 * See docs/extractor.md for the design, the relation table and measurements.
 */
import { resolveEntities } from './aliases.js';
import { PhraseClassifier, type Mention } from './classify.js';
import { harmoniseLists } from './coordination.js';
import { findPhrases, type Phrase } from './phrases.js';
import { MAX_PAIRS_PER_SENTENCE, relate } from './relations.js';
import { tokenize } from './wink-tokens.js';

export { MAX_PAIRS_PER_SENTENCE, RELATION_TYPES } from './relations.js';
export type { RelationType } from './relations.js';
export { MAX_UNBROKEN_CHARS, MAX_WINK_OOV_ENTRIES } from './wink-tokens.js';
export { MAX_PHRASE_TOKENS } from './phrases.js';

export type EntityType = 'person' | 'organization' | 'place';

export interface ExtractedEntity {
  name: string;
  type: EntityType;
  mentions: number;
}

export interface ExtractedRelation {
  source: string;
  target: string;
  type: string;
  sentences: number;
}

export interface Extraction {
  entities: ExtractedEntity[];
  relations: ExtractedRelation[];
}

export interface ExtractOptions {
  /** Cap on relation pairs one sentence contributes (default MAX_PAIRS_PER_SENTENCE). */
  maxPairsPerSentence?: number;
}

/** Pure, deterministic: same text -> same result (stable order: by first appearance). */
export function extractEntities(text: string, options: ExtractOptions = {}): Extraction {
  if (typeof text !== 'string' || !/\S/.test(text)) return { entities: [], relations: [] };
  const { tokens, sentences } = tokenize(text);

  const mentions: Mention[] = [];
  const classifier = new PhraseClassifier(tokens, mentions);
  const phrases: Phrase[] = [];
  for (const [start, end] of sentences) {
    phrases.length = 0;
    findPhrases(tokens, start, end, phrases);
    for (const phrase of phrases) classifier.classify(phrase);
  }
  // Phrases are visited in text order but one phrase can yield several mentions
  // out of order (title splits); keep mentions sorted by position.
  mentions.sort((a, b) => a.start - b.start);
  harmoniseLists(tokens, mentions);

  const { entities, entityOf } = resolveEntities(mentions);

  const perSentence = new Map<number, number[]>();
  for (let m = 0; m < mentions.length; m++) {
    const e = entityOf[m] as number;
    if (e === -1) continue;
    const s = (mentions[m] as Mention).sentence;
    let list = perSentence.get(s);
    if (list === undefined) perSentence.set(s, (list = []));
    list.push(e);
  }
  const relations = relate(entities, perSentence.values(), options.maxPairsPerSentence ?? MAX_PAIRS_PER_SENTENCE);

  return {
    entities: entities.map(({ name, type, mentions: count }) => ({ name, type, mentions: count })),
    relations,
  };
}
