#!/usr/bin/env node
/**
 * embed: one embedding vector per document (and one per chunk of a long document), one JSONL line
 * each, from OpenAI's /v1/embeddings or any OpenAI-compatible server.
 *
 *   OPENAI_API_KEY=... node pipelines/embed.js < corpus.jsonl > vectors.jsonl
 *   node pipelines/embed.js corpus.jsonl.gz --base-url http://127.0.0.1:8080/v1 --model nomic-embed-text -o vectors.jsonl
 *
 * See docs/embeddings.md. Importing this file has no side effects; running it runs the CLI.
 */
import { cli } from '../lib/cli/program.js';
import { runCli } from '../lib/cli/run-cli.js';
import { usageError } from '../lib/runtime/errors.js';
import { defineOptions, mergeSpecs, overriding, pickSpecs, type OptionsOf } from '../lib/runtime/options.js';
import { CHECKPOINT_FILE, definePipeline } from '../lib/runtime/pipeline.js';
import { pipe } from '../lib/runtime/stage.js';
import { batchStatus } from '../lib/batch/status.js';
import { chunk, chunkOptionSpecs } from '../stages/chunk.js';
import { extract, extractOptionSpecs } from '../stages/extract.js';
import { mergeEmbeddings, serialiseEmbedding } from '../stages/merge-embeddings.js';
import { DEFAULT_EMBED_CONCURRENCY, MAX_INPUTS_PER_REQUEST, embeddingsCodec, openaiEmbedderOptionSpecs } from '../lib/extractors/openai-embeddings.js';
import { refuseCacheWithBatch, wireExtractor, type RunExtras } from '../lib/extractors/wire.js';
import type { Extractor } from '../lib/runtime/extractor.js';
import { parse, parseOptionSpecs } from '../stages/parse.js';
import { read, readOptionSpecs, type InputSpec } from '../stages/read.js';
import { retryOptionSpecs } from '../stages/retry-split.js';
import { jsonlSink } from '../stages/sink.js';
import { tokenPack, tokenPackOptionSpecs } from '../stages/token-pack.js';
import { createClient } from '../lib/llm/client.js';
import { batchOptionSpecs, windowOf } from '../lib/batch/extractor.js';
import { cacheOptionSpecs } from '../lib/llm/response-cache.js';
import { openCoordinator } from '../lib/scale/coordinator.js';
import { redisOptionSpecs } from '../lib/scale/redis.js';

export const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-small';

// Copies of the stages' specs with the embed pipeline's defaults and wording.
const embedChunkSpecs = overriding(chunkOptionSpecs, {
  'chunk-tokens': { default: 8000, description: 'Largest input in tokens; a longer document is split into chunks, one vector each (OpenAI takes at most 8191 tokens per input)' },
  'chunk-overlap': { default: 0 },
  model: { default: DEFAULT_EMBEDDING_MODEL, description: 'Embedding model: the model called, its token encoding and its price' },
});

const embedPackSpecs = defineOptions([
  ...overriding(pickSpecs(tokenPackOptionSpecs, 'token-budget'), {
    'token-budget': { default: 100_000, description: 'Most input tokens in one request (OpenAI takes at most 300,000)' },
  }),
  { name: 'batch-size', type: 'integer', default: 32, min: 1, max: MAX_INPUTS_PER_REQUEST, description: 'Most documents in one request (the chunks of a long document count as one)' },
]);

const embedExtractSpecs = overriding(extractOptionSpecs, {
  concurrency: {
    default: DEFAULT_EMBED_CONCURRENCY,
    defaultLabel: undefined,
    description: 'Requests in flight at most (the ceiling of the adaptive limit against a server without rate-limit headers)',
  },
});

export const embedOptionSpecs = mergeSpecs(
  readOptionSpecs,
  parseOptionSpecs,
  embedChunkSpecs,
  embedPackSpecs,
  openaiEmbedderOptionSpecs,
  embedExtractSpecs,
  retryOptionSpecs,
  cacheOptionSpecs,
  batchOptionSpecs,
  redisOptionSpecs,
);

/** The resolved options of an embed run: every one of embedOptionSpecs. */
export type EmbedOptions = OptionsOf<typeof embedOptionSpecs>;

