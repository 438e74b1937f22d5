/**
 * Client-side request and token budgets (token buckets refilled continuously over a minute), and
 * adaptation to the server: its x-ratelimit-remaining-* / reset-* headers slow us down before a
 * 429, and a 429's retry-after pauses every request, not just the one that got it.
 */
import { sleep } from '../runtime/backoff.js';

/**
 * A budget shared with other processes (scale-out: lib/scale/token-budget.ts keeps it in Redis).
 * Taken after the local checks, so the fleet's budget and this process's view of the server both hold.
 */
export interface SharedBudget {
  /** Waits until one request of `tokens` fits the shared budget, and takes it. */
  take(tokens: number, signal?: AbortSignal): Promise<void>;
  /** Hands back tokens reserved but not used (a request refused with 429 cost nothing). */
  give(tokens: number): void;
  /** A server's retry-after: every process sharing the budget waits. */
  pause(ms: number): void;
}

export interface RateLimiterOptions {
  /** Requests per minute; undefined = no client-side limit. */
  rpm?: number;
  /** Tokens per minute (prompt + expected completion); undefined = no client-side limit. */
  tpm?: number;
  shared?: SharedBudget;
  now?: () => number;
  /** How long the others wait for the probe's answer. @default PROBE_PATIENCE_MS */
  probePatienceMs?: number;
}

