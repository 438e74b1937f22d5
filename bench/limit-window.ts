/**
 * A measurement window past a simulator's initial full token bucket: the share of a tpm limit
 * spent on answers. The server's bucket starts with a minute's worth; a window that started at once
 * would credit that minute to the client. So the bucket's level is followed from the simulator's
 * admitted tokens (it refills at limit / 60 s, capped at the limit, and loses what it admits), the
 * window opens once the level is down to a small share of the limit (or after a longest warm-up),
 * and what the limit offered in the window is its rate over the window plus what the bucket lost
 * over it (the level at the opening less the level at the close, when that is positive: a bucket
 * left to fill up again gave nothing): the share is what was billed in the window against that.
 */
import type { Simulator, SimulatorStats } from '../simulator/openai-sim.js';

export interface WindowOptions {
  tpm: number;
  /** The window's length once open, s. */
  windowSeconds: number;
  /** The window opens at the latest after this long, drained or not, s. */
  warmupMaxSeconds: number;
  /** The bucket counts as drained at this share of the limit. @default 0.05 */
  drainedShare?: number;
  /** Aborted when the run ended on its own (ran out of documents, failed): the window is cut short. */
  ended?: AbortSignal;
}

export interface WindowFigures {
  tpm: number;
  /** From the simulator's start to the window's opening, s. */
  warmupSeconds: number;
  /** The bucket was drained when the window opened (false: it opened at --warmup-max-seconds). */
  drained: boolean;
  /** Tokens in the server's bucket when the window opened and when it closed (their drop is part of what the window offered). */
  bucketAtOpen: number;
  bucketAtClose: number;
  windowSeconds: number;
  /** Closed early: the run ended before the window's length. */
  cutShort: boolean;
  /** In the window: what the limit offered (rate x length + the bucket's drop)... */
  offeredTokens: number;
  /** ...what the server admitted (prompt + max_tokens, as OpenAI counts)... */
  admittedTokens: number;
  /** ...what of that was billed (admitted x billed per charged token of the answered requests)... */
  spentTokens: number;
  /** ...and of that, what answers a client could keep (not cut at max_tokens). */
  usefulTokens: number;
  /** spent / offered: the figure the check holds to. */
  spentShare: number;
  usefulShare: number;
  admittedShare: number;
  /** Admitted tokens per spent token: what the reservations cost beyond the answers. */
  admittedPerSpent: number;
  /** Spent tokens per minute over the window. */
  spentPerMinute: number;
  window: Counts;
  /** From the simulator's start to the window's close. */
  whole: Counts;
}

export interface Counts {
  requests: number;
  rateLimited: number;
  share429: number;
  cutAnswers: number;
}

const POLL_MS = 200;

function counts(s: SimulatorStats, base?: SimulatorStats): Counts {
  const requests = s.requests - (base?.requests ?? 0);
  const rateLimited = s.rateLimited - (base?.rateLimited ?? 0);
  return { requests, rateLimited, share429: rateLimited / Math.max(1, requests), cutAnswers: s.cutAnswers - (base?.cutAnswers ?? 0) };
}

const spent = (s: SimulatorStats) => s.promptTokens + s.completionTokens;
const cut = (s: SimulatorStats) => s.cutPromptTokens + s.cutCompletionTokens;

/**
 * Follows `sim` from now (call it right after the simulator started, before the run) and resolves
 * at the window's close with its figures; the caller then stops the run.
 */
export async function measureWindow(sim: Pick<Simulator, 'stats'>, o: WindowOptions): Promise<WindowFigures> {
  const perMs = o.tpm / 60_000;
  const drainedAt = o.tpm * (o.drainedShare ?? 0.05);
  const started = performance.now();
  let level = o.tpm;
  let last = started;
  let admitted = sim.stats().admittedTokens;
  const follow = (): SimulatorStats => {
    const now = performance.now();
    const s = sim.stats();
    level = Math.min(o.tpm, level + (now - last) * perMs) - (s.admittedTokens - admitted);
    last = now;
    admitted = s.admittedTokens;
    return s;
  };
  const tick = () => new Promise((r) => setTimeout(r, POLL_MS));

  let s0 = follow();
  while (level > drainedAt && performance.now() - started < o.warmupMaxSeconds * 1000 && !o.ended?.aborted) {
    await tick();
    s0 = follow();
  }
  const opened = performance.now();
  const bucketAtOpen = Math.max(0, level);
  const drained = level <= drainedAt;
  while (performance.now() - opened < o.windowSeconds * 1000 && !o.ended?.aborted) await tick();
  const s1 = follow();
  const seconds = (performance.now() - opened) / 1000;

  const bucketAtClose = Math.max(0, level);
  const offered = perMs * seconds * 1000 + Math.max(0, bucketAtOpen - bucketAtClose);
  // Billed tokens are counted when answered, admitted ones when admitted: what is billed in the
  // window includes requests admitted before it opened (with 32 in flight, half a minute's worth).
  // So the share is what the window admitted times what answered requests were billed per token
  // they were charged at admission, both sides of that ratio counted at the answer.
  const billedInWindow = spent(s1) - spent(s0);
  const chargedInWindow = Math.max(1, s1.answeredAdmittedTokens - s0.answeredAdmittedTokens);
  const efficiency = billedInWindow / chargedInWindow;
  const usefulEfficiency = (billedInWindow - (cut(s1) - cut(s0))) / chargedInWindow;
  const admittedTokens = s1.admittedTokens - s0.admittedTokens;
  const spentTokens = Math.round(admittedTokens * efficiency);
  const usefulTokens = Math.round(admittedTokens * usefulEfficiency);
  return {
    tpm: o.tpm,
    warmupSeconds: (opened - started) / 1000,
    drained,
    bucketAtOpen: Math.round(bucketAtOpen),
    bucketAtClose: Math.round(bucketAtClose),
    windowSeconds: seconds,
    cutShort: seconds < o.windowSeconds - 0.5,
    offeredTokens: Math.round(offered),
    admittedTokens,
    spentTokens,
    usefulTokens,
    spentShare: spentTokens / offered,
    usefulShare: usefulTokens / offered,
    admittedShare: admittedTokens / offered,
    admittedPerSpent: admittedTokens / Math.max(1, spentTokens),
    spentPerMinute: (spentTokens / seconds) * 60,
    window: counts(s1, s0),
    whole: counts(s1),
  };
}

/** One line of a window's figures, for the console. */
export function describeWindow(label: string, w: WindowFigures): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return (
    `${label}: ${Math.round(w.spentPerMinute)} tokens spent/min against ${w.tpm} TPM over ${w.windowSeconds.toFixed(0)} s ` +
    `(window opened at ${w.warmupSeconds.toFixed(0)} s, ${w.drained ? 'bucket drained' : 'bucket NOT drained'}): spent ${pct(w.spentShare)} of the limit, ` +
    `useful ${pct(w.usefulShare)}, admitted ${pct(w.admittedShare)} (${w.admittedPerSpent.toFixed(2)} admitted per spent); ` +
    `429s ${w.whole.rateLimited}/${w.whole.requests} (${pct(w.whole.share429)}) over the run, ${w.window.cutAnswers} answers cut in the window`
  );
}
