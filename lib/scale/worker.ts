/**
 * A scale-out worker: it serves every run published on its Redis (or the one --run-id names),
 * one BullMQ Worker per run, building that run's extractor from the run's options. A job is one
 * pack; its outcome (and the counters it moved) is the job's return value.
 *
 * Crash tolerance is BullMQ's: a job is locked while processed and the lock renewed; a worker killed
 * mid-pack stops renewing, another worker's stalled check finds the lock expired and puts the job
 * back, and it runs again (the coordinator takes whichever answer completes the job, once).
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ErrorCode, codeOf, messageOf } from '../runtime/errors.js';
import type { Pack, PackOutcome } from '../runtime/records.js';
import { createRunContext, type RunContext } from '../runtime/run-context.js';
import { jobToPack, outcomeToWire, type OutcomeWire } from './pack-wire.js';
import { KEY_PREFIX, runKeys } from './queue-names.js';
import { redisClient, redisConnection, waitForRedis } from './redis.js';
import { activeRuns, loadRun, type RunSpec } from './run-spec.js';

/** What a worker runs one run's packs with: retry/split around the run's extractor. */
export interface PackService {
  run(pack: Pack, ctx: RunContext): Promise<PackOutcome>;
  close(): Promise<void>;
}

export type ServiceFactory = (spec: RunSpec, redis: Redis) => Promise<PackService>;

export interface FleetWorkerOptions {
  redisUrl: string;
  /** Packs in flight at once, per run. */
  concurrency: number;
  /** How long a job's lock lasts without renewal: a killed worker's pack is redelivered after about this. */
  lockDurationMs: number;
  /** Serve only this run. */
  runId?: string;
  /** How often the list of runs is read. @default 1000 */
  pollMs?: number;
  build: ServiceFactory;
  log: (line: string) => void;
}

/**
 * Times a job may be found stalled (its worker gone) and put back before it fails: a pack that
 * kills every worker it lands on must not take the fleet down forever, but a few crashes are normal.
 */
export const MAX_STALLED = 3;

interface Served {
  worker: Worker;
  service: PackService;
}

export class FleetWorker {
  private readonly redis: Redis;
  private readonly served = new Map<string, Served>();
  private readonly starting = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Set when this worker cannot go on (its API key refused): it stops and says why. */
  fatal: Error | undefined;
  packs = 0;

  constructor(private readonly o: FleetWorkerOptions) {
    this.redis = redisClient(o.redisUrl, o.log);
  }

  start(): void {
    const poll = async () => {
      try {
        await this.refresh();
      } catch (err) {
        if (codeOf(err) === ErrorCode.FATAL) return void this.fail(err as Error);
        this.o.log(`could not read the runs on Redis: ${messageOf(err)}`);
      }
      if (!this.stopping) this.timer = setTimeout(poll, this.o.pollMs ?? 1000);
    };
    void poll();
  }

  /**
   * Waits for the first connection to Redis, at most `timeoutMs` (then a fatal error naming the
   * URL), or until `signal` aborts (E_ABORTED). Call before start(); a later outage is waited out.
   */
  connect(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return waitForRedis(this.redis, this.o.redisUrl, { timeoutMs, log: this.o.log, ...(signal ? { signal } : {}) });
  }

  /** Stops taking packs; those in flight finish (their answers are kept) unless `force`. */
  stop(force = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.stopping ??= (async () => {
      await Promise.all([...this.served.keys()].map((id) => this.leave(id, force)));
      this.redis.disconnect();
    })();
    return this.stopping;
  }

  private async refresh(): Promise<void> {
    const runs = this.o.runId !== undefined ? ((await this.redis.sismember(`${KEY_PREFIX}:runs`, this.o.runId)) ? [this.o.runId] : []) : await activeRuns(this.redis);
    const live = new Set(runs);
    for (const id of this.served.keys()) if (!live.has(id)) await this.leave(id, false);
    for (const id of runs) if (!this.served.has(id) && !this.starting.has(id)) await this.join(id);
  }

  private async join(runId: string): Promise<void> {
    this.starting.add(runId);
    try {
      const spec = await loadRun(this.redis, runId);
      if (!spec || this.stopping) return;
      const service = await this.o.build(spec, this.redis);
      const rpm = typeof spec.options.rpm === 'number' ? spec.options.rpm : undefined;
      const worker = new Worker(runKeys(runId).queue, (job: Job) => this.process(service, job), {
        connection: redisConnection(this.o.redisUrl, this.o.log),
        prefix: KEY_PREFIX,
        concurrency: this.o.concurrency,
        lockDuration: this.o.lockDurationMs,
        // Checked as often as a lock can expire, so a dead worker's pack waits at most ~2 lock durations.
        stalledInterval: this.o.lockDurationMs,
        maxStalledCount: MAX_STALLED,
        ...(rpm ? { limiter: limiterFor(rpm) } : {}),
      });
      worker.on('error', () => undefined); // connection trouble: reported once by the connection itself
      this.served.set(runId, { worker, service });
      this.o.log(`serving run ${runId} (${spec.pipeline}, ${this.o.concurrency} packs at a time)`);
    } finally {
      this.starting.delete(runId);
    }
  }

  private async leave(runId: string, force: boolean): Promise<void> {
    const s = this.served.get(runId);
    if (!s) return;
    this.served.delete(runId);
    await s.worker.close(force);
    await s.service.close();
    this.o.log(`left run ${runId}`);
  }

  private async process(service: PackService, job: Job): Promise<OutcomeWire> {
    const pack = jobToPack(job.data);
    const ctx = createRunContext();
    try {
      const outcome = await service.run(pack, ctx);
      this.packs++;
      return outcomeToWire(outcome, ctx.stats);
    } catch (err) {
      // The job fails this attempt and goes to another worker; a fatal error here (this worker's
      // key refused) stops this worker, not the run.
      if (codeOf(err) === ErrorCode.FATAL) this.fail(err as Error);
      throw new Error(messageOf(err), { cause: err });
    }
  }

  private fail(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.o.log(`error: ${messageOf(err)}; this worker stops (its packs go to the others)`);
    void this.stop(false);
  }
}

/**
 * BullMQ's limiter counts job starts per fixed window, fleet-wide. One minute's window would let a
 * whole minute's packs start in a burst; windows of about a second keep the starts as smooth as the
 * provider's own bucket refills.
 */
export function limiterFor(rpm: number): { max: number; duration: number } {
  const max = Math.max(1, Math.floor(rpm / 60));
  return { max, duration: Math.ceil((max * 60_000) / rpm) };
}
