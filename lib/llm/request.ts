/**
 * One paced request to an OpenAI-compatible endpoint, as the live transport makes it for every
 * codec (lib/extractors/live-transport.ts): wait for the rate budgets, send with a signal of the
 * request's own (linked to the run's, so no listener piles up on the run's signal), read the
 * rate-limit headers of every answer, wait out a server that is still loading its model, map errors
 * to our codes, let a (clamped) Retry-After pause every request, and settle the reservation.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { classifyError, isServerLoading } from './client.js';
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
  /** The URL requested, without credentials: named in the errors a user must act on. */
  endpoint?: string;
}

/** Waiting out a server that is loading its model: the first pause, doubled up to the last. */
const LOADING_FIRST_PAUSE_MS = 250;
const LOADING_MAX_PAUSE_MS = 4000;

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
  try {
    for (let waitedMs = 0, pauseMs = LOADING_FIRST_PAUSE_MS; ; pauseMs = Math.min(2 * pauseMs, LOADING_MAX_PAUSE_MS)) {
      try {
        const { data, response } = await observed(p.observer, p.signal, () => send(request.signal));
        p.limiter.observe(response.headers, ticket);
        used = billed(data) ?? used;
        return data;
      } catch (err) {
        const headers = (err as { headers?: Headers }).headers;
        if (headers && typeof headers.get === 'function') p.limiter.observe(headers, ticket);
        // A server still loading its model did no work: wait (every request waits with this one)
        // and send again, without spending one of the pack's attempts, for up to --max-retry-after-ms.
        if (isServerLoading(err) && !p.signal.aborted && waitedMs < p.maxRetryAfterMs) {
          const ms = Math.min(pauseMs, p.maxRetryAfterMs - waitedMs);
          p.limiter.pause(ms);
          await sleep(ms, { signal: p.signal }).catch(() => {
            throw new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
          });
          waitedMs += ms;
          continue;
        }
        const e = classifyError(err, p.apiKey, p.signal.aborted, p.endpoint);
        // A 429 was refused before admission, a loading server served nothing: neither is charged.
        if ((err as { status?: number }).status === 429 || isServerLoading(err)) used = 0;
        if (e.retryAfterMs !== undefined) p.limiter.pause(Math.min(e.retryAfterMs, p.maxRetryAfterMs));
        throw e;
      }
    }
  } finally {
    p.signal.removeEventListener('abort', forward);
    p.limiter.settle(p.reserve, used);
  }
}

/** One HTTP request, told to the observer (metrics count every request sent, by status). */
async function observed<R extends { response: Response }>(observer: RunObserver | undefined, run: AbortSignal, send: () => Promise<R>): Promise<R> {
  const sentAt = performance.now();
  let status: RequestStatus = 'error';
  observer?.requestStarted?.();
  try {
    const result = await send();
    status = httpStatus(result.response.status);
    return result;
  } catch (err) {
    status = statusOf(err, run.aborted);
    throw err;
  } finally {
    observer?.requestEnded?.(status, (performance.now() - sentAt) / 1000);
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
