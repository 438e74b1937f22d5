#!/usr/bin/env node
/**
 * worker: extracts (kg) or embeds (embed) packs for coordinators that run with --redis (scale-out, docs/scale-out.md).
 *
 *   node pipelines/worker.js --redis redis://127.0.0.1:6379 --concurrency 16
 *
 * Start and stop any number of them, on any machine, at any time. Each needs only the Redis URL
 * and its own OPENAI_API_KEY or --base-url: the run's options come from Redis.
 */
import { WORKER_EXIT_CODES } from '../lib/cli/exit-codes.js';
import { helpText } from '../lib/cli/help.js';
import { parseSpecArgs } from '../lib/cli/parse-args.js';
import { cli, ioOf, runProgram, type CliIo } from '../lib/cli/program.js';
import { stopOnSignals } from '../lib/cli/signals.js';
import { ErrorCode, ExitCode, SluiceError, codeOf, messageOf, usageError } from '../lib/runtime/errors.js';
import { defineOptions, resolveOptions, type OptionsOf } from '../lib/runtime/options.js';
import { runKeys, checkRunId } from '../lib/scale/queue-names.js';
import { checkRedisUrl, redisConnectTimeoutSpec } from '../lib/scale/redis.js';
import type { RunSpec } from '../lib/scale/run-spec.js';
import { RedisBudget } from '../lib/scale/token-budget.js';
import { FleetWorker, type PackService } from '../lib/scale/worker.js';
import { withRetrySplit, type RetryOptions } from '../stages/retry-split.js';
import type { Extractor } from '../lib/runtime/extractor.js';
import { NO_SERVER_MESSAGE, embedExtractor, embedOptionSpecs, type EmbedOptions } from './embed.js';
import { kgExtractor, kgOptionSpecs, type KgOptions } from './kg.js';
import type { Redis } from 'ioredis';

export const workerOptionSpecs = defineOptions([
  { name: 'redis', type: 'string', description: 'The Redis the coordinators enqueue on (redis://[user:password@]host:port[/db], rediss:// for TLS); required' },
  { name: 'concurrency', type: 'integer', default: 8, min: 1, description: 'Packs in flight at once (per run served)' },
  {
    name: 'base-url',
    type: 'string',
    description: "This worker's OpenAI-compatible server (instead of the run's --base-url, which may be local to the coordinator); the API key comes from OPENAI_API_KEY",
  },
  { name: 'run-id', type: 'string', description: 'Serve only this run (default: every run published on the Redis)' },
  {
    name: 'lock-duration-ms',
    type: 'integer',
    default: 30_000,
    min: 1000,
    description: "How long a pack stays locked to this worker without renewal: a killed worker's packs go to another after about this (x2 at most)",
  },
  redisConnectTimeoutSpec(),
  { name: 'cache', type: 'string', description: "This worker's response cache directory (see --cache of the pipelines)" },
  { name: 'workers', type: 'integer', min: 0, max: 256, defaultLabel: 'CPU count', description: 'Worker threads for the offline extractor' },
  { name: 'quiet', short: 'q', type: 'boolean', default: false, description: 'Only errors on stderr' },
  { name: 'help', short: 'h', type: 'boolean', default: false, description: 'Show this help' },
]);

/** The parsed flags, as the specs declare them; --redis has no default but parseWorkerArgs requires it. */
export type WorkerCli = OptionsOf<typeof workerOptionSpecs> & { redis: string };

export function parseWorkerArgs(argv: readonly string[]): WorkerCli {
  const { given } = parseSpecArgs(workerOptionSpecs, argv, { positionals: false });
  const cli = resolveOptions<WorkerCli>(workerOptionSpecs, given);
  if (cli.help) return cli;
  if (cli.redis === undefined) throw usageError('--redis URL is required: the Redis the coordinator runs with');
  try {
    checkRedisUrl(cli.redis);
  } catch (err) {
    throw usageError(messageOf(err));
  }
  if (cli.runId !== undefined) checkRunId(cli.runId);
  return cli;
}

