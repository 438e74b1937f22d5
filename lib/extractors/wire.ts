/**
 * The one wiring of a run's extractor, for kg, embed and the scale-out worker alike: from the
 * pipeline's codec, the resolved options and the run's extras, the extractor the run uses
 *
 *   offline                    the local NER extractor (kg only; no server, no codec)
 *   live                       codec -> live transport
 *   live, --cache              codec -> cache -> live transport
 *   --batch-api                codec -> Batch API (the --checkpoint directory keeps its ledger)
 *   --batch-api --batch-retry live   ... and a pack that failed in a batch goes live
 *
 * and ONE close() for everything it opened (the cache, the ledger, worker threads), each closed
 * once, also when building fails half way. The combinations refused, and their messages, are here.
 * The Redis transport (--redis) replaces retry/split and the extractor as a whole, so the
 * pipelines open it apart (lib/scale/coordinator.ts).
 */
import type OpenAI from 'openai';
import { usageError } from '../runtime/errors.js';
import type { Extractor } from '../runtime/extractor.js';
import type { BackoffPolicy } from '../runtime/backoff.js';
import { connectionOf, createClient, type ClientOptions, type ConnectionOptions } from '../llm/client.js';
import type { SharedBudget } from '../llm/rate-limiter.js';
import { ResponseCache } from '../llm/response-cache.js';
import { BATCH_NEEDS_CHECKPOINT, batchExtractor, batchOf, type BatchOptions } from '../batch/extractor.js';
import { Closers } from './closers.js';
import type { ApiCodec } from './dispatch.js';
import { liveExtractor } from './live.js';
import { offlineExtractor, type OfflineExtractorOptions } from './offline.js';

/** Where a run differs from a plain local one. */
export interface RunExtras {
  /** Scale-out: the fleet's shared rate budget (a worker). */
  shared?: SharedBudget;
  /** Batch mode's state directory (beside the checkpoint). */
  stateDir?: string;
}

/** The options the wiring reads: fields every LLM pipeline's options have (KgOptions, EmbedOptions). */
export type WireOptions = ConnectionOptions &
  BatchOptions &
  BackoffPolicy & {
    maxRetries: number;
    concurrency?: number;
    cache?: string;
  };

export interface ExtractorWiring {
  /** The pipeline's name: it names the batch input files. */
  pipeline: string;
  options: WireOptions;
  /** The pipeline's codec; built only for an LLM run, after the usage checks. */
  codec: () => ApiCodec | Promise<ApiCodec>;
  /** The error when there is neither OPENAI_API_KEY nor --base-url (each pipeline words it). */
  noServer: () => Error;
  /** Set for an offline run (kg's local NER): no server is asked. */
  offline?: OfflineExtractorOptions;
  extras?: RunExtras;
}

/** What the wiring opens, replaceable in tests. */
export interface WireDeps {
  openCache(dir: string): ResponseCache;
  createClient(o: ClientOptions): OpenAI;
  offline(o: OfflineExtractorOptions): Extractor;
}

const DEFAULT_DEPS: WireDeps = { openCache: (dir) => ResponseCache.open(dir), createClient, offline: offlineExtractor };

export const BATCH_NEEDS_LLM = '--batch-api sends LLM requests: drop --extractor offline';
export const CACHE_WITH_BATCH = '--cache is not used with --batch-api (batch answers are kept in the --checkpoint directory): drop one of them';

/** --cache and --batch-api together are refused (embed refuses them in a dry run too). */
export function refuseCacheWithBatch(o: Pick<WireOptions, 'batchApi' | 'cache'>): void {
  if (o.batchApi && o.cache !== undefined) throw usageError(CACHE_WITH_BATCH);
}

export async function wireExtractor(w: ExtractorWiring, deps: Partial<WireDeps> = {}): Promise<Extractor> {
  const d = { ...DEFAULT_DEPS, ...deps };
  const o = w.options;
  const extras = w.extras ?? {};
  const closers = new Closers();
  try {
    if (w.offline) {
      if (o.batchApi) throw usageError(BATCH_NEEDS_LLM);
      return owning(
        closers.add(d.offline(w.offline), (e) => e.close()),
        closers,
      );
    }
    const apiKey = process.env.OPENAI_API_KEY || undefined;
    if (!apiKey && !o.baseUrl) throw w.noServer();
    if (o.batchApi && extras.stateDir === undefined) throw usageError(BATCH_NEEDS_CHECKPOINT);
    refuseCacheWithBatch(o);
    const codec = await w.codec();
    const client = { baseUrl: o.baseUrl, apiKey, timeoutMs: o.timeoutMs };
    const live = (cache?: ResponseCache) =>
      liveExtractor(codec, {
        ...connectionOf(o),
        apiKey,
        concurrency: o.concurrency,
        maxRetryAfterMs: o.maxRetryAfterMs,
        client: d.createClient(client),
        ...(cache ? { cache } : {}),
        ...(extras.shared ? { shared: extras.shared } : {}),
      });
    if (!o.batchApi) {
      // Only LLM answers are cached (the offline extractor costs nothing to run again).
      const cache = o.cache !== undefined ? closers.add(d.openCache(o.cache), (c) => c.close()) : undefined;
      return owning(live(cache), closers);
    }
    const retryLive = o.batchRetry === 'live' ? closers.add(live(), (e) => e.close()) : undefined;
    const batch = batchExtractor({
      ...batchOf(o),
      dir: extras.stateDir!,
      pipeline: w.pipeline,
      codec,
      client: d.createClient(client),
      apiKey,
      outputTokens: codec.outputTokens,
      templateTokens: codec.templateTokens,
      perChunkTokens: codec.perChunkTokens,
      ...(retryLive ? { live: retryLive } : {}),
      maxRetries: o.maxRetries,
      retryBaseMs: o.retryBaseMs,
    });
    return owning(
      closers.add(batch, (b) => b.close()),
      closers,
    );
  } catch (err) {
    await closers.close().catch(() => undefined);
    throw err;
  }
}

/** The extractor, whose close() closes everything the wiring opened for it. */
function owning(extractor: Extractor, closers: Closers): Extractor {
  return {
    name: extractor.name,
    templateTokens: extractor.templateTokens,
    perChunkTokens: extractor.perChunkTokens,
    concurrency: extractor.concurrency,
    extract: (pack, signal, run) => extractor.extract(pack, signal, run),
    close: () => closers.close(),
  };
}
