/**
 * Turns one candidate phrase into zero or more typed mentions.
 *
 * Evidence, strongest first (the `strength` recorded with each mention):
 *   3  the whole phrase is in a gazetteer; or its structure says so: an
 *      organisation head word ("... Bank", "University of ..."), a place head
 *      word ("... River", "Gulf of ..."), or a title before it ("President X").
 *   2  a name list (known first name / surname), an acronym, or the words
 *      around it ("the carmaker X", "X province", "X, 34,", "in X").
 *   1  a default guess from the phrase's shape (two or three unknown
 *      capitalised words are usually a person; a lone unknown word is usually
 *      an organisation; ordinary words in a name suggest an organisation).
 *   0  untyped: kept only if it is an alias of a typed entity in the same text
 *      ("Merkel" after "Angela Merkel", "Real" after "Real Madrid").
 */
import {
  CALENDAR_WORDS,
  EDGE_STOPWORDS,
  INSTITUTION_SINGLES,
  MOVEMENT_WORDS,
  ORG_CONTEXT_WORDS,
  ORG_PREFIX_WORDS,
  PERSON_FOLLOWERS,
  PLACE_APPOSITION_WORDS,
  PLACE_CONTEXT_WORDS,
  PLACE_NOUNS_AFTER,
  PLACE_NOUNS_BEFORE_OF,
  PLACE_PREFIX_WORDS,
  SPLIT_CONNECTORS,
  STAFF_WORDS,
  TITLE_MODIFIERS,
} from './cue-words.js';
import { GAZETTEER, gazetteerKey, type GazetteerType } from './gazetteer.js';
import type { Phrase } from './phrases.js';
import { FUNCTION_WORDS, PROPER_WORDS, isCommonWord, type Token } from './wink-tokens.js';

export type MentionType = GazetteerType;

export interface Mention {
  /** First and last token of the name itself (titles etc. excluded). */
  start: number;
  end: number;
  /** Surface text of the name. */
  name: string;
  /** Normalised name (gazetteerKey). */
  key: string;
  /** null: untyped, survives only as an alias of a typed entity. */
  type: MentionType | null;
  strength: number;
  sentence: number;
}

interface Context {
  strong: MentionType | null;
  weak: MentionType | null;
}

/** Words that end an apposition's noun phrase. */
const APPOSITION_STOPS = new Set(['of', 'in', 'at', 'on', 'for', 'from', 'with', 'who', 'which', 'that', 'whose', 'and', 'to', 'by']);

const ACRONYM = /^\p{Lu}[\p{Lu}&\d]{1,6}$/u;
const ROMAN = /^[IVX]{1,5}$/;
/** "IndiGo", "OpenAI", "ByteDance": an upper-case letter after the second character. */
const INNER_CAPITAL = /^\p{Lu}\p{Ll}+\p{Lu}/u;
const SURNAME_PREFIX = /^(?:Mc|Mac|O'|D'|De|Di|Da|Du|Le|La|Van|Von)\p{Lu}/u;

/** Classifies the phrases of one document, appending mentions to `out`. */
export class PhraseClassifier {
  constructor(
    private readonly tokens: Token[],
    private readonly out: Mention[],
  ) {}

  classify(phrase: Phrase): void {
    this.range(phrase.start, phrase.end, phrase.initial);
  }

  // ---- token helpers ------------------------------------------------------

  private t(i: number): Token {
    return this.tokens[i] as Token;
  }

  private isTitle(i: number): boolean {
    const t = this.t(i);
    return t.cap && GAZETTEER.titles.has(t.lower);
  }

  private isName(i: number): boolean {
    const l = this.t(i).lower;
    return GAZETTEER.firstNames.has(l) || GAZETTEER.lastNames.has(l);
  }

  /** An ordinary word that is not also a known name. */
  private isCommon(i: number): boolean {
    return isCommonWord(this.t(i).lower) && !this.isName(i);
  }

