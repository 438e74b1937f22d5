/**
 * What crosses Redis: a pack as BullMQ job data, and its outcome as the job's return value.
 * Compact on purpose: a job carries only what the extractor reads (chunk text, tokens and the
 * chunk's key), never a document's id, meta or source, so Redis holds about the documents' text
 * per outstanding pack. The coordinator keeps the pack itself and joins the answer back to it.
 */
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import type { ChunkExtraction, Pack, PackOutcome, Usage } from '../runtime/records.js';
import type { RunStats } from '../runtime/run-context.js';

/** One chunk: [document seq, chunk index, chunk count, text, tokens]. */
export type ChunkWire = [number, number, number, string, number];

export interface PackJobData {
  id: string;
  tokens: number;
  promptTokens: number;
  chunks: ChunkWire[];
}

/** The counters a pack's retry/split moves on the worker; the coordinator adds them to the run's. */
export const OUTCOME_COUNTERS = [
  'requests',
  'retries',
  'splits',
  'promptTokens',
  'completionTokens',
  'cacheHits',
  'cacheMisses',
  'cachedPromptTokens',
  'cachedCompletionTokens',
  'inventedIds',
  'cutOffs',
  'cutOffsAtCap',
  'splitsCutOff',
  'answersMeasured',
  'answerTokensMeasured',
  'expectedTokensMeasured',
] as const satisfies readonly (keyof RunStats)[];
export type OutcomeCounters = Record<(typeof OUTCOME_COUNTERS)[number], number>;

export interface OutcomeWire {
  extractions: [string, ChunkExtraction][];
  failed: [string, { code: string; reason: string }][];
  usage: Usage;
  counters: OutcomeCounters;
}

export function packToJob(pack: Pack): PackJobData {
  return { id: pack.id, tokens: pack.tokens, promptTokens: pack.promptTokens, chunks: pack.chunks.map((c) => [c.doc.seq, c.index, c.count, c.text, c.tokens]) };
}

/** The worker's view of a pack: chunk keys and text are as the coordinator's; document refs are blank. */
export function jobToPack(data: unknown): Pack {
  const d = data as PackJobData;
  const ok =
    d &&
    typeof d.id === 'string' &&
    Number.isFinite(d.tokens) &&
    Number.isFinite(d.promptTokens) &&
    Array.isArray(d.chunks) &&
    d.chunks.every((c) => Array.isArray(c) && c.length === 5 && typeof c[3] === 'string');
  if (!ok) throw new SluiceError(ErrorCode.INTERNAL, 'job data is not a sluice pack (another version of sluice on this queue?)');
  return {
    kind: 'pack',
    id: d.id,
    tokens: d.tokens,
    promptTokens: d.promptTokens,
    chunks: d.chunks.map(([seq, index, count, text, tokens]) => ({ kind: 'chunk', doc: { id: '', seq, line: 0, source: '', meta: {} }, index, count, text, tokens })),
  };
}

export function outcomeToWire(outcome: PackOutcome, stats: RunStats): OutcomeWire {
  const counters = {} as OutcomeCounters;
  for (const k of OUTCOME_COUNTERS) counters[k] = stats[k];
  return { extractions: [...outcome.extractions], failed: [...outcome.failed], usage: outcome.usage, counters };
}

/** Joins a worker's answer to the coordinator's own pack (whose document refs are the real ones). */
export function wireToOutcome(pack: Pack, value: unknown): { outcome: PackOutcome; counters: OutcomeCounters } {
  const w = value as OutcomeWire;
  const ok = w && Array.isArray(w.extractions) && Array.isArray(w.failed) && w.usage && typeof w.counters === 'object' && w.counters !== null;
  if (!ok) throw new SluiceError(ErrorCode.INTERNAL, `the result of pack ${pack.id} is not a sluice outcome (another version of sluice on this queue?)`);
  return {
    outcome: { kind: 'outcome', pack, extractions: new Map(w.extractions), failed: new Map(w.failed), usage: { promptTokens: w.usage.promptTokens, completionTokens: w.usage.completionTokens } },
    counters: w.counters,
  };
}

export function addCounters(stats: RunStats, counters: Partial<OutcomeCounters>): void {
  for (const k of OUTCOME_COUNTERS) stats[k] += Number(counters[k] ?? 0);
}
