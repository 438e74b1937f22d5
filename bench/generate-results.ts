/**
 * Seeded result lines (the kg output schema) with many repeated entities written in varying ways,
 * for the graph benchmark and tests. Produced on the fly, never stored:
 * `node bench/generate-results.js --count 1000000 --seed 1 > out.jsonl`.
 *
 * Entities come from a vocabulary of synthetic names (people, organisations, places) drawn with a
 * Zipf-like skew, so a few recur in most documents and a long tail appears rarely; each mention
 * picks one of its entity's surface variants ("Velora Systems", "Velora Systems Inc.",
 * "VELORA SYSTEMS, INC.", "Velora Systems's"), all of which merge to one node.
 */
import { Readable } from 'node:stream';
import { isMain } from '../lib/cli/is-main.js';
import { benchArgs } from './bench-cli.js';
import type { Entity, Relation } from '../lib/runtime/records.js';
import { jsonlStream } from './generate-docs.js';
import { seededRandom } from '../simulator/seeded-random.js';

const SYLLABLES = [
  'ka',
  'lo',
  've',
  'ra',
  'min',
  'tor',
  'sa',
  'del',
  'na',
  'bri',
  'os',
  'tel',
  'mar',
  'qui',
  'zen',
  'fa',
  'lu',
  'cor',
  'dan',
  'ei',
  'hol',
  'ri',
  'pen',
  'ga',
  'sto',
  'vin',
  'mu',
  'ter',
  'ba',
  'ly',
  'no',
  'shi',
];
const ORG_WORDS = ['Systems', 'Bank', 'Motors', 'Energy', 'Foods', 'Capital', 'Labs', 'Airlines', 'Media', 'Group'];
const PLACE_WORDS = ['', 'Port ', 'San ', 'New ', 'Lake '];
const RELATION_TYPES = ['works_for', 'leads', 'located_in', 'partner_of', 'affiliated_with', 'related_to'];

export interface ResultLine {
  id: string;
  entities: Entity[];
  relations: Relation[];
  meta: Record<string, unknown>;
  usage: { promptTokens: number; completionTokens: number; chunks: number };
}

export interface GenerateOptions {
  /** Distinct entities to draw from. @default 100000 */
  vocabulary?: number;
  /** Zipf exponent: larger concentrates mentions on fewer entities. @default 1.1 */
  skew?: number;
}

function word(n: number, syllables: number): string {
  let s = '';
  for (let i = 0; i < syllables; i++) {
    s += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The canonical name and type of vocabulary entry `i` (spread over types by i mod 3). */
export function vocabularyEntry(i: number): { name: string; type: 'person' | 'organization' | 'place' } {
  const kind = i % 3;
  const n = Math.floor(i / 3);
  if (kind === 0) return { name: `${word(n, 2)} ${word(n * 7 + 3, 3)}`, type: 'person' };
  if (kind === 1) return { name: `${word(n, 3)} ${ORG_WORDS[n % ORG_WORDS.length]}`, type: 'organization' };
  return { name: `${PLACE_WORDS[n % PLACE_WORDS.length]}${word(n * 13 + 5, 3)}`, type: 'place' };
}

/** A surface variant of a name; every variant has the same merge key as the name. */
export function variantOf(name: string, type: string, v: number): string {
  switch (v % 5) {
    case 0:
      return name;
    case 1:
      return name.toUpperCase();
    case 2:
      return type === 'organization' ? `${name} Inc.` : `${name}'s`;
    case 3:
      return type === 'organization' ? `${name.toUpperCase()}, INC.` : `\u201c${name}\u201d`;
    default:
      return `${name}\u2019s`;
  }
}

/** Zipf-like draw over 0..n-1 by inverse transform of a continuous power law (fast, no tables). */
function zipf(rand: () => number, n: number, s: number): number {
  const u = rand();
  const x = s === 1 ? Math.exp(u * Math.log(n + 1)) - 1 : Math.pow(u * (Math.pow(n + 1, 1 - s) - 1) + 1, 1 / (1 - s)) - 1;
  return Math.min(n - 1, Math.max(0, Math.floor(x)));
}

export function* generateResults(count: number, seed = 1, options: GenerateOptions = {}): Generator<ResultLine> {
  const rand = seededRandom(seed);
  const vocabulary = options.vocabulary ?? 100_000;
  const skew = options.skew ?? 1.1;
  for (let i = 0; i < count; i++) {
    const entityCount = 3 + Math.floor(rand() * 10);
    const seen = new Map<number, Entity>();
    for (let k = 0; k < entityCount; k++) {
      const idx = zipf(rand, vocabulary, skew);
      const mentions = 1 + Math.floor(rand() * 3);
      const known = seen.get(idx);
      if (known) {
        known.mentions += mentions;
        continue;
      }
      const { name, type } = vocabularyEntry(idx);
      seen.set(idx, { name: variantOf(name, type, Math.floor(rand() * 5)), type, mentions });
    }
    const entities = [...seen.values()];
    const relations: Relation[] = [];
    const relationCount = entities.length < 2 ? 0 : Math.floor(rand() * Math.min(8, entities.length));
    for (let k = 0; k < relationCount; k++) {
      const a = entities[Math.floor(rand() * entities.length)]!;
      const b = entities[Math.floor(rand() * entities.length)]!;
      if (a === b) continue;
      const type = RELATION_TYPES[Math.floor(rand() * RELATION_TYPES.length)]!;
      if (relations.some((r) => r.source === a.name && r.target === b.name && r.type === type)) continue;
      relations.push({ source: a.name, target: b.name, type, count: 1 + Math.floor(rand() * 2) });
    }
    yield { id: `doc-${i + 1}`, entities, relations, meta: {}, usage: { promptTokens: 0, completionTokens: 0, chunks: 1 } };
  }
}

/** JSONL bytes of generated result lines, as a pull-based stream (nothing is held). */
export function generatedResultsJsonl(count: number, seed = 1, options?: GenerateOptions): Readable {
  return jsonlStream(generateResults(count, seed, options));
}

async function main(): Promise<void> {
  const values = benchArgs({
    script: 'bench/generate-results.js',
    about: ['Seeded result lines (the kg output schema) with many repeated entities as JSONL on stdout, produced on the fly.'],
    specs: [
      { name: 'count', type: 'integer', default: 10000, min: 0, description: 'How many result lines' },
      { name: 'seed', type: 'integer', default: 1, description: 'Seed: the same seed gives the same lines' },
      { name: 'vocabulary', type: 'integer', default: 100000, min: 1, description: 'Distinct entities drawn from' },
      { name: 'skew', type: 'number', default: 1.1, min: 0, description: 'Zipf-like skew of the entity draws' },
    ],
  });
  const stream = generatedResultsJsonl(values.count, values.seed, { vocabulary: values.vocabulary, skew: values.skew });
  for await (const chunk of stream) {
    if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

if (isMain(import.meta.url)) await main();