/** Shown (after "embed: ") with exit code 2 when there is nothing to send requests to. */
export const NO_SERVER_MESSAGE =
  'no embeddings server: set OPENAI_API_KEY in the environment for the OpenAI API, or give --base-url with the URL of an OpenAI-compatible server (e.g. --base-url http://127.0.0.1:8080/v1 for llama.cpp, vLLM or Ollama)';

/**
 * The extractor a run of these options uses (and one close for all it opened); a scale-out worker
 * builds it from the run's options, with the fleet's `shared` budget and its own words for `noServer`.
 */
export function embedExtractor(o: EmbedOptions, extras: RunExtras = {}, noServer: () => Error = () => usageError(NO_SERVER_MESSAGE)): Promise<Extractor> {
  return wireExtractor({
    pipeline: 'embed',
    options: o,
    codec: () => embeddingsCodec({ model: o.model, dimensions: o.dimensions, encodingFormat: o.encodingFormat }),
    noServer,
    extras,
  });
}

/** Read, parse, chunk and pack: the same wherever the packs are embedded. */
function packed(o: EmbedOptions, inputs: readonly unknown[]) {
  return pipe(read(inputs as InputSpec[], o), parse(o), chunk(o), tokenPack({ tokenBudget: o.tokenBudget, maxDocs: o.batchSize }));
}

/** --redis: read, parse, chunk and pack here; embed on the workers (docs/scale-out.md). */
async function coordinate(o: EmbedOptions, redis: string, inputs: readonly unknown[], output: string | undefined) {
  if (o.batchApi) throw usageError('--redis and --batch-api do not go together: the Batch API needs no workers');
  const coordinator = await openCoordinator({ pipeline: 'embed', specs: embedOptionSpecs, options: { ...o, redis }, identity: {}, output, log: (line) => process.stderr.write(`embed: ${line}\n`) });
  return {
    flow: pipe(
      packed(o, inputs),
      extract({ runner: coordinator.runner, retry: o, concurrency: coordinator.highWater, unordered: o.unordered, reorderWindow: o.reorderWindow }),
      mergeEmbeddings({ model: o.model, unordered: o.unordered }),
    ),
    close: (finished: boolean) => coordinator.close(finished),
  };
}

export const embed = definePipeline<EmbedOptions>({
  name: 'embed',
  description: 'Embed every document (one vector per chunk of a long one) through an OpenAI-compatible /v1/embeddings; one JSONL line per document.',
  options: embedOptionSpecs,
  async build(o, inputs, mode) {
    if (o.chunkTokens > o.tokenBudget) throw usageError(`--chunk-tokens (${o.chunkTokens}) must not exceed --token-budget (${o.tokenBudget})`);
    // The workers call the server, with their own key or --base-url.
    if (o.redis !== undefined && !mode.dryRun) return coordinate(o, o.redis, inputs, mode.output);
    // A dry run sends nothing, so it needs no server and opens nothing; the combination is still refused.
    if (mode.dryRun) refuseCacheWithBatch(o);
    const extractor = mode.dryRun ? undefined : await embedExtractor(o, mode.stateDir !== undefined ? { stateDir: mode.stateDir } : {});
    const packs = packed(o, inputs);
    return {
      // A dry run ends at the packs.
      flow: extractor ? pipe(packs, extract({ extractor, retry: o, ...windowOf(o), unordered: o.unordered }), mergeEmbeddings({ model: o.model, unordered: o.unordered })) : packs,
      close: async () => extractor?.close(),
    };
  },
  sink: (target) => jsonlSink(target, serialiseEmbedding),
  // Batch mode keeps its ledger beside the commit file.
  checkpointLayout: (o) => (o.batchApi ? 'directory' : 'file'),
  status: (o, dir) =>
    batchStatus(dir, CHECKPOINT_FILE, createClient({ baseUrl: o.baseUrl, apiKey: process.env.OPENAI_API_KEY || undefined, timeoutMs: o.timeoutMs }), process.env.OPENAI_API_KEY || undefined),
});

export default embed;

await cli(import.meta.url, (argv) => runCli(embed, argv));
