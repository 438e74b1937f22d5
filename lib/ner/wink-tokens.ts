/**
 * Tokens and sentences from wink-nlp (wink-eng-lite-web-model, 'sbd' only).
 *
 * wink-nlp is the fastest maintained English tokenizer + sentence splitter we
 * measured (its POS tagger roughly halves throughput and the classifier does
 * not need it: capitalisation, wink's own vocabulary and compromise's
 * gazetteers decide). Two wink details matter here:
 *  - wink's model carries an ~87k-entry lexicon of ordinary English words and
 *    hardly any proper names. We capture it once (by wrapping `model.core`) and
 *    keep its lower-case entries as COMMON_WORDS: "is this capitalised token
 *    just an ordinary word?" is the best single cue for a proper noun.
 *  - wink caches every out-of-vocabulary token it meets in the model for the
 *    life of the instance, so a long-running worker would grow without bound.
 *    The instance is replaced (cost ~0.2 s) once it has cached
 *    MAX_WINK_OOV_ENTRIES new strings (see stableMetaCer for why replacing
 *    an instance needed a workaround).
 */
import winkNLP from 'wink-nlp';
import type { WinkMethods } from 'wink-nlp';
import model from 'wink-eng-lite-web-model';

/** One token as the classifier sees it. */
export interface Token {
  /** Surface text (hyphenated words are joined: "Sanwo-Olu"). */
  text: string;
  /** Lower case, diacritics kept, trailing period removed ("dr." -> "dr"). */
  lower: string;
  /** A word token (letters), as opposed to punctuation, number, emoji, ... */
  word: boolean;
  /** Starts with an upper-case letter. */
  cap: boolean;
  /** Whitespace precedes the token in the text. */
  space: boolean;
  /** Index of the sentence holding the token. */
  sentence: number;
}

export interface TokenizedText {
  tokens: Token[];
  /** [first, last] token index (inclusive) of each sentence. */
  sentences: Array<[number, number]>;
}

/**
 * wink's tokenizer is quadratic in the length of a run without whitespace
 * (40,000 characters of minified code or base64 take seconds). No name is
 * that long, so longer runs are blanked before tokenising.
 */
export const MAX_UNBROKEN_CHARS = 100;
const UNBROKEN_RUN = new RegExp(`\\S{${MAX_UNBROKEN_CHARS + 1},}`, 'g');

/** wink-nlp caches out-of-vocabulary strings; past this many we start a fresh instance. */
export const MAX_WINK_OOV_ENTRIES = 100_000;

interface WinkCore {
  features?: { lexeme?: { list?: string[]; intrinsicSize?: number } };
}

let capturedCore: WinkCore | undefined;

interface MetaCer {
  machines: unknown;
  transformers: unknown;
}

/**
 * wink-eng-lite-web-model's metaCER() loader re-stringifies a module-level
 * variable on every call (`machines = JSON.stringify(machines)`), so every new
 * winkNLP() instance gets a longer, more escaped string until the process
 * runs out of memory (same family as wink-eng-lite-web-model issue #2). We
 * call it once, undo any stringifying done by earlier callers, and hand every
 * instance the same correct result.
 */
const stableMetaCer: MetaCer = (() => {
  const first = (model.metaCER as () => MetaCer)();
  let machines: unknown = first.machines;
  for (let i = 0; i < 64 && typeof machines === 'string'; i++) {
    try {
      machines = JSON.parse(machines);
    } catch {
      break;
    }
  }
  return { machines: typeof machines === 'string' ? machines : JSON.stringify(machines), transformers: first.transformers };
})();

function createWink(): WinkMethods {
  const wrapped = {
    ...model,
    // Keep a handle on the core model wink builds for this instance.
    core: () => {
      capturedCore = (model.core as () => WinkCore)();
      return capturedCore;
    },
    metaCER: () => stableMetaCer,
  };
  return winkNLP(wrapped as typeof model, ['sbd']);
}

let wink = createWink();
let its = wink.its;
const firstCore = capturedCore as WinkCore | undefined;

function lexemeList(core: WinkCore | undefined): string[] {
  return core?.features?.lexeme?.list ?? [];
}

const intrinsicSize = firstCore?.features?.lexeme?.intrinsicSize ?? lexemeList(firstCore).length;

interface PackedCore extends WinkCore {
  lexicon?: Uint32Array;
  packing?: { size?: number; layout?: Record<string, number[]> };
  features?: WinkCore['features'] & { pos?: { list?: string[] } };
}

/** wink's most likely part of speech for lexicon entry i ('' if unavailable). */
function lexiconPos(core: PackedCore | undefined, i: number): string {
  const layout = core?.packing?.layout?.pos;
  const size = core?.packing?.size;
  const lexicon = core?.lexicon;
  const list = core?.features?.pos?.list;
  if (layout === undefined || size === undefined || lexicon === undefined || list === undefined) return '';
  const [offset, mask, shift] = layout as [number, number, number];
  const packed = lexicon[i * size + offset];
  return packed === undefined ? '' : (list[(packed & mask) >>> shift] ?? '');
}

const FUNCTION_POS = new Set(['ADV', 'DET', 'PRON', 'ADP', 'CCONJ', 'SCONJ', 'AUX', 'PART', 'INTJ', 'NUM']);

/**
 * wink's lower-case vocabulary split in two: ordinary words (COMMON_WORDS) and
 * the few hundred proper nouns it knows in lower case (countries, US states,
 * some acronyms and brands: PROPER_WORDS).
 */
