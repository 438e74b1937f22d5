import t from 'tap';
import { RateLimiter, parseDuration } from '../lib/llm/rate-limiter.js';

function headers(h: Record<string, string>) {
  return { get: (name: string) => h[name] ?? null };
}

t.test('parses OpenAI reset durations', async (t) => {
  t.equal(parseDuration('1s'), 1000);
  t.equal(parseDuration('20ms'), 20);
  t.equal(parseDuration('6m0s'), 360_000);
  t.equal(parseDuration('1m30.5s'), 90_500);
  t.equal(parseDuration('2h3m'), 7_380_000);
  t.equal(parseDuration('2'), 2000, 'bare seconds');
  t.equal(parseDuration(null), undefined);
  t.equal(parseDuration('soon'), undefined);
});

t.test('the request budget allows rpm per minute, then spaces requests out', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ rpm: 60, now: () => now });
  for (let i = 0; i < 60; i++) await limiter.acquire(0);
  const waited = (limiter as unknown as { waitMs(n: number): number }).waitMs(0);
  t.equal(waited, 1000, 'the 61st request waits one second');
  now += 1000;
  t.equal((limiter as unknown as { waitMs(n: number): number }).waitMs(0), 0);
});

t.test('the token budget waits for enough tokens, and unused reservations come back', async (t) => {
  const now = 0;
  const limiter = new RateLimiter({ tpm: 6000, now: () => now });
  const wait = (n: number) => (limiter as unknown as { waitMs(n: number): number }).waitMs(n);
  await limiter.acquire(6000);
  t.equal(wait(1000), 10_500, '1000 tokens (+5% kept in hand) refill in 10.5 s at 6000/min');
  limiter.settle(6000, 4000);
  t.equal(wait(1000), 0, 'the 2000 not used are available again');
});

t.test('the server headers slow us down before a 429', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ now: () => now });
  const wait = (n: number) => (limiter as unknown as { waitMs(n: number): number }).waitMs(n);
  limiter.observe(headers({ 'x-ratelimit-limit-tokens': '10000', 'x-ratelimit-remaining-tokens': '500', 'x-ratelimit-reset-tokens': '57s' }));
  t.equal(wait(400), 0, 'enough remains');
  const w = wait(2000);
  t.ok(w > 0 && w <= 57_000, `waits for the refill (${w} ms)`);
  await limiter.acquire(400);
  t.ok(wait(200) > 0, 'what we started since the reading counts');
  now += 57_000;
  t.equal(wait(2000), 0, 'after the reset everything is back');
});

t.test('a reading that arrives late counts the requests started after its own', async (t) => {
  let now = 0;
  // A client budget far above the server's: only the server's reading limits here (and no probe).
  const limiter = new RateLimiter({ tpm: 1e9, now: () => now });
  const wait = (n: number) => (limiter as unknown as { waitMs(n: number): number }).waitMs(n);
  const first = await limiter.acquire(1000);
  now = 10;
  await limiter.acquire(1000); // started while the first was answered
  now = 5000; // the first answer arrives, carrying the server's count as of its admission
  limiter.observe(headers({ 'x-ratelimit-limit-tokens': '10000', 'x-ratelimit-remaining-tokens': '1500', 'x-ratelimit-reset-tokens': '60s' }), first);
  // 1500 left when the first was admitted, the second took 1000 of it, ~708 refilled since.
  t.ok(wait(1300) > 0, 'the second request is not forgotten');
  t.equal(wait(1100), 0);
  const stale = { id: 0, at: 0, tokens: 0 };
  limiter.observe(headers({ 'x-ratelimit-limit-tokens': '10000', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '60s' }), stale);
  t.equal(wait(1100), 0, 'an older reading does not replace a newer one');
});

t.test('without a client budget, one request probes the server before the rest go', async (t) => {
  const limiter = new RateLimiter();
  await limiter.acquire(10);
  let second = false;
  const p = limiter.acquire(10).then(() => (second = true));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(second, false, 'the second waits for the first answer');
  limiter.settle(10, 10);
  await p;
  t.equal(second, true);
  await limiter.acquire(10);
  t.pass('after the probe, requests go without waiting');
});

t.test('a probe that never answers holds the others only for the patience, then they all go', async (t) => {
  const limiter = new RateLimiter({ probePatienceMs: 100 });
  await limiter.acquire(10); // the probe: never settled (it hung)
  const started = Date.now();
  let gone = 0;
  const waiting = [limiter.acquire(10), limiter.acquire(10), limiter.acquire(10)].map((p) => p.then(() => gone++));
  await new Promise((r) => setTimeout(r, 40));
  t.equal(gone, 0, 'they wait for the probe at first');
  await Promise.all(waiting);
  const waited = Date.now() - started;
  t.equal(gone, 3);
  t.ok(waited >= 90 && waited < 2000, `released after ${waited} ms`);
  await limiter.acquire(10);
  t.pass('and later requests do not wait for it either');
});

t.test('a pause (retry-after) holds every request', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ now: () => now });
  limiter.pause(1500);
  t.equal((limiter as unknown as { waitMs(n: number): number }).waitMs(1), 1500);
  now = 1500;
  t.equal((limiter as unknown as { waitMs(n: number): number }).waitMs(1), 0);
});

t.test('acquire gives up when the run is aborted', async (t) => {
  const limiter = new RateLimiter({ rpm: 1 });
  await limiter.acquire(0);
  const controller = new AbortController();
  const p = limiter.acquire(0, controller.signal);
  setTimeout(() => controller.abort(new Error('stop')), 10);
  await t.rejects(p, /stop/);
});

t.test('sawRateLimitHeaders: false until an answer carries x-ratelimit-remaining-*, then true for good', async (t) => {
  const limiter = new RateLimiter();
  t.equal(limiter.sawRateLimitHeaders, false);
  limiter.observe(headers({ 'content-type': 'application/json' }));
  t.equal(limiter.sawRateLimitHeaders, false, 'a llama.cpp-like answer has none');
  limiter.observe(headers({ 'x-ratelimit-remaining-tokens': '1000', 'x-ratelimit-limit-tokens': '2000', 'x-ratelimit-reset-tokens': '1s' }));
  t.equal(limiter.sawRateLimitHeaders, true);
  limiter.observe(headers({}));
  t.equal(limiter.sawRateLimitHeaders, true, 'an answer without them later does not turn it back');
});