  private isAcronym(i: number): boolean {
    const text = this.t(i).text;
    return ACRONYM.test(text) && !ROMAN.test(text);
  }

  private surface(s: number, e: number): string {
    let text = '';
    for (let i = s; i <= e; i++) {
      const t = this.t(i);
      text += (i > s && t.space ? ' ' : '') + t.text;
    }
    return text;
  }

  private known(s: number, e: number): GazetteerType | undefined {
    return GAZETTEER.names.get(gazetteerKey(this.surface(s, e)));
  }

  private before(i: number, n = 1): Token | undefined {
    const j = i - n;
    if (j < 0) return undefined;
    const t = this.t(j);
    return t.sentence === this.t(i).sentence ? t : undefined;
  }

  private after(i: number, n = 1): Token | undefined {
    const j = i + n;
    if (j >= this.tokens.length) return undefined;
    const t = this.t(j);
    return t.sentence === this.t(i).sentence ? t : undefined;
  }

  private emit(s: number, e: number, type: MentionType | null, strength: number): void {
    while (e > s && (this.t(e).lower === "'s" || this.t(e).lower === '\u2019s')) e--;
    const name = this.surface(s, e);
    const key = gazetteerKey(name);
    if (key === '') return;
    this.out.push({ start: s, end: e, name, key, type, strength, sentence: this.t(s).sentence });
  }

  // ---- phrase structure ---------------------------------------------------

  /**
   * @param initial the phrase opens its sentence
   * @param inherit token whose left context applies (the head of an "X and Y" list)
   */
  private range(s: number, e: number, initial: boolean, inherit?: number): void {
    // Trim glue and function words from both ends ("The", "On Tuesday", trailing "of").
    while (s <= e) {
      const t = this.t(s);
      if (!t.cap) s++;
      else if (EDGE_STOPWORDS.has(t.lower) || CALENDAR_WORDS.has(t.lower)) {
        if (t.lower === 'the' && s < e && this.known(s, e) !== undefined) break;
        s++;
        initial = false;
      } else break;
    }
    while (e >= s && (!this.t(e).cap || CALENDAR_WORDS.has(this.t(e).lower))) e--;
    if (s > e) return;
    const ctxAt = inherit ?? s;

    // 1. The whole phrase is a known name.
    const whole = this.known(s, e);
    if (whole !== undefined) return this.emit(s, e, whole, 3);

    // An opening "Rivals", "Meanwhile" is capitalised only because it starts the sentence.
    if (initial && s < e && this.stripsAtStart(s)) return this.range(s + 1, e, false, inherit);

    const first = this.t(s).lower;
    const last = this.t(e).lower;

    // 2. Phrases with connectors: keep whole when the head says what the phrase is
    //    ("Bank of Japan", "Gulf of Mexico", "Bill and Melinda Gates Foundation"),
    //    otherwise classify the parts ("Residents of Venice", "Germany and France").
    const cut = this.firstConnector(s, e);
    if (cut !== -1) {
      const conn = this.t(cut).lower;
      const headFirst = first;
      const headLast = this.t(cut - 1).lower;
      const headHasTitle = this.hasTitle(s, cut - 1);
      if (!headHasTitle) {
        if (conn === 'and' || conn === '&') {
          // Whole only if the head is not a complete name itself ("Lumora Bank and Zenith Bank").
          if (GAZETTEER.orgWords.has(last) && !GAZETTEER.orgWords.has(headLast) && this.known(s, cut - 1) === undefined) {
            return this.emit(s, e, 'organization', 3);
          }
        } else {
          if (GAZETTEER.orgWords.has(headLast) || ORG_PREFIX_WORDS.has(headFirst)) return this.emit(s, e, 'organization', 3);
          if (conn === 'of' && cut - s <= 3 && (GAZETTEER.placeWords.has(headLast) || headLast === 'republic')) {
            return this.emit(s, e, 'place', 3);
          }
        }
      }
      this.range(s, cut - 1, initial, inherit);
      this.range(cut + 1, e, false, conn === 'and' || conn === '&' ? ctxAt : undefined);
      return;
    }

    // 3. Organisation head word at the end, or an organisation prefix ("Grupo Bimbo").
    if (s < e && GAZETTEER.orgWords.has(last) && !this.isTitle(e)) return this.emit(s, e, 'organization', 3);
    if (s < e && ORG_PREFIX_WORDS.has(first)) return this.emit(s, e, 'organization', 3);

    // 4. Titles: "Ethiopian Prime Minister Abiy Ahmed" -> person "Abiy Ahmed".
    for (let k = e - 1; k >= s; k--) {
      if (this.isTitle(k)) return this.titled(s, k, e, initial);
    }

    // 5. Place head word at the end ("Atacama Desert", "Rustaveli Avenue").
    if (s < e && GAZETTEER.placeWords.has(last)) return this.emit(s, e, 'place', 3);

    this.simple(s, e, initial, ctxAt);
  }

