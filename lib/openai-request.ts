/**
 * One paced request to an OpenAI-compatible endpoint, as both the chat extractor and the embedder
 * make it: wait for the rate budgets, send with a signal of the request's own (linked to the run's,
 * so no listener piles up on the run's signal), read the rate-limit headers of every answer, map
 * errors to our codes, let a (clamped) Retry-After pause every request, and settle the reservation.
 */
import { ErrorCode, SluiceError } from './errors.js';
import { classifyError } from './openai-client.js';
import type { RateLimiter } from './rate-limiter.js';

export interface PacedRequest {
  limiter: RateLimiter;
  /** Tokens reserved against the tpm budget before sending. */
  reserve: number;
  signal: AbortSignal;
  apiKey?: string;
  /** A server's Retry-After beyond this is clamped, not slept. */
  maxRetryAfterMs: number;
}

export async function pacedRequest<T>(p: PacedRequest, send: (signal: AbortSignal) => Promise<{ data: T; response: Response }>, billed: (data: T) => number | undefined): Promise<T> {
  const ticket = await p.limiter.acquire(p.reserve, p.signal).catch(() => {
    throw new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
  });
  let used = p.reserve;
  const request = new AbortController();
  const forward = () => request.abort();
  p.signal.addEventListener('abort', forward, { once: true });
  try {
    const { data, response } = await send(request.signal);
    p.limiter.observe(response.headers, ticket);
    used = billed(data) ?? used;
    return data;
  } catch (err) {
    const headers = (err as { headers?: Headers }).headers;
    if (headers && typeof headers.get === 'function') p.limiter.observe(headers, ticket);
    const e = classifyError(err, p.apiKey, p.signal.aborted);
    // A 429 was refused before admission: the server charged nothing, so neither do we.
    if ((err as { status?: number }).status === 429) used = 0;
    if (e.retryAfterMs !== undefined) p.limiter.pause(Math.min(e.retryAfterMs, p.maxRetryAfterMs));
    throw e;
  } finally {
    p.signal.removeEventListener('abort', forward);
    p.limiter.settle(p.reserve, used);
  }
}
