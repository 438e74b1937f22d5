/**
 * The gate the live transport puts around each request: it waits, in FIFO order, until the
 * adaptive limit (concurrency-limit.ts) lets one more request start, and tells the limit how the
 * request ended. While `bypass()` holds (the server sends rate-limit headers, so the rate limiter
 * paces), it lets every request through and keeps no count.
 */
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import type { ConcurrencyLimit, LimitOutcome, LimitToken } from './concurrency-limit.js';
import type { RequestStatus, RunContext, RunObserver } from '../runtime/run-context.js';

export interface GatePermit {
  /** The request ended: with its last HTTP attempt's status and seconds, and the answer's size. */
  end(outcome: LimitOutcome): void;
}

const PASS: GatePermit = { end: () => {} };

export class ConcurrencyGate {
  private readonly waiting: { grant: (p: GatePermit) => void }[] = [];

  constructor(
    readonly limit: ConcurrencyLimit,
    private readonly bypass: () => boolean,
  ) {}

  /** Whether the gate counts (the server has sent no rate-limit headers so far). */
  get active(): boolean {
    return !this.bypass();
  }

  /** Resolves with a permit once the request may start; rejects (ABORTED) when `signal` stops the run. */
  acquire(signal: AbortSignal): Promise<GatePermit> {
    const now = this.tryNow();
    if (now) return Promise.resolve(now);
    return new Promise<GatePermit>((resolve, reject) => {
      if (signal.aborted) return reject(abandoned());
      const waiter = {
        grant: (p: GatePermit) => {
          signal.removeEventListener('abort', onAbort);
          resolve(p);
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(abandoned());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A permit now when nobody waits ahead and the limit allows (or the gate is bypassed). */
  private tryNow(): GatePermit | undefined {
    if (this.bypass()) return PASS;
    if (this.waiting.length > 0) return undefined;
    const token = this.limit.tryAcquire();
    return token ? this.permit(token) : undefined;
  }

  private permit(token: LimitToken): GatePermit {
    let ended = false;
    return {
      end: (outcome) => {
        if (ended) return;
        ended = true;
        this.limit.release(token, outcome);
        this.pump();
      },
    };
  }

  /** Lets the waiters in, first come first served, as far as the limit allows now. */
  private pump(): void {
    while (this.waiting.length > 0) {
      if (this.bypass()) {
        this.waiting.shift()!.grant(PASS);
        continue;
      }
      const token = this.limit.tryAcquire();
      if (!token) return;
      this.waiting.shift()!.grant(this.permit(token));
    }
  }
}

function abandoned(): SluiceError {
  return new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
}

/** Statuses that say the server could not take the request (not: it was a bad request). */
const OVERLOAD: ReadonlySet<string> = new Set(['timeout', 'connection', '429', '502', '503', '504']);

/**
 * What a request's end tells the limit: its last HTTP attempt (`status`, `seconds`), and for an
 * answer its size, the completion tokens (the prompt's for embeddings) its latency grows with.
 */
export function limitOutcome(last: { status: RequestStatus; seconds: number } | undefined, answer?: unknown): LimitOutcome {
  if (!last) return { kind: 'ignored' };
  if (OVERLOAD.has(last.status)) return { kind: 'overload' };
  if (last.status !== '200' || answer === undefined) return { kind: 'ignored' };
  return { kind: 'answered', latencyMs: last.seconds * 1000, size: answerSize(answer) };
}

function answerSize(answer: unknown): number {
  const usage = (answer as { usage?: { completion_tokens?: unknown; prompt_tokens?: unknown } } | null)?.usage;
  const n = typeof usage?.completion_tokens === 'number' ? usage.completion_tokens : usage?.prompt_tokens;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0;
}

/**
 * Runs one request (`send`, a paced request given the observer to report to) through the gate:
 * waits for a permit, watches the request's HTTP attempts through the observer (the run's own
 * still told), and ends the permit with what the last attempt said. Notes the limit on the run's
 * stats while the gate counts. Without a gate, just sends.
 */
export async function gated<T>(gate: ConcurrencyGate | undefined, signal: AbortSignal, run: RunContext | undefined, send: (observer: RunObserver | undefined) => Promise<T>): Promise<T> {
  if (!gate) return send(run?.observer);
  const permit = await gate.acquire(signal);
  let last: { status: RequestStatus; seconds: number } | undefined;
  const inner = run?.observer;
  const observer: RunObserver = {
    ...inner,
    requestEnded: (status, seconds) => {
      last = { status, seconds };
      inner?.requestEnded?.(status, seconds);
    },
  };
  let answer: T;
  try {
    answer = await send(observer);
  } catch (err) {
    permit.end(limitOutcome(last));
    note(gate, run);
    throw err;
  }
  permit.end(limitOutcome(last, answer));
  note(gate, run);
  return answer;
}

function note(gate: ConcurrencyGate, run: RunContext | undefined): void {
  if (!run || !gate.active) return;
  const l = gate.limit;
  run.stats.concurrencyLimit = { current: l.limit, low: l.low, high: l.high };
}