  private stripsAtStart(i: number): boolean {
    const t = this.t(i);
    const l = t.lower;
    if (this.isTitle(i) || this.isName(i) || this.isAcronym(i)) return false;
    if (GAZETTEER.demonyms.has(l) || ORG_PREFIX_WORDS.has(l) || PLACE_PREFIX_WORDS.has(l)) return false;
    if (GAZETTEER.names.has(gazetteerKey(t.text))) return false;
    if (FUNCTION_WORDS.has(l)) return true;
    // Plural nouns ("Shares", "Analysts") open sentences; names rarely look plural.
    return isCommonWord(l) && l.endsWith('s') && !l.endsWith('ss');
  }

  private hasTitle(s: number, e: number): boolean {
    for (let i = s; i <= e; i++) if (this.isTitle(i)) return true;
    return false;
  }

  /** Index of the first splitting connector ("of", "and", ...) inside s..e, or -1. */
  private firstConnector(s: number, e: number): number {
    for (let i = s + 1; i < e; i++) {
      const t = this.t(i);
      if (!t.cap && SPLIT_CONNECTORS.has(t.lower)) return i;
    }
    return -1;
  }

  /** Title at k inside s..e: the words after it name a person. */
  private titled(s: number, k: number, e: number, initial: boolean): void {
    // Left of the title: drop its modifiers ("Prime", "Finance"), keep the rest
    // ("NATO Secretary General Mark Rutte" -> NATO).
    let left = k - 1;
    while (left >= s && (this.isTitle(left) || TITLE_MODIFIERS.has(this.t(left).lower) || !this.t(left).cap)) left--;
    if (left >= s) this.range(s, left, initial);

    let r = k + 1;
    while (r < e && this.isTitle(r)) r++;
    let named = false;
    for (let i = r; i <= e; i++) {
      const t = this.t(i);
      if (t.cap && !this.isTitle(i) && (!isCommonWord(t.lower) || this.isName(i))) named = true;
    }
    if (!named) return this.range(r, e, false);
    const known = this.known(r, e);
    this.emit(r, e, known === 'place' || known === 'organization' ? known : 'person', 3);
  }

