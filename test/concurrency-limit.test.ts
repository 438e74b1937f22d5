/**
 * The adaptive concurrency limit (lib/llm/concurrency-limit.ts) against a modelled slots server on
 * a fake clock: N requests served at once, the rest queued FIFO, service time 300 ms + 2 ms per
 * completion token. It grows to the server's capacity, shrinks when latency rises, keeps to the
 * ceiling and a floor of 1, and long answers do not look like queueing. Also the gate's FIFO wait.
 */
import t from 'tap';
import { ConcurrencyLimit, envelopeAt, lowerEnvelope } from '../lib/llm/concurrency-limit.js';
import { ConcurrencyGate, limitOutcome } from '../lib/llm/concurrency-gate.js';

/** A slots server and a client that keeps `limit.limit` requests in flight, on one fake clock. */
class Bench {
  now = 0;
  served = 0;
  maxInFlight = 0;
  readonly limits: number[] = [];
  private freeAt: number[];
  private pending: { end: number; start: number; size: number; token: NonNullable<ReturnType<ConcurrencyLimit['tryAcquire']>> }[] = [];
  readonly limit: ConcurrencyLimit;
  private n = 0;

  constructor(
    public slots: number,
    ceiling: number,
    private readonly size: (i: number) => number = (i) => 100 + ((i * 37) % 200),
  ) {
    this.freeAt = new Array<number>(slots).fill(0);
    this.limit = new ConcurrencyLimit({ ceiling, now: () => this.now });
  }

  setSlots(n: number): void {
    this.slots = n;
    const busyUntil = Math.max(this.now, ...this.freeAt);
    this.freeAt = new Array<number>(n).fill(busyUntil);
  }

  /** Runs `count` requests to completion; returns the docs/s-like rate (requests per second). */
  run(count: number): number {
    const from = this.now;
    const target = this.served + count;
    while (this.served < target) {
      for (let tok = this.limit.tryAcquire(); tok; tok = this.limit.tryAcquire()) {
        const size = this.size(this.n++);
        // FIFO over N slots: the earliest free slot, once free.
        let k = 0;
        for (let i = 1; i < this.freeAt.length; i++) if (this.freeAt[i]! < this.freeAt[k]!) k = i;
        const begin = Math.max(this.now, this.freeAt[k]!);
        const end = begin + 300 + 2 * size;
        this.freeAt[k] = end;
        this.pending.push({ end, start: this.now, size, token: tok });
      }
      this.maxInFlight = Math.max(this.maxInFlight, this.limit.inFlight);
      this.pending.sort((a, b) => a.end - b.end);
      const r = this.pending.shift()!;
      this.now = r.end;
      this.limit.release(r.token, { kind: 'answered', latencyMs: r.end - r.start, size: r.size });
      this.served++;
      this.limits.push(this.limit.limit);
    }
    return (count * 1000) / (this.now - from);
  }
}

t.test("grows to a server's capacity and holds there (about one request queued)", async (t) => {
  for (const slots of [4, 16]) {
    const b = new Bench(slots, 64);
    b.run(100);
    const settled = b.limits.slice(-1);
    b.run(400);
    const tail = b.limits.slice(-200);
    t.ok(Math.min(...tail) >= slots, `${slots} slots: the limit stays at or above them (${Math.min(...tail)}..${Math.max(...tail)}; after 100 requests ${settled[0]})`);
    t.ok(Math.max(...tail) <= slots + Math.max(2, Math.ceil(slots * 0.25)), `${slots} slots: and not far above (${Math.max(...tail)})`);
  }
});

t.test("the rate it reaches is the server's: close to N requests per service time", async (t) => {
  const b = new Bench(8, 64);
  b.run(100);
  const rate = b.run(400);
  const full = (8 * 1000) / (300 + 2 * 200); // mean size 200
  t.ok(rate >= 0.95 * full, `${rate.toFixed(2)} req/s of ${full.toFixed(2)}`);
});

t.test('shrinks when latency rises (the server now serves fewer at once)', async (t) => {
  const b = new Bench(16, 64);
  b.run(400);
  t.ok(b.limit.limit >= 16, `at 16 slots: ${b.limit.limit}`);
  b.setSlots(4);
  b.run(300);
  const tail = b.limits.slice(-100);
  t.ok(Math.max(...tail) <= 7, `at 4 slots it came down (${Math.min(...tail)}..${Math.max(...tail)})`);
  t.ok(Math.min(...tail) >= 4, 'and not below the slots');
});

