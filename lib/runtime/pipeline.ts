/**
 * Declarative pipelines and the ways to run one: `run` (to JSONL sinks), `results` (an async
 * iterator), `onBatch` (a callback per batch of results). Every way pulls from the same highland
 * chain, so backpressure from the consumer reaches the reader. A run resolves its options once, at
 * its start, and counts each item once, when its fate is known (delivered, or dead-lettered by the
 * sink).
 */
import type { Writable } from 'node:stream';
import { Checkpoint, type SinkOffsets } from './checkpoint.js';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { ErrorCode, SluiceError, codeOf, messageOf, usageError } from './errors.js';
import { keyOf, outputShapingOptions, resolveOptions, type OptionSpec } from './options.js';
import type { Failure, Result } from './records.js';
import { createRunContext, type RunContext, type RunStats } from './run-context.js';
import { iterate, type Outlet } from './stage.js';

/** What a pipeline's flow emits: results and failures (packs in a dry run; run() passes over any other kind). */
export type FlowItem = Result | Failure | { readonly kind: string };

/** What a pipeline definition builds for one run. */
export interface PipelineParts {
  /**
   * The run's records from the source through every stage, composed with the typed
   * `pipe(read(inputs, o), parse(o), chunk(o), ...)` (lib/runtime/stage.ts): each stage takes what
   * the one before emits.
   */
  flow: (ctx: RunContext) => Outlet<FlowItem>;
  /**
   * Releases what the stages hold (worker threads, connections). `finished`: every item was
   * pulled and the run was not stopped, so state kept for a resume (scale-out's queue) can go.
   */
  close?: (finished: boolean) => Promise<void>;
}

export interface BuildMode {
  /** Stop after token-pack: nothing is extracted. */
  dryRun: boolean;
  /**
   * A directory for the run's own state beside its checkpoint (batch mode's ledger and input
   * files); set by `run` when the pipeline's checkpoint is a directory.
   */
  stateDir?: string;
  /** The output file, when the run writes one (absolute): part of a scale-out run's identity. */
  output?: string;
}

/** Where `run` writes: a file path or a stream, for results and for dead letters. */
export interface SinkTarget {
  output?: string | Writable;
  deadLetter?: string | Writable;
  /** Resuming: file targets keep these many bytes (what a checkpoint committed) and append. */
  keep?: SinkOffsets;
}

export interface Sink {
  /** Returns a failure when the item had to be dead-lettered at the sink (e.g. unserialisable). */
  write(item: Result | Failure): Promise<Failure | undefined>;
  /** Byte lengths of file targets with every line given so far (for a checkpoint). */
  offsets(): SinkOffsets;
  /** Flushes and fsyncs file targets. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface PipelineDefinition<O = Record<string, unknown>> {
  name: string;
  description: string;
  /** Every option the pipeline takes, described once (CLI, --help, README, validation). */
  options: readonly OptionSpec[];
  build(options: O, inputs: readonly unknown[], mode: BuildMode): PipelineParts | Promise<PipelineParts>;
  sink(target: SinkTarget): Sink;
  /** What shapes the output beyond the options themselves (e.g. which extractor "auto" picks here); a checkpoint pins it too. */
  identity?(options: O): Record<string, unknown>;
  /**
   * 'directory' when `--checkpoint` names a directory holding the commit file (CHECKPOINT_FILE)
   * and the pipeline's own state (batch mode); a file otherwise.
   */
  checkpointLayout?(options: O): 'file' | 'directory';
  /** `--status`: where a checkpointed run's outside work stands (batch mode's batches), as text. */
  status?(options: O, stateDir: string): Promise<string>;
}

/** The commit file inside a checkpoint directory. */
export const CHECKPOINT_FILE = 'checkpoint.json';

export function definePipeline<O>(definition: PipelineDefinition<O>): PipelineDefinition<O> {
  const names = new Set<string>();
  for (const spec of definition.options) {
    if (names.has(spec.name)) throw new Error(`pipeline ${definition.name}: option --${spec.name} is declared twice`);
    names.add(spec.name);
  }
  return Object.freeze(definition);
}

