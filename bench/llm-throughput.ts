/**
 * The LLM path on the simulator with a latency model: packed (--max-docs 10) against one document
 * per request at the same concurrency, and pacing under a server tpm limit.
 *
 *   npm run build && node bench/llm-throughput.js [--docs 300] [--latency-ms 800] [--ms-per-token 0,1,3]
 *     [--max-output-tokens 4096] [--tpm 120000] [--tpm-seconds 150] [--client-tpm] [--only packing|pacing]
 *
 * Writes bench/results/llm-throughput.json; the runs reported in the closing note of the LLM issue are
 * kept as bench/results/llm-packing-*.json and llm-pacing-*.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { benchArgs } from './bench-cli.js';
import { startSimulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { generateDocs } from './generate-docs.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';

const values = benchArgs({
  script: 'bench/llm-throughput.js',
  about: ['The LLM path on the simulator: packed (--max-docs 10) against one document per request, and pacing under a server tpm limit.'],
  specs: [
    { name: 'docs', type: 'integer', default: 400, min: 1, description: 'Documents of the packing comparison' },
    { name: 'latency-ms', type: 'number', default: 800, min: 0, description: "The simulator's fixed latency per request, ms" },
    // A list sweeps the packing comparison over output speeds (the pacing run takes the first).
    { name: 'ms-per-token', type: 'string', default: '0,1,3', description: "The simulator's latency per completion token, ms: a comma-separated list sweeps the packing comparison" },
    { name: 'concurrency', type: 'integer', default: 8, min: 1, description: 'Requests in flight in the packing comparison' },
    { name: 'tpm', type: 'number', default: 120000, min: 1, description: "The server's tokens-per-minute limit in the pacing run" },
    { name: 'tpm-seconds', type: 'number', default: 150, min: 1, description: 'How long the pacing run lasts, s' },
    { name: 'only', type: 'string', choices: ['packing', 'pacing'], description: 'Run only one of the two' },
    { name: 'client-tpm', type: 'boolean', default: false, description: 'Pacing: set the client --tpm to the limit too (default: the headers only)' },
    { name: 'max-output-tokens', type: 'integer', default: 4096, min: 1, description: 'kg --max-output-tokens' },
  ],
});
const docCount = values.docs;
const MAX_OUTPUT_TOKENS = values.maxOutputTokens;
const concurrency = values.concurrency;
const msPerTokenList = values.msPerToken.split(',').map(Number);
if (msPerTokenList.some((x) => !Number.isFinite(x) || x < 0)) throw new RangeError(`--ms-per-token: numbers >= 0, comma-separated (got ${values.msPerToken})`);
const latency: SimulatorOptions = { latencyMs: values.latencyMs, msPerToken: msPerTokenList[0]! };

function corpus(count: number, seed: number) {
  const lines = [...generateDocs(count, seed, { medianWords: 100, maxWords: 600 })].map((d) => JSON.stringify(d)).join('\n');
  return { name: 'bench', stream: Readable.from([Buffer.from(lines)]) };
}

async function drive(options: Record<string, unknown>, sim: { url: string }, count: number, seed: number) {
  const ctx = createRunContext();
  let out = 0;
  const started = Date.now();
  for await (const _ of results(kg, [corpus(count, seed)], { baseUrl: sim.url, retryBaseMs: 200, ...options }, { context: ctx })) out++;
  const seconds = (Date.now() - started) / 1000;
  return {
    docs: out,
    deadLettered: ctx.stats.deadLettered,
    seconds,
    docsPerSecond: out / seconds,
    requests: ctx.stats.requests,
    promptTokens: ctx.stats.promptTokens,
    completionTokens: ctx.stats.completionTokens,
    promptTokensPerDoc: ctx.stats.promptTokens / Math.max(1, out),
    retries: ctx.stats.retries,
  };
}

/** Packed against one document per request, side by side, for each output speed. */
async function packing() {
  const sweep: { latencyMs: number; msPerToken: number; speedup: number; runs: Record<string, unknown>[] }[] = [];
  for (const msPerToken of msPerTokenList) {
    const model = { latencyMs: latency.latencyMs!, msPerToken };
    const runs: { maxDocs: number; docsPerSecond: number }[] = [];
    for (const maxDocs of [10, 1]) {
      const sim = await startSimulator(model);
      const r = await drive({ maxDocs, concurrency, maxOutputTokens: MAX_OUTPUT_TOKENS }, sim, docCount, 21);
      await sim.close();
      runs.push({ maxDocs, ...r });
      console.log(
        `${model.latencyMs} ms + ${msPerToken} ms/token, max-docs ${String(maxDocs).padStart(2)}: ${r.docsPerSecond.toFixed(1)} docs/s, ${r.requests} requests, ${r.promptTokensPerDoc.toFixed(0)} prompt tokens/doc, ${(r.completionTokens / Math.max(1, r.docs)).toFixed(0)} completion tokens/doc, ${r.seconds.toFixed(1)} s`,
      );
    }
    const speedup = runs[0]!.docsPerSecond / runs[1]!.docsPerSecond;
    console.log(`packing speed-up at ${model.latencyMs} ms + ${msPerToken} ms/token (max-docs 10 vs 1, concurrency ${concurrency}): ${speedup.toFixed(2)}x`);
    sweep.push({ ...model, speedup, runs });
  }
  return sweep;
}

