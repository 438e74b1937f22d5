/**
 * Generated JSONL as ~64 KiB batches of bytes, each with the number of documents in it, so the
 * benchmark knows how many documents a child has been given. Lazy: nothing is held beyond the
 * batch being written (`[...generatedBatches(...)]` holds them, for the throughput runs that feed
 * the same bytes to several programs).
 */
import { generateDocs, type GenerateOptions } from './generate-docs.js';

export interface InputBatch {
  bytes: Buffer;
  docs: number;
}

const BATCH_BYTES = 64 * 1024;

export function* generatedBatches(count: number, seed: number, options: GenerateOptions = {}, batchBytes = BATCH_BYTES): Generator<InputBatch> {
  let text = '';
  let docs = 0;
  for (const d of generateDocs(count, seed, options)) {
    text += `${JSON.stringify(d)}\n`;
    docs++;
    if (text.length >= batchBytes) {
      yield { bytes: Buffer.from(text), docs };
      text = '';
      docs = 0;
    }
  }
  if (docs > 0) yield { bytes: Buffer.from(text), docs };
}

/** The corpus every memory run reads: the generator's log-normal body plus a 0.5% Pareto tail. */
export const MEMORY_CORPUS: GenerateOptions = { medianWords: 100, maxWords: 20_000, tailShare: 0.005, tailMinWords: 2000 };
