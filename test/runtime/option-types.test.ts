/**
 * Type-level test: each options type derived from its spec list (OptionsOf) is the type the
 * stages and pipelines were written against. A spec that changes an option's key, type, choices
 * or whether it has a default changes the type, and this file stops compiling (so `npm test`,
 * which builds first, fails).
 */
import t from 'tap';
import type { KeyOf, OptionsOf } from '../../lib/runtime/options.js';
import type { ChunkOptions } from '../../stages/chunk.js';
import type { ExtractOptions } from '../../stages/extract.js';
import type { GraphSinkOptions } from '../../stages/graph-sink.js';
import type { ParseOptions } from '../../stages/parse.js';
import type { ReadOptions } from '../../stages/read.js';
import type { RetryOptions } from '../../stages/retry-split.js';
import type { TokenPackOptions } from '../../stages/token-pack.js';
import type { OfflineExtractorOptions } from '../../lib/extractors/offline.js';
import type { BatchOptions } from '../../lib/batch/extractor.js';
import type { ConnectionOptions } from '../../lib/llm/client.js';
import type { MetricsCliOptions } from '../../lib/cli/metrics.js';
import type { ParsedCommandLine } from '../../lib/cli/run-cli.js';
import type { cacheOptionSpecs } from '../../lib/llm/response-cache.js';
import type { redisOptionSpecs } from '../../lib/scale/redis.js';
import type { openaiExtractorOptionSpecs } from '../../lib/extractors/openai-chat.js';
import type { EncodingFormat, openaiEmbedderOptionSpecs } from '../../lib/extractors/openai-embeddings.js';
import type { KgOptions } from '../../pipelines/kg.js';
import type { EmbedOptions } from '../../pipelines/embed.js';

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Flattens intersections, so that an intersection and the equivalent object type compare equal. */
type Flat<T> = { [K in keyof T]: T[K] };
/** Compiles only for `true`. */
function same<T extends true>(): T | undefined {
  return undefined;
}

// The spec keys as the CLI maps them.
same<Equal<KeyOf<'max-line-bytes'>, 'maxLineBytes'>>();
same<Equal<KeyOf<'rpm'>, 'rpm'>>();
same<Equal<KeyOf<'batch-max-tokens'>, 'batchMaxTokens'>>();

// A default makes an option required; none leaves it optional; choices make a union.
same<
  Equal<
    Flat<
      OptionsOf<
        readonly [
          { name: 'a-b'; type: 'integer'; default: 1; description: '' },
          { name: 'c'; type: 'string'; choices: readonly ['x', 'y']; description: '' },
          { name: 'on'; type: 'boolean'; default: false; description: '' },
        ]
      >
    >,
    { aB: number; on: boolean; c?: 'x' | 'y' }
  >
>();

// Each stage's options, as they were written by hand before they were derived from the specs.
same<Equal<ReadOptions, { maxLineBytes: number; format: 'auto' | 'jsonl' | 'json' }>>();
same<Equal<ParseOptions, { idField: string; textField: string }>>();
same<Equal<ChunkOptions, { chunkTokens: number; chunkOverlap: number; model: string }>>();
same<
  Equal<
    Flat<TokenPackOptions>,
    { tokenBudget: number; maxDocs: number; templateTokens?: number; perChunkTokens?: number; answer?: { prior: { answerBaseTokens: number; answerTokensRatio: number }; maxOutputTokens: number } }
  >
>();
same<Equal<RetryOptions, { maxRetries: number; retryBaseMs: number; maxRetryAfterMs: number; fatalAfterMs?: number }>>();
same<Equal<Flat<Omit<ExtractOptions, 'extractor' | 'runner' | 'retry'>>, { concurrency?: number; unordered?: boolean; reorderWindow?: number }>>();
same<Equal<GraphSinkOptions, { graph?: string; graphBatchSize: number }>>();
same<Equal<OfflineExtractorOptions, { workers?: number }>>();
same<Equal<ConnectionOptions, { baseUrl?: string; rpm?: number; tpm?: number; timeoutMs: number }>>();
same<Equal<OptionsOf<typeof cacheOptionSpecs>, { cache?: string }>>();
same<Equal<OptionsOf<typeof redisOptionSpecs>, { redis?: string; runId?: string; queueHighWater: number; redisConnectTimeoutMs: number }>>();
same<Equal<MetricsCliOptions, { metricsPort?: number; metricsFile?: string }>>();
same<
  Equal<
    BatchOptions,
    { batchApi: boolean; batchMaxRequests: number; batchMaxBytes: number; batchMaxTokens?: number; batchWindow: number; batchFlushMs: number; pollInterval: number; batchRetry: 'batch' | 'live' }
  >
>();
same<
  Equal<
    OptionsOf<typeof openaiExtractorOptionSpecs>,
    Flat<ConnectionOptions & { maxOutputTokens: number; entityTypes: string; relationTypes: string; answerBaseTokens: number; answerTokensRatio: number }>
  >
>();
same<Equal<EncodingFormat, 'base64' | 'float'>>();
same<Equal<OptionsOf<typeof openaiEmbedderOptionSpecs>, Flat<ConnectionOptions & { dimensions?: number; encodingFormat: 'base64' | 'float' }>>>();
same<
  Equal<
    ParsedCommandLine['cli'],
    {
      output?: string;
      deadLetter?: string;
      dryRun: boolean;
      status: boolean;
      progress: boolean;
      quiet: boolean;
      checkpoint?: string;
      maxCost?: number;
      maxFailures?: number;
      summary?: string;
      priceInput?: number;
      priceOutput?: number;
      help: boolean;
      metricsPort?: number;
      metricsFile?: string;
    }
  >
>();

// The pipelines' options: the union of their stages' (merged by mergeSpecs), as KgOptions and
// EmbedOptions were assembled by hand.
type Shared = ReadOptions &
  ParseOptions &
  ChunkOptions &
  RetryOptions &
  ConnectionOptions &
  BatchOptions & { concurrency?: number; unordered: boolean; reorderWindow?: number; cache?: string; redis?: string; runId?: string; queueHighWater: number; redisConnectTimeoutMs: number };
same<
  Equal<
    KgOptions,
    Flat<
      Shared &
        GraphSinkOptions & {
          tokenBudget: number;
          maxDocs: number;
          extractor: 'auto' | 'offline' | 'openai';
          workers?: number;
          maxOutputTokens: number;
          entityTypes: string;
          relationTypes: string;
          answerBaseTokens: number;
          answerTokensRatio: number;
        }
    >
  >
>();
// embed overrides some of its stages' specs: concurrency gains a default, so it is required here.
same<Equal<EmbedOptions, Flat<Omit<Shared, 'concurrency'> & { concurrency: number; tokenBudget: number; batchSize: number; dimensions?: number; encodingFormat: 'base64' | 'float' }>>>();

t.pass('the options types derived from the specs are the types the code was written against (checked when this file compiled)');
