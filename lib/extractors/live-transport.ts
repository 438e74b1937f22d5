/**
 * The live transport: each request sent at once over the openai SDK (OpenAI or any compatible
 * server), paced by the run's rate limiter (client-side rpm/tpm, the server's rate-limit headers,
 * the fleet's shared budget) or, for a server without rate-limit headers, gated by the adaptive
 * concurrency limit (lib/llm/concurrency-gate.ts); given a deadline learned from the run's answers
 * and hedged when slow (lib/llm/tail.ts); and its answer read by the codec's request. The chat
 * extractor and the embedder differ only in their codec.
 */
import type OpenAI from 'openai';
import { gated, type ConcurrencyGate } from '../llm/concurrency-gate.js';
import type { RateLimiter } from '../llm/rate-limiter.js';
import { tailRequest, type TailPolicy } from '../llm/tail.js';
import type { RunContext } from '../runtime/run-context.js';
import type { ApiCodec, Dispatch } from './dispatch.js';

export interface LiveTransportOptions {
  client: OpenAI;
  limiter: RateLimiter;
  apiKey?: string;
  /** Cap on a server's Retry-After, which pauses every request. */
  maxRetryAfterMs: number;
  /** The URL requests go to, named in a fatal error's message. */
  endpoint?: string;
  /** Per-request deadlines learned from the answers, and hedging (lib/llm/tail.ts). */
  tail: TailPolicy;
  /** The adaptive limit on requests in flight, for a server that sends no rate-limit headers. */
  gate?: ConcurrencyGate;
}

export function liveTransport(codec: ApiCodec, o: LiveTransportOptions): Dispatch {
  return async (_pack, request, signal, run) => {
    // Rate limits count max_tokens at request time (OpenAI does), so that is what we reserve: the
    // request's own, sized to its answer, not the cap.
    const reserve = request.promptTokens + request.outputTokens;
    const billed = (answer: unknown) => codec.billed(answer);
    const data = await gated(o.gate, signal, run, (observer) =>
      tailRequest(
        { limiter: o.limiter, reserve, signal, apiKey: o.apiKey, maxRetryAfterMs: o.maxRetryAfterMs, observer, ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}) },
        o.tail,
        tailJob(request.outputTokens, codec, run),
        (requestSignal, timeoutMs) => codec.send(o.client, request.body, requestSignal, timeoutMs),
        billed,
      ),
    );
    return request.read(data);
  };
}

/** A request's size for its deadline (its max output tokens), and the run's counters of timeouts and hedges. */
function tailJob(outputTokens: number, codec: ApiCodec, run: RunContext | undefined) {
  return {
    expectedTokens: outputTokens,
    answerTokens: (data: unknown) => codec.answerTokens?.(data),
    onTimeout: () => {
      if (run) run.stats.timedOut++;
    },
    // A hedge is a request sent (and maybe billed): it counts among the requests too.
    onHedge: () => {
      if (!run) return;
      run.stats.hedged++;
      run.stats.requests++;
    },
  };
}
