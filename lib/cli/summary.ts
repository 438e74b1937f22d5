/** The run summary: one object (for --summary files and tests) and its human-readable form. */
import type { RunStats } from '../runtime/run-context.js';

export interface RunSummary {
  pipeline: string;
  interrupted: boolean;
  /** Why the run stopped before the end of its input, if it did: a signal, or the cost cap. */
  stoppedBy: 'signal' | 'max-cost' | null;
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
  chunks: number;
  packs: number;
  docsPerPack: number;
  requests: number;
  retries: number;
  splits: number;
  inventedIds: number;
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
  wallSeconds: number;
  docsPerSecond: number;
  peakRssMb: number;
}

export function summarise(pipeline: string, stats: RunStats, extra: { interrupted?: boolean; stoppedBy?: 'signal' | 'max-cost'; costUsd?: number | null } = {}): RunSummary {
  const wallSeconds = (Date.now() - stats.startedAt) / 1000;
  // This session's records: a resumed run's committed ones were done before it.
  const done = stats.resultsOut + stats.deadLettered - (stats.resumedAt ?? 0);
  return {
    pipeline,
    interrupted: extra.interrupted ?? false,
    stoppedBy: extra.stoppedBy ?? null,
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
    inventedIds: stats.inventedIds,
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
    costUsd: extra.costUsd ?? null,
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

export function formatSummary(s: RunSummary): string {
  const lines = [
    `${s.pipeline}: ${s.stoppedBy === 'max-cost' ? 'stopped at the cost cap' : s.interrupted ? 'interrupted' : 'done'} in ${s.wallSeconds}s, ${n(s.docsPerSecond)} docs/s, peak RSS ${s.peakRssMb} MB`,
    ...(s.resumedAt !== null && s.resumedAt > 0 ? [`  resumed    after ${n(s.resumedAt)} committed records (session ${s.session}); counts below cover the whole run, work and time this session`] : []),
    `  documents  in ${n(s.docsIn)}, out ${n(s.docsOut)}, dead-lettered ${n(s.deadLettered)}${s.blankLines ? ` (blank lines skipped: ${n(s.blankLines)})` : ''}`,
    // Pipelines without entities (embeddings) have neither.
    ...(s.entities || s.docsWithoutEntities ? [`  entities   ${n(s.entities)} (${s.entitiesPerDoc} per document), documents with none: ${n(s.docsWithoutEntities)}`] : []),
    `  work       ${n(s.chunks)} chunks in ${n(s.packs)} packs (${s.docsPerPack} docs/pack), ${n(s.requests)} requests, ${n(s.retries)} retries, ${n(s.splits)} splits`,
    `  tokens     text ${n(s.textTokens)}, prompt ${n(s.promptTokens)}, completion ${n(s.completionTokens)}${s.costUsd !== null ? `, cost $${s.costUsd.toFixed(4)}` : ''}`,
  ];
  if (s.cacheHits || s.cacheMisses) {
    lines.push(
      `  cache      ${n(s.cacheHits)} hits, ${n(s.cacheMisses)} misses; answered from the cache: prompt ${n(s.cachedPromptTokens)}, completion ${n(s.cachedCompletionTokens)} tokens (not billed, not in the cost)`,
    );
  }
  if (s.batchesCreated) {
    lines.push(`  batch api  ${n(s.batchesCreated)} batches created; this session ${n(s.batchLinesAnswered)} lines answered, ${n(s.batchLinesFailed)} failed (retried); cost at the Batch API rate`);
  }
  if (s.inventedIds) lines.push(`  answers named ${n(s.inventedIds)} ids that were not sent (discarded)`);
  if (s.deadLettered) {
    lines.push(
      `  dead letters by reason: ${Object.entries(s.deadLettersByCode)
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(', ')}`,
    );
  }
  if (!s.interrupted && s.docsIn !== s.docsOut + s.deadLettered) {
    lines.push(`  WARNING: documents in (${s.docsIn}) != out (${s.docsOut}) + dead-lettered (${s.deadLettered})`);
  }
  return lines.join('\n');
}
