/**
 * Checkpoint and resume for ordered runs writing to files. The sink writes every record's outcome
 * (result or dead letter) in input order; the checkpoint says how far that is committed: the last
 * record's input position, the output and dead-letter byte lengths, and the counters so far. It is
 * written atomically (temp file, fsync, rename, fsync of the directory) after the outputs are
 * fsynced, so after a kill -9 at any moment the files hold at least what it says. A rerun truncates
 * the uncommitted tail, starts reading after the committed record, and ends with the same bytes an
 * uninterrupted run writes. Nothing here grows with the input.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, SluiceError, messageOf, usageError } from './errors.js';
import { PositionLog, fingerprintInput, type InputFingerprint, type InputPosition, type InputTracking } from './input-tracking.js';
import type { RunStats } from './run-context.js';

export const CHECKPOINT_VERSION = 1;

/** What the sink counted for committed records, and what the run spent (paid requests count even when their records were not committed). */
export interface CheckpointCounters {
  records: number;
  resultsOut: number;
  entitiesOut: number;
  docsWithoutEntities: number;
  deadLettered: number;
  deadLetterByCode: Record<string, number>;
  requests: number;
  retries: number;
  splits: number;
  promptTokens: number;
  completionTokens: number;
  inventedIds: number;
}

export interface CheckpointState {
  version: number;
  pipeline: string;
  /** The options that shape the output; a rerun with other values is refused. */
  options: Record<string, unknown>;
  /** Fingerprints of the inputs read so far, by index. */
  inputs: (InputFingerprint | null)[];
  /** The last committed record; null before the first. */
  position: InputPosition | null;
  output: { path: string; bytes: number };
  deadLetter: { path: string; bytes: number } | null;
  counters: CheckpointCounters;
  /** The run reached the end of its input. */
  complete: boolean;
  /** Runs of this command so far, this one included. */
  sessions: number;
  updatedAt: string;
}

/** The counters of work paid for, which a commit records whether or not its records are committed. */
export const WORK_COUNTERS = ['requests', 'retries', 'splits', 'promptTokens', 'completionTokens', 'inventedIds'] as const satisfies readonly (keyof CheckpointCounters & keyof RunStats)[];
export type WorkCounters = Record<(typeof WORK_COUNTERS)[number], number>;

/**
 * Work counted in the stats for records after `seq` that a resumed session gets back without
 * paying for it again (scale-out: answers kept in Redis), and so counts again when it takes them.
 */
export type ReusableWork = (afterSeq: number) => Partial<WorkCounters>;

/** File byte lengths a sink reports after syncing its outputs. */
export interface SinkOffsets {
  output: number;
  deadLetter?: number;
}

export interface CheckpointSetup {
  path: string;
  pipeline: string;
  options: Record<string, unknown>;
  output: string;
  deadLetter?: string;
  /** Milliseconds between commits. @default 1000 */
  intervalMs?: number;
  /**
   * Options that may change between sessions (`operational` specs): an older checkpoint that pinned
   * one of them (before it was marked so) is not refused for it.
   */
  operational?: readonly string[];
}

export class Checkpoint {
  private state: CheckpointState;
  private readonly positions = new PositionLog();
  private lastCommit = Date.now();
  private readonly intervalMs: number;
  /** Records committed when this session started (0 for a fresh run). */
  readonly resumedAt: number;

  private constructor(
    private readonly path: string,
    state: CheckpointState,
    intervalMs: number,
  ) {
    this.state = state;
    this.intervalMs = intervalMs;
    this.resumedAt = state.counters.records;
  }

  /** Loads and checks the checkpoint at `setup.path`, or starts a new one when there is none. */
  static open(setup: CheckpointSetup): Checkpoint {
    const intervalMs = setup.intervalMs ?? 1000;
    const output = { path: resolve(setup.output), bytes: 0 };
    const deadLetter = setup.deadLetter === undefined ? null : { path: resolve(setup.deadLetter), bytes: 0 };
    if (!existsSync(setup.path)) {
      return new Checkpoint(
        setup.path,
        {
          version: CHECKPOINT_VERSION,
          pipeline: setup.pipeline,
          options: setup.options,
          inputs: [],
          position: null,
          output,
          deadLetter,
          counters: emptyCounters(),
          complete: false,
          sessions: 1,
          updatedAt: new Date().toISOString(),
        },
        intervalMs,
      );
    }
    const state = readState(setup.path);
    const refuse = (why: string) => usageError(`checkpoint ${setup.path} ${why}; rerun the command it was made with, or delete it to start over`);
    if (state.pipeline !== setup.pipeline) throw refuse(`belongs to the ${state.pipeline} pipeline, not ${setup.pipeline}`);
    const differs = differingOption(state.options, setup.options, new Set(setup.operational ?? []));
    if (differs) throw refuse(`was made with other options: --${differs.name} was ${show(differs.was)}, now ${show(differs.now)}`);
    if (state.output.path !== output.path) throw refuse(`writes ${state.output.path}, not ${output.path}`);
    if ((state.deadLetter?.path ?? null) !== (deadLetter?.path ?? null)) throw refuse(`writes dead letters to ${state.deadLetter?.path ?? 'no file'}, not ${deadLetter?.path ?? 'no file'}`);
    checkLength(state.output, 'output', setup.path);
    if (state.deadLetter) checkLength(state.deadLetter, 'dead-letter file', setup.path);
    state.sessions++;
    return new Checkpoint(setup.path, state, intervalMs);
  }

