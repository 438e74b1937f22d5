/**
 * Connections to Redis for the coordinator and the workers. Commands never give up while Redis is
 * away (BullMQ needs `maxRetriesPerRequest: null`, and so does a run that must not lose work):
 * they queue and go out once Redis is back, and the outage is reported on stderr, once when it
 * starts and once when it ends, with the URL's password masked. That is for a Redis that was
 * reached: at start the first connection is waited for a bounded time (`waitForRedis`), since a
 * Redis never reached is more likely a wrong URL or one not started than an outage.
 */
import { Redis } from 'ioredis';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import { defineOptions } from '../runtime/options.js';

/** Delay between reconnection attempts: quick at first, then every few seconds, forever. */
const MAX_RECONNECT_MS = 5000;
/** How long the first connection is waited for when not told otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export const redisOptionSpecs = defineOptions([
  {
    name: 'redis',
    operational: true,
    type: 'string',
    description: 'Scale out: enqueue packs on this Redis (redis://[user:password@]host:port[/db], rediss:// for TLS) for `node pipelines/worker.js` processes to extract; see docs/scale-out.md',
  },
  {
    name: 'run-id',
    operational: true,
    type: 'string',
    defaultLabel: 'from the options and --output',
    description: "With --redis: names this run's queue and keys, so runs sharing a Redis stay apart; the same command derives the same id again",
  },
  {
    name: 'queue-high-water',
    operational: true,
    type: 'integer',
    default: 256,
    min: 1,
    description: "With --redis: most packs enqueued and not yet answered (bounds Redis memory: about the packs' text each)",
  },
  redisConnectTimeoutSpec(),
]);

/** The first connection's bound, for the pipelines (above) and the worker alike. */
export function redisConnectTimeoutSpec() {
  return {
    name: 'redis-connect-timeout-ms',
    operational: true,
    type: 'integer',
    default: DEFAULT_CONNECT_TIMEOUT_MS,
    min: 1,
    description: 'With --redis: how long to wait for Redis at start before giving up (exit 1); once reached, a later outage is waited out',
  } as const;
}

/** `redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`: safe to print. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparseable Redis URL)';
  }
}

export function checkRedisUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL such as redis://127.0.0.1:6379, got ${JSON.stringify(maskRedisUrl(url))}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis must start with redis:// or rediss://, got ${u.protocol}//`);
}

/** Options for BullMQ (`connection`) and for our own clients: retry forever, quietly but visibly. */
export interface RedisConnection {
  url: string;
  maxRetriesPerRequest: null;
  enableOfflineQueue: boolean;
  retryStrategy: (times: number) => number;
}

/**
 * URLs whose outage this process has reported and whose end it has not: a process holds several
 * connections to one Redis (ours, BullMQ's queue, events, worker), and one outage is said once.
 */
const reportedDown = new Set<string>();

/** `reached`: false while the first connection is waited for, when waitForRedis says what happens. */
export function redisConnection(url: string, log: (line: string) => void, reached: () => boolean = () => true): RedisConnection {
  return {
    url,
    maxRetriesPerRequest: null,
    // Let a reconnect pick up where it left off; the offline queue holds commands meanwhile.
    enableOfflineQueue: true,
    retryStrategy: (times: number) => {
      if (times === 1 && reached() && !reportedDown.has(url)) {
        reportedDown.add(url);
        log(`Redis at ${maskRedisUrl(url)} is unavailable; retrying every few seconds (no work is lost meanwhile)`);
      }
      return Math.min(times * 200, MAX_RECONNECT_MS);
    },
  };
}

/** A plain client for our own keys; its reconnection is what reports the outage's end. */
export function redisClient(url: string, log: (line: string) => void): Redis {
  let reached = false;
  const { url: _url, ...options } = redisConnection(url, log, () => reached);
  // disconnect() arms a timer of this length to destroy a socket that does not close; one refused
  // before it opened never does, and ioredis's 2 s default then kept a process that gave up alive.
  const client = new Redis(url, { ...options, disconnectTimeout: 200 });
  // ioredis reports each failed attempt; retryStrategy has said it once.
  client.on('error', () => undefined);
  client.on('ready', () => {
    reached = true;
    if (reportedDown.delete(url)) log(`Redis at ${maskRedisUrl(url)} is back`);
  });
  return client;
}

/**
 * Resolves once `client` is connected; rejects with a fatal error naming the URL (password masked)
 * and the last connection error after `timeoutMs`, or with E_ABORTED as soon as `signal` aborts
 * (a stop while connecting is honoured at once). On rejection the client is disconnected.
 */
export function waitForRedis(client: Redis, url: string, o: { timeoutMs: number; signal?: AbortSignal; log: (line: string) => void }): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let lastError: string | undefined;
    const onError = (err: unknown) => {
      // Said once, so a wait is never silent.
      if (lastError === undefined) o.log(`Redis at ${maskRedisUrl(url)} does not answer (${messageOf(err)}); waiting up to ${seconds} s for it`);
      lastError = messageOf(err);
    };
    const settle = (err?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
      if (!err) return resolve();
      client.disconnect();
      reject(err);
    };
    const onReady = () => settle();
    const onAbort = () => settle(new SluiceError(ErrorCode.ABORTED, `stopped while connecting to Redis at ${maskRedisUrl(url)}`));
    const seconds = Math.round(o.timeoutMs / 100) / 10;
    const timer = setTimeout(() => {
      settle(
        new SluiceError(
          ErrorCode.FATAL,
          `cannot reach Redis at ${maskRedisUrl(url)} within ${seconds} s${lastError ? ` (${lastError})` : ''}: is it running, and is --redis right? (--redis-connect-timeout-ms waits longer)`,
        ),
      );
    }, o.timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An AbortSignal aborted by the first SIGINT or SIGTERM while `wait` runs, for code that is not
 * handed its program's stop signal (a pipeline's build). Only when the program handles those
 * signals itself (the CLI's stopOnSignals): otherwise node's default already ends the process, and
 * a listener here would take that away.
 */
export async function stoppableBySignals<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const handled = (['SIGINT', 'SIGTERM'] as const).filter((sig) => process.listenerCount(sig) > 0);
  const onSignal = () => controller.abort();
  for (const sig of handled) process.on(sig, onSignal);
  try {
    return await wait(controller.signal);
  } finally {
    for (const sig of handled) process.off(sig, onSignal);
  }
}
