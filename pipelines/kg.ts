/**
 * kg: entities and relations per document, one JSONL line each.
 *
 *   node pipelines/kg.js < corpus.jsonl > graph.jsonl
 *   node pipelines/kg.js corpus-a.jsonl corpus-b.json.gz -o graph.jsonl --dead-letter bad.jsonl
 *
 * Importing this file has no side effects; running it runs the CLI.
 */
import { isMain, runCli } from '../lib/cli.js';
import { usageError } from '../lib/errors.js';
import type { Extractor } from '../lib/extractor.js';
import { promptOverhead } from '../lib/kg-prompt.js';
import { mergeSpecs, type OptionSpec } from '../lib/options.js';
import { definePipeline } from '../lib/pipeline.js';
import { tokenCounterForModel } from '../lib/tokens.js';
import { chunk, chunkOptionSpecs, type ChunkOptions } from '../stages/chunk.js';
import { extract, extractOptionSpecs } from '../stages/extract.js';
import { mergeChunks } from '../stages/merge-chunks.js';
import { offlineExtractor, offlineExtractorOptionSpecs } from '../stages/offline-extractor.js';
import { openaiExtractor, openaiExtractorOptionSpecs, splitTypes } from '../stages/openai-extractor.js';
import { parse, parseOptionSpecs, type ParseOptions } from '../stages/parse.js';
import { read, readOptionSpecs, type InputSpec, type ReadOptions } from '../stages/read.js';
import { retryOptionSpecs, type RetryOptions } from '../stages/retry-split.js';
import { jsonlSink } from '../stages/sink.js';
import { tokenPack, tokenPackOptionSpecs, type TokenPackOptions } from '../stages/token-pack.js';
import { connectionOf, type ConnectionOptions } from '../lib/openai-client.js';
import { cacheOptionSpecs, ResponseCache } from '../lib/response-cache.js';
import { openCoordinator } from '../lib/scale/coordinator.js';
import { redisOptionSpecs } from '../lib/scale/redis.js';
import type { SharedBudget } from '../lib/rate-limiter.js';

const extractorChoiceSpec: OptionSpec = {
  name: 'extractor',
  type: 'string',
  default: 'auto',
  choices: ['auto', 'offline', 'openai'],
  description: 'Which extractor runs: offline (local NER, no API) or openai (an LLM through the openai SDK); auto picks openai when OPENAI_API_KEY or --base-url is set, offline otherwise',
};

export type KgOptions = ReadOptions &
  ParseOptions &
  ChunkOptions &
  Omit<TokenPackOptions, 'templateTokens' | 'perChunkTokens'> &
  RetryOptions &
  ConnectionOptions & {
    extractor: 'auto' | 'offline' | 'openai';
    workers?: number;
    concurrency?: number;
    unordered: boolean;
    reorderWindow?: number;
    maxOutputTokens: number;
    entityTypes: string;
    relationTypes: string;
    cache?: string;
    redis?: string;
    runId?: string;
    queueHighWater: number;
  };

export const kgOptionSpecs = mergeSpecs(readOptionSpecs, parseOptionSpecs, chunkOptionSpecs, tokenPackOptionSpecs, [extractorChoiceSpec], offlineExtractorOptionSpecs, openaiExtractorOptionSpecs, extractOptionSpecs, retryOptionSpecs, cacheOptionSpecs, redisOptionSpecs);

/** The LLM when a key or a server is given (or asked for), the offline extractor otherwise. */
function extractorKind(o: KgOptions): 'offline' | 'openai' {
  return o.extractor === 'auto' ? (process.env.OPENAI_API_KEY || o.baseUrl ? 'openai' : 'offline') : o.extractor;
}

/** Where a scale-out worker differs from a local run: the fleet's shared rate budget. */
export interface ExtractorExtras {
  shared?: SharedBudget;
}

/** The extractor a run of these options uses; a scale-out worker builds it from the run's options. */
export async function kgExtractor(o: KgOptions, extras: ExtractorExtras = {}): Promise<Extractor> {
  const apiKey = process.env.OPENAI_API_KEY || undefined;
  const kind = extractorKind(o);
  if (kind === 'offline') return offlineExtractor({ workers: o.workers });
  if (!apiKey && !o.baseUrl) throw usageError('--extractor openai needs OPENAI_API_KEY in the environment, or --base-url for an OpenAI-compatible server');
  const counter = await tokenCounterForModel(o.model);
  // Only LLM answers are cached (the offline extractor costs nothing to run again).
  const cache = o.cache !== undefined ? ResponseCache.open(o.cache) : undefined;
  const extractor = openaiExtractor({
    ...connectionOf(o),
    model: o.model,
    apiKey,
    maxOutputTokens: o.maxOutputTokens,
    entityTypes: splitTypes(o.entityTypes),
    relationTypes: splitTypes(o.relationTypes),
    concurrency: o.concurrency,
    maxRetryAfterMs: o.maxRetryAfterMs,
    counter,
    cache,
    ...(extras.shared ? { shared: extras.shared } : {}),
  });
  if (!cache) return extractor;
  // Opened here, closed with the extractor.
  return {
    ...extractor,
    close: async () => {
      try {
        await extractor.close();
      } finally {
        cache.close();
      }
    },
  };
}