  get complete(): boolean {
    return this.state.complete;
  }

  /**
   * A completed run is not redone, but only for the inputs it was made with: each is fingerprinted
   * as the reader would and refused (a usage error) when it differs, or when there are more or fewer.
   */
  async verifyCompleted(inputs: readonly unknown[]): Promise<void> {
    const list = inputs.length === 0 ? ['-'] : inputs;
    const was = this.state.inputs;
    const refuse = (why: string) => usageError(`checkpoint ${this.path} ${why}; rerun with the same input, or delete the checkpoint to start over`);
    if (list.length < was.length) throw refuse(`was made with ${was.length} inputs, not ${list.length}`);
    const verify = this.tracking().verify;
    for (let index = 0; index < list.length; index++) {
      let fp: InputFingerprint | undefined;
      try {
        fp = await fingerprintInput(list[index]);
      } catch (err) {
        throw new SluiceError(ErrorCode.FATAL, `cannot read input ${String(list[index])}: ${messageOf(err)}`, { cause: err });
      }
      if (fp === undefined) continue;
      if (index >= was.length) throw refuse(`was made with ${was.length} input${was.length === 1 ? '' : 's'}; input ${index + 1} (${fp.name}) is not one of them`);
      verify(index, fp);
    }
  }

  /** Byte lengths the outputs are cut back to: what is beyond was written but never committed. */
  get keep(): SinkOffsets | undefined {
    if (this.state.position === null && this.state.output.bytes === 0) return undefined;
    return { output: this.state.output.bytes, ...(this.state.deadLetter ? { deadLetter: this.state.deadLetter.bytes } : {}) };
  }

  /** The seq of the last committed record (-1 before the first). */
  get committedSeq(): number {
    return this.state.position?.seq ?? -1;
  }

  get sessions(): number {
    return this.state.sessions;
  }

  /** What the reader uses: where to start, and the check of every input against the one checkpointed. */
  tracking(): InputTracking {
    const state = this.state;
    return {
      positions: this.positions,
      ...(state.position ? { resume: state.position } : {}),
      verify: (index, fp) => {
        const was = state.inputs[index];
        if (was && (was.headSha256 !== fp.headSha256 || was.headBytes !== fp.headBytes || (was.size !== undefined && fp.size !== undefined && fp.size < was.size))) {
          throw usageError(
            `checkpoint ${this.path} was made with another input ${index + 1} (${was.name}: its first ${was.headBytes} bytes differ${was.size !== undefined && fp.size !== undefined && fp.size < was.size ? ', and it is shorter now' : ''}); rerun with the same input, or delete the checkpoint to start over`,
          );
        }
        while (state.inputs.length < index) state.inputs.push(null);
        state.inputs[index] = fp;
      },
    };
  }

  /** Puts the committed counters back into a new session's stats. */
  restore(stats: RunStats): void {
    const c = this.state.counters;
    stats.recordsIn = c.records;
    stats.resultsOut = c.resultsOut;
    stats.entitiesOut = c.entitiesOut;
    stats.docsWithoutEntities = c.docsWithoutEntities;
    stats.deadLettered = c.deadLettered;
    for (const [code, n] of Object.entries(c.deadLetterByCode)) stats.deadLetterByCode.set(code, n);
    stats.requests = c.requests;
    stats.retries = c.retries;
    stats.splits = c.splits;
    stats.promptTokens = c.promptTokens;
    stats.completionTokens = c.completionTokens;
    stats.inventedIds = c.inventedIds;
  }

  /**
   * The sink was given the outcome of record `seq` (in input order). At a cut (where packing starts
   * afresh) that record becomes the next commit point, with the sink's byte lengths and counters
   * as they are now; between cuts, a resume would pack differently, so nothing is noted.
   */
  written(seq: number, sink: { offsets(): SinkOffsets }, stats: RunStats): void {
    const p = this.positions.take(seq);
    if (!p) throw new SluiceError(ErrorCode.INTERNAL, `checkpoint: no input position for record ${seq}`);
    if (p.cut) this.pending = { position: p, offsets: sink.offsets(), counters: sinkCounters(p.seq + 1, stats) };
  }

  private pending: { position: InputPosition; offsets: SinkOffsets; counters: SinkCounters } | undefined;

