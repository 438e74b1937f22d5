/**
 * What a pipeline's build does with --redis: name the run, publish its options, and hand the
 * extract stage a runner that sends packs to the workers instead of running them here.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { outputShapingOptions, type OptionSpec } from '../runtime/options.js';
import type { RunContext } from '../runtime/run-context.js';
import { checkRunId, deriveRunId } from './queue-names.js';
import { checkRedisUrl, stoppableBySignals } from './redis.js';
import { RemoteRunner } from './remote-runner.js';
import { runSpec } from './run-spec.js';
import { usageError, messageOf } from '../runtime/errors.js';

export interface CoordinatorSetup {
  pipeline: string;
  specs: readonly OptionSpec[];
  /** The resolved options; `redis`, `runId`, `queueHighWater` and `redisConnectTimeoutMs` among them. */
  options: { redis: string; runId?: string; queueHighWater: number; redisConnectTimeoutMs: number };
  /** What the checkpoint pins beyond the options (e.g. the extractor "auto" chose). */
  identity: Record<string, unknown>;
  /** The output file (absolute), when there is one. */
  output?: string;
  log: (line: string) => void;
}

export interface Coordinator {
  runId: string;
  highWater: number;
  runner: RemoteRunner['runner'];
  close(finished: boolean): Promise<void>;
}

export async function openCoordinator(s: CoordinatorSetup): Promise<Coordinator> {
  try {
    checkRedisUrl(s.options.redis);
  } catch (err) {
    throw usageError(messageOf(err));
  }
  const all = s.options as unknown as Record<string, unknown>;
  const pinned = { ...outputShapingOptions(s.specs, all), ...s.identity };
  // Written to a file, the run is named by what it writes and where (so a rerun finds its state);
  // to stdout it cannot be resumed, and two such runs must not meet: a random name.
  const runId =
    s.options.runId !== undefined ? checkRunId(s.options.runId) : s.output ? deriveRunId(s.pipeline, { ...pinned, host: hostname() }, s.output) : `${s.pipeline}-${randomBytes(8).toString('hex')}`;
  // The build is not handed the run's stop signal: a SIGINT/SIGTERM while connecting is caught here.
  const remote = await stoppableBySignals((signal) =>
    RemoteRunner.open({ redisUrl: s.options.redis, spec: runSpec(runId, s.pipeline, { ...all, ...s.identity }), log: s.log, connectTimeoutMs: s.options.redisConnectTimeoutMs, signal }),
  );
  return {
    runId,
    highWater: s.options.queueHighWater,
    runner: (ctx: RunContext) => {
      ctx.onCommit = (seq) => remote.committed(seq);
      ctx.reusableWork = (seq) => remote.takenAfter(seq);
      return remote.runner(ctx);
    },
    close: (finished) => remote.close(finished),
  };
}
