/**
 * The offline extractor: named-entity recognition and co-occurrence relations (lib/ner), no API.
 * CPU-bound, so packs run on a pool of worker threads (piscina); `--workers 0` runs them on the
 * main thread. Order and backpressure are the extract stage's business, not the pool's.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import type { Extractor } from '../runtime/extractor.js';
import { defineOptions, type OptionsOf } from '../runtime/options.js';
import { chunkKey, type ChunkExtraction, type Pack, type PackAnswer } from '../runtime/records.js';

export const offlineExtractorOptionSpecs = defineOptions([
  { name: 'workers', operational: true, type: 'integer', min: 0, max: 256, defaultLabel: 'CPU count', description: 'Worker threads for the offline extractor (0 runs it on the main thread)' },
]);

export type OfflineExtractorOptions = OptionsOf<typeof offlineExtractorOptionSpecs>;

/** Packs queued per worker, so a worker never waits for the main thread to hand it the next one. */
const PACKS_PER_WORKER = 2;

export function offlineExtractor(options: OfflineExtractorOptions = {}): Extractor {
  const workers = options.workers ?? availableParallelism();
  const pool =
    workers > 0
      ? new Piscina<string[], ChunkExtraction[]>({
          filename: new URL('./offline-worker.js', import.meta.url).href,
          minThreads: workers,
          maxThreads: workers,
          idleTimeout: 60_000,
        })
      : undefined;

  return {
    name: 'offline',
    templateTokens: 0,
    perChunkTokens: 0,
    concurrency: Math.max(1, workers) * PACKS_PER_WORKER,
    async extract(pack: Pack): Promise<PackAnswer> {
      const texts = pack.chunks.map((c) => c.text);
      let found: ChunkExtraction[];
      try {
        // Loaded only when used: the NER lexicons cost memory the main thread need not pay for.
        found = pool ? await pool.run(texts) : (await import('./offline-worker.js')).extractTexts(texts);
      } catch (err) {
        throw new SluiceError(ErrorCode.EXTRACT, `offline extractor failed: ${messageOf(err)}`, { cause: err });
      }
      const chunks = new Map<string, ChunkExtraction>();
      pack.chunks.forEach((c, i) => chunks.set(chunkKey(c), found[i]!));
      return { chunks, usage: { promptTokens: 0, completionTokens: 0 } };
    },
    async close(): Promise<void> {
      await pool?.destroy();
    },
  };
}
