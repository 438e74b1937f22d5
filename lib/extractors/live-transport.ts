/**
 * The live transport: each request sent at once over the openai SDK (OpenAI or any compatible
 * server), paced by the run's rate limiter (client-side rpm/tpm, the server's rate-limit headers,
 * the fleet's shared budget), and its answer read by the codec's request. The chat extractor and
 * the embedder differ only in their codec.
 */
import type OpenAI from 'openai';
import { pacedRequest } from '../llm/request.js';
import type { RateLimiter } from '../llm/rate-limiter.js';
import type { ApiCodec, Dispatch } from './dispatch.js';

export interface LiveTransportOptions {
  client: OpenAI;
  limiter: RateLimiter;
  apiKey?: string;
  /** Cap on a server's Retry-After, which pauses every request. */
  maxRetryAfterMs: number;
  /** The URL requests go to, named in a fatal error's message. */
  endpoint?: string;
}

export function liveTransport(codec: ApiCodec, o: LiveTransportOptions): Dispatch {
  return async (_pack, request, signal, run) => {
    // Rate limits count max_tokens at request time (OpenAI does), so that is what we reserve: the
    // request's own, sized to its answer, not the cap.
    const reserve = request.promptTokens + request.outputTokens;
    const data = await pacedRequest(
      { limiter: o.limiter, reserve, signal, apiKey: o.apiKey, maxRetryAfterMs: o.maxRetryAfterMs, observer: run?.observer, ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}) },
      (requestSignal) => codec.send(o.client, request.body, requestSignal),
      (answer) => codec.billed(answer),
    );
    return request.read(data);
  };
}
