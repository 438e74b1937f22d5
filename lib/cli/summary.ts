/**
 * The run summary: one object (for --summary files and tests) and its human-readable form. A run
 * that stopped says so, why, what it did not reach and how to go on; an offline run shows no
 * requests (none were sent); a resumed run tells this session's work from the whole run's.
 */
import type { RunStats } from '../runtime/run-context.js';
import { priorHint, type AnswerPriorOptions } from '../llm/output-model.js';

/** What stopped a run before the end of its input. */
export type StopKind = 'fatal' | 'signal' | 'max-cost' | 'max-failures';

export interface RunSummary {
  pipeline: string;
  /** "stopped" when the run ended before the end of its input (see `stoppedBy` and `reason`). */
  status: 'finished' | 'stopped';
  /** A stopped run: why, in words (the fatal error's message, the signal, the cap). */
  reason: string | null;
  /** True for a stopped run (kept for earlier readers of --summary; `status` says the same). */
  interrupted: boolean;
  /** Why the run stopped before the end of its input, if it did. */
  stoppedBy: StopKind | null;
  /** A stopped run: documents read but not finished (neither written nor dead-lettered). */
  docsNotFinished: number;
  /** A stopped run: input bytes not read, and the total, when known (files). */
  bytesNotRead: number | null;
  totalBytes: number | null;
  /** A stopped run: the command that resumes it (with --checkpoint), or null (rerunning starts over). */
  resumeCommand: string | null;
  /** No API was called (the offline extractor): requests, retries, splits and cost do not apply. */
  offline: boolean;
  /** A resumed run: this session's requests, retries and splits (the fields below are the whole run's). */
  sessionRequests: number;
  sessionRetries: number;
  sessionSplits: number;
  /** Checkpointed runs: records already committed when this session started, and the session number. */
  resumedAt: number | null;
  session: number | null;
  docsIn: number;
  docsOut: number;
  deadLettered: number;
  deadLettersByCode: Record<string, number>;
  blankLines: number;
  entities: number;
  entitiesPerDoc: number;
  docsWithoutEntities: number;
  /** This session's chunks and packs. */
  chunks: number;
  packs: number;
  docsPerPack: number;
  /** Over the whole run (a resumed run's earlier sessions included). */
  requests: number;
  retries: number;
  splits: number;
  /** This session: requests abandoned at their deadline, and hedges sent. */
  timedOut: number;
  hedged: number;
  inventedIds: number;
  /** This session: answers cut off at max_tokens, those cut at --max-output-tokens itself, and splits a cut-off caused. */
  cutOffs: number;
  cutOffsAtCap: number;
  splitsCutOff: number;
  /** Whole answers ran this many times what the answer prior expected, far enough from 1 to say so, and the options that would fit them; else null. */
  priorHint: { ratio: number; suggested: AnswerPriorOptions } | null;
  textTokens: number;
  /** Tokens billed this run (failed attempts included); the cost counts these only. */
  promptTokens: number;
  completionTokens: number;
  /** --cache lookups: answered from the cache, and sent to the API. */
  cacheHits: number;
  cacheMisses: number;
  /** Tokens of the answers served from the cache: paid for by an earlier run, not this one. */
  cachedPromptTokens: number;
  cachedCompletionTokens: number;
  /** --batch-api: batches created over the whole run; lines answered and failed this session. */
  batchesCreated: number;
  batchLinesAnswered: number;
  batchLinesFailed: number;
  costUsd: number | null;
  /** A stopped run: the projected cost of the whole input (lib/cli/projection.ts), when it was known. */
  projectedCostUsd: number | null;
  /** --max-cost: the warning given during the run that the projection exceeded the cap, if it was. */
  costWarning: string | null;
  /** The adaptive limit on requests in flight (a server without rate-limit headers): lowest, highest, at the end; null when it did not count. */
  concurrencyLimit: { low: number; high: number; current: number } | null;
  wallSeconds: number;
  docsPerSecond: number;
  peakRssMb: number;
}

export interface SummaryExtra {
  /** Set when the run stopped before the end of its input. */
  stoppedBy?: StopKind;
  reason?: string;
  resumeCommand?: string;
  costUsd?: number | null;
  projectedCostUsd?: number;
  costWarning?: string;
  /** The answer prior the run packed and sized by (chat runs): the hint compares the answers with it. */
  answerPrior?: AnswerPriorOptions;
}

