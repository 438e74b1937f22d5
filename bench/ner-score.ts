/**
 * Precision/recall of an entity extractor against the hand-labelled set in
 * test/fixtures/ner-labelled.jsonl. Shared by test/ner.test.ts and
 * bench/ner-speed.ts so both systems (ours and compromise) are scored by the
 * exact same rule.
 *
 * Scoring rule (per document, then micro-averaged over the corpus):
 *  - Names are normalised: Unicode NFKD with diacritics removed, lower case,
 *    possessive 's dropped, punctuation turned into spaces, a leading "the"
 *    dropped, whitespace collapsed.
 *  - Predictions are deduplicated per document by normalised name + type, so
 *    a system that returns every mention is not rewarded or punished for it.
 *  - A prediction whose name matches one of the document's `ignore` names
 *    (events, products, works: things outside person/organization/place that
 *    a system may reasonably tag) is dropped before scoring.
 *  - A prediction is correct when some gold entity of the SAME type has the
 *    same normalised name, or one name contains the other as a whole-word
 *    sequence ("Merkel" ~ "Angela Merkel", "President Emmanuel Macron" ~
 *    "Emmanuel Macron"; but "Bank" !~ "Bankside").
 *  - A gold entity is found when some prediction of the same type matches it
 *    by that rule.
 *  - precision = correct predictions / predictions;
 *    recall = found gold entities / gold entities.
 */
import { readFileSync } from 'node:fs';

export type LabelType = 'person' | 'organization' | 'place';

export interface LabelledEntity {
  name: string;
  type: LabelType;
}

export interface LabelledDoc {
  id: string;
  text: string;
  entities: LabelledEntity[];
  /** Names neither rewarded nor penalised if predicted (any type). */
  ignore?: string[];
  /**
   * 'dev': written first and used while developing the rules;
   * 'heldout': written next, scored blind once, then used for a last round of fixes;
   * 'blind': written after all rule changes and never tuned against (docs/extractor.md).
   */
  split?: string;
}

export interface Score {
  documents: number;
  gold: number;
  predicted: number;
  correct: number;
  found: number;
  precision: number;
  recall: number;
  f1: number;
  byType: Record<LabelType, { gold: number; predicted: number; correct: number; found: number; precision: number; recall: number }>;
}

export type Predictor = (text: string) => LabelledEntity[];

const TYPES: LabelType[] = ['person', 'organization', 'place'];

export function loadLabelled(path: string): LabelledDoc[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LabelledDoc);
}

export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['\u2019]s\b/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .replace(/^the\s+/, '');
}

/** Same normalised name, or one contains the other as whole words. */
export function namesMatch(a: string, b: string): boolean {
  const x = normaliseName(a);
  const y = normaliseName(b);
  if (x === '' || y === '') return false;
  if (x === y) return true;
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return (' ' + long + ' ').includes(' ' + short + ' ');
}

interface DocCounts {
  gold: number;
  predicted: number;
  correct: number;
  found: number;
}

function emptyCounts(): DocCounts {
  return { gold: 0, predicted: 0, correct: 0, found: 0 };
}

/** Scores one document; returns counts per type. */
export function scoreDocument(doc: LabelledDoc, predictions: LabelledEntity[]): Record<LabelType, DocCounts> {
  const ignore = doc.ignore ?? [];
  const seen = new Set<string>();
  const preds: LabelledEntity[] = [];
  for (const p of predictions) {
    const key = p.type + '|' + normaliseName(p.name);
    if (normaliseName(p.name) === '' || seen.has(key)) continue;
    if (ignore.some((n) => namesMatch(n, p.name))) continue;
    seen.add(key);
    preds.push(p);
  }
  const out = { person: emptyCounts(), organization: emptyCounts(), place: emptyCounts() };
  for (const p of preds) {
    const c = out[p.type];
    c.predicted++;
    if (doc.entities.some((g) => g.type === p.type && namesMatch(g.name, p.name))) c.correct++;
  }
  for (const g of doc.entities) {
    const c = out[g.type];
    c.gold++;
    if (preds.some((p) => p.type === g.type && namesMatch(g.name, p.name))) c.found++;
  }
  return out;
}

function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}

export function scoreCorpus(docs: LabelledDoc[], predict: Predictor): Score {
  const totals = { person: emptyCounts(), organization: emptyCounts(), place: emptyCounts() };
  for (const doc of docs) {
    const s = scoreDocument(doc, predict(doc.text));
    for (const t of TYPES) {
      totals[t].gold += s[t].gold;
      totals[t].predicted += s[t].predicted;
      totals[t].correct += s[t].correct;
      totals[t].found += s[t].found;
    }
  }
  const all = emptyCounts();
  for (const t of TYPES) {
    all.gold += totals[t].gold;
    all.predicted += totals[t].predicted;
    all.correct += totals[t].correct;
    all.found += totals[t].found;
  }
  const precision = ratio(all.correct, all.predicted);
  const recall = ratio(all.found, all.gold);
  const byType = {} as Score['byType'];
  for (const t of TYPES) {
    byType[t] = {
      ...totals[t],
      precision: ratio(totals[t].correct, totals[t].predicted),
      recall: ratio(totals[t].found, totals[t].gold),
    };
  }
  return {
    documents: docs.length,
    ...all,
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    byType,
  };
}
