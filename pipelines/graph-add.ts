/**
 * `graph add`: result lines from files or stdin into a graph store, `batchSize` documents per
 * transaction, bad lines reported and skipped. `addToGraph` is the same from code.
 */
import { existsSync } from 'node:fs';
import type { ProgramIo } from '../lib/cli/program.js';
import { ErrorCode, ExitCode, SluiceError } from '../lib/runtime/errors.js';
import { graphStats } from '../lib/graph/stats.js';
import { GraphStore, type AddReport } from '../lib/graph/store.js';
import { LineWriter } from '../lib/runtime/line-writer.js';
import { duration } from '../lib/cli/progress.js';
import type { Failure } from '../lib/runtime/records.js';
import { createRunContext, FIRST_FAILURES_KEPT, type RunContext } from '../lib/runtime/run-context.js';
import { iterate, pipe } from '../lib/runtime/stage.js';
import { read, type InputSpec, type ReadOptions } from '../stages/read.js';
import { resultLines, type ContributionRecord } from '../stages/result-lines.js';
import { serialiseFailure } from '../stages/sink.js';

export interface AddSummary extends AddReport {
  lines: number;
  blankLines: number;
  badLines: number;
  skippedRelations: number;
}

export interface AddHooks {
  signal?: AbortSignal;
  /** Shares the read counters (bytes, records) with a caller, e.g. a progress line. */
  context?: RunContext;
  onBadLine?: (f: Failure) => void | Promise<void>;
  onSkippedRelation?: (where: ContributionRecord, reason: string) => void;
  /** Called after each committed batch with the running totals. */
  onCommit?: (summary: AddSummary) => void;
}

/** Reads result lines from `inputs` and adds them to `store`, `batchSize` documents per transaction. */
export async function addToGraph(store: GraphStore, inputs: readonly InputSpec[], options: ReadOptions & { batchSize: number }, hooks: AddHooks = {}): Promise<AddSummary> {
  const ctx = hooks.context ?? createRunContext(hooks.signal);
  const summary: AddSummary = { lines: 0, blankLines: 0, badLines: 0, skippedRelations: 0, added: 0, replaced: 0, unchanged: 0 };
  const stream = pipe(read(inputs, options), resultLines())(ctx);
  let pending: ContributionRecord[] = [];
  const commit = () => {
    if (pending.length === 0) return;
    const r = store.add(pending.map((p) => p.contribution));
    summary.added += r.added;
    summary.replaced += r.replaced;
    summary.unchanged += r.unchanged;
    pending = [];
    hooks.onCommit?.(summary);
  };
  for await (const batch of iterate(stream)) {
    for (const item of batch) {
      summary.lines++;
      if (item.kind === 'failure') {
        summary.badLines++;
        await hooks.onBadLine?.(item);
        continue;
      }
      for (const s of item.contribution.skipped) {
        summary.skippedRelations++;
        hooks.onSkippedRelation?.(item, s.reason);
      }
      pending.push(item);
      if (pending.length >= options.batchSize) commit();
    }
  }
  commit();
  summary.blankLines = ctx.stats.blankLines;
  return summary;
}

function where(x: { source: string; line: number; id?: string }): string {
  return `${x.source}:${x.line}${x.id !== undefined ? ` id=${x.id}` : ''}`;
}

const n = (x: number) => x.toLocaleString('en-US');

/** One line: lines read, share of the input and ETA when its size is known, rate, bad lines. */
function progressLine(ctx: RunContext, s: AddSummary): string {
  const seconds = Math.max(0.001, (Date.now() - ctx.stats.startedAt) / 1000);
  const done = s.added + s.replaced + s.unchanged + s.badLines;
  const rate = done / seconds;
  const parts = [`graph add ${n(done)} lines`];
  if (ctx.stats.totalBytes) {
    const fraction = Math.min(1, ctx.stats.bytesRead / ctx.stats.totalBytes);
    const total = fraction > 0 ? Math.max(done, Math.round(ctx.stats.recordsIn / fraction)) : 0;
    parts.push(`${(fraction * 100).toFixed(1)}% of ~${n(total)}`);
    if (rate > 0 && total > done) parts.push(`ETA ${duration((total - done) / rate)}`);
  }
  parts.push(`${n(Math.round(rate))} lines/s`);
  if (s.badLines) parts.push(`bad ${n(s.badLines)}`);
  return parts.join('  ');
}