export function summarise(pipeline: string, stats: RunStats, extra: SummaryExtra = {}): RunSummary {
  const wallSeconds = (Date.now() - stats.startedAt) / 1000;
  // This session's records: a resumed run's committed ones were done before it.
  const done = stats.resultsOut + stats.deadLettered - (stats.resumedAt ?? 0);
  const stopped = extra.stoppedBy !== undefined;
  const before = stats.restoredWork ?? { requests: 0, retries: 0, splits: 0 };
  return {
    pipeline,
    status: stopped ? 'stopped' : 'finished',
    reason: stopped ? (extra.reason ?? extra.stoppedBy!) : null,
    interrupted: stopped,
    stoppedBy: extra.stoppedBy ?? null,
    docsNotFinished: stopped ? Math.max(0, stats.recordsIn - stats.resultsOut - stats.deadLettered) : 0,
    bytesNotRead: stopped && stats.totalBytes !== undefined ? Math.max(0, stats.totalBytes - stats.bytesRead) : null,
    totalBytes: stats.totalBytes ?? null,
    resumeCommand: stopped ? (extra.resumeCommand ?? null) : null,
    offline: stats.offline,
    sessionRequests: stats.requests - before.requests,
    sessionRetries: stats.retries - before.retries,
    sessionSplits: stats.splits - before.splits,
    resumedAt: stats.resumedAt ?? null,
    session: stats.sessions ?? null,
    docsIn: stats.recordsIn,
    docsOut: stats.resultsOut,
    deadLettered: stats.deadLettered,
    deadLettersByCode: Object.fromEntries(stats.deadLetterByCode),
    blankLines: stats.blankLines,
    entities: stats.entitiesOut,
    entitiesPerDoc: round(stats.resultsOut ? stats.entitiesOut / stats.resultsOut : 0, 2),
    docsWithoutEntities: stats.docsWithoutEntities,
    chunks: stats.chunks,
    packs: stats.packs,
    docsPerPack: round(stats.packs ? stats.packedDocs / stats.packs : 0, 2),
    requests: stats.requests,
    retries: stats.retries,
    splits: stats.splits,
    timedOut: stats.timedOut,
    hedged: stats.hedged,
    inventedIds: stats.inventedIds,
    cutOffs: stats.cutOffs,
    cutOffsAtCap: stats.cutOffsAtCap,
    splitsCutOff: stats.splitsCutOff,
    priorHint: extra.answerPrior ? (priorHint(stats.answersMeasured, stats.answerTokensMeasured, stats.expectedTokensMeasured, extra.answerPrior) ?? null) : null,
    textTokens: stats.textTokens,
    promptTokens: stats.promptTokens,
    completionTokens: stats.completionTokens,
    cacheHits: stats.cacheHits,
    cacheMisses: stats.cacheMisses,
    cachedPromptTokens: stats.cachedPromptTokens,
    cachedCompletionTokens: stats.cachedCompletionTokens,
    batchesCreated: stats.batchesCreated,
    batchLinesAnswered: stats.batchLinesAnswered,
    batchLinesFailed: stats.batchLinesFailed,
    costUsd: stats.offline ? null : (extra.costUsd ?? null),
    // A finished run's cost is its cost: the projection is worth showing only for what was not done.
    projectedCostUsd: stopped && !stats.offline ? (extra.projectedCostUsd ?? null) : null,
    costWarning: extra.costWarning ?? null,
    concurrencyLimit: stats.concurrencyLimit ? { ...stats.concurrencyLimit } : null,
    wallSeconds: round(wallSeconds, 2),
    docsPerSecond: round(wallSeconds > 0 ? done / wallSeconds : 0, 1),
    peakRssMb: round(process.resourceUsage().maxRSS / 1024, 1),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const n = (x: number) => x.toLocaleString('en-US');

/** The head line's word for how the run ended. */
const ENDED: Record<StopKind, string> = {
  fatal: 'stopped by a fatal error',
  signal: 'interrupted: stopped by a signal',
  'max-cost': 'stopped at the cost cap (--max-cost)',
  'max-failures': 'stopped past --max-failures',
};

/** Requests, retries and splits: this session's, and the whole run's when it was resumed. */
function workLine(s: RunSummary, resumed: boolean): string {
  const packs = `${n(s.chunks)} chunks in ${n(s.packs)} packs (${s.docsPerPack} docs/pack)`;
  // The offline extractor sends nothing: no requests, and its halving of a pack is no API split.
  if (s.offline) return `  work       ${packs}`;
  const calls = (r: number, t: number, p: number) => `${n(r)} requests, ${n(t)} retries, ${n(p)} splits`;
  if (!resumed) return `  work       ${packs}, ${calls(s.requests, s.retries, s.splits)}`;
  return `  work       this session: ${packs}, ${calls(s.sessionRequests, s.sessionRetries, s.sessionSplits)}; whole run: ${calls(s.requests, s.retries, s.splits)}`;
}

/** Why packs split this session, and what became of answers cut off at max_tokens. */
function cutOffLine(s: RunSummary): string {
  const sized = s.cutOffs - s.cutOffsAtCap;
  const cut = s.cutOffs
    ? `${n(s.cutOffs)} cut off at max_tokens (${n(sized)} below --max-output-tokens, ${n(s.cutOffsAtCap)} at it): whole documents kept, the rest asked again`
    : 'none cut off at max_tokens';
  const failures = Math.max(0, s.sessionSplits - s.splitsCutOff);
  return `  answers    ${cut}; splits: ${n(s.splitsCutOff)} for a cut-off, ${n(failures)} for failures`;
}

/** A stopped run: why, what it did not reach, and how to go on. */
function stopLines(s: RunSummary): string[] {
  const unread =
    s.bytesNotRead === null ? 'the rest of the input was not read' : s.bytesNotRead === 0 ? 'all of the input was read' : `${n(s.bytesNotRead)} of ${n(s.totalBytes ?? 0)} input bytes were not read`;
  return [
    // A fatal error's message was printed just above: the line names it rather than repeating it.
    `  stopped    ${s.stoppedBy === 'fatal' ? 'by the fatal error above (--summary FILE holds it as "reason")' : s.reason}`,
    `  not done   ${n(s.docsNotFinished)} documents read but not finished; ${unread}`,
    s.resumeCommand !== null ? `  resume     ${s.resumeCommand}` : '  resume     no --checkpoint: rerunning starts over (give --checkpoint FILE to make a run resumable)',
  ];
}

export function formatSummary(s: RunSummary): string {
  const resumed = s.resumedAt !== null && s.resumedAt > 0;
  const lines = [
    `${s.pipeline}: ${s.stoppedBy !== null ? `${ENDED[s.stoppedBy]} after` : 'done in'} ${s.wallSeconds}s, ${n(s.docsPerSecond)} docs/s, peak RSS ${s.peakRssMb} MB`,
    ...(s.stoppedBy !== null ? stopLines(s) : []),
    ...(resumed ? [`  resumed    after ${n(s.resumedAt!)} committed records (session ${s.session}); documents and tokens below cover the whole run, time this session`] : []),
    `  documents  in ${n(s.docsIn)}, out ${n(s.docsOut)}, dead-lettered ${n(s.deadLettered)}${s.blankLines ? ` (blank lines skipped: ${n(s.blankLines)})` : ''}`,
    // Pipelines without entities (embeddings) have neither.
    ...(s.entities || s.docsWithoutEntities ? [`  entities   ${n(s.entities)} (${s.entitiesPerDoc} per document), documents with none: ${n(s.docsWithoutEntities)}`] : []),
    workLine(s, resumed),
    s.offline
      ? `  tokens     text ${n(s.textTokens)}`
      : `  tokens     text ${n(s.textTokens)}, prompt ${n(s.promptTokens)}, completion ${n(s.completionTokens)}${s.costUsd !== null ? `, cost $${s.costUsd.toFixed(4)}` : ''}${s.projectedCostUsd !== null ? ` (the whole input: ~$${s.projectedCostUsd.toFixed(4)} projected)` : ''}`,
    ...(s.costWarning !== null ? [`  warning    ${s.costWarning}`] : []),
  ];
  if (s.cacheHits || s.cacheMisses) {
    lines.push(
      `  cache      ${n(s.cacheHits)} hits, ${n(s.cacheMisses)} misses; answered from the cache: prompt ${n(s.cachedPromptTokens)}, completion ${n(s.cachedCompletionTokens)} tokens (not billed, not in the cost)`,
    );
  }
  if (s.batchesCreated) {
    lines.push(`  batch api  ${n(s.batchesCreated)} batches created; this session ${n(s.batchLinesAnswered)} lines answered, ${n(s.batchLinesFailed)} failed (retried); cost at the Batch API rate`);
  }
  if (!s.offline && (s.cutOffs || s.sessionSplits)) lines.push(cutOffLine(s));
  if (s.priorHint) {
    const h = s.priorHint;
    lines.push(
      `  answers    ran ${h.ratio.toFixed(2)} x the size the answer prior expected: --answer-base-tokens ${h.suggested.answerBaseTokens} --answer-tokens-ratio ${h.suggested.answerTokensRatio} would fit packs and requests to them`,
    );
  }
  if (s.timedOut || s.hedged) lines.push(`  slow tail  ${n(s.timedOut)} requests timed out (retried), ${n(s.hedged)} hedged (sent twice, may be billed twice)`);
  const c = s.concurrencyLimit;
  if (c && c.low !== c.high) lines.push(`  in flight  adapted ${c.low}..${c.high}, ended at ${c.current} (the server sends no rate-limit headers; --concurrency is the ceiling)`);
  if (s.inventedIds) lines.push(`  answers named ${n(s.inventedIds)} ids that were not sent (discarded)`);
  if (s.deadLettered) {
    lines.push(
      `  dead letters by reason: ${Object.entries(s.deadLettersByCode)
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(', ')}`,
    );
  }
  if (s.status === 'finished' && s.docsIn !== s.docsOut + s.deadLettered) {
    lines.push(`  WARNING: documents in (${s.docsIn}) != out (${s.docsOut}) + dead-lettered (${s.deadLettered})`);
  }
  return lines.join('\n');
}
