/**
 * Connections to Redis for the coordinator and the workers. Commands never give up while Redis is
 * away (BullMQ needs `maxRetriesPerRequest: null`, and so does a run that must not lose work):
 * they queue and go out once Redis is back, and the outage is reported on stderr, once when it
 * starts and once when it ends, with the URL's password masked.
 */
import { Redis } from 'ioredis';
import { defineOptions } from '../runtime/options.js';

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
]);

/** Delay between reconnection attempts: quick at first, then every few seconds, forever. */
const MAX_RECONNECT_MS = 5000;

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

export function redisConnection(url: string, log: (line: string) => void): RedisConnection {
  return {
    url,
    maxRetriesPerRequest: null,
    // Let a reconnect pick up where it left off; the offline queue holds commands meanwhile.
    enableOfflineQueue: true,
    retryStrategy: (times: number) => {
      if (times === 1 && !reportedDown.has(url)) {
        reportedDown.add(url);
        log(`Redis at ${maskRedisUrl(url)} is unavailable; retrying every few seconds (no work is lost meanwhile)`);
      }
      return Math.min(times * 200, MAX_RECONNECT_MS);
    },
  };
}

/** A plain client for our own keys; its reconnection is what reports the outage's end. */
export function redisClient(url: string, log: (line: string) => void): Redis {
  const { url: _url, ...options } = redisConnection(url, log);
  const client = new Redis(url, options);
  // ioredis reports each failed attempt; retryStrategy has said it once.
  client.on('error', () => undefined);
  client.on('ready', () => {
    if (reportedDown.delete(url)) log(`Redis at ${maskRedisUrl(url)} is back`);
  });
  return client;
}
