/**
 * Under a real account's limits: OpenAI's Tier-1 limits for gpt-4o-mini (500 RPM, 200,000 TPM) in
 * the simulator with a latency model, sluice kg with its default options against a hand-written
 * loop (bench/tier1-loop.ts: one document per request with the openai SDK and its own retries, the
 * same prompt and response_format), on the same corpus, side by side: both at once, each against a
 * simulator of its own, so they share the machine's load and neither the other's limits.
 *
 *   npm run build && node bench/tier1.js [--docs 600] [--loop-concurrency 16]
 *
 * Figures: documents/s of each over its whole run and their ratio (the stated goal is 3x the
 * loop), tokens admitted per token billed, documents lost. Writes bench/results/tier1.json (or --name).
 */
import { Readable } from 'node:stream';
import { benchArgs, latencySpecs } from './bench-cli.js';
import { generateDocs } from './generate-docs.js';
import { writeResults } from './results-file.js';
import { handLoop } from './tier1-loop.js';
import { startSimulator, type SimulatorStats } from '../simulator/openai-sim.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';

const values = benchArgs({
  script: 'bench/tier1.js',
  about: ["Tier-1 limits for gpt-4o-mini (500 RPM, 200K TPM) in the simulator: sluice kg's defaults against a one-document-per-request loop with the openai SDK, side by side."],
  specs: [
    { name: 'docs', type: 'integer', default: 600, min: 1, description: 'Documents of the corpus (each side gets all of them)' },
    { name: 'rpm', type: 'number', default: 500, min: 1, description: "The simulator's requests-per-minute limit (Tier 1, gpt-4o-mini)" },
    { name: 'tpm', type: 'number', default: 200000, min: 1, description: "The simulator's tokens-per-minute limit (Tier 1, gpt-4o-mini)" },
    ...latencySpecs(600, 5),
    { name: 'loop-concurrency', type: 'integer', default: 16, min: 1, description: "The loop's requests in flight" },
    { name: 'model', type: 'string', default: 'gpt-4o-mini', description: 'Model both sides ask for' },
    { name: 'name', type: 'string', default: 'tier1', description: 'Results file: bench/results/<name>.json' },
  ],
});
const GOAL = 3;
const simOptions = { rpm: values.rpm, tpm: values.tpm, latencyMs: values.latencyMs, msPerToken: values.msPerToken };
const docs = [...generateDocs(values.docs, 51)];

function tokenFigures(s: SimulatorStats, seconds: number) {
  const spent = s.promptTokens + s.completionTokens;
  return {
    // Against the limit over the whole run (the initial full bucket included).
    admittedPerMinute: (s.admittedTokens / seconds) * 60,
    spentPerMinute: (spent / seconds) * 60,
    requests: s.requests,
    requests429: s.rateLimited,
    admittedTokens: s.admittedTokens,
    spentTokens: spent,
    admittedPerSpent: s.admittedTokens / Math.max(1, spent),
    cutAnswers: s.cutAnswers,
    // The buckets start full: what share of the run's admitted tokens that first minute's worth was.
    initialBucketShare: Math.min(1, values.tpm / Math.max(1, s.admittedTokens)),
  };
}

async function sluice() {
  const sim = await startSimulator(simOptions);
  const ctx = createRunContext();
  const input = { name: 'tier1', stream: Readable.from([Buffer.from(docs.map((d) => JSON.stringify(d)).join('\n'))]) };
  const started = performance.now();
  let done = 0;
  for await (const _ of results(kg, [input], { baseUrl: sim.url, model: values.model }, { context: ctx })) done++;
  const seconds = (performance.now() - started) / 1000;
  const s = sim.stats();
  await sim.close();
  return {
    docs: done - ctx.stats.deadLettered,
    lost: ctx.stats.deadLettered,
    seconds,
    docsPerSecond: (done - ctx.stats.deadLettered) / seconds,
    splits: ctx.stats.splits,
    retries: ctx.stats.retries,
    ...tokenFigures(s, seconds),
  };
}

async function loop() {
  const sim = await startSimulator(simOptions);
  const started = performance.now();
  const r = await handLoop(docs, { baseURL: sim.url, model: values.model, concurrency: values.loopConcurrency });
  const seconds = (performance.now() - started) / 1000;
  const s = sim.stats();
  await sim.close();
  return { docs: r.done, lost: r.lost, lostBy: r.lostBy, seconds, docsPerSecond: r.done / seconds, concurrency: values.loopConcurrency, ...tokenFigures(s, seconds) };
}

const [k, l] = await Promise.all([sluice(), loop()]);
const ratio = k.docsPerSecond / l.docsPerSecond;
const line = (name: string, r: typeof k | typeof l) =>
  `${name}: ${r.docsPerSecond.toFixed(2)} docs/s (${r.docs} in ${r.seconds.toFixed(1)} s), ${r.lost} lost, ${r.requests} requests (${r.requests429} answered 429), ${r.admittedPerSpent.toFixed(2)} tokens admitted per token spent, ${Math.round(r.spentPerMinute)} spent/min (${Math.round(r.admittedPerMinute)} admitted) against ${values.tpm} TPM, initial buckets ${(r.initialBucketShare * 100).toFixed(0)}% of the tokens admitted`;
console.log(line('sluice kg (defaults)', k));
console.log(line(`hand loop (1 doc/request, concurrency ${values.loopConcurrency}, SDK retries)`, l));
console.log(`sluice / loop: ${ratio.toFixed(2)}x (goal ${GOAL}x, nothing lost)`);
const written = writeResults(values.name, { simulator: simOptions, model: values.model, corpus: { docs: values.docs, seed: 51 }, ratio, goal: GOAL, sluice: k, loop: l });
console.log(`wrote ${written.join(', ')}`);