  /** Capitalised words (and name particles) without connectors or head words. */
  private simple(s: number, e: number, initial: boolean, ctxAt: number): void {
    const firstTok = this.t(s);
    // "Kenyan Faith Kipyegon": a demonym before a first name is not part of the name.
    if (s < e && GAZETTEER.demonyms.has(firstTok.lower) && GAZETTEER.firstNames.has(this.t(s + 1).lower)) {
      return this.simple(s + 1, e, false, ctxAt);
    }
    if (s === e) return this.single(s, initial, ctxAt);

    let caps = 0;
    let placeTokens = 0;
    let orgTokens = 0;
    let orgWords = 0;
    let commonTokens = 0;
    let acronyms = 0;
    for (let i = s; i <= e; i++) {
      const t = this.t(i);
      if (!t.cap) continue;
      caps++;
      // Known names inside the phrase, one or two words long ("Bayern Munich", "Team New Zealand").
      const g = GAZETTEER.names.get(gazetteerKey(t.text)) ?? (i < e ? this.known(i, i + 1) : undefined);
      if (g === 'place') placeTokens++;
      else if (g === 'organization') orgTokens++;
      if (GAZETTEER.orgWords.has(t.lower) && !this.isTitle(i)) orgWords++;
      if (this.isAcronym(i)) acronyms++;
      else if (this.isCommon(i)) commonTokens++;
    }
    const lastTok = this.t(e);
    const firstIsFirstName = GAZETTEER.firstNames.has(firstTok.lower) && GAZETTEER.names.get(firstTok.lower) === undefined;

    const ctx = this.context(ctxAt, e);
    if (ROMAN.test(lastTok.text)) return this.emit(s, e, 'person', 2); // "Ramses II"
    if (ctx.strong !== null) return this.emit(s, e, ctx.strong, 2);
    if (firstIsFirstName) return this.emit(s, e, 'person', 2);
    if (acronyms > 0 || orgTokens > 0 || orgWords > 0) return this.emit(s, e, 'organization', 2);
    if (PLACE_PREFIX_WORDS.has(firstTok.lower) && e - s <= 2) return this.emit(s, e, 'place', 2);
    if (GAZETTEER.lastNames.has(lastTok.lower) && placeTokens === 0) return this.emit(s, e, 'person', 2);
    if (ctx.weak !== null) return this.emit(s, e, ctx.weak, 2);
    if (placeTokens > 0) return this.emit(s, e, 'organization', 1); // "Bayern Munich"
    if (GAZETTEER.demonyms.has(firstTok.lower)) return this.emit(s, e, 'organization', 1); // "Saudi Aramco"
    if (commonTokens === caps) return this.emit(s, e, 'organization', 1); // "Blue Note"
    if (lastTok.lower.endsWith('s') && this.isCommon(e)) return this.emit(s, e, 'organization', 1); // "Volvo Cars"
    this.emit(s, e, e - s <= 3 ? 'person' : 'organization', 1);
  }

  private single(i: number, initial: boolean, ctxAt: number): void {
    const t = this.t(i);
    const lower = t.lower;
    if (ROMAN.test(t.text) || CALENDAR_WORDS.has(lower)) return;
    // compromise lists a few countries as demonyms ("Laos"); wink knows them as proper nouns.
    if (GAZETTEER.demonyms.has(lower) && !PROPER_WORDS.has(lower)) return;
    if (this.isTitle(i) && !GAZETTEER.lastNames.has(lower)) return;
    const g = GAZETTEER.names.get(gazetteerKey(t.text));
    if (g !== undefined) return this.emit(i, i, g, 3);
    if (INSTITUTION_SINGLES.has(lower)) return this.emit(i, i, 'organization', 3);
    if (this.isAcronym(i)) return this.emit(i, i, 'organization', 2);
    if (INNER_CAPITAL.test(t.text) && !SURNAME_PREFIX.test(t.text)) return this.emit(i, i, 'organization', 2);

    const common = this.isCommon(i);
    if (initial && common) return this.emit(i, i, null, 0);
    const ctx = this.context(ctxAt, i);
    if (ctx.strong !== null) return this.emit(i, i, ctx.strong, 2);
    if (ctx.weak !== null) return this.emit(i, i, ctx.weak, 1);
    if (common) return this.emit(i, i, null, 0);
    if (this.isName(i)) return this.emit(i, i, 'person', 1);
    this.emit(i, i, 'organization', 1);
  }

