/**
 * The coordinator's side of scale-out: in place of running retry/split and the extractor itself,
 * each pack becomes a BullMQ job (job id = pack id, in a queue named by the run id) and its
 * outcome comes back as the job's return value. Ordering, merging, the sink and the checkpoint
 * stay the local run's, which is why the output equals a local run's.
 *
 * Exactly once in the output over at-least-once jobs: a pack id names one job, so enqueueing it
 * again (a restarted coordinator) is a no-op that finds the job in whatever state it is, answered
 * ones included; a pack answered twice (a stalled job redelivered) completes its job once; and a
 * pack's outcome is taken once, by the single waiter for that id. Answered jobs stay in Redis until
 * the checkpoint has committed their documents, so a restarted coordinator never asks again.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import type { Pack, PackOutcome } from '../runtime/records.js';
import type { RunContext } from '../runtime/run-context.js';
import { addCounters, packToJob, wireToOutcome, type OutcomeCounters } from './pack-wire.js';
import { KEY_PREFIX, runKeys } from './queue-names.js';
import { redisClient, redisConnection, waitForRedis } from './redis.js';
import { publishRun, unpublishRun, type RunSpec } from './run-spec.js';

export interface RemoteRunnerOptions {
  redisUrl: string;
  spec: RunSpec;
  /** Reports Redis outages and oddities (stderr in the CLI). */
  log: (line: string) => void;
  /** How long the first connection is waited for before the run stops (exit 1). */
  connectTimeoutMs: number;
  /** A stop (SIGINT/SIGTERM) while connecting: open rejects at once with E_ABORTED. */
  signal?: AbortSignal;
}

/** Tries a job gets on the workers (a worker's fatal error, a crash in its code) before the run stops. */
export const JOB_ATTEMPTS = 5;
/** How often outstanding jobs are checked directly, in case their completion event was missed. */
const RECONCILE_MS = 5000;

