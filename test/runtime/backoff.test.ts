/** The one backoff (full jitter, capped, clamped hint) and the one sleep (abortable). */
import t from 'tap';
import { backoffMs, sleep } from '../../lib/runtime/backoff.js';

const policy = { retryBaseMs: 2000, maxRetryAfterMs: 60_000 };

t.test('exponential with full jitter, capped', async (t) => {
  t.equal(
    backoffMs(0, policy, undefined, () => 0),
    0,
    'full jitter: may be no wait at all',
  );
  t.equal(
    backoffMs(0, policy, undefined, () => 0.5),
    1000,
  );
  t.equal(
    backoffMs(3, policy, undefined, () => 0.5),
    8000,
    'base x 2^n',
  );
  t.equal(
    backoffMs(20, policy, undefined, () => 1),
    60_000,
    'never over the cap',
  );
  t.equal(
    backoffMs(3, { retryBaseMs: 2000, maxRetryAfterMs: Infinity }, undefined, () => 0.5),
    8000,
    'uncapped when told',
  );
});

t.test('a server hint is a floor, clamped to the cap', async (t) => {
  t.equal(
    backoffMs(0, policy, 30_000, () => 0.5),
    30_000,
  );
  t.equal(
    backoffMs(4, policy, 10, () => 0.5),
    16_000,
    'a short hint does not shorten the backoff',
  );
  t.equal(
    backoffMs(0, policy, 3_600_000, () => 0.5),
    60_000,
    'a huge Retry-After is clamped, not slept',
  );
});

t.test("sleep waits, and an abort ends it at once with the signal's reason", async (t) => {
  const started = Date.now();
  await sleep(30);
  t.ok(Date.now() - started >= 25);
  const stop = new AbortController();
  const waiting = sleep(60_000, stop.signal);
  setTimeout(() => stop.abort(new Error('stopped')), 10);
  await t.rejects(waiting, { message: 'stopped' });
  await t.rejects(sleep(10, stop.signal), { message: 'stopped' }, 'already aborted: at once');
});