t.test('respects the ceiling: never more in flight than --concurrency', async (t) => {
  const b = new Bench(100, 10);
  b.run(300);
  t.equal(b.limit.limit, 10);
  t.equal(b.limit.high, 10);
  t.ok(b.maxInFlight <= 10);
  t.throws(() => new ConcurrencyLimit({ ceiling: 0 }), /ceiling must be a positive integer/);
});

t.test('long answers do not look like queueing: an unlimited server with sizes 10..3000 tokens', async (t) => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const b = new Bench(1000, 32, () => Math.floor(10 + rand() * 2990));
  b.run(600);
  t.equal(b.limit.limit, 32, `the limit went to the ceiling (lowest ${b.limit.low})`);
});

t.test('timeouts and 503s shrink it, once per window, down to a floor of 1', async (t) => {
  let now = 0;
  const l = new ConcurrencyLimit({ ceiling: 16, initial: 16, now: () => now });
  const tokens = Array.from({ length: 16 }, () => l.tryAcquire()!);
  t.equal(l.tryAcquire(), undefined, 'the 17th waits');
  for (const tok of tokens) l.release(tok, { kind: 'overload' });
  t.equal(l.limit, 12, 'sixteen timeouts of one window: one decrease (x0.75)');
  for (let i = 0; i < 20; i++) {
    now += 1000;
    const tok = l.tryAcquire()!;
    l.release(tok, { kind: 'overload' });
  }
  t.equal(l.limit, 1, 'floor of 1');
  t.equal(l.low, 1);
  t.ok(l.tryAcquire(), 'one request may still go');
  l.release({ epoch: -1, inFlight: 1, limit: 1 }, { kind: 'ignored' });
});

t.test('the unloaded-latency envelope: the lower hull, non-decreasing in size', async (t) => {
  const env = lowerEnvelope([
    [100, 500],
    [200, 700],
    [150, 900], // queued: above
    [50, 800], // a small answer that queued: left of the lowest, cut off
    [400, 1200],
  ]);
  t.same(env, [
    [100, 500],
    [200, 700],
    [400, 1200],
  ]);
  t.equal(envelopeAt(env, 150), 600);
  t.equal(envelopeAt(env, 20), 500, 'flat to the left');
  t.equal(envelopeAt(env, 500), 1450, 'the last slope to the right');
  t.equal(envelopeAt([[100, 400]], 200), 800, 'one point: proportional');
  t.equal(envelopeAt([], 200), 0);
});

t.test('the gate: FIFO waiters let in as requests end; bypassed once rate-limit headers are seen', async (t) => {
  let headers = false;
  const gate = new ConcurrencyGate(new ConcurrencyLimit({ ceiling: 2, initial: 2 }), () => headers);
  const signal = new AbortController().signal;
  const a = await gate.acquire(signal);
  const b = await gate.acquire(signal);
  const order: string[] = [];
  const c = gate.acquire(signal).then((p) => (order.push('c'), p));
  const d = gate.acquire(signal).then((p) => (order.push('d'), p));
  const stop = new AbortController();
  const e = gate.acquire(stop.signal);
  await new Promise((r) => setImmediate(r));
  t.same(order, [], 'two in flight: the rest wait');
  stop.abort();
  await t.rejects(e, /abandoned/);
  a.end({ kind: 'ignored' });
  await c;
  t.same(order, ['c'], 'the first waiter goes first');
  headers = true;
  b.end({ kind: 'ignored' });
  await d;
  t.same(order, ['c', 'd']);
  t.equal(gate.active, false);
  await gate.acquire(signal);
  await gate.acquire(signal);
  t.pass('bypassed: no wait at all');
});

t.test('limitOutcome: answers by size, overload statuses, the rest ignored', async (t) => {
  t.same(limitOutcome({ status: '200', seconds: 1.5 }, { usage: { completion_tokens: 120, prompt_tokens: 900 } }), { kind: 'answered', latencyMs: 1500, size: 120 });
  t.same(limitOutcome({ status: '200', seconds: 0.2 }, { usage: { prompt_tokens: 900 } }), { kind: 'answered', latencyMs: 200, size: 900 }, 'embeddings: the input size');
  for (const status of ['timeout', 'connection', '503', '429'] as const) t.same(limitOutcome({ status, seconds: 1 }), { kind: 'overload' }, status);
  t.same(limitOutcome({ status: '400', seconds: 1 }), { kind: 'ignored' });
  t.same(limitOutcome({ status: 'aborted', seconds: 1 }), { kind: 'ignored' });
  t.same(limitOutcome(undefined), { kind: 'ignored' });
});
