/**
 * The slow tail of live requests: every request gets a deadline from the run's latency model (the
 * SDK's per-request timeout; a request past it is abandoned and retry/split sends it again), and
 * every answer teaches the model. With hedging on (--hedge-share above 0), a request still
 * unanswered past its predicted high quantile is sent a second time: the first answer wins and the
 * other copy is aborted. A hedge may be billed twice, so hedges are counted and capped at a share
 * of the requests sent, and each one waits for the rate limiter like any request.
 */
import OpenAI from 'openai';
import { LatencyModel } from './latency-model.js';
import { pacedRequest, type PacedRequest } from './request.js';

export interface TailOptions {
  /** The learned deadline's floor (--min-timeout-ms). */
  minTimeoutMs: number;
  /** Its ceiling, and the deadline until the model is warm (--timeout-ms). */
  timeoutMs: number;
  /** Hedges allowed, as a share of the requests sent (--hedge-share); 0: no hedging. */
  hedgeShare: number;
  /** The clock (tests). */
  now?: () => number;
}

/** One per live extractor: the latency model its requests share, and the hedge budget. */
export class TailPolicy {
  readonly model: LatencyModel;
  readonly hedgeShare: number;
  /** How often a request sent during warm-up looks at its deadline again, ms. */
  readonly recheckMs: number;
  private sent = 0;
  private hedges = 0;

  constructor(o: TailOptions) {
    if (!(o.hedgeShare >= 0 && o.hedgeShare <= 1)) throw new RangeError(`hedge share must be between 0 and 1 (got ${String(o.hedgeShare)})`);
    this.model = new LatencyModel({ floorMs: o.minTimeoutMs, ceilingMs: o.timeoutMs, ...(o.now ? { now: o.now } : {}) });
    this.hedgeShare = o.hedgeShare;
    this.recheckMs = Math.max(50, Math.min(o.minTimeoutMs, o.timeoutMs) / 10);
  }

  /** Hedges sent so far. */
  get hedged(): number {
    return this.hedges;
  }

  noteSent(): void {
    this.sent++;
  }

  /** Takes one hedge from the budget, if the share allows another. */
  takeHedge(): boolean {
    if (this.hedges + 1 > this.hedgeShare * this.sent) return false;
    this.hedges++;
    return true;
  }
}

export interface TailJob<T> {
  /** The completion tokens the request may produce (its max output tokens): the size its deadline is for. */
  expectedTokens: number;
  /** The completion tokens of an answer (the fit's size); undefined counts as 0. */
  answerTokens: (data: T) => number | undefined;
  /** A copy abandoned at its deadline (the run's counters). */
  onTimeout?: () => void;
  /** A hedge sent. */
  onHedge?: () => void;
}

