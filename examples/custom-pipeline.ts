/**
 * A pipeline composed in code: the library's stages plus one of our own (keep only people),
 * run three ways. Build with `npm ci`, then: node examples/custom-pipeline.js
 */
import { fileURLToPath } from 'node:url';
import type { Failure, Result } from '../lib/runtime/records.js';
import { definePipeline, results, onBatch } from '../lib/runtime/pipeline.js';
import { pipe, type StageTransform } from '../lib/runtime/stage.js';
import { chunk } from '../stages/chunk.js';
import { extract } from '../stages/extract.js';
import { mergeChunks } from '../stages/merge-chunks.js';
import { offlineExtractor } from '../lib/extractors/offline.js';
import { parse } from '../stages/parse.js';
import { read, type InputSpec } from '../stages/read.js';
import { jsonlSink } from '../stages/sink.js';
import { tokenPack } from '../stages/token-pack.js';
import { extractFromTexts } from '../pipelines/texts.js';

/** Our own stage: a plain highland transform that keeps person entities only (dead letters pass as they are). */
const peopleOnly: StageTransform<Result | Failure, Result | Failure> = (input) =>
  input.map((item) => (item.kind === 'result' ? { ...item, entities: item.entities.filter((e) => e.type === 'person') } : item));

const people = definePipeline({
  name: 'people',
  description: 'People mentioned in each document',
  options: [],
  build: (_options, inputs) => {
    const extractor = offlineExtractor({ workers: 1 });
    return {
      // Each stage takes what the one before emits: a chain that does not fit does not compile.
      flow: pipe(
        read(inputs as InputSpec[], { maxLineBytes: 1 << 20, format: 'auto' }),
        parse({ idField: 'id', textField: 'text' }),
        chunk({ chunkTokens: 800, chunkOverlap: 50, model: 'gpt-4.1-mini' }),
        tokenPack({ tokenBudget: 8192, maxDocs: 8 }),
        extract({ extractor, retry: { maxRetries: 0, retryBaseMs: 0, maxRetryAfterMs: 0 } }),
        mergeChunks(),
        peopleOnly,
      ),
      close: () => extractor.close(),
    };
  },
  sink: jsonlSink,
});

const news = fileURLToPath(new URL('./news.jsonl', import.meta.url));

// 1. An async iterator of results, in input order.
for await (const r of results(people, [news])) {
  console.log(r.id, r.entities.map((e) => e.name).join(', '));
}

// 2. A callback per batch of results.
await onBatch(people, [news], {}, { batchSize: 10, onBatch: (batch) => console.log(`batch of ${batch.length}`) });

// 3. An in-memory array of texts through the standard kg pipeline.
const { results: found } = await extractFromTexts(['Angela Merkel met Emmanuel Macron in Paris.', 'Toyota opened a plant in Texas.'], { workers: 0 });
console.log(found.map((r) => r?.entities.map((e) => `${e.name} (${e.type})`).join(', ')));
