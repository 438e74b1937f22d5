/**
 * Gazetteers read once per process (or worker thread) from compromise's
 * lexicon: first and last names, well-known people, countries, cities,
 * regions, organisations, sports teams, demonyms and role nouns, plus
 * compromise's organisation/place head-word lists. We use compromise as a
 * maintained data source only; its (slow) tagger never runs.
 *
 * Startup: ~0.45 s to import compromise, ~5 MB for the derived sets.
 */
import nlp from 'compromise';
import { EXTRA_PLACES, ORG_WORDS, PLACE_WORDS, TITLE_WORDS } from './cue-words.js';

export type GazetteerType = 'person' | 'organization' | 'place';

export interface Gazetteer {
  /** Full names (normalised key, see gazetteerKey) -> type. */
  names: ReadonlyMap<string, GazetteerType>;
  /** Longest entry in tokens, bounds sub-phrase lookups. */
  maxTokens: number;
  firstNames: ReadonlySet<string>;
  lastNames: ReadonlySet<string>;
  demonyms: ReadonlySet<string>;
  /** Titles and role nouns that can precede a person's name. */
  titles: ReadonlySet<string>;
  orgWords: ReadonlySet<string>;
  placeWords: ReadonlySet<string>;
}

const NON_ASCII = /[^\x00-\x7f]/;
const NEEDS_CLEANING = /[.\u2019\-\u2010\u2013\s]/;

/** Key used for every gazetteer lookup: lower case, no diacritics, no dots, hyphens as spaces. */
export function gazetteerKey(text: string): string {
  // Fast path: most tokens are plain ASCII words (this runs several times per token).
  let key = NON_ASCII.test(text) ? text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '') : text;
  key = key.toLowerCase();
  if (!NEEDS_CLEANING.test(key)) return key;
  return key
    .replace(/[.\u2019]/g, (c) => (c === '.' ? '' : "'"))
    .replace(/[-\u2010\u2013]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

interface CompromiseModel {
  one: { lexicon: Record<string, string | string[]> };
  two: { orgWords?: Record<string, unknown>; placeWords?: Record<string, unknown> };
}

/** Building words compromise lists as places that we treat as organisations. */
const ORG_BUILDINGS = new Set(['museum', 'centre', 'center', 'memorial', 'library', 'hospital', 'school']);

/** Street-type words in compromise's list that name organisations more often in news ("Red Crescent"). */
const NOT_PLACE_WORDS = new Set(['crescent', 'cr', 'way', 'tr', 'landing', 'bar', 'complex', 'house']);

function build(): Gazetteer {
  const model = (nlp as unknown as { model(): CompromiseModel }).model();
  const names = new Map<string, GazetteerType>();
  const firstNames = new Set<string>();
  const lastNames = new Set<string>();
  const demonyms = new Set<string>();
  const titles = new Set<string>(TITLE_WORDS);
  let maxTokens = 1;

  for (const [word, raw] of Object.entries(model.one.lexicon)) {
    const tags = Array.isArray(raw) ? raw : [raw];
    const key = gazetteerKey(word);
    if (key === '') continue;
    let type: GazetteerType | undefined;
    for (const tag of tags) {
      switch (tag) {
        case 'FirstName':
        case 'MaleName':
        case 'FemaleName':
          firstNames.add(key);
          break;
        case 'LastName':
          lastNames.add(key);
          break;
        case 'Person':
          // Single-word "Person" entries are mostly famous surnames/first names.
          if (key.includes(' ')) type = 'person';
          else lastNames.add(key);
          break;
        case 'Country':
        case 'City':
        case 'Region':
          type = 'place';
          break;
        case 'Place':
          if (!tags.includes('Abbreviation')) type = 'place';
          break;
        case 'Organization':
        case 'SportsTeam':
          type = 'organization';
          break;
        case 'Demonym':
          demonyms.add(key);
          break;
        case 'Honorific':
        case 'Actor':
          titles.add(key);
          break;
      }
    }
    if (type !== undefined) {
      names.set(key, type);
      maxTokens = Math.max(maxTokens, key.split(' ').length);
    }
  }
  for (const place of EXTRA_PLACES) if (!names.has(place)) names.set(place, 'place');
  const orgWords = new Set<string>(ORG_WORDS);
  for (const w of Object.keys(model.two.orgWords ?? {})) orgWords.add(w);
  const placeWords = new Set<string>(PLACE_WORDS);
  for (const w of Object.keys(model.two.placeWords ?? {})) {
    if (!orgWords.has(w) && !ORG_BUILDINGS.has(w) && !NOT_PLACE_WORDS.has(w)) placeWords.add(w);
  }
  return { names, maxTokens, firstNames, lastNames, demonyms, titles, orgWords, placeWords };
}

export const GAZETTEER: Gazetteer = build();
