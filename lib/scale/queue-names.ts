/**
 * Names in Redis for one run: the BullMQ queue and the keys beside it all carry the run id, so
 * several runs share one Redis without touching each other's state. One place defines them, so
 * the coordinator, the workers and the docs agree.
 */
import { createHash } from 'node:crypto';
import { usageError } from '../runtime/errors.js';

/** Prefix of every key sluice writes (BullMQ's own `bull` prefix is replaced by it). */
export const KEY_PREFIX = 'sluice';

/** The set of runs a coordinator has published and not finished: workers serve these. */
export const RUNS_KEY = `${KEY_PREFIX}:runs`;

/** Run ids: short, safe in key and queue names (BullMQ refuses ':' in queue names). */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw usageError(`--run-id must be 1-64 letters, digits, '-' or '_', got ${JSON.stringify(id)}`);
  return id;
}

/**
 * A run id a rerun of the same command derives again (so a restarted coordinator finds its run's
 * state): the pipeline, the options that shape the output and where the output goes. Two
 * coordinators writing the same file with the same options are the same run; anything else is not.
 */
export function deriveRunId(pipeline: string, pinned: Record<string, unknown>, output: string | undefined): string {
  const h = createHash('sha256')
    .update(JSON.stringify({ pipeline, pinned, output: output ?? null }))
    .digest('hex');
  return `${pipeline}-${h.slice(0, 16)}`;
}

export interface RunKeys {
  /** BullMQ queue name (under KEY_PREFIX): one job per pack, job id = pack id. */
  queue: string;
  /** JSON: the pipeline name and its resolved options, which workers build their extractor from. */
  spec: string;
  /** The fleet's shared request and token budgets (lib/scale/token-budget.ts). */
  budget: string;
}

export function runKeys(runId: string): RunKeys {
  return { queue: `run-${runId}`, spec: `${KEY_PREFIX}:run:${runId}:spec`, budget: `${KEY_PREFIX}:run:${runId}:budget` };
}
