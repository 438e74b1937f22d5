/**
 * One paced request to an OpenAI-compatible endpoint, as the live transport makes it for every
 * codec (lib/extractors/live-transport.ts): wait for the rate budgets, send with a signal of the
 * request's own (linked to the run's, so no listener piles up on the run's signal), read the
 * rate-limit headers of every answer, map errors to our codes, let a (clamped) Retry-After pause
 * every request, and settle the reservation.
 */
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { classifyError } from './client.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RequestStatus, RunObserver } from '../runtime/run-context.js';

export interface PacedRequest {
  limiter: RateLimiter;
  /** Tokens reserved against the tpm budget before sending. */
  reserve: number;
  signal: AbortSignal;
  apiKey?: string;
  /** A server's Retry-After beyond this is clamped, not slept. */
  maxRetryAfterMs: number;
  /** Told when the request is sent and how it ended (metrics). */
  observer?: RunObserver;
}

export async function pacedRequest<T>(p: PacedRequest, send: (signal: AbortSignal) => Promise<{ data: T; response: Response }>, billed: (data: T) => number | undefined): Promise<T> {
  const ticket = await p.limiter.acquire(p.reserve, p.signal).catch(() => {
    throw new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
  });
  // The budget may admit at once, after the stop: a request sent now would be billed, and the
  // abort listener below would never fire (the signal is already aborted).
  if (p.signal.aborted) {
    p.limiter.settle(p.reserve, 0);
    throw new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
  }
  let used = p.reserve;
  const request = new AbortController();
  const forward = () => request.abort();
  p.signal.addEventListener('abort', forward, { once: true });
  const sentAt = performance.now();
  let status: RequestStatus = 'error';
  p.observer?.requestStarted?.();
  try {
    const { data, response } = await send(request.signal);
    status = httpStatus(response.status);
    p.limiter.observe(response.headers, ticket);
    used = billed(data) ?? used;
    return data;
  } catch (err) {
    status = statusOf(err, p.signal.aborted);
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
    p.observer?.requestEnded?.(status, (performance.now() - sentAt) / 1000);
  }
}

/** Three digits for a real HTTP status; anything else a server might send is 'error' (labels stay bounded). */
function httpStatus(status: unknown): RequestStatus {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? (String(status) as `${number}`) : 'error';
}

/** How a failed request ended: its HTTP status, or one of REQUEST_OUTCOMES. */
export function statusOf(err: unknown, aborted: boolean): RequestStatus {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return 'timeout';
  if (aborted || err instanceof OpenAI.APIUserAbortError) return 'aborted';
  if (err instanceof OpenAI.APIConnectionError) return 'connection';
  if (err instanceof OpenAI.APIError && err.status !== undefined) return httpStatus(err.status);
  return 'error';
}
