/**
 * A seeded generator of news-like documents with a long-tailed length distribution (log-normal
 * word counts: median ~100 words, a tail into the thousands). Produced on the fly, never stored:
 * `node bench/generate-docs.js --count 100000 --seed 1 > docs.jsonl`.
 *
 * `tailShare` (default 0) mixes in a heavier, Pareto tail: that share of the documents gets
 * `tailMinWords` x a Pareto(alpha 1.2) draw, up to `maxWords`, as real crawls do (a few very long
 * pages among short ones). The default leaves the sequence of documents exactly as before.
 */
import { Readable } from 'node:stream';
import { isMain } from '../lib/cli/is-main.js';
import { benchArgs } from './bench-cli.js';
import { seededRandom } from '../simulator/seeded-random.js';

const PEOPLE = [
  'Angela Merkel',
  'Emmanuel Macron',
  'Satya Nadella',
  'Ngozi Okonjo-Iweala',
  'Lionel Messi',
  'Serena Williams',
  'Jacinda Ardern',
  'Narendra Modi',
  'Tim Cook',
  'Christine Lagarde',
  'Elon Musk',
  'Kamala Harris',
  'Xi Jinping',
  'Lula da Silva',
  'Sanna Marin',
  'Sundar Pichai',
  'Mary Barra',
  'Olaf Scholz',
  'Fumio Kishida',
  'Cyril Ramaphosa',
];
const ORGS = [
  'Microsoft',
  'the European Central Bank',
  'Toyota',
  'the World Health Organization',
  'Goldman Sachs',
  'Siemens',
  'the United Nations',
  'Airbus',
  'Samsung Electronics',
  'the International Monetary Fund',
  'Nestlé',
  'Reuters',
  'Apple Inc.',
  'Volkswagen',
  'the Red Cross',
  'Harvard University',
];
const PLACES = ['Berlin', 'Paris', 'Lagos', 'Tokyo', 'New York', 'Brazil', 'Nairobi', 'Mumbai', 'Sydney', 'Geneva', 'Canada', 'Seoul', 'Mexico City', 'Cairo', 'Stockholm', 'Texas'];
const TEMPLATES = [
  '{P} met {Q} in {L} on Tuesday to discuss trade.',
  '{O} said its profits rose sharply in the third quarter.',
  'Officials in {L} confirmed that {O} would open a new office there.',
  '{P}, who leads {O}, told reporters the plan was on track.',
  'Analysts expect {O} to announce further cuts next year.',
  'The talks between {P} and {Q} ended without agreement.',
  'Thousands gathered in {L} as the festival began.',
  'According to {O}, prices in {L} rose by four percent.',
  'The weather stayed mild for most of the week.',
  'Critics argued that the decision came too late for many families.',
];

export { seededRandom };

export interface GeneratedDoc {
  id: string;
  text: string;
  source: string;
  date: string;
}

/** Word count: log-normal around a median, capped. */
function wordCount(rand: () => number, median: number, max: number): number {
  const u = Math.max(1e-9, rand());
  const v = rand();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(5, Math.min(max, Math.round(median * Math.exp(0.8 * normal))));
}

/** Pareto(alpha) from `min` words, capped: the heavy tail of real corpora. */
function tailWordCount(rand: () => number, min: number, max: number): number {
  const u = Math.max(1e-9, rand());
  return Math.min(max, Math.round(min / u ** (1 / TAIL_ALPHA)));
}

const TAIL_ALPHA = 1.2;

export interface GenerateOptions {
  medianWords?: number;
  maxWords?: number;
  /** Share (0..1) of documents drawn from the Pareto tail instead of the log-normal body. @default 0 */
  tailShare?: number;
  /** Shortest tail document in words. @default 2000 */
  tailMinWords?: number;
}

export function* generateDocs(count: number, seed = 1, options: GenerateOptions = {}): Generator<GeneratedDoc> {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const median = options.medianWords ?? 100;
  const max = options.maxWords ?? 20000;
  const tailShare = options.tailShare ?? 0;
  const tailMin = options.tailMinWords ?? 2000;
  for (let i = 0; i < count; i++) {
    // The tail draw only happens when asked for, so the default sequence is unchanged.
    const target = tailShare > 0 && rand() < tailShare ? tailWordCount(rand, tailMin, max) : wordCount(rand, median, max);
    const parts: string[] = [];
    let words = 0;
    while (words < target) {
      const s = pick(TEMPLATES).replace('{P}', pick(PEOPLE)).replace('{Q}', pick(PEOPLE)).replace('{O}', pick(ORGS)).replace('{L}', pick(PLACES));
      const capital = s.charAt(0).toUpperCase() + s.slice(1);
      parts.push(capital);
      words += capital.split(' ').length;
    }
    yield { id: `doc-${i + 1}`, text: parts.join(' '), source: pick(['wire', 'blog', 'paper']), date: `2026-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 9)}` };
  }
}

/** JSONL bytes of `items`, one line each, as a pull-based stream of ~64 KiB writes (nothing is held). */
export function jsonlStream(items: Iterable<unknown>): Readable {
  return Readable.from(
    (function* () {
      let batch = '';
      for (const item of items) {
        batch += `${JSON.stringify(item)}\n`;
        if (batch.length > 64 * 1024) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    })(),
    { objectMode: false },
  );
}

/** JSONL bytes of generated documents, as a pull-based stream (nothing is held). */
export function generatedJsonl(count: number, seed = 1, options?: GenerateOptions): Readable {
  return jsonlStream(generateDocs(count, seed, options));
}

async function main(): Promise<void> {
  const values = benchArgs({
    script: 'bench/generate-docs.js',
    about: ['Seeded news-like documents as JSONL on stdout, produced on the fly (log-normal lengths, an optional Pareto tail).'],
    specs: [
      { name: 'count', type: 'integer', default: 10000, min: 0, description: 'How many documents' },
      { name: 'seed', type: 'integer', default: 1, description: 'Seed: the same seed gives the same documents' },
      { name: 'median-words', type: 'number', default: 100, min: 1, description: 'Median length in words' },
      { name: 'tail-share', type: 'number', default: 0, min: 0, max: 1, description: 'Share 0..1 of documents drawn from the heavier Pareto tail' },
    ],
  });
  const stream = generatedJsonl(values.count, values.seed, { medianWords: values.medianWords, tailShare: values.tailShare });
  for await (const chunk of stream) {
    if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

if (isMain(import.meta.url)) await main();
