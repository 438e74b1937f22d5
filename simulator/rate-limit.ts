/**
 * Rate limits as OpenAI applies them: a token bucket per limit that holds a minute's worth and
 * refills continuously (limit / 60 s), so `x-ratelimit-reset-*` is the time until the bucket is
 * full again and a rejected request's wait is the time until enough has refilled. A rejected
 * request takes nothing from either bucket.
 */

const MINUTE_MS = 60_000;
/** Float slack so that a client that waits exactly the advertised time is admitted. */
const EPSILON = 1e-6;

export class TokenBucket {
  private available: number;
  private last: number;

  constructor(
    readonly limit: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.available = limit;
    this.last = clock();
  }

  private refill(): void {
    const now = this.clock();
    this.available = Math.min(this.limit, this.available + ((now - this.last) * this.limit) / MINUTE_MS);
    this.last = now;
  }

  /** Milliseconds until `cost` fits (0 when it fits now); Infinity when it can never fit. */
  waitMs(cost: number): number {
    this.refill();
    if (cost > this.limit) return Infinity;
    if (this.available + EPSILON >= cost) return 0;
    return ((cost - this.available) * MINUTE_MS) / this.limit;
  }

  take(cost: number): void {
    this.refill();
    this.available -= cost;
  }

  remaining(): number {
    this.refill();
    return Math.max(0, Math.floor(this.available + EPSILON));
  }

  /** Milliseconds until the bucket is full again. */
  resetMs(): number {
    this.refill();
    return Math.max(0, ((this.limit - this.available) * MINUTE_MS) / this.limit);
  }

  used(): number {
    this.refill();
    return Math.max(0, Math.ceil(this.limit - this.available - EPSILON));
  }
}

/**
 * A duration the way OpenAI's headers and messages write it (Go's time.Duration format, to the
 * millisecond): `0s`, `20ms`, `1s`, `6.5s`, `6m0s`, `1m30.5s`, `1h0m0s`. Rounded up to a whole ms.
 */
export function formatDuration(ms: number): string {
  const total = Math.ceil(ms);
  if (!(total > 0)) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const seconds = `${Math.floor(millis / 1000)}${
    millis % 1000
      ? `.${String(millis % 1000)
          .padStart(3, '0')
          .replace(/0+$/, '')}`
      : ''
  }s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

export type LimitKind = 'requests' | 'tokens';

export type Admission =
  | { ok: true; headers: Record<string, string> }
  /** `waitMs` is Infinity when the request alone is over the limit (it can never be admitted). */
  | { ok: false; kind: LimitKind; limit: number; used: number; requested: number; waitMs: number; headers: Record<string, string> };

export class RateLimiter {
  readonly requests?: TokenBucket;
  readonly tokens?: TokenBucket;

  constructor(options: { rpm?: number; tpm?: number; clock?: () => number }) {
    if (options.rpm !== undefined) this.requests = new TokenBucket(options.rpm, options.clock);
    if (options.tpm !== undefined) this.tokens = new TokenBucket(options.tpm, options.clock);
  }

  /** The `x-ratelimit-*` headers of the current state, for the limits that are set. */
  headers(): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [kind, bucket] of [
      ['requests', this.requests],
      ['tokens', this.tokens],
    ] as const) {
      if (!bucket) continue;
      h[`x-ratelimit-limit-${kind}`] = String(bucket.limit);
      h[`x-ratelimit-remaining-${kind}`] = String(bucket.remaining());
      h[`x-ratelimit-reset-${kind}`] = formatDuration(bucket.resetMs());
    }
    return h;
  }

  /**
   * Admits one request costing `tokens` (prompt + max or expected completion) and takes it from the
   * buckets, or refuses it and takes nothing. A refusal names the first limit exceeded (requests
   * before tokens); its wait covers every limit exceeded, so a client that waits it is admitted
   * (if nothing else takes the budget meanwhile).
   */
  admit(tokens: number): Admission {
    const waits: { kind: LimitKind; bucket: TokenBucket; cost: number; wait: number }[] = [];
    for (const [kind, bucket, cost] of [
      ['requests', this.requests, 1],
      ['tokens', this.tokens, tokens],
    ] as const) {
      if (!bucket) continue;
      const wait = bucket.waitMs(cost);
      if (wait > 0) waits.push({ kind, bucket, cost, wait });
    }
    // A request over a limit by itself is reported as such (waiting cannot help).
    const first = waits.find((w) => w.wait === Infinity) ?? waits[0];
    if (!first) {
      this.requests?.take(1);
      this.tokens?.take(tokens);
      return { ok: true, headers: this.headers() };
    }
    const waitMs = Math.max(...waits.map((w) => w.wait));
    return { ok: false, kind: first.kind, limit: first.bucket.limit, used: first.bucket.used(), requested: first.cost, waitMs, headers: this.headers() };
  }
}