  /** Commits when the interval has passed since the last commit. */
  async maybeCommit(sync: () => Promise<void>, stats: RunStats, reusable?: ReusableWork): Promise<void> {
    if (this.pending && Date.now() - this.lastCommit >= this.intervalMs) await this.commit(sync, stats, false, undefined, reusable);
  }

  /**
   * Syncs the outputs, then records the last commit point. `complete`: the input was read to its
   * end and everything given to the sink is final, so the commit point is the end.
   */
  async commit(sync: () => Promise<void>, stats: RunStats, complete: boolean, sink?: { offsets(): SinkOffsets }, reusable?: ReusableWork): Promise<void> {
    await sync();
    const s = this.state;
    if (complete && sink)
      this.pending = { position: s.position ?? { input: 0, offset: -1, line: 0, seq: -1 }, offsets: sink.offsets(), counters: sinkCounters(stats.resultsOut + stats.deadLettered, stats) };
    const at = this.pending;
    if (at) {
      s.position = at.position;
      s.output.bytes = at.offsets.output;
      if (s.deadLetter) s.deadLetter.bytes = at.offsets.deadLetter ?? s.deadLetter.bytes;
      Object.assign(s.counters, at.counters);
      this.pending = undefined;
    }
    // What was paid counts whether or not its records are committed, except what the next session
    // gets back unpaid and counts then.
    const again = complete ? {} : (reusable?.(s.position?.seq ?? -1) ?? {});
    for (const k of WORK_COUNTERS) s.counters[k] = stats[k] - (again[k] ?? 0);
    s.complete = complete;
    s.updatedAt = new Date().toISOString();
    try {
      writeAtomically(this.path, `${JSON.stringify(s, null, 2)}\n`);
    } catch (err) {
      throw new SluiceError(ErrorCode.OUTPUT, `cannot write checkpoint ${this.path}: ${messageOf(err)}`, { cause: err });
    }
    this.lastCommit = Date.now();
  }
}

type SinkCounters = Pick<CheckpointCounters, 'records' | 'resultsOut' | 'entitiesOut' | 'docsWithoutEntities' | 'deadLettered' | 'deadLetterByCode'>;

function sinkCounters(records: number, stats: RunStats): SinkCounters {
  return {
    records,
    resultsOut: stats.resultsOut,
    entitiesOut: stats.entitiesOut,
    docsWithoutEntities: stats.docsWithoutEntities,
    deadLettered: stats.deadLettered,
    deadLetterByCode: Object.fromEntries(stats.deadLetterByCode),
  };
}

function emptyCounters(): CheckpointCounters {
  return {
    records: 0,
    resultsOut: 0,
    entitiesOut: 0,
    docsWithoutEntities: 0,
    deadLettered: 0,
    deadLetterByCode: {},
    requests: 0,
    retries: 0,
    splits: 0,
    promptTokens: 0,
    completionTokens: 0,
    inventedIds: 0,
  };
}

function readState(path: string): CheckpointState {
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as CheckpointState;
  } catch (err) {
    throw new SluiceError(ErrorCode.FATAL, `checkpoint ${path} cannot be read (${messageOf(err)}); it was not written by sluice or is damaged: delete it to start over`, { cause: err });
  }
  const ok =
    typeof state === 'object' &&
    state !== null &&
    state.version === CHECKPOINT_VERSION &&
    typeof state.pipeline === 'string' &&
    typeof state.output?.bytes === 'number' &&
    typeof state.counters?.records === 'number' &&
    Array.isArray(state.inputs);
  if (!ok) throw new SluiceError(ErrorCode.FATAL, `checkpoint ${path} is not a sluice checkpoint of version ${CHECKPOINT_VERSION}: delete it to start over`);
  return state;
}

/** A committed file must still hold what was committed; shorter means it was changed behind our back. */
function checkLength(file: { path: string; bytes: number }, what: string, checkpoint: string): void {
  let size: number;
  try {
    size = statSync(file.path).size;
  } catch {
    throw new SluiceError(ErrorCode.FATAL, `checkpoint ${checkpoint} says the ${what} ${file.path} holds ${file.bytes} committed bytes, but it is missing; delete the checkpoint to start over`);
  }
  if (size < file.bytes) {
    throw new SluiceError(
      ErrorCode.FATAL,
      `checkpoint ${checkpoint} says the ${what} ${file.path} holds ${file.bytes} committed bytes, but it has ${size}: it was truncated or replaced; delete the checkpoint to start over`,
    );
  }
}

function differingOption(was: Record<string, unknown>, now: Record<string, unknown>, operational: ReadonlySet<string>): { name: string; was: unknown; now: unknown } | undefined {
  for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (operational.has(key)) continue;
    if (JSON.stringify(was[key]) !== JSON.stringify(now[key])) return { name: key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), was: was[key], now: now[key] };
  }
  return undefined;
}

function show(v: unknown): string {
  return v === undefined ? 'unset' : JSON.stringify(v);
}

/** Temp file, fsync, rename over, fsync the directory: the checkpoint is the old or the new, whole. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(resolve(path)), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
