/**
 * The run's options travel with the run: the coordinator publishes them under the run id, and a
 * worker builds its extractor from them, so a worker needs only the Redis URL and its own API key
 * or server. The API key is never in the options (it comes from each process's environment), and
 * paths local to the coordinator (its --cache directory) are left out.
 */
import type { Redis } from 'ioredis';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { RUNS_KEY, runKeys } from './queue-names.js';

export const RUN_SPEC_VERSION = 1;

export interface RunSpec {
  version: number;
  runId: string;
  /** Which pipeline's extractor the workers build (`kg`, `embed`). */
  pipeline: string;
  /** The pipeline's resolved options (camelCase), as the coordinator runs them. */
  options: Record<string, unknown>;
}

/** Coordinator-local options a worker must not take from the run (a path on another machine). */
const LOCAL_ONLY = ['cache', 'redis', 'runId', 'queueHighWater'];

export function runSpec(runId: string, pipeline: string, options: Record<string, unknown>): RunSpec {
  const travelling: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (!LOCAL_ONLY.includes(k) && v !== undefined) travelling[k] = v;
  return { version: RUN_SPEC_VERSION, runId, pipeline, options: travelling };
}

export async function publishRun(redis: Redis, spec: RunSpec): Promise<void> {
  await redis.multi().set(runKeys(spec.runId).spec, JSON.stringify(spec)).sadd(RUNS_KEY, spec.runId).exec();
}

export async function unpublishRun(redis: Redis, runId: string): Promise<void> {
  const keys = runKeys(runId);
  await redis.multi().srem(RUNS_KEY, runId).del(keys.spec, keys.budget).exec();
}

export async function activeRuns(redis: Redis): Promise<string[]> {
  return redis.smembers(RUNS_KEY);
}

/** The spec of a published run, or undefined when it has finished meanwhile. */
export async function loadRun(redis: Redis, runId: string): Promise<RunSpec | undefined> {
  const text = await redis.get(runKeys(runId).spec);
  if (text === null) return undefined;
  const spec = JSON.parse(text) as RunSpec;
  if (spec.version !== RUN_SPEC_VERSION || typeof spec.pipeline !== 'string' || typeof spec.options !== 'object') {
    throw new SluiceError(ErrorCode.FATAL, `run ${runId} was published by another version of sluice (spec version ${String(spec.version)}, this worker reads ${RUN_SPEC_VERSION})`);
  }
  return spec;
}
