/**
 * The simulator's slots model: at most N requests served at once, the rest queued in FIFO order
 * with the wait in their latency, a client that hangs up leaving the queue, and unset = unlimited.
 * Times are checked as lower bounds (a request cannot finish before its slot and its latency).
 */
import t from 'tap';
import OpenAI from 'openai';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { documentBlock, systemPrompt } from '../lib/llm/kg-prompt.js';
import { parseSimulatorArgs } from '../simulator/main.js';

const LATENCY = 300;

async function sim(t: { teardown(fn: () => unknown): void }, o: SimulatorOptions): Promise<Simulator> {
  const s = await startSimulator(o);
  t.teardown(() => s.close());
  return s;
}

const client = (s: Simulator, timeout = 10_000) => new OpenAI({ apiKey: 'sk-test', baseURL: s.url, maxRetries: 0, timeout });
const embed = (c: OpenAI, i: number) => c.embeddings.create({ model: 'text-embedding-3-small', input: `request ${i}` });

/** Sends `count` requests a few ms apart (so they arrive in order); resolves with each one's end, ms after the first was sent. */
async function staggered(count: number, send: (i: number) => Promise<unknown>): Promise<{ order: number[]; endedAt: number[] }> {
  const start = performance.now();
  const order: number[] = [];
  const endedAt: number[] = [];
  const all: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    all.push(
      send(i).then(() => {
        order.push(i);
        endedAt[i] = performance.now() - start;
      }),
    );
    await new Promise((r) => setTimeout(r, 15));
  }
  await Promise.all(all);
  return { order, endedAt };
}

t.test('N+k concurrent requests: at most N are served at once, the rest wait their turn in FIFO order', async (t) => {
  const s = await sim(t, { latencyMs: LATENCY, slots: 2 });
  const c = client(s);
  const { order, endedAt } = await staggered(5, (i) => embed(c, i));
  t.same(order, [0, 1, 2, 3, 4], 'answers come back in arrival order');
  // Request i is served in wave floor(i / 2): it cannot end before that many latencies have passed.
  for (let i = 0; i < 5; i++) t.ok(endedAt[i]! >= (Math.floor(i / 2) + 1) * LATENCY - 5, `request ${i} ended at ${endedAt[i]!.toFixed(0)} ms, after wave ${Math.floor(i / 2) + 1}`);
  t.ok(endedAt[4]! >= 3 * LATENCY - 5, 'the last waits for two waves before its own');
  t.match(s.stats(), { requests: 5, byStatus: { '200': 5 }, queued: 3, maxQueue: 3 });
});

t.test('chat requests queue for the same slots as embeddings', async (t) => {
  const s = await sim(t, { latencyMs: LATENCY, slots: 1 });
  const c = client(s);
  const chat = (i: number) =>
    c.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system', content: systemPrompt() },
        { role: 'user', content: documentBlock(`d${i}`, 'Alice Smith met Bob Jones in Paris.') },
      ],
    });
  const { order, endedAt } = await staggered(3, (i) => (i === 1 ? embed(c, i) : chat(i)));
  t.same(order, [0, 1, 2]);
  for (let i = 0; i < 3; i++) t.ok(endedAt[i]! >= (i + 1) * LATENCY - 5, `request ${i} served after ${i} others`);
  t.match(s.stats(), { queued: 2, maxQueue: 2 });
});

t.test('a client that hangs up while queued leaves the queue: the next one takes its turn', async (t) => {
  const latency = 400;
  const s = await sim(t, { latencyMs: latency, slots: 1 });
  const first = embed(client(s), 0);
  await new Promise((r) => setTimeout(r, 20));
  const gaveUp = embed(client(s, 100), 1);
  await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  const third = embed(client(s), 2);
  await t.rejects(gaveUp, /timed out/);
  await first;
  await third;
  const took = performance.now() - started;
  // Served after the first (which had ~360 ms to go), not after the one that left as well.
  t.ok(took < 2 * latency + 200, `the third took ${took.toFixed(0)} ms: the request that left did not hold a slot`);
  t.ok(took >= latency, 'it still waited for the first');
});

t.test('without slots every request is served at once, and nothing is queued', async (t) => {
  const s = await sim(t, { latencyMs: LATENCY });
  const c = client(s);
  const { endedAt } = await staggered(6, (i) => embed(c, i));
  t.ok(Math.max(...endedAt) < 2 * LATENCY + 200, `six requests overlapped (the last ended at ${Math.max(...endedAt).toFixed(0)} ms)`);
  t.match(s.stats(), { queued: 0, maxQueue: 0 });
});

t.test('slots must be a positive integer, in code and on the command line', async (t) => {
  await t.rejects(startSimulator({ slots: 0 }), /simulator option slots must be a positive integer/);
  await t.rejects(startSimulator({ slots: 1.5 }), RangeError);
  t.match(parseSimulatorArgs(['--slots', '4']), { slots: 4 });
  t.throws(() => parseSimulatorArgs(['--slots', 'x']));
});
