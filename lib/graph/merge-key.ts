/**
 * Entity resolution for the merged graph: a merge key computed from one mention alone (its name
 * and type), so that merging is a fold whose result does not depend on arrival order. Two
 * mentions are one node exactly when their keys are equal. The rules are documented in
 * docs/graph.md ("Merge keys"); every one has a case in test/graph/merge-key.test.ts.
 */
import { createHash } from 'node:crypto';

/** Typographic quotes to their ASCII forms (guillemets count as double quotes). */
const QUOTES: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u2032': "'",
  '\u02bc': "'",
  '\u0060': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u201f': '"',
  '\u2033': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2039': "'",
  '\u203a': "'",
};
const QUOTE_RE = new RegExp(`[${Object.keys(QUOTES).join('')}]`, 'gu');
/** Hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar, minus sign. */
const DASH_RE = /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/gu;
const SPACE_RE = /\s+/gu;
const TRAILING_PUNCT_RE = /[\s.,;:!?]+$/u;
const QUOTE_CHARS = `"'`;
const BRACKETS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}', '<': '>' };

/**
 * Corporate suffixes (on the case-folded, dot-free name), with an optional comma before them.
 * "Co" and "Company" may follow "&" or "and" ("Goldman Sachs & Co."). Removed for organisations
 * only: "Co" is a county or a chemical symbol elsewhere.
 */
const CORPORATE_SUFFIX_RE = /(?:,?\s+(?:(?:&|and)\s+)?(?:co|company)|,?\s+(?:inc|incorporated|corp|corporation|ltd|limited|llc|plc|gmbh|ag|s ?a|n ?v|b ?v|pty|llp))$/u;

/** Entity types whose names lose corporate suffixes (compared after `normaliseType`). */
export const ORGANISATION_TYPES: ReadonlySet<string> = new Set(['organization', 'organisation', 'org', 'company', 'corporation']);

/** How a surface form is stored (an alias): NFKC, whitespace collapsed, trimmed. Case and punctuation kept. */
export function surfaceForm(name: string): string {
  return name.normalize('NFKC').replace(SPACE_RE, ' ').trim();
}

/** Entity and relation types: NFKC, trimmed, lower case, runs of spaces, hyphens and underscores as one "_". */
export function normaliseType(type: string): string {
  return caseFold(type.normalize('NFKC').trim()).replace(/[\s\-_]+/gu, '_');
}

export function isOrganisationType(type: string): boolean {
  return ORGANISATION_TYPES.has(normaliseType(type));
}

/**
 * Case folding independent of the machine's locale: upper then lower case, so "Straße" and
 * "STRASSE" (ß upper-cases to SS) and a final sigma fold alike; "İ" lower-cases to i plus a
 * combining dot, which is dropped so "İstanbul" = "Istanbul".
 */
function caseFold(s: string): string {
  return s
    .toUpperCase()
    .toLowerCase()
    .replace(/i\u0307/gu, 'i');
}

/** Removes one pair of wrapping quotes or brackets when the opening one closes at the very end. */
function unwrap(s: string): string {
  const first = s[0];
  if (first === undefined || s.length < 2) return s;
  if (QUOTE_CHARS.includes(first)) return s.endsWith(first) ? s.slice(1, -1) : s;
  const close = BRACKETS[first];
  if (close === undefined || !s.endsWith(close)) return s;
  // "(a) and (b)" starts and ends with brackets that are not one pair.
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === first) depth++;
    else if (s[i] === close && --depth === 0 && i < s.length - 1) return s;
  }
  return s.slice(1, -1);
}

/** One pass of the edge rules: wrapping pairs, stray quotes at the ends, trailing punctuation, possessives. */
function trimEdges(s: string): string {
  s = unwrap(s).trim();
  // A quote left at either end is unbalanced ("Reuters'" is a plural possessive).
  while (s.length > 0 && QUOTE_CHARS.includes(s[0]!)) s = s.slice(1);
  while (s.length > 0 && QUOTE_CHARS.includes(s[s.length - 1]!)) s = s.slice(0, -1);
  s = s.replace(TRAILING_PUNCT_RE, '');
  s = s.replace(/'s$/iu, '');
  return s.trim();
}

/**
 * The merge key of a mention. Deterministic and independent of any other mention: NFKC;
 * typographic quotes and dashes unified; whitespace collapsed; wrapping quotes/brackets, stray end
 * quotes and trailing punctuation dropped; possessive 's removed; case folded; dots dropped
 * ("U.S.A." = "USA"); corporate suffixes removed for organisations. Articles are kept ("The Hague",
 * "The Who"). A name that would fold to nothing keeps its case-folded form instead.
 */
export function mergeKey(name: string, type: string): string {
  const organisation = isOrganisationType(type);
  let s = name
    .normalize('NFKC')
    .replace(QUOTE_RE, (q) => QUOTES[q]!)
    .replace(DASH_RE, '-')
    .replace(SPACE_RE, ' ')
    .trim();
  const fallback = caseFold(s);
  s = caseFold(s);
  for (let previous = ''; previous !== s;) {
    previous = s;
    s = trimEdges(s);
    s = s.replace(/\./gu, '').replace(SPACE_RE, ' ').trim();
    if (organisation) {
      const m = CORPORATE_SUFFIX_RE.exec(s);
      // Keep a name that is nothing but a suffix ("Limited" the retailer).
      if (m && m.index > 0) s = s.slice(0, m.index).trim();
    }
  }
  s = s.normalize('NFKC');
  return s === '' ? fallback : s;
}

/**
 * Codepoint order, the order SQLite's BINARY collation gives UTF-8 text. Plain `<` compares UTF-16
 * code units, which puts U+E000..U+FFFF after astral characters; shifting the surrogates above them
 * restores codepoint order.
 */
export function compareCodepoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x <= 0xdfff ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y <= 0xdfff ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Hex digits of a node or edge id: 64 bits of SHA-256 (collisions are detected on write). */
export const ID_HEX_DIGITS = 16;

function hashId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, ID_HEX_DIGITS);
}

/** A node's stable id: a hash of its merge key, the same in every store and every run. */
export function nodeId(key: string): string {
  return hashId(`n\u0000${key}`);
}

/** An edge's stable id: a hash of (source key, target key, type). */
export function edgeId(sourceKey: string, targetKey: string, type: string): string {
  // JSON, not a separator: keys may hold any character.
  return hashId(`e${JSON.stringify([sourceKey, targetKey, type])}`);
}