type Send<T> = (signal: AbortSignal, timeoutMs: number) => Promise<{ data: T; response: Response }>;
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** pacedRequest with the learned deadline, and a hedge when the policy allows one. */
export async function tailRequest<T>(p: PacedRequest, tail: TailPolicy, job: TailJob<T>, send: Send<T>, billed: (data: T) => number | undefined): Promise<T> {
  tail.noteSent();
  /** One copy of the request; `sent` is told when it leaves (after the rate limiter admitted it). */
  const copy = (signal: AbortSignal, sent?: () => void) =>
    pacedRequest(
      { ...p, signal },
      async (s) => {
        sent?.();
        const startedAt = tail.model.now();
        // The deadline as the model has it when the copy leaves (the wait for the limiter taught it more).
        const timeoutMs = tail.model.deadlineMs(job.expectedTokens);
        const r = await (tail.model.highQuantileMs(job.expectedTokens) === undefined ? sendWhileWarming(tail, job, s, send, timeoutMs) : timed(job.onTimeout, send(s, timeoutMs)));
        tail.model.answered(startedAt, job.answerTokens(r.data) ?? 0);
        return r;
      },
      billed,
    );
  const hedgeAfterMs = tail.hedgeShare > 0 ? tail.model.highQuantileMs(job.expectedTokens) : undefined;
  // Warming up, or a quantile past the deadline itself: a hedge would come after the timeout's retry.
  if (hedgeAfterMs === undefined || hedgeAfterMs >= tail.model.deadlineMs(job.expectedTokens)) return copy(p.signal);

  // Each copy has a signal of its own (the loser is aborted), linked to the run's.
  const copies = [new AbortController(), new AbortController()] as const;
  const stopAll = () => copies.forEach((c) => c.abort());
  p.signal.addEventListener('abort', stopAll, { once: true });
  if (p.signal.aborted) stopAll();
  let timer: NodeJS.Timeout | undefined;
  try {
    let markSent!: () => void;
    const due = new Promise<'due'>((resolve) => {
      // Counted from when the first copy left, not from its wait for the rate limiter.
      markSent = () => {
        if (timer === undefined) timer = setTimeout(() => resolve('due'), hedgeAfterMs);
      };
    });
    const primary = settle(copy(copies[0].signal, markSent));
    const first = await Promise.race([primary, due]);
    if (first !== 'due') return unwrap(first);
    if (p.signal.aborted || !tail.takeHedge()) return unwrap(await primary);
    job.onHedge?.();
    const hedge = settle(copy(copies[1].signal));
    return await firstAnswer([primary, hedge], copies);
  } finally {
    clearTimeout(timer);
    p.signal.removeEventListener('abort', stopAll);
  }
}

/** A timeout is told to the job (the run counts it), then goes on as the error it is. */
async function timed<R>(onTimeout: (() => void) | undefined, sending: Promise<R>): Promise<R> {
  try {
    return await sending;
  } catch (err) {
    if (err instanceof OpenAI.APIConnectionTimeoutError) onTimeout?.();
    throw err;
  }
}

/**
 * A request sent before the model was warm has the ceiling as its timeout: without more, a hang
 * among the run's first requests would hold its slot (and the ordered output) for all of
 * --timeout-ms. Its deadline is looked at again as answers come in, and once it is past the
 * learned one the request is abandoned as a timeout like any other.
 */
async function sendWhileWarming<T>(tail: TailPolicy, job: TailJob<T>, signal: AbortSignal, send: Send<T>, timeoutMs: number): Promise<{ data: T; response: Response }> {
  const startedAt = tail.model.now();
  const request = new AbortController();
  const forward = () => request.abort();
  signal.addEventListener('abort', forward, { once: true });
  if (signal.aborted) request.abort();
  let expired = false;
  const check = setInterval(() => {
    if (tail.model.now() - startedAt < tail.model.deadlineMs(job.expectedTokens)) return;
    expired = true;
    request.abort();
  }, tail.recheckMs);
  try {
    return await timed(
      job.onTimeout,
      send(request.signal, timeoutMs).catch((err: unknown) => {
        // Our abort, not the run's: the request timed out at its learned deadline.
        if (expired && !signal.aborted) throw new OpenAI.APIConnectionTimeoutError({ message: 'Request timed out at its learned deadline.' });
        throw err;
      }),
    );
  } finally {
    clearInterval(check);
    signal.removeEventListener('abort', forward);
  }
}

/** The first copy answered wins and the other is aborted; if neither answers, the first copy's error. */
async function firstAnswer<T>(outcomes: readonly Promise<Outcome<T>>[], controllers: readonly AbortController[]): Promise<T> {
  const tagged = outcomes.map((o, i) => o.then((r) => ({ r, i })));
  const pending = new Set(tagged);
  const results: Outcome<T>[] = [];
  while (pending.size > 0) {
    const { r, i } = await Promise.race(pending);
    pending.delete(tagged[i]!);
    results[i] = r;
    if (r.ok) {
      controllers.forEach((c, j) => j !== i && c.abort());
      // The loser settles (aborted) before we return, so its rate-limit reservation is settled too.
      await Promise.all(pending);
      return r.value;
    }
  }
  return unwrap(results[0]!);
}

function settle<T>(p: Promise<T>): Promise<Outcome<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unwrap<T>(o: Outcome<T>): T {
  if (o.ok) return o.value;
  throw o.error;
}