export interface AddCliOptions extends ReadOptions {
  batchSize: number;
  deadLetter?: string;
  cacheMb: number;
  quiet: boolean;
  progress: boolean;
}

/** The `add` command: exit 0 when the input was read through (bad lines are not a failure). */
export async function runAdd(graph: string, inputs: readonly string[], o: AddCliOptions, io: ProgramIo, signal: AbortSignal): Promise<number> {
  // Before the store is created: a typo in a file name should not leave an empty graph behind.
  for (const input of inputs) if (input !== '-' && !existsSync(input)) throw new SluiceError(ErrorCode.FATAL, `cannot read input ${input}: no such file`);
  const ctx = createRunContext(signal);
  const started = Date.now();
  const store = GraphStore.open(graph, { create: true, cacheMb: o.cacheMb });
  const dead = o.deadLetter === undefined ? undefined : new LineWriter(o.deadLetter);
  const firstBad: Failure[] = [];
  const firstSkipped: string[] = [];
  const tty = io.stderr.isTTY === true;
  let latest: AddSummary | undefined;
  const showProgress = !o.quiet && (o.progress || tty);
  const timer = showProgress ? setInterval(() => latest && io.stderr.write(tty ? `\r${progressLine(ctx, latest)}` : `${progressLine(ctx, latest)}\n`), tty ? 250 : 2000) : undefined;
  let summary: AddSummary;
  let totals: ReturnType<typeof graphStats>;
  try {
    summary = await addToGraph(store, inputs, o, {
      context: ctx,
      onCommit: (s) => (latest = s),
      onBadLine: async (f) => {
        if (firstBad.length < FIRST_FAILURES_KEPT) firstBad.push(f);
        await dead?.writeLine(serialiseFailure(f));
      },
      onSkippedRelation: (rec, reason) => {
        if (firstSkipped.length < FIRST_FAILURES_KEPT) firstSkipped.push(`  ${where({ ...rec, id: rec.contribution.docId })} ${reason}`);
      },
    });
    totals = graphStats(store, 0);
  } finally {
    if (timer) clearInterval(timer);
    if (timer && tty) io.stderr.write('\n');
    store.close();
    await dead?.close().catch(() => undefined);
  }
  if (summary.badLines > 0 && dead === undefined) {
    io.stderr.write(`${n(summary.badLines)} bad line(s) skipped (write them all with --dead-letter FILE); first:\n`);
    for (const f of firstBad) io.stderr.write(`  ${where(f)} [${f.code}] ${f.reason}\n`);
  }
  if (!o.quiet) {
    if (summary.skippedRelations > 0) io.stderr.write(`${n(summary.skippedRelations)} relation(s) left out of the graph; first:\n${firstSkipped.join('\n')}\n`);
    io.stderr.write(
      `graph add: ${n(summary.lines)} lines${summary.blankLines > 0 ? ` (and ${n(summary.blankLines)} blank)` : ''}: ${n(summary.added)} documents added, ${n(summary.replaced)} replaced, ${n(summary.unchanged)} unchanged, ${n(summary.badLines)} bad lines (${((Date.now() - started) / 1000).toFixed(1)} s)\n` +
        `graph ${graph}: ${n(totals.documents)} documents, ${n(totals.nodes)} nodes, ${n(totals.edges)} edges\n`,
    );
  }
  return signal.aborted ? ExitCode.INTERRUPTED : ExitCode.OK;
}
