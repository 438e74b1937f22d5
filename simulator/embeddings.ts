/**
 * Deterministic embeddings for the simulator: the same text always gives the same unit vector, and
 * texts sharing words point in similar directions (signed feature hashing of lower-cased words,
 * plus a little text-seeded noise so every text, even an empty one, has its own non-zero vector).
 * Not semantic, but stable and cheap, with OpenAI's shapes: 1536 dimensions by default (3072 for
 * text-embedding-3-large), `dimensions` shortens the vector and renormalises it as OpenAI does.
 */
import { seededRandom } from './seeded-random.js';

/** 32-bit FNV-1a over the UTF-16 code units. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function defaultDimensions(model: string): number {
  return /text-embedding-3-large/.test(model) ? 3072 : 1536;
}

const WORD = /[\p{L}\p{N}]+/gu;
const SLOTS_PER_WORD = 8;
const NOISE = 0.05;

/** The embedding of `input` (a text, or a token array as the API also accepts) with `dimensions` components, unit length. */
export function embeddingVector(input: string | readonly number[], model: string, dimensions?: number): Float32Array {
  const full = Math.max(defaultDimensions(model), dimensions ?? 0);
  const key = typeof input === 'string' ? input : `tokens:${input.join(',')}`;
  const words = typeof input === 'string' ? (input.toLowerCase().match(WORD) ?? []) : input.map(String);
  const v = new Float64Array(full);
  const noise = seededRandom(fnv1a(key));
  for (let i = 0; i < full; i += 2) {
    // Box-Muller: two normal deviates per pair of uniforms.
    const r = Math.sqrt(-2 * Math.log(Math.max(1e-12, noise()))) * NOISE;
    const a = 2 * Math.PI * noise();
    v[i] = r * Math.cos(a);
    if (i + 1 < full) v[i + 1] = r * Math.sin(a);
  }
  for (const w of words) {
    const slots = seededRandom(fnv1a(`w:${w}`));
    for (let k = 0; k < SLOTS_PER_WORD; k++) {
      const i = Math.floor(slots() * full);
      v[i] = (v[i] ?? 0) + (slots() < 0.5 ? -1 : 1);
    }
  }
  const n = dimensions ?? full;
  let norm = 0;
  for (let i = 0; i < n; i++) norm += (v[i] ?? 0) ** 2;
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (v[i] ?? 0) / norm;
  return out;
}

/** Little-endian float32 bytes in base64, the API's `encoding_format: 'base64'`. */
export function float32Base64(vector: Float32Array): string {
  const buf = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i] ?? 0, i * 4);
  return buf.toString('base64');
}
