/**
 * A live extractor: a codec over the live transport, with the response cache wrapped between them
 * when one is given. The chat extractor (openai-chat.ts) and the embedder (openai-embeddings.ts)
 * are this with their own codec. It owns neither the client nor the cache: closing it closes nothing.
 */
import type OpenAI from 'openai';
import type { Extractor } from '../runtime/extractor.js';
import { createClient, DEFAULT_HEDGE_SHARE, DEFAULT_MIN_TIMEOUT_MS, type ConnectionOptions } from '../llm/client.js';
import { ConcurrencyGate } from '../llm/concurrency-gate.js';
import { ConcurrencyLimit } from '../llm/concurrency-limit.js';
import { RateLimiter, type SharedBudget } from '../llm/rate-limiter.js';
import { endpointOf, type ResponseCache } from '../llm/response-cache.js';
import { TailPolicy } from '../llm/tail.js';
import { composedExtractor, type ApiCodec } from './dispatch.js';
import { liveTransport } from './live-transport.js';
import { withCache } from './with-cache.js';

export interface LiveOptions extends ConnectionOptions {
  /** Read from OPENAI_API_KEY by the pipeline; never logged or written. */
  apiKey?: string;
  /** Requests in flight at most: the adaptive limit's ceiling when the server sends no rate-limit headers. @default 32 */
  concurrency?: number;
  /** Cap on a server's Retry-After, which pauses every request. */
  maxRetryAfterMs: number;
  /** Inject a client (tests); otherwise one is made from baseUrl/apiKey. */
  client?: OpenAI;
  /** --cache: answers are looked up before a request is sent, and stored once validated. */
  cache?: ResponseCache;
  /** Scale-out: the fleet's rate budget, drawn on before every request besides this process's own. */
  shared?: SharedBudget;
}

/** Requests in flight when not told otherwise. */
export const DEFAULT_LIVE_CONCURRENCY = 32;

export function liveExtractor(codec: ApiCodec, o: LiveOptions): Extractor {
  const client = o.client ?? createClient({ baseUrl: o.baseUrl, apiKey: o.apiKey, timeoutMs: o.timeoutMs });
  const limiter = new RateLimiter({ rpm: o.rpm, tpm: o.tpm, ...(o.shared ? { shared: o.shared } : {}) });
  // Part of every cache key, and named in errors (an injected client may have no baseURL); the
  // codec's url less its /v1.
  const endpoint = endpointOf(client.baseURL ?? o.baseUrl ?? '', codec.url.slice('/v1'.length));
  // One latency model per extractor: its requests are of one kind, to one server.
  const tail = new TailPolicy({ minTimeoutMs: o.minTimeoutMs ?? DEFAULT_MIN_TIMEOUT_MS, timeoutMs: o.timeoutMs, hedgeShare: o.hedgeShare ?? DEFAULT_HEDGE_SHARE });
  const concurrency = o.concurrency ?? DEFAULT_LIVE_CONCURRENCY;
  // Requests in flight adapt to what the server sustains while it sends no rate-limit headers.
  const gate = new ConcurrencyGate(new ConcurrencyLimit({ ceiling: concurrency }), () => limiter.sawRateLimitHeaders);
  let dispatch = liveTransport(codec, { client, limiter, apiKey: o.apiKey, maxRetryAfterMs: o.maxRetryAfterMs, endpoint, tail, gate });
  if (o.cache) dispatch = withCache(o.cache, endpoint)(dispatch);
  return composedExtractor(codec, dispatch, { name: codec.name, concurrency });
}
