/**
 * Candidate phrases: maximal runs of capitalised words inside one sentence,
 * allowing the lowercase glue that real names contain ("Bank of Japan",
 * "Luiz Inacio Lula da Silva", "Office of the United States Trade
 * Representative", "St Mark's Square"). Whether a phrase is one entity,
 * several, or none is decided later by classify.ts.
 */
import { NAME_CONNECTORS, NAME_PARTICLES } from './cue-words.js';
import { GAZETTEER, gazetteerKey } from './gazetteer.js';
import type { Token } from './wink-tokens.js';

export interface Phrase {
  /** First and last token index, inclusive. */
  start: number;
  end: number;
  /** The phrase opens its sentence (so its capital letter proves little). */
  initial: boolean;
}

/** Tokens after which a capitalised word still counts as sentence-initial. */
const OPENERS = new Set(['"', '\u201c', "'", '\u2018', '(', '[', ':', '-', '\u2013', '\u2014', '*', '\u2022']);

/** At most this many connector tokens in a row ("of the"). */
const MAX_CONNECTOR_RUN = 2;

/**
 * Longest phrase, in tokens. Real names stay well below ("Office of the United States
 * Trade Representative" is 7); the cap keeps classification linear on pathological
 * input such as a 100,000-word run of capitalised words.
 */
export const MAX_PHRASE_TOKENS = 16;

export function isNameToken(t: Token | undefined): t is Token {
  return t !== undefined && t.cap;
}

function isPossessive(t: Token | undefined): boolean {
  return t !== undefined && (t.lower === "'s" || t.lower === '\u2019s');
}

function isGlue(t: Token | undefined, previous: Token): boolean {
  if (t === undefined || !t.word || t.cap) return false;
  if (NAME_PARTICLES.has(t.lower)) return true;
  if (!NAME_CONNECTORS.has(t.lower)) return false;
  // "the" only after "of/for" ("Office of the ..."); "to" only after an organisation word
  // ("Committee to Protect Journalists").
  if (t.lower === 'the') return previous.lower === 'of' || previous.lower === 'for';
  if (t.lower === 'to') return GAZETTEER.orgWords.has(previous.lower);
  return true;
}

function isInitial(tokens: Token[], i: number, sentenceStart: number): boolean {
  for (let j = i - 1; j >= sentenceStart; j--) {
    const t = tokens[j] as Token;
    if (t.word) return false;
    if (!OPENERS.has(t.text)) return false;
  }
  return true;
}

const ALL_UPPER = /^[^\p{Ll}]*\p{Lu}[^\p{Ll}]*$/u;

/**
 * A sentence in capitals ("PRESIDENT MEETS XI IN BEIJING") carries no
 * capitalisation signal; it yields no phrases rather than one long wrong one.
 */
function shouted(tokens: Token[], start: number, end: number): boolean {
  let words = 0;
  let upper = 0;
  for (let i = start; i <= end; i++) {
    const t = tokens[i] as Token;
    if (!t.word) continue;
    words++;
    if (t.text.length > 1 && ALL_UPPER.test(t.text)) upper++;
  }
  return words >= 4 && upper >= 0.8 * words;
}

/** Finds candidate phrases in one sentence, left to right. */
export function findPhrases(tokens: Token[], sentenceStart: number, sentenceEnd: number, out: Phrase[]): void {
  if (shouted(tokens, sentenceStart, sentenceEnd)) return;
  let i = sentenceStart;
  while (i <= sentenceEnd) {
    const t = tokens[i];
    if (!isNameToken(t)) {
      i++;
      continue;
    }
    const start = i;
    let end = i;
    for (;;) {
      const next = end + 1;
      if (next > sentenceEnd || next - start >= MAX_PHRASE_TOKENS) break;
      if (isNameToken(tokens[next])) {
        end = next;
        continue;
      }
      // "St Mark's Square", "Children's Fund": possessive inside a place/organisation name.
      if (isPossessive(tokens[next]) && next + 1 <= sentenceEnd) {
        const after = tokens[next + 1];
        // ...but not "Chile's Congress": a known place owning an institution.
        const owner = GAZETTEER.names.get(gazetteerKey((tokens[end] as Token).text));
        if (isNameToken(after) && owner !== 'place' && (GAZETTEER.orgWords.has(after.lower) || GAZETTEER.placeWords.has(after.lower))) {
          end = next + 1;
          continue;
        }
        break;
      }
      let run = 0;
      let j = next;
      let prev = tokens[end] as Token;
      while (j <= sentenceEnd && run < MAX_CONNECTOR_RUN && isGlue(tokens[j], prev)) {
        prev = tokens[j] as Token;
        run++;
        j++;
      }
      if (run > 0 && j <= sentenceEnd && j - start < MAX_PHRASE_TOKENS && isNameToken(tokens[j])) {
        end = j;
        continue;
      }
      break;
    }
    out.push({ start, end, initial: isInitial(tokens, start, sentenceStart) });
    i = end + 1;
  }
}