/** Builds what runs a published run's packs here: its extractor, as the coordinator's options say, inside retry/split. */
export function serviceFactory(cli: WorkerCli) {
  return async (spec: RunSpec, redis: Redis): Promise<PackService> => {
    const here = { ...spec.options, ...(cli.baseUrl ? { baseUrl: cli.baseUrl } : {}) };
    // The run's --rpm/--tpm are the fleet's, kept in Redis; this process does not hold a copy of
    // the whole budget for itself as well.
    const fleetBudget = (o: { rpm?: number; tpm?: number }) => new RedisBudget({ redis, key: runKeys(spec.runId).budget, rpm: o.rpm, tpm: o.tpm });
    let extractor: Extractor;
    let retry: RetryOptions;
    if (spec.pipeline === 'kg') {
      const o = resolveOptions<KgOptions>(kgOptionSpecs, { ...here, cache: cli.cache, workers: cli.workers });
      extractor = await kgExtractor({ ...o, rpm: undefined, tpm: undefined }, { shared: fleetBudget(o) });
      retry = o;
    } else if (spec.pipeline === 'embed') {
      const o = resolveOptions<EmbedOptions>(embedOptionSpecs, { ...here, cache: cli.cache });
      extractor = await embedExtractor({ ...o, rpm: undefined, tpm: undefined }, { shared: fleetBudget(o) }, () => new SluiceError(ErrorCode.FATAL, `run ${spec.runId}: ${NO_SERVER_MESSAGE}`));
      retry = o;
    } else {
      throw new SluiceError(ErrorCode.FATAL, `run ${spec.runId} is a ${spec.pipeline} run; this worker serves kg and embed runs`);
    }
    return {
      run: (pack, ctx) => withRetrySplit(extractor, retry, ctx)(pack),
      close: () => extractor.close(),
    };
  };
}

function workerHelp(): string {
  return helpText({
    usage: 'node pipelines/worker.js --redis URL [options]',
    about: ['Extracts (or embeds) packs for coordinators run with --redis (node pipelines/kg.js or embed.js --redis URL ...). See docs/scale-out.md.'],
    specs: workerOptionSpecs,
    exitCodes: WORKER_EXIT_CODES,
  });
}

/** Serves published runs until a signal (or a fatal error) stops it; resolves with the exit code. */
export async function runWorker(argv: readonly string[] = process.argv.slice(2), cliIo: CliIo = {}): Promise<number> {
  return runProgram('worker', ioOf(cliIo), async (io) => {
    const cli = parseWorkerArgs(argv);
    if (cli.help) {
      io.stdout.write(`${workerHelp()}\n`);
      return ExitCode.OK;
    }
    const log = (line: string) => {
      if (!cli.quiet || line.startsWith('error')) io.stderr.write(`worker: ${line}\n`);
    };
    const worker = new FleetWorker({
      redisUrl: cli.redis,
      concurrency: cli.concurrency,
      lockDurationMs: cli.lockDurationMs,
      ...(cli.runId ? { runId: cli.runId } : {}),
      build: serviceFactory(cli),
      log,
    });
    let connected = false;
    let signals: ReturnType<typeof stopOnSignals> | undefined;
    const stopped = new Promise<void>((resolve) => {
      signals = stopOnSignals((sig) => {
        // While connecting there is nothing in flight: the wait below ends at once (exit 130).
        if (connected) log(`${sig}: finishing the packs in flight (press Ctrl-C again to exit at once; its packs go to other workers)`);
        void worker.stop(false).then(resolve);
      });
      const check = setInterval(() => {
        if (worker.fatal) {
          clearInterval(check);
          void worker.stop(false).then(resolve);
        }
      }, 200);
      check.unref();
    });
    try {
      await worker.connect(cli.redisConnectTimeoutMs, signals?.signal);
    } catch (err) {
      await worker.stop(true);
      signals?.dispose();
      if (codeOf(err) === ErrorCode.ABORTED) {
        log(messageOf(err));
        return ExitCode.INTERRUPTED;
      }
      throw err;
    }
    connected = true;
    worker.start();
    await stopped;
    log(`stopped after ${worker.packs.toLocaleString('en-US')} pack(s)`);
    return worker.fatal ? ExitCode.FATAL : ExitCode.OK;
  });
}

await cli(import.meta.url, runWorker);
