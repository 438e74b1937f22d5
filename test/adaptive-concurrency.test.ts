/**
 * The adaptive concurrency limit wired into the live transport, end to end on the simulator: a
 * server without rate-limit headers and 2 slots gets about its slots in flight (not the ceiling of
 * 32), and the run's stats and summary say how the limit moved; a server that sends rate-limit
 * headers is paced by them and the window is exactly --concurrency, as before.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { acquireTokenTools, startSimulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { formatSummary, summarise } from '../lib/cli/summary.js';
import { kg } from '../pipelines/kg.js';

const held = acquireTokenTools(['o200k_base']);
t.teardown(() => held.release());

async function run(sim: SimulatorOptions, options: Record<string, unknown> = {}) {
  const s = await startSimulator(sim);
  t.teardown(() => s.close());
  const lines = [...generateDocs(40, 3, { medianWords: 40, maxWords: 120 })].map((d) => JSON.stringify(d)).join('\n');
  const ctx = createRunContext();
  let out = 0;
  for await (const _ of results(kg, [{ name: 'docs', stream: Readable.from([Buffer.from(lines)]) }], { baseUrl: s.url, maxDocs: 1, ...options }, { context: ctx })) out++;
  return { out, stats: ctx.stats, sim: s.stats() };
}

t.test("no rate-limit headers: requests in flight come down from 8 to about the server's slots", async (t) => {
  const { out, stats, sim } = await run({ latencyMs: 150, slots: 2 });
  t.equal(out, 40);
  const limit = stats.concurrencyLimit;
  t.ok(limit, 'the limit counted');
  t.equal(limit!.high, 8, 'it started at 8 (the default ceiling, 32, was never reached)');
  t.ok(limit!.current <= 4, `it ended near the 2 slots (${limit!.current})`);
  // Started at 8 against 2 slots, the queue held 6 at first; never the 30 the ceiling would allow.
  t.ok(sim.maxQueue <= 6, `the server's queue stayed short (${sim.maxQueue})`);
  const text = formatSummary(summarise('kg', stats));
  t.match(text, new RegExp(`in flight  adapted ${limit!.low}\\.\\.${limit!.high}, ended at ${limit!.current}`));
});

t.test('rate-limit headers: the limiter paces, the window is --concurrency, the adaptive limit stands aside', async (t) => {
  const { out, stats, sim } = await run({ latencyMs: 60, slots: 2, rpm: 1e6 }, { concurrency: 12 });
  t.equal(out, 40);
  t.equal(stats.concurrencyLimit, undefined, 'never counted');
  t.ok(sim.maxQueue >= 8, `12 in flight against 2 slots queue up to 10 (${sim.maxQueue})`);
  t.notMatch(formatSummary(summarise('kg', stats)), /in flight/);
});