export interface RunControl {
  /** Stop reading when aborted; in-flight work settles, then the run ends. */
  signal?: AbortSignal;
  /** Share counters with a caller (progress display, tests). */
  context?: RunContext;
  /** Receives every dead letter (results() and onBatch() do not yield them). */
  onDeadLetter?: (failure: Failure) => void | Promise<void>;
  dryRun?: boolean;
  /** See BuildMode.stateDir. */
  stateDir?: string;
  /** Where results go (run() passes its target's): a file path names the run for scale-out. */
  output?: string | Writable;
}

/** Pulls every item the pipeline emits, in order, keeping the run's counters. */
export function items<O>(pipeline: PipelineDefinition<O>, inputs: readonly unknown[], options: Record<string, unknown>, control: RunControl = {}): AsyncGenerator<FlowItem> {
  const ctx = control.context ?? createRunContext(control.signal);
  return flow(
    pipeline,
    inputs,
    () => resolveOptions<O>(pipeline.options, options),
    { ...control, context: ctx },
    (item) => count(item, ctx.stats),
  );
}

/** `items` for options resolved already: the CLI resolves them once for the whole run. */
export function itemsOf<O>(pipeline: PipelineDefinition<O>, inputs: readonly unknown[], resolved: O, control: RunControl = {}): AsyncGenerator<FlowItem> {
  const ctx = control.context ?? createRunContext(control.signal);
  return flow(
    pipeline,
    inputs,
    () => resolved,
    { ...control, context: ctx },
    (item) => count(item, ctx.stats),
  );
}

/**
 * Builds the pipeline (options resolved on the first pull, so a bad option rejects it) and pulls
 * its flow; closes what the build opened however the pulling ends. `handedOn` sees each item as it
 * leaves: items() counts it there, as no sink follows that could still dead-letter it.
 */
async function* flow<O>(
  pipeline: PipelineDefinition<O>,
  inputs: readonly unknown[],
  resolve: () => O,
  control: RunControl & { context: RunContext },
  handedOn?: (item: FlowItem) => void,
): AsyncGenerator<FlowItem> {
  const ctx = control.context;
  const resolved = resolve();
  const output = typeof control.output === 'string' ? resolvePath(control.output) : undefined;
  const parts = await pipeline.build(resolved, inputs, { dryRun: control.dryRun ?? false, ...(control.stateDir !== undefined ? { stateDir: control.stateDir } : {}), ...(output ? { output } : {}) });
  let finished = false;
  try {
    for await (const item of iterate(parts.flow(ctx))) {
      handedOn?.(item);
      yield item;
    }
    finished = !ctx.signal.aborted;
  } catch (err) {
    // When the circuit stopped the run, an earlier pack (in output order) may fail first with
    // "stopping": the run's error is the circuit's, which names the cause and the URL.
    throw codeOf(err) === ErrorCode.ABORTED && ctx.circuit?.error ? ctx.circuit.error : err;
  } finally {
    await parts.close?.(finished);
  }
}

/** The run's counters of what came out, kept here only: each item once, as what it finally is. */
function count(item: FlowItem, stats: RunStats): void {
  if (item.kind === 'result') stats.noteResult(item as Result);
  else if (item.kind === 'failure') stats.noteFailure(item as Failure);
}

/** `for await (const r of results(pipeline, inputs, options))`: results in input order. */
export async function* results<O>(pipeline: PipelineDefinition<O>, inputs: readonly unknown[], options: Record<string, unknown> = {}, control: RunControl = {}): AsyncGenerator<Result> {
  for await (const item of items(pipeline, inputs, options, control)) {
    if (item.kind === 'result') yield item as Result;
    else if (item.kind === 'failure') await control.onDeadLetter?.(item as Failure);
  }
}

