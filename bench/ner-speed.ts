/**
 * Offline entity extraction: our extractor (lib/ner) against compromise's
 * people()/organizations()/places(), side by side in one process, on the main
 * thread (one core for the work itself; pin the process with
 * `taskset -c 0 node bench/ner-speed.js` to rule out helper threads).
 *
 * Speed: documents/s on ~100-word news documents built from the sentences of
 * test/fixtures/ner-labelled.jsonl (seeded shuffle, so every document is
 * different). Rounds alternate between the two systems; the median round is
 * reported. Quality: precision/recall of both on the labelled set, by the
 * rule in bench/ner-score.ts.
 *
 * Run: `npm run build && node bench/ner-speed.js` (about 20 s). Writes
 * bench/results/ner-speed.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import nlp from 'compromise';
import { extractEntities } from '../lib/ner/index.js';
import { loadLabelled, scoreCorpus, type LabelledDoc, type LabelledEntity, type Score } from './ner-score.js';
import { seededRandom } from '../simulator/seeded-random.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const FIXTURE = here('../test/fixtures/ner-labelled.jsonl');
const RESULTS = here('./results/ner-speed.json');

const DOCS = 3000;
const TARGET_WORDS = 100;
const ROUNDS = 3;
const OURS_PER_ROUND = 3000;
const COMPROMISE_PER_ROUND = 300;

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** ~100-word documents made of fixture sentences in a seeded random order. */
function buildDocs(labelled: LabelledDoc[]): string[] {
  const sentences = labelled.flatMap((d) => d.text.split(/(?<=[.!?])\s+(?=[A-Z"])/));
  const rand = seededRandom(42);
  const docs: string[] = [];
  for (let i = 0; i < DOCS; i++) {
    const parts: string[] = [];
    let words = 0;
    while (words < TARGET_WORDS - 10) {
      const s = sentences[Math.floor(rand() * sentences.length)] as string;
      parts.push(s);
      words += wordCount(s);
    }
    docs.push(parts.join(' '));
  }
  return docs;
}

function ours(text: string): LabelledEntity[] {
  return extractEntities(text).entities.map((e) => ({ name: e.name, type: e.type }));
}

function viaCompromise(text: string): LabelledEntity[] {
  const doc = nlp(text);
  const out: LabelledEntity[] = [];
  for (const name of doc.people().out('array') as string[]) out.push({ name, type: 'person' });
  for (const name of doc.organizations().out('array') as string[]) out.push({ name, type: 'organization' });
  for (const name of doc.places().out('array') as string[]) out.push({ name, type: 'place' });
  return out;
}

/** Documents per second for `count` documents starting at `offset` (wrapping). */
function rate(fn: (text: string) => unknown, docs: string[], offset: number, count: number): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) fn(docs[(offset + i) % docs.length] as string);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function pr(s: Score): { precision: number; recall: number; f1: number; gold: number; predicted: number } {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { precision: r(s.precision), recall: r(s.recall), f1: r(s.f1), gold: s.gold, predicted: s.predicted };
}

function cpusAllowed(): string {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function main(): void {
  const labelled = loadLabelled(FIXTURE);
  const docs = buildDocs(labelled);
  const meanWords = docs.reduce((n, d) => n + wordCount(d), 0) / docs.length;

  // Warm up both (JIT, lazy model loading), on documents not timed first.
  rate(ours, docs, 0, 300);
  rate(viaCompromise, docs, 0, 30);

  const oursRates: number[] = [];
  const compromiseRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    oursRates.push(rate(ours, docs, r * 1000, OURS_PER_ROUND));
    compromiseRates.push(rate(viaCompromise, docs, 300 + r * COMPROMISE_PER_ROUND, COMPROMISE_PER_ROUND));
  }
  const oursRate = median(oursRates);
  const compromiseRate = median(compromiseRates);

  const splits: Record<string, LabelledDoc[]> = {
    all: labelled,
    dev: labelled.filter((d) => d.split === 'dev'),
    heldout: labelled.filter((d) => d.split === 'heldout'),
    blind: labelled.filter((d) => d.split === 'blind'),
  };
  const quality: Record<string, { ours: ReturnType<typeof pr>; compromise: ReturnType<typeof pr> }> = {};
  for (const [name, set] of Object.entries(splits)) {
    quality[name] = { ours: pr(scoreCorpus(set, ours)), compromise: pr(scoreCorpus(set, viaCompromise)) };
  }

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpusAllowed: cpusAllowed(),
    thread: 'main thread, sequential',
    speedCorpus: { documents: docs.length, meanWords: Math.round(meanWords * 10) / 10, source: 'fixture sentences, seeded shuffle' },
    docsPerSecond: {
      ours: Math.round(oursRate),
      compromise: Math.round(compromiseRate),
      speedup: Math.round((oursRate / compromiseRate) * 10) / 10,
      oursRounds: oursRates.map(Math.round),
      compromiseRounds: compromiseRates.map(Math.round),
    },
    quality,
    labelledDocuments: Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.length])),
  };

  const row = (label: string, a: string, b: string) => `${label.padEnd(26)}${a.padStart(14)}${b.padStart(14)}`;
  const f = (x: number) => x.toFixed(3);
  console.log(`node ${process.version}, ${result.cpu}, CPUs allowed: ${result.cpusAllowed}`);
  console.log(`${docs.length} documents, mean ${result.speedCorpus.meanWords} words\n`);
  console.log(row('', 'sluice ner', 'compromise'));
  console.log(row('docs/s (median round)', String(result.docsPerSecond.ours), String(result.docsPerSecond.compromise)));
  for (const [name, q] of Object.entries(quality)) {
    const n = splits[name]?.length ?? 0;
    console.log(row(`precision ${name} (${n})`, f(q.ours.precision), f(q.compromise.precision)));
    console.log(row(`recall ${name} (${n})`, f(q.ours.recall), f(q.compromise.recall)));
  }
  console.log(`\nspeed-up: ${result.docsPerSecond.speedup}x`);

  mkdirSync(here('./results'), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
}

main();