export const { COMMON_WORDS, PROPER_WORDS, FUNCTION_WORDS } = (() => {
  const common = new Set<string>();
  const proper = new Set<string>();
  const functional = new Set<string>();
  const list = lexemeList(firstCore);
  for (let i = 0; i < intrinsicSize && i < list.length; i++) {
    const w = list[i] as string;
    if (w.length === 0 || w !== w.toLowerCase() || !/\p{Ll}/u.test(w)) continue;
    const pos = lexiconPos(firstCore as PackedCore, i);
    if (pos === 'PROPN') proper.add(w.replace(/\.$/, ''));
    else common.add(w);
    if (FUNCTION_POS.has(pos)) functional.add(w);
  }
  return {
    COMMON_WORDS: common as ReadonlySet<string>,
    PROPER_WORDS: proper as ReadonlySet<string>,
    /** Common words whose usual part of speech is never part of a name (adverbs, pronouns, ...). */
    FUNCTION_WORDS: functional as ReadonlySet<string>,
  };
})();

/** An ordinary English word, also through a plain plural ("exporters" -> "exporter"). */
export function isCommonWord(lower: string): boolean {
  if (COMMON_WORDS.has(lower)) return true;
  if (PROPER_WORDS.has(lower) || lower.length < 4) return false;
  if (lower.endsWith('men')) return COMMON_WORDS.has(lower.slice(0, -3) + 'man');
  if (!lower.endsWith('s')) return false;
  return COMMON_WORDS.has(lower.slice(0, -1)) || (lower.endsWith('es') && COMMON_WORDS.has(lower.slice(0, -2))) || (lower.endsWith('ies') && COMMON_WORDS.has(lower.slice(0, -3) + 'y'));
}

/** Starts a fresh wink instance, dropping the out-of-vocabulary cache. */
export function recycleTokenizer(): void {
  wink = createWink();
  its = wink.its;
}

/** Number of out-of-vocabulary strings the current wink instance has cached. */
export function cachedOovEntries(): number {
  return lexemeList(capturedCore).length - intrinsicSize;
}

function recycleIfGrown(): void {
  if (cachedOovEntries() > MAX_WINK_OOV_ENTRIES) recycleTokenizer();
}

const UPPER_START = /^\p{Lu}/u;
/** Arabic/Romance name particles fused to a capitalised name: "al-Ansari", "d'Ivoire". */
const PARTICLE_NAME = /^(?:al|el|ad|as|ash|at|az|bin|ibn|abu|abd|bint|d|l)['\u2019-]\p{Lu}/u;
const HAS_LETTER = /\p{L}/u;

/** Splits text into tokens and sentences. Never throws on any string input. */
export function tokenize(text: string): TokenizedText {
  if (!/\S/.test(text)) return { tokens: [], sentences: [] };
  recycleIfGrown();
  const doc = wink.readDoc(text.replace(UNBROKEN_RUN, ' '));
  const values = doc.tokens().out(its.value) as string[];
  const types = doc.tokens().out(its.type) as string[];
  const spaces = doc.tokens().out(its.precedingSpaces) as string[];
  const spans = doc.sentences().out(its.span) as unknown as Array<[number, number]>;

  // Map wink token index -> sentence index.
  const sentenceOf = new Int32Array(values.length);
  for (let s = 0; s < spans.length; s++) {
    const span = spans[s] as [number, number];
    for (let i = span[0]; i <= span[1] && i < values.length; i++) sentenceOf[i] = s;
  }

  const tokens: Token[] = [];
  const firstOfSentence: number[] = new Array(spans.length).fill(-1);
  const lastOfSentence: number[] = new Array(spans.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    const type = types[i] as string;
    if (type === 'tabCRLF') continue;
    const value = values[i] as string;
    const space = (spaces[i] as string).length > 0;
    const prev = tokens[tokens.length - 1];
    // Join "Sanwo" "-" "Olu" (no spaces around the hyphen) into one word.
    if (
      prev !== undefined &&
      prev.word &&
      !space &&
      (value === '-' || value === '\u2010') &&
      i + 1 < values.length &&
      types[i + 1] === 'word' &&
      (spaces[i + 1] as string).length === 0 &&
      sentenceOf[i + 1] === prev.sentence
    ) {
      const next = values[i + 1] as string;
      prev.text += '-' + next;
      prev.lower = prev.text.toLowerCase();
      if (!prev.cap && PARTICLE_NAME.test(prev.text)) prev.cap = true;
      i++;
      continue;
    }
    const word = type === 'word' && HAS_LETTER.test(value);
    let lower = value.toLowerCase();
    if (lower.length > 1 && lower.endsWith('.')) lower = lower.slice(0, -1);
    const sentence = sentenceOf[i] as number;
    if (firstOfSentence[sentence] === -1) firstOfSentence[sentence] = tokens.length;
    lastOfSentence[sentence] = tokens.length;
    tokens.push({ text: value, lower, word, cap: word && UPPER_START.test(value), space, sentence });
  }
  const sentences: Array<[number, number]> = [];
  for (let s = 0; s < spans.length; s++) {
    const first = firstOfSentence[s] as number;
    if (first !== -1) sentences.push([first, lastOfSentence[s] as number]);
  }
  // Renumber sentences densely (sentences made only of line breaks vanish).
  for (let s = 0; s < sentences.length; s++) {
    const [a, b] = sentences[s] as [number, number];
    for (let i = a; i <= b; i++) (tokens[i] as Token).sentence = s;
  }
  return { tokens, sentences };
}