/** Packing as the extractor's prompt needs, without building it (a dry run, a coordinator). */
async function overheadOf(o: KgOptions): Promise<{ templateTokens: number; perChunkTokens: number }> {
  if (extractorKind(o) === 'offline') return { templateTokens: 0, perChunkTokens: 0 };
  return promptOverhead(await tokenCounterForModel(o.model), splitTypes(o.entityTypes), splitTypes(o.relationTypes));
}

function checkFits(o: KgOptions, overhead: { templateTokens: number; perChunkTokens: number }): void {
  if (o.chunkTokens + overhead.perChunkTokens > o.tokenBudget - overhead.templateTokens) {
    throw usageError(`--chunk-tokens (${o.chunkTokens}) does not fit --token-budget (${o.tokenBudget}) with the prompt template (${overhead.templateTokens} tokens)`);
  }
}

/** --redis: read, parse, chunk and pack here; extract on the workers (docs/scale-out.md). */
async function coordinate(o: KgOptions, redis: string, inputs: readonly unknown[], output: string | undefined) {
  const overhead = await overheadOf(o);
  checkFits(o, overhead);
  const coordinator = await openCoordinator({ pipeline: 'kg', specs: kgOptionSpecs, options: { ...o, redis }, identity: { extractor: extractorKind(o) }, output, log: (line) => process.stderr.write(`kg: ${line}\n`) });
  return {
    source: read(inputs as InputSpec[], o),
    stages: [
      parse(o),
      chunk(o),
      tokenPack({ tokenBudget: o.tokenBudget, maxDocs: o.maxDocs, templateTokens: overhead.templateTokens, perChunkTokens: overhead.perChunkTokens }),
      extract({ runner: coordinator.runner, retry: o, concurrency: coordinator.highWater, unordered: o.unordered, reorderWindow: o.reorderWindow }),
      mergeChunks({ unordered: o.unordered }),
    ],
    close: (finished: boolean) => coordinator.close(finished),
  };
}

export const kg = definePipeline<KgOptions>({
  name: 'kg',
  description: 'Extract entities (people, organisations, places, ...) and their relations from every document; one JSONL line per document.',
  options: kgOptionSpecs,
  async build(o, inputs, mode) {
    if (o.redis !== undefined && !mode.dryRun) return coordinate(o, o.redis, inputs, mode.output);
    const extractor = mode.dryRun ? undefined : await kgExtractor(o);
    // A dry run prices the LLM requests, so it packs as the LLM prompt would.
    const overhead = extractor ?? promptOverhead(await tokenCounterForModel(o.model), splitTypes(o.entityTypes), splitTypes(o.relationTypes));
    if (o.chunkTokens + overhead.perChunkTokens > o.tokenBudget - overhead.templateTokens) {
      await extractor?.close();
      throw usageError(`--chunk-tokens (${o.chunkTokens}) does not fit --token-budget (${o.tokenBudget}) with the prompt template (${overhead.templateTokens} tokens)`);
    }
    return {
      source: read(inputs as InputSpec[], o),
      stages: [
        parse(o),
        chunk(o),
        tokenPack({ tokenBudget: o.tokenBudget, maxDocs: o.maxDocs, templateTokens: overhead.templateTokens, perChunkTokens: overhead.perChunkTokens }),
        ...(extractor
          ? [extract({ extractor, retry: o, concurrency: o.concurrency, unordered: o.unordered, reorderWindow: o.reorderWindow }), mergeChunks({ unordered: o.unordered })]
          : []),
      ],
      close: async () => extractor?.close(),
    };
  },
  sink: (target) => jsonlSink(target),
  // "auto" resolves by the environment: a resumed run must not switch from the LLM to offline.
  identity: (o) => ({ extractor: extractorKind(o) }),
});

export default kg;

if (isMain(import.meta.url)) process.exitCode = await runCli(kg);
