/**
 * Client-side request and token budgets (token buckets refilled continuously over a minute), and
 * adaptation to the server: its x-ratelimit-remaining-* / reset-* headers slow us down before a
 * 429, and a 429's retry-after pauses every request, not just the one that got it.
 */

export interface RateLimiterOptions {
  /** Requests per minute; undefined = no client-side limit. */
  rpm?: number;
  /** Tokens per minute (prompt + expected completion); undefined = no client-side limit. */
  tpm?: number;
  now?: () => number;
}

class Bucket {
  private level: number;
  private last: number;
  constructor(readonly perMinute: number, private readonly now: () => number) {
    this.level = perMinute;
    this.last = now();
  }
  private refill(): void {
    const t = this.now();
    this.level = Math.min(this.perMinute, this.level + ((t - this.last) * this.perMinute) / 60_000);
    this.last = t;
  }
  /** Milliseconds until `amount` is available (0: now). */
  waitFor(amount: number): number {
    this.refill();
    const need = Math.min(amount, this.perMinute) - this.level;
    return need <= 0 ? 0 : Math.ceil((need * 60_000) / this.perMinute);
  }
  take(amount: number): void {
    this.refill();
    this.level -= amount;
  }
  give(amount: number): void {
    this.refill();
    this.level = Math.min(this.perMinute, this.level + amount);
  }
}

/** What the server said about a budget at a moment. */
interface ServerView {
  remaining: number;
  limit: number;
  resetMs: number;
  at: number;
  /** Reserved by requests started after this reading. */
  since: number;
}

export class RateLimiter {
  private readonly now: () => number;
  private readonly requests?: Bucket;
  private readonly tokens?: Bucket;
  private serverRequests?: ServerView;
  private serverTokens?: ServerView;
  private pausedUntil = 0;

  constructor(options: RateLimiterOptions = {}) {
    this.now = options.now ?? Date.now;
    if (options.rpm) this.requests = new Bucket(options.rpm, this.now);
    if (options.tpm) this.tokens = new Bucket(options.tpm, this.now);
  }

  /** Waits until a request of `tokens` may start, then reserves it. */
  async acquire(tokens: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.waitMs(tokens);
      if (wait <= 0) break;
      await sleep(wait, signal);
    }
    this.requests?.take(1);
    this.tokens?.take(tokens);
    if (this.serverRequests) this.serverRequests.since += 1;
    if (this.serverTokens) this.serverTokens.since += tokens;
  }

  /** After the answer: hands back what was reserved but not used. */
  settle(reserved: number, used: number): void {
    if (used < reserved) this.tokens?.give(reserved - used);
    else if (used > reserved) this.tokens?.take(used - reserved);
  }

  /** Reads the x-ratelimit-* headers of any response (success or 429). */
  observe(headers: { get(name: string): string | null }): void {
    const at = this.now();
    const view = (kind: 'requests' | 'tokens'): ServerView | undefined => {
      const remaining = Number(headers.get(`x-ratelimit-remaining-${kind}`));
      const limit = Number(headers.get(`x-ratelimit-limit-${kind}`));
      const reset = parseDuration(headers.get(`x-ratelimit-reset-${kind}`));
      if (!Number.isFinite(remaining) || !Number.isFinite(limit) || limit <= 0 || reset === undefined || headers.get(`x-ratelimit-remaining-${kind}`) === null) return undefined;
      return { remaining, limit, resetMs: reset, at, since: 0 };
    };
    this.serverRequests = view('requests') ?? this.serverRequests;
    this.serverTokens = view('tokens') ?? this.serverTokens;
  }

  /** A 429 (or similar) told us to wait: everyone waits. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  private waitMs(tokens: number): number {
    const t = this.now();
    let wait = Math.max(0, this.pausedUntil - t);
    if (this.requests) wait = Math.max(wait, this.requests.waitFor(1));
    if (this.tokens) wait = Math.max(wait, this.tokens.waitFor(tokens));
    wait = Math.max(wait, serverWait(this.serverRequests, 1, t), serverWait(this.serverTokens, tokens, t));
    return wait;
  }
}

/**
 * The server's budget refills at about (limit - remaining) / reset per ms since its reading; wait
 * until what it will have, less what we started since, covers the request.
 */
function serverWait(v: ServerView | undefined, need: number, t: number): number {
  if (!v) return 0;
  const elapsed = t - v.at;
  if (elapsed >= v.resetMs) return 0; // fully refilled by now
  const rate = v.resetMs > 0 ? (v.limit - v.remaining) / v.resetMs : Infinity;
  const available = Math.min(v.limit, v.remaining + rate * elapsed) - v.since;
  const wanted = Math.min(need, v.limit);
  if (available >= wanted) return 0;
  return rate === Infinity || rate <= 0 ? v.resetMs - elapsed : Math.min(v.resetMs - elapsed, Math.ceil((wanted - available) / rate));
}

/** OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1m30.5s`, `2h3m`. */
export function parseDuration(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  let ms = 0;
  let matched = false;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    const v = Number(m[1]);
    ms += m[2] === 'h' ? v * 3_600_000 : m[2] === 'm' ? v * 60_000 : m[2] === 's' ? v * 1000 : v;
  }
  if (!matched && /^\d+(\.\d+)?$/.test(text.trim())) return Number(text) * 1000;
  return matched ? ms : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
