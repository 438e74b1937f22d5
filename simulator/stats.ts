/** What the simulator counts (served at GET /stats): requests, replies by status, tokens, faults, batches. */
import { emptyBatchCounters, type BatchCounters } from './batch.js';
import type { FaultKind } from './faults.js';

export interface SimulatorStats {
  /** Requests received, /stats endpoints excluded (= sum of byStatus + faults.hang + faults.reset). */
  requests: number;
  /** Responses sent, by HTTP status ("200", "429", ...). */
  byStatus: Record<string, number>;
  /** Tokens billed in 200 answers. */
  promptTokens: number;
  completionTokens: number;
  /**
   * 200 answers cut at the request's max_tokens (finish_reason "length"), and the tokens billed in
   * them: spent on answers a client cannot keep (benchmarks tell useful tokens from spent ones).
   */
  cutAnswers: number;
  cutPromptTokens: number;
  cutCompletionTokens: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** Requests answered 429. */
  rateLimited: number;
  /** Tokens charged to the tpm budget by admitted requests (prompt + max_tokens, as OpenAI counts). */
  admittedTokens: number;
  /** What the answered chat requests were charged at admission (prompt + max_tokens), counted when answered, beside their billed tokens. */
  answeredAdmittedTokens: number;
  /** The slots model (`slots`): requests that waited for a slot, and the longest queue seen. */
  queued: number;
  maxQueue: number;
  /** The Batch API: files uploaded, batches created, batch lines processed (see batch.ts). */
  batch: BatchCounters;
}

function emptyStats(): SimulatorStats {
  return {
    requests: 0,
    byStatus: {},
    promptTokens: 0,
    completionTokens: 0,
    cutAnswers: 0,
    cutPromptTokens: 0,
    cutCompletionTokens: 0,
    faults: {},
    rateLimited: 0,
    admittedTokens: 0,
    answeredAdmittedTokens: 0,
    queued: 0,
    maxQueue: 0,
    batch: emptyBatchCounters(),
  };
}

function copyStats(s: SimulatorStats): SimulatorStats {
  return { ...s, byStatus: { ...s.byStatus }, faults: { ...s.faults }, batch: { ...s.batch } };
}

/** The live counters of one simulator; `reset` starts them afresh (whoever counts reads `current` each time). */
export class StatsBook {
  current: SimulatorStats = emptyStats();

  replied(status: number): void {
    const s = this.current;
    s.byStatus[String(status)] = (s.byStatus[String(status)] ?? 0) + 1;
    if (status === 429) s.rateLimited++;
  }

  /** A 200 answer cut at max_tokens, with the tokens billed in it. */
  cut(promptTokens: number, completionTokens: number): void {
    const s = this.current;
    s.cutAnswers++;
    s.cutPromptTokens += promptTokens;
    s.cutCompletionTokens += completionTokens;
  }

  fault(kind: FaultKind): void {
    this.current.faults[kind] = (this.current.faults[kind] ?? 0) + 1;
  }

  snapshot(): SimulatorStats {
    return copyStats(this.current);
  }

  /** Zeroes the counters; returns what they were. */
  reset(): SimulatorStats {
    const before = this.snapshot();
    this.current = emptyStats();
    return before;
  }
}
