/** tailRequest: the learned deadline reaches the SDK, hedges win, lose, are capped and paced, warm-up hangs are cut. */
import t from 'tap';
import OpenAI from 'openai';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiter } from '../../lib/llm/rate-limiter.js';
import { TailPolicy, tailRequest, type TailJob } from '../../lib/llm/tail.js';
import type { RequestStatus } from '../../lib/runtime/run-context.js';

type Data = { n: number; tokens: number };
const ok = (n: number, tokens = 100) => ({ data: { n, tokens }, response: new Response(null, { status: 200 }) });

/** A policy warmed with answers of 50 ms + 0.1 ms per token (p99 at 100 tokens ~60 ms). */
function warmed(o: { hedgeShare: number; minTimeoutMs?: number; timeoutMs?: number }) {
  const tail = new TailPolicy({ minTimeoutMs: o.minTimeoutMs ?? 1000, timeoutMs: o.timeoutMs ?? 60_000, hedgeShare: o.hedgeShare });
  for (let i = 0; i < 40; i++) tail.model.observe(100 + i, 50 + 0.1 * (100 + i));
  return tail;
}

function counters() {
  const c = { timeouts: 0, hedges: 0 };
  const job: TailJob<Data> = { expectedTokens: 100, answerTokens: (d) => d.tokens, onTimeout: () => c.timeouts++, onHedge: () => c.hedges++ };
  return { c, job };
}

const statuses: RequestStatus[] = [];
// A budget far from binding: the limiter then sends no probe first (as it does with no budget at all).
const open = () => new RateLimiter({ rpm: 1_000_000 });
const paced = (limiter = open(), signal = new AbortController().signal) => ({
  limiter,
  reserve: 10,
  signal,
  maxRetryAfterMs: 1000,
  observer: { requestEnded: (s: RequestStatus) => void statuses.push(s) },
});

/** A send that never answers until aborted, as a hung request. */
const hang = (signal: AbortSignal) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(new OpenAI.APIUserAbortError()), { once: true }));

t.test('the learned deadline is the timeout given to the SDK; the answer teaches the model', async (t) => {
  const tail = warmed({ hedgeShare: 0 });
  const { job } = counters();
  const seen: number[] = [];
  const before = tail.model.samples;
  const data = await tailRequest(
    paced(),
    tail,
    job,
    async (_s, timeoutMs) => (seen.push(timeoutMs), ok(1)),
    () => undefined,
  );
  t.same(data, { n: 1, tokens: 100 });
  t.same(seen, [1000], 'the floor: 3 x ~60 ms is under it');
  t.equal(tail.model.samples, before + 1);
});

t.test('a timeout is counted and stays a timeout (status "timeout", a transient error)', async (t) => {
  const tail = warmed({ hedgeShare: 0 });
  const { c, job } = counters();
  statuses.length = 0;
  await t.rejects(
    tailRequest(
      paced(),
      tail,
      job,
      async () => {
        throw new OpenAI.APIConnectionTimeoutError();
      },
      () => undefined,
    ),
    { code: 'E_TRANSIENT', message: /timed out/ },
  );
  t.equal(c.timeouts, 1);
  t.same(statuses, ['timeout']);
});

t.test('a hang: the hedge is sent past the predicted quantile, wins, and the hung copy is aborted', async (t) => {
  const tail = warmed({ hedgeShare: 1 });
  const { c, job } = counters();
  statuses.length = 0;
  let calls = 0;
  const started = Date.now();
  const data = await tailRequest(
    paced(),
    tail,
    job,
    async (signal) => {
      calls++;
      if (calls === 1) return hang(signal);
      return ok(2);
    },
    () => undefined,
  );
  t.same(data, { n: 2, tokens: 100 }, 'the hedge answered');
  t.equal(c.hedges, 1);
  t.equal(calls, 2);
  t.ok(Date.now() - started < 900, 'long before the deadline (1000 ms)');
  t.same(statuses.sort(), ['200', 'aborted'], 'the loser ended as aborted');
});

t.test('the first copy answering first wins; the hedge is aborted', async (t) => {
  const tail = warmed({ hedgeShare: 1 });
  const { c, job } = counters();
  let calls = 0;
  const data = await tailRequest(
    paced(),
    tail,
    job,
    async (signal) => {
      calls++;
      if (calls === 1) {
        await sleep(150);
        return ok(1);
      }
      return hang(signal);
    },
    () => undefined,
  );
  t.same(data, { n: 1, tokens: 100 });
  t.equal(c.hedges, 1);
});

t.test('a quick answer is not hedged; hedges are capped at their share of requests', async (t) => {
  const tail = warmed({ hedgeShare: 0.25 });
  const { c, job } = counters();
  await tailRequest(
    paced(),
    tail,
    job,
    async () => ok(1),
    () => undefined,
  );
  t.equal(c.hedges, 0, 'answered before the quantile');
  // The cap: a hedge may be taken while hedges stay within the share of the requests sent.
  const policy = new TailPolicy({ minTimeoutMs: 1000, timeoutMs: 2000, hedgeShare: 0.25 });
  const taken: boolean[] = [];
  for (let i = 0; i < 8; i++) {
    policy.noteSent();
    taken.push(policy.takeHedge());
  }
  t.same(taken, [false, false, false, true, false, false, false, true], '25%: the 4th and the 8th request may be hedged');
  t.equal(policy.hedged, 2);
});

t.test('a hedge waits for the rate limiter like any request', async (t) => {
  const tail = warmed({ hedgeShare: 1 });
  const { c, job } = counters();
  // One request a minute: the first copy takes the budget, the hedge cannot be admitted.
  const limiter = new RateLimiter({ rpm: 1 });
  let calls = 0;
  const data = await tailRequest(
    paced(limiter),
    tail,
    job,
    async () => {
      calls++;
      await sleep(300);
      return ok(1);
    },
    () => undefined,
  );
  t.same(data, { n: 1, tokens: 100 });
  t.equal(c.hedges, 1, 'the hedge was due');
  t.equal(calls, 1, 'but never sent: no budget');
});

t.test('a stop aborts both copies', async (t) => {
  const tail = warmed({ hedgeShare: 1 });
  const { job } = counters();
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 200);
  await t.rejects(
    tailRequest(paced(open(), stop.signal), tail, job, hang, () => undefined),
    { code: 'E_ABORTED' },
  );
});

t.test('warm-up: a request sent before the model knew anything is cut at the deadline learned since', async (t) => {
  const tail = new TailPolicy({ minTimeoutMs: 300, timeoutMs: 60_000, hedgeShare: 0 });
  const { c, job } = counters();
  statuses.length = 0;
  const seen: number[] = [];
  const started = Date.now();
  const hung = tailRequest(
    paced(),
    tail,
    job,
    (signal, timeoutMs) => (seen.push(timeoutMs), hang(signal)),
    () => undefined,
  );
  // Then, once it has left, answers come in and the model warms up.
  await sleep(50);
  for (let i = 0; i < 25; i++) tail.model.observe(100, 20);
  await t.rejects(hung, { code: 'E_TRANSIENT', message: /timed out/ });
  const took = Date.now() - started;
  t.same(seen, [60_000], 'sent with the ceiling');
  t.ok(took >= 290 && took < 5000, `abandoned after ${took} ms, at the learned deadline (300 ms), not the ceiling`);
  t.equal(c.timeouts, 1);
  t.same(statuses, ['timeout']);
});

t.test('a hedge share out of range is refused', async (t) => {
  t.throws(() => new TailPolicy({ minTimeoutMs: 1000, timeoutMs: 2000, hedgeShare: 2 }), /hedge share must be between 0 and 1/);
});
