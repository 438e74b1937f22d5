/** Processing an in-memory array of texts with the kg pipeline (no files, no streams to set up). */
import { results } from '../lib/runtime/pipeline.js';
import type { Failure, Result } from '../lib/runtime/records.js';
import { kg } from './kg.js';

/**
 * Extracts from each text; `results[i]` belongs to `texts[i]` (id `String(i)`), `undefined` where
 * that text was dead-lettered (its reason is in `failures`).
 */
export async function extractFromTexts(texts: readonly string[], options: Record<string, unknown> = {}): Promise<{ results: (Result | undefined)[]; failures: Failure[] }> {
  const out: (Result | undefined)[] = new Array(texts.length).fill(undefined);
  const failures: Failure[] = [];
  const input = { name: 'texts', values: texts.map((text, i) => ({ id: String(i), text })) };
  for await (const r of results(kg, [input], options, { onDeadLetter: (f) => void failures.push(f) })) out[r.seq] = r;
  return { results: out, failures };
}