export interface BatchControl extends RunControl {
  /** Results per callback. @default 100 */
  batchSize?: number;
  onBatch: (results: Result[]) => void | Promise<void>;
}

/** Calls `onBatch` with up to `batchSize` results at a time; the next batch waits for it. */
export async function onBatch<O>(pipeline: PipelineDefinition<O>, inputs: readonly unknown[], options: Record<string, unknown>, control: BatchControl): Promise<RunStats> {
  const ctx = control.context ?? createRunContext(control.signal);
  const size = control.batchSize ?? 100;
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`batchSize must be a positive integer, got ${size}`);
  let batch: Result[] = [];
  for await (const r of results(pipeline, inputs, options, { ...control, context: ctx })) {
    batch.push(r);
    if (batch.length >= size) {
      await control.onBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await control.onBatch(batch);
  return ctx.stats;
}

export interface RunTarget extends RunControl, Omit<SinkTarget, 'keep'> {
  /**
   * A checkpoint file: the run commits its progress there and, when it exists, resumes from it.
   * Needs `output` (and `deadLetter`, if given) to be file paths, and ordered output.
   */
  checkpoint?: string;
}

/** Runs to the pipeline's sink (stdout unless `output` is given); resolves with the run's counters. */
export async function run<O>(pipeline: PipelineDefinition<O>, inputs: readonly unknown[], options: Record<string, unknown> = {}, target: RunTarget = {}): Promise<RunStats> {
  return runOf(pipeline, inputs, resolveOptions<O>(pipeline.options, options), target);
}

/** `run` for options resolved already: the CLI resolves them once for the whole run. */
export async function runOf<O>(pipeline: PipelineDefinition<O>, inputs: readonly unknown[], resolved: O, target: RunTarget = {}): Promise<RunStats> {
  const ctx = target.context ?? createRunContext(target.signal);
  const stateDir = target.checkpoint !== undefined && pipeline.checkpointLayout?.(resolved) === 'directory' ? target.checkpoint : undefined;
  const checkpoint = target.checkpoint === undefined ? undefined : openCheckpoint(pipeline, resolved, target, stateDir);
  if (checkpoint) {
    ctx.stats.sessions = checkpoint.sessions;
    if (checkpoint.complete) {
      await checkpoint.verifyCompleted(inputs);
      checkpoint.restore(ctx.stats);
      ctx.stats.alreadyComplete = true;
      return ctx.stats;
    }
    checkpoint.restore(ctx.stats);
    ctx.stats.restoredWork = { requests: ctx.stats.requests, retries: ctx.stats.retries, splits: ctx.stats.splits };
    ctx.stats.resumedAt = checkpoint.resumedAt;
    ctx.input = checkpoint.tracking();
  }
  // The files are opened after the first item (below), but whether they can be written is known
  // now, before any request is paid for; checking opens nothing, so an existing output is intact.
  if (typeof target.output === 'string') checkWritable(target.output, 'output');
  if (typeof target.deadLetter === 'string') checkWritable(target.deadLetter, 'dead-letter');
  // Uncounted: an item is counted below, once the sink has said what it became.
  const stream = flow(pipeline, inputs, () => resolved, { ...target, context: ctx, ...(stateDir !== undefined ? { stateDir } : {}) });
  // Options are checked and the pipeline built (and the first input's head checked against the
  // checkpoint) before the output is opened: a refused run must not truncate an existing output.
  let next: IteratorResult<FlowItem>;
  let sink: Sink;
  try {
    next = await stream.next();
    sink = pipeline.sink({ output: target.output, deadLetter: target.deadLetter, keep: checkpoint?.keep });
  } catch (err) {
    await stream.return(undefined);
    throw err;
  }
  const sync = () => sink.sync();
  let finished = false;
  let outputBroken = false;
  try {
    for (; !next.done; next = await stream.next()) {
      const item = next.value;
      if (item.kind !== 'result' && item.kind !== 'failure') continue;
      let instead: Failure | undefined;
      try {
        instead = await sink.write(item as Result | Failure);
      } catch (err) {
        outputBroken = true;
        throw err;
      }
      // A result the sink could not write became a dead letter there.
      count(instead ?? item, ctx.stats);
      if (item.kind === 'failure') await target.onDeadLetter?.(item as Failure);
      if (checkpoint) {
        checkpoint.written((item as Result | Failure).seq, sink, ctx.stats);
        const before = checkpoint.committedSeq;
        await checkpoint.maybeCommit(sync, ctx.stats, ctx.reusableWork);
        if (checkpoint.committedSeq !== before) ctx.onCommit?.(checkpoint.committedSeq);
      }
    }
    finished = true;
  } finally {
    if (!finished) {
      // Stopping (an error, a signal, a cap): the packs in flight are abandoned, not dead-lettered,
      // and waited for, so that the requests they sent are counted before the run reports.
      if (!ctx.signal.aborted) ctx.stop('fatal');
      await stream.return(undefined).catch(() => undefined);
      await Promise.allSettled([...ctx.inFlight]);
    }
    // What was written is whole and in order, so it is committed even when the run stops early;
    // not after an output error, when the files' state is unknown (the last commit stands).
    try {
      if (checkpoint && !outputBroken) await checkpoint.commit(sync, ctx.stats, finished && !ctx.signal.aborted, sink, ctx.reusableWork);
    } finally {
      if (finished) await sink.close();
      else await sink.close().catch(() => undefined);
    }
  }
  return ctx.stats;
}

/** Throws when `path` cannot be written: it is a directory, read-only, or its directory is missing. */
function checkWritable(path: string, what: 'output' | 'dead-letter'): void {
  const fail = (reason: string) => new SluiceError(ErrorCode.OUTPUT, `cannot write the ${what} file ${path}: ${reason}; nothing was sent`);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw fail('it is a directory');
  const dir = dirname(resolvePath(path));
  const target = st ? path : dir;
  if (!st) {
    const d = statSync(dir, { throwIfNoEntry: false });
    if (!d) throw fail(`the directory ${dir} does not exist`);
    if (!d.isDirectory()) throw fail(`${dir} is not a directory`);
  }
  try {
    accessSync(target, constants.W_OK);
  } catch {
    throw fail(st ? 'it is not writable' : `the directory ${dir} is not writable`);
  }
}

function openCheckpoint<O>(pipeline: PipelineDefinition<O>, resolved: O, target: RunTarget, stateDir: string | undefined): Checkpoint {
  if (typeof target.output !== 'string') throw usageError('--checkpoint needs --output FILE: a checkpoint records how far the output file is committed');
  if (target.deadLetter !== undefined && typeof target.deadLetter !== 'string') throw usageError('--checkpoint needs --dead-letter to be a file');
  const given = resolved as Record<string, unknown>;
  if (given.unordered === true) throw usageError('--checkpoint needs ordered output: drop --unordered');
  const pinned = { ...outputShapingOptions(pipeline.options, given), ...pipeline.identity?.(resolved) };
  let path = target.checkpoint!;
  if (stateDir !== undefined) {
    if (statSync(stateDir, { throwIfNoEntry: false })?.isDirectory() === false)
      throw usageError(`--checkpoint ${stateDir} is a file; in this mode it is a directory (the commit file and the batch ledger)`);
    try {
      mkdirSync(stateDir, { recursive: true });
    } catch (err) {
      throw new SluiceError(ErrorCode.FATAL, `cannot create the --checkpoint directory ${stateDir}: ${messageOf(err)}`);
    }
    path = join(stateDir, CHECKPOINT_FILE);
  }
  const operational = pipeline.options.filter((spec) => spec.operational).map((spec) => keyOf(spec.name));
  return Checkpoint.open({ path, pipeline: pipeline.name, options: pinned, output: target.output, deadLetter: target.deadLetter, operational });
}
