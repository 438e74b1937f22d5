/**
 * The one sleep and the one backoff formula: every wait of the run (retry/split's backoff, the
 * rate limiter's pacing, the fleet budget's polling, the batch poller and uploader) goes through
 * `sleep`, so a stop ends every one of them at once; every retry waits `backoffMs`.
 */

/** What a backoff is computed from (retry/split's options satisfy it). */
export interface BackoffPolicy {
  /** Retry n waits a random time up to base x 2^n (full jitter). */
  retryBaseMs: number;
  /** Cap on any single backoff and on a server's Retry-After hint. */
  maxRetryAfterMs: number;
}

/**
 * Exponential backoff with full jitter (a random wait up to base x 2^retry, capped), and at least
 * the server's hint when it gave one, clamped to the same cap: a huge Retry-After is not slept.
 */
export function backoffMs(retry: number, policy: BackoffPolicy, hintMs?: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxRetryAfterMs, policy.retryBaseMs * 2 ** retry);
  const jittered = random() * ceiling;
  return hintMs === undefined ? jittered : Math.max(jittered, Math.min(hintMs, policy.maxRetryAfterMs));
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