  /**
   * Cues around a phrase whose left context starts at token s and which ends at e.
   * `strong`: an explicit announcement ("the carmaker X", "X province", "X, 34,");
   * `weak`: a preposition ("in X", "visit to X").
   */
  private context(s: number, e: number): Context {
    let strong: MentionType | null = null;
    let weak: MentionType | null = null;
    let b1 = this.before(s);
    let skip = 1;
    // "from the Copperbelt", "in the Atacama": look past one article for a preposition.
    if (b1 !== undefined && b1.lower === 'the' && !b1.cap) {
      const p = this.before(s, 2);
      if (p !== undefined && !p.cap && (PLACE_CONTEXT_WORDS.has(p.lower) || p.lower === 'from' || p.lower === 'at' || p.lower === 'to')) {
        b1 = p;
        skip = 2;
      }
    }
    const b2 = this.before(s, skip + 1);
    const b3 = this.before(s, skip + 2);
    if (b1 !== undefined && b1.word && (!b1.cap || EDGE_STOPWORDS.has(b1.lower))) {
      const l = b1.lower;
      const l2 = b2 !== undefined && b2.word ? b2.lower : '';
      if (ORG_CONTEXT_WORDS.has(l)) strong = 'organization';
      else if ((l === 'in' || l === 'of') && (l2 === 'shares' || l2 === 'stake' || l2 === 'stakes')) strong = 'organization';
      else if (!b1.cap && GAZETTEER.titles.has(l)) strong = 'person';
      else if (l === 'of' && PLACE_NOUNS_BEFORE_OF.has(l2)) strong = 'place';
      else if (l === 'as' && l2 === 'such' && b3 !== undefined) {
        // "companies such as X", "cities such as X"
        if (ORG_CONTEXT_WORDS.has(b3.lower)) strong = 'organization';
        else if (PLACE_APPOSITION_WORDS.has(b3.lower) || b3.lower === 'countries' || b3.lower === 'cities') strong = 'place';
      } else if (PLACE_CONTEXT_WORDS.has(l)) weak = 'place';
      else if (l === 'to' && MOVEMENT_WORDS.has(l2)) weak = 'place';
      else if (l === 'at') weak = STAFF_WORDS.has(l2) || GAZETTEER.titles.has(l2) ? 'organization' : 'place';
      else if (l === 'from' && s === e) weak = 'place';
    }
    if (strong !== null) return { strong, weak };
    const a1 = this.after(e);
    if (a1 === undefined) return { strong, weak };
    if (a1.word && !a1.cap && PLACE_NOUNS_AFTER.has(a1.lower)) return { strong: 'place', weak };
    if (a1.lower === 'family' || a1.lower === 'dynasty') return { strong: 'person', weak }; // "the Londono family"
    if (a1.text !== ',') return { strong, weak };
    const a2 = this.after(e, 2);
    const a3 = this.after(e, 3);
    if (a2 === undefined) return { strong, weak };
    if (/^\d{1,3}$/.test(a2.text) && a3 !== undefined && (a3.text === ',' || a3.text === ')')) return { strong: 'person', weak };
    if (PERSON_FOLLOWERS.has(a2.lower)) return { strong: 'person', weak };
    if (a2.cap && s === e && GAZETTEER.names.get(gazetteerKey(a2.text)) === 'place') weak = 'place'; // "Spring, Texas"
    if (a2.lower === 'a' || a2.lower === 'an' || a2.lower === 'the') {
      // Apposition: "Iten, a small town", "Galderma, the Swiss skincare group",
      // "Roberto Baradel, a union leader": the last telling lower-case noun decides.
      let found: MentionType | null = null;
      for (let n = 3; n <= 7; n++) {
        const w = this.after(e, n);
        if (w === undefined || !w.word || APPOSITION_STOPS.has(w.lower)) break;
        if (w.cap) continue;
        if (PLACE_APPOSITION_WORDS.has(w.lower)) found = 'place';
        else if (ORG_CONTEXT_WORDS.has(w.lower)) found = 'organization';
        else if (GAZETTEER.titles.has(w.lower)) found = 'person';
      }
      if (found !== null) return { strong: found, weak };
    }
    return { strong, weak };
  }
}