interface Waiter {
  pack: Pack;
  since: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class RemoteRunner {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly waiters = new Map<string, Waiter>();
  /** Answered packs whose documents are not committed yet, oldest first: their jobs stay for a resume. */
  private readonly uncommitted: { last: number; id: string; counters: OutcomeCounters }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly runId: string;
  private readonly log: (line: string) => void;
  private closing = false;

  private constructor(o: RemoteRunnerOptions, redis: Redis) {
    this.runId = o.spec.runId;
    this.log = o.log;
    this.redis = redis;
    const name = runKeys(o.spec.runId).queue;
    this.queue = new Queue(name, { connection: redisConnection(o.redisUrl, o.log), prefix: KEY_PREFIX });
    this.events = new QueueEvents(name, { connection: redisConnection(o.redisUrl, o.log), prefix: KEY_PREFIX });
    // BullMQ re-emits connection errors; the connection's retryStrategy has already reported the outage.
    this.queue.on('error', () => undefined);
    this.events.on('error', () => undefined);
    this.events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, returnvalue));
    this.events.on('failed', ({ jobId }) => void this.check(jobId));
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.timer.unref();
  }

  static async open(o: RemoteRunnerOptions): Promise<RemoteRunner> {
    const redis = redisClient(o.redisUrl, o.log);
    // Bounded only here: a Redis never reached stops the run; one reached and lost is waited out.
    await waitForRedis(redis, o.redisUrl, { timeoutMs: o.connectTimeoutMs, log: o.log, ...(o.signal ? { signal: o.signal } : {}) });
    await publishRun(redis, o.spec);
    const runner = new RemoteRunner(o, redis);
    // After an outage the run is published again: a Redis that restarted without its data has
    // lost the spec, and workers would not know the run (publishing is idempotent otherwise).
    redis.on('ready', () => {
      if (!runner.closing) publishRun(redis, o.spec).catch((err: unknown) => o.log(`could not publish run ${o.spec.runId} again: ${messageOf(err)}`));
    });
    await runner.events.waitUntilReady();
    return runner;
  }

  /** A PackRunner for the extract stage: enqueue, wait for the answer, join it to the pack. */
  runner(ctx: RunContext): (pack: Pack) => Promise<PackOutcome> {
    const onAbort = () => {
      for (const [id, w] of this.waiters) {
        this.waiters.delete(id);
        w.reject(new SluiceError(ErrorCode.ABORTED, 'not waited for: the run is stopping (the pack stays queued for the next run)'));
      }
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    return async (pack) => {
      const halt = ctx.beforeRequest?.();
      if (halt) ctx.stop(halt);
      if (ctx.signal.aborted) throw new SluiceError(ErrorCode.ABORTED, 'not sent: the run is stopping');
      const answered = new Promise<unknown>((resolve, reject) => this.waiters.set(pack.id, { pack, since: Date.now(), resolve, reject }));
      await this.enqueue(pack);
      await this.check(pack.id);
      const value = await answered;
      const { outcome, counters } = wireToOutcome(pack, value);
      addCounters(ctx.stats, counters);
      const last = pack.chunks.reduce((m, c) => Math.max(m, c.doc.seq), -1);
      // Without a checkpoint nothing can resume, so the answer has done its job once taken.
      if (ctx.input) this.uncommitted.push({ last, id: pack.id, counters });
      else this.remove([pack.id]);
      return outcome;
    };
  }

  /** The checkpoint committed every document up to `seq`: their packs' jobs can go. */
  committed(seq: number): void {
    let n = 0;
    while (n < this.uncommitted.length && this.uncommitted[n]!.last <= seq) n++;
    if (n > 0) this.remove(this.uncommitted.splice(0, n).map((u) => u.id));
  }

  /**
   * The counters of answers taken for documents after `seq`: their jobs stay in Redis, so a
   * session resuming from a commit at `seq` takes them again and counts them then.
   */
  takenAfter(seq: number): Partial<OutcomeCounters> {
    const sum: Partial<OutcomeCounters> = {};
    for (const u of this.uncommitted) {
      if (u.last <= seq) continue;
      for (const [k, v] of Object.entries(u.counters) as [keyof OutcomeCounters, number][]) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  /** `finished`: the run is complete, so its queue, spec and budgets are deleted; otherwise they stay for the rerun. */
  async close(finished: boolean): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    try {
      if (finished) {
        await unpublishRun(this.redis, this.runId);
        await this.queue.obliterate({ force: true });
      }
    } finally {
      await this.events.close();
      await this.queue.close();
      this.redis.disconnect();
    }
  }

  private settle(jobId: string, value: unknown): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    this.waiters.delete(jobId);
    w.resolve(value);
  }

  /** A pack already queued by an earlier session (answered or not) is not added again: the job id is the pack id. */
  private async enqueue(pack: Pack): Promise<void> {
    await this.queue.add('pack', packToJob(pack), { jobId: pack.id, attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
  }

  /**
   * Looks at the job itself: answered (maybe in an earlier session) or failed for good. `requeue`:
   * a job that is gone while its answer is awaited (Redis restarted without its data) is added again.
   */
  private async check(jobId: string, requeue = false): Promise<void> {
    if (!this.waiters.has(jobId)) return;
    const job = await this.queue.getJob(jobId);
    if (!job) {
      const w = this.waiters.get(jobId);
      if (!requeue || !w) return;
      this.logVanished(jobId);
      await this.enqueue(w.pack);
      return;
    }
    const state = await job.getState();
    if (state === 'completed') this.settle(jobId, job.returnvalue);
    else if (state === 'failed') {
      const w = this.waiters.get(jobId);
      if (!w) return;
      this.waiters.delete(jobId);
      w.reject(new SluiceError(ErrorCode.FATAL, `pack ${jobId} failed on the workers ${job.attemptsMade} times: ${job.failedReason}`));
    }
  }

  private async reconcile(): Promise<void> {
    const old = Date.now() - RECONCILE_MS;
    for (const [id, w] of this.waiters) {
      if (w.since > old) continue;
      await this.check(id, true).catch(() => undefined);
    }
  }

  private remove(ids: string[]): void {
    for (const id of ids) this.queue.remove(id).catch((err: unknown) => this.logOnce(`could not delete the answered job ${id} from Redis: ${messageOf(err)}`));
  }

  private vanished = false;
  /** Said once per session: Redis lost queued jobs, and they are being enqueued again. */
  private logVanished(jobId: string): void {
    if (this.vanished) return;
    this.vanished = true;
    this.log(`pack ${jobId} is no longer in Redis (restarted without its data?): enqueueing the packs still awaited again`);
  }

  private logged = false;
  /** Said once: a job left behind costs Redis memory until the run completes, not correctness. */
  private logOnce(line: string): void {
    if (this.logged) return;
    this.logged = true;
    this.log(line);
  }
}
