/**
 * The fleet's rate budget, kept in Redis so every worker draws from the same one: a request bucket
 * (--rpm) and a token bucket (--tpm, prompt + max output tokens, as the API counts), refilled
 * continuously over a minute like the local RateLimiter's. The request bucket starts with a
 * second's worth, not a minute's: BullMQ's limiter smooths the packs' starts to windows of a second
 * (lib/scale/worker.ts), and the requests a pack makes beyond its first (a cut answer's rest, a
 * retry, a split half, a hedge) must not burst past that. One Lua script checks and takes both at
 * once on Redis's clock, so workers on machines with skewed clocks, joining or leaving, share one
 * budget; every request counts, retries and split halves included.
 */
import type { Redis } from 'ioredis';
import type { SharedBudget } from '../llm/rate-limiter.js';
import { sleep } from '../runtime/backoff.js';

/**
 * Share of each request charged beyond our count of it: over many requests from many workers a drift
 * between our count and the server's that is only checked, not charged, adds up to a deficit the
 * server answers with 429s. The prompt is counted as the API frames it (lib/llm/kg-prompt.ts), so
 * the drift is small; 5% held the fleet to 91% of the limit admitted (bench/tpm-share.ts), and
 * each worker's own limiter still follows the server's headers.
 */
const TOKEN_MARGIN = 0.01;
/** Longest single sleep before asking again (others may have handed tokens back). */
const MAX_POLL_MS = 1000;
/** A budget untouched this long belongs to a run nobody works on: Redis forgets it. */
const IDLE_EXPIRY_MS = 10 * 60_000;

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, tpm, need, margin = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function level(field, cap, initial)
  local v = redis.call('HMGET', KEYS[1], field, field .. '_at')
  local lv, at = tonumber(v[1]), tonumber(v[2])
  if lv == nil then return initial end
  return math.min(cap, lv + (now - at) * cap / 60000)
end
local wait, r, k = 0, 0, 0
local paused = tonumber(redis.call('HGET', KEYS[1], 'pause_until'))
if paused ~= nil and paused > now then wait = paused - now end
if rpm > 0 then
  r = level('r', rpm, math.max(1, rpm / 60))
  if r < 1 then wait = math.max(wait, math.ceil((1 - r) * 60000 / rpm)) end
end
if tpm > 0 then
  k = level('t', tpm, tpm)
  need = math.min(need * (1 + margin), tpm)
  if k < need then wait = math.max(wait, math.ceil((need - k) * 60000 / tpm)) end
end
if wait > 0 then return wait end
if rpm > 0 then redis.call('HSET', KEYS[1], 'r', tostring(r - 1), 'r_at', tostring(now)) end
if tpm > 0 then redis.call('HSET', KEYS[1], 't', tostring(k - need), 't_at', tostring(now)) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0
`;

const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local was = tonumber(redis.call('HGET', KEYS[1], 'pause_until'))
if was == nil or was < until_ then redis.call('HSET', KEYS[1], 'pause_until', tostring(until_)) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`;

const GIVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tpm, amount = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 't', 't_at')
local lv, at = tonumber(v[1]), tonumber(v[2])
if lv == nil then return 0 end
lv = math.min(tpm, lv + (now - at) * tpm / 60000 + amount)
redis.call('HSET', KEYS[1], 't', tostring(lv), 't_at', tostring(now))
return 0
`;

export interface RedisBudgetOptions {
  redis: Redis;
  /** The run's budget key (queue-names.ts). */
  key: string;
  rpm?: number;
  tpm?: number;
}

export class RedisBudget implements SharedBudget {
  constructor(private readonly o: RedisBudgetOptions) {}

  async take(tokens: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const wait = Number(await this.o.redis.eval(TAKE, 1, this.o.key, this.o.rpm ?? 0, this.o.tpm ?? 0, tokens, TOKEN_MARGIN, IDLE_EXPIRY_MS));
      if (wait <= 0) return;
      // Jitter: workers that were told the same wait should not all ask again at the same instant.
      await sleep(Math.min(wait, MAX_POLL_MS) + Math.random() * 50, signal);
    }
  }

  /** A 429's retry-after: the whole fleet waits, not only the worker that was told. */
  pause(ms: number): void {
    this.o.redis.eval(PAUSE, 1, this.o.key, Math.ceil(ms), IDLE_EXPIRY_MS).catch(() => undefined);
  }

  give(tokens: number): void {
    if (!this.o.tpm || tokens <= 0) return;
    tokens *= 1 + TOKEN_MARGIN; // what take() charged
    // Best effort: a refund lost to an outage only makes the fleet a little more careful.
    this.o.redis.eval(GIVE, 1, this.o.key, this.o.tpm, tokens).catch(() => undefined);
  }
}