/**
 * Pacing under a server tpm limit with no client-side budget: the client follows the headers only.
 * The run is stopped after `tpm-seconds`; the share is what the server admitted in that window
 * beyond its initial full bucket, against the limit's rate.
 */
async function pacing() {
  const tpm = values.tpm;
  const seconds = values.tpmSeconds;
  const sim = await startSimulator({ ...latency, tpm });
  // More documents than the window can take (each costs well over 200 tokens of the limit), built
  // before the clock starts.
  const input = corpus(Math.ceil(((tpm / 60) * seconds) / 200), 33);
  const controller = new AbortController();
  const ctx = createRunContext(controller.signal);
  const started = Date.now();
  const timer = setTimeout(() => controller.abort(), seconds * 1000);

  let out = 0;
  try {
    for await (const _ of results(
      kg,
      [input],
      { baseUrl: sim.url, retryBaseMs: 200, maxDocs: 10, concurrency: 16, maxOutputTokens: MAX_OUTPUT_TOKENS, ...(values.clientTpm ? { tpm } : {}) },
      { context: ctx },
    ))
      out++;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  const window = (Date.now() - started) / 1000;
  const s = sim.stats();
  await sim.close();
  // The server's bucket starts full (a minute's worth): the share is what was admitted beyond it,
  // against the limit's rate over the run.
  const share = (s.admittedTokens - tpm) / ((tpm / 60) * window);
  const share429 = s.rateLimited / Math.max(1, s.requests);
  const mode = values.clientTpm ? 'client --tpm set to the limit' : 'headers only (no client budget)';
  console.log(
    `tpm ${tpm}, ${mode}: ${s.admittedTokens} tokens admitted in ${window.toFixed(1)} s; share of the limit ${(share * 100).toFixed(1)}%; 429s ${s.rateLimited}/${s.requests} (${(share429 * 100).toFixed(2)}%); ${out} documents done`,
  );
  return { tpm, mode, windowSeconds: window, docsDone: out, admittedTokens: s.admittedTokens, limitShare: share, requests429: s.rateLimited, requestsTotal: s.requests, share429 };
}

const packed = values.only === 'pacing' ? [] : await packing();
const paced = values.only === 'packing' ? null : await pacing();
const result = {
  name: 'llm-throughput',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  latencyModel: latency,
  concurrency,
  packing: packed,
  maxOutputTokens: MAX_OUTPUT_TOKENS,
  pacing: paced,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/llm-throughput.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