class Bucket {
  private level: number;
  private last: number;
  constructor(
    readonly perMinute: number,
    private readonly now: () => number,
    private readonly margin = 0,
  ) {
    this.level = perMinute;
    this.last = now();
  }
  private refill(): void {
    const t = this.now();
    this.level = Math.min(this.perMinute, this.level + ((t - this.last) * this.perMinute) / 60_000);
    this.last = t;
  }
  /** Milliseconds until `amount` (plus the margin, kept in hand) is available (0: now). */
  waitFor(amount: number): number {
    this.refill();
    const need = Math.min(amount * (1 + this.margin), this.perMinute) - this.level;
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

/** What the server said about a budget when it admitted one of our requests. */
interface ServerView {
  remaining: number;
  limit: number;
  resetMs: number;
  /** When the request that carried the reading started (the server counts at admission). */
  at: number;
  /** Which request carried it: a later one's reading replaces it, an earlier one's does not. */
  ticket: number;
  /** Requests and tokens we started after that request: not in the reading. */
  since: number;
}

/** A started request, as acquire() hands it out and observe() takes it back. */
export interface Ticket {
  id: number;
  at: number;
  tokens: number;
}

/** How long the others wait for the probe's answer before going without it (a hung probe must not stall a run). */
export const PROBE_PATIENCE_MS = 10_000;

/** Starts remembered to account for readings that arrive late (a long answer carries old headers). */
const STARTS_KEPT_MS = 5 * 60_000;

export class RateLimiter {
  private readonly now: () => number;
  private readonly requests?: Bucket;
  private readonly tokens?: Bucket;
  private serverRequests?: ServerView;
  private serverTokens?: ServerView;
  private pausedUntil = 0;
  private nextTicket = 1;
  private readonly starts: Ticket[] = [];
  /**
   * Without a client-side budget we know nothing of the server's until its first answer: one
   * request goes first (a probe) and the rest wait for its headers instead of bursting into 429s.
   */
  private probed: boolean;
  private probe: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly shared?: SharedBudget;
  private readonly probePatienceMs: number;
  private headersSeen = false;

  constructor(options: RateLimiterOptions = {}) {
    this.shared = options.shared;
    this.probePatienceMs = options.probePatienceMs ?? PROBE_PATIENCE_MS;
    // Monotonic: the wall clock can be stepped, and a budget must not jump with it.
    this.now = options.now ?? (() => performance.now());
    if (options.rpm) this.requests = new Bucket(options.rpm, this.now);
    // Token counts drift from the server's; request counts do not.
    if (options.tpm) this.tokens = new Bucket(options.tpm, this.now, SERVER_MARGIN);
    this.probed = Boolean(options.rpm || options.tpm || options.shared);
  }

  /** Waits until a request of `tokens` may start, then reserves it. */
  async acquire(tokens: number, signal?: AbortSignal): Promise<Ticket> {
    while (!this.probed) {
      if (!this.probe) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        this.probe = { promise, resolve };
        break; // this request is the probe
      }
      // A probe that hangs must not hold the run: past this the others go without its headers.
      if (await abortable(this.probe.promise, signal, this.probePatienceMs)) this.endProbe();
    }
    for (;;) {
      const wait = this.waitMs(tokens);
      if (wait <= 0) break;
      await sleep(wait, signal);
    }
    if (this.shared) {
      await this.shared.take(tokens, signal);
      // The wait for the fleet's budget may have outlasted a pause a 429 set meanwhile.
      const wait = Math.max(0, this.pausedUntil - this.now());
      if (wait > 0) await sleep(wait, signal);
    }
    this.requests?.take(1);
    this.tokens?.take(tokens);
    if (this.serverRequests) this.serverRequests.since += 1;
    if (this.serverTokens) this.serverTokens.since += tokens;
    const ticket = { id: this.nextTicket++, at: this.now(), tokens };
    this.starts.push(ticket);
    while (this.starts.length > 0 && this.starts[0]!.at < ticket.at - STARTS_KEPT_MS) this.starts.shift();
    return ticket;
  }

  /** After the answer (or the failure): hands back what was reserved but not used. */
  settle(reserved: number, used: number): void {
    this.endProbe();
    if (used < reserved) this.shared?.give(reserved - used);
    if (used < reserved) this.tokens?.give(reserved - used);
    else if (used > reserved) this.tokens?.take(used - reserved);
  }

  /**
   * Reads the x-ratelimit-* headers of the answer to the request `ticket` started (success or
   * 429). The server counted at admission, so the reading is as of the request's start, and what
   * we started since then is not in it.
   */
  observe(headers: { get(name: string): string | null }, ticket?: Ticket): void {
    if (headers.get('x-ratelimit-remaining-requests') !== null || headers.get('x-ratelimit-remaining-tokens') !== null) this.headersSeen = true;
    const t = ticket ?? { id: this.nextTicket - 1, at: this.now(), tokens: 0 };
    const later = this.starts.filter((s) => s.id > t.id);
    const view = (kind: 'requests' | 'tokens', current: ServerView | undefined): ServerView | undefined => {
      if (current && current.ticket > t.id) return current; // an older reading arriving late
      const rawRemaining = headers.get(`x-ratelimit-remaining-${kind}`);
      const remaining = Number(rawRemaining);
      const limit = Number(headers.get(`x-ratelimit-limit-${kind}`));
      const reset = parseDuration(headers.get(`x-ratelimit-reset-${kind}`));
      if (rawRemaining === null || !Number.isFinite(remaining) || !Number.isFinite(limit) || limit <= 0 || reset === undefined) return current;
      const since = kind === 'requests' ? later.length : later.reduce((n, s) => n + s.tokens, 0);
      return { remaining, limit, resetMs: reset, at: t.at, ticket: t.id, since };
    };
    this.serverRequests = view('requests', this.serverRequests);
    this.serverTokens = view('tokens', this.serverTokens);
  }

  /**
   * Whether any answer carried x-ratelimit-remaining-* headers: such a server is paced by them,
   * one that never sends them (llama.cpp, vLLM, Ollama) by the adaptive concurrency limit.
   */
  get sawRateLimitHeaders(): boolean {
    return this.headersSeen;
  }

  private endProbe(): void {
    if (this.probed) return;
    this.probed = true;
    this.probe?.resolve();
  }

  /** A 429 (or similar) told us to wait: everyone waits. */
  pause(ms: number): void {
    this.shared?.pause(ms);
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
 * The server's budget refills at (limit - remaining) / reset since its reading; wait until what it
 * will have, less what we started since, covers the request.
 */
function serverWait(v: ServerView | undefined, need: number, t: number): number {
  if (!v) return 0;
  const elapsed = t - v.at;
  // reset is the time until the budget is full again: the deficit refills over it. A full budget
  // says nothing of the rate; per minute is OpenAI's window.
  const rate = v.resetMs > 0 && v.remaining < v.limit ? (v.limit - v.remaining) / v.resetMs : v.limit / 60_000;
  const available = Math.min(v.limit, v.remaining + rate * elapsed) - v.since;
  // A margin for what the reading cannot tell exactly (the admission moment, the server's own count).
  const wanted = Math.min(need * (1 + SERVER_MARGIN), v.limit);
  if (available >= wanted) return 0;
  return Math.ceil((wanted - available) / rate);
}

/**
 * Share of a request kept in hand against the server's budget: our count and the server's drift
 * apart by a few hundred tokens (measured against the simulator: ~250 in 6,000), and a request sent
 * into that gap comes back 429.
 */
const SERVER_MARGIN = 0.05;

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

/** Resolves when `promise` does (false) or after `patienceMs` (true); rejects when `signal` aborts. */
function abortable(promise: Promise<void>, signal?: AbortSignal, patienceMs?: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = patienceMs === undefined ? undefined : setTimeout(() => done(true), patienceMs);
    const done = (late: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(late);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(() => done(false));
  });
}
