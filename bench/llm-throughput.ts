/**
 * The LLM path on the simulator with a latency model: packed (--max-docs 10) against one document
 * per request at the same concurrency, and pacing under a server tpm limit.
 *
 *   npm run build && node bench/llm-throughput.js [--docs 400] [--latency-ms 800] [--ms-per-token 3] [--tpm-seconds 60]
 *
 * Writes bench/results/llm-throughput.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { startSimulator, type SimulatorOptions } from './openai-sim.js';
import { generateDocs } from './generate-docs.js';
import { results } from '../lib/pipeline.js';
import { createRunContext } from '../lib/run-context.js';
import { kg } from '../pipelines/kg.js';

const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '400' },
    'latency-ms': { type: 'string', default: '800' },
    'ms-per-token': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    tpm: { type: 'string', default: '120000' },
    'tpm-seconds': { type: 'string', default: '60' },
    only: { type: 'string' },
  },
});
const docCount = Number(values.docs);
const MAX_OUTPUT_TOKENS = 4096;
const concurrency = Number(values.concurrency);
const latency: SimulatorOptions = { latencyMs: Number(values['latency-ms']), msPerToken: Number(values['ms-per-token']) };

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
  return { docs: out, deadLettered: ctx.stats.deadLettered, seconds, docsPerSecond: out / seconds, requests: ctx.stats.requests, promptTokens: ctx.stats.promptTokens, completionTokens: ctx.stats.completionTokens, promptTokensPerDoc: ctx.stats.promptTokens / Math.max(1, out), retries: ctx.stats.retries };
}

async function packing() {
  const rows: Record<string, unknown>[] = [];
  for (const maxDocs of [10, 1]) {
    const sim = await startSimulator(latency);
    const r = await drive({ maxDocs, concurrency }, sim, docCount, 21);
    await sim.close();
    rows.push({ maxDocs, ...r });
    console.log(`max-docs ${String(maxDocs).padStart(2)}: ${r.docsPerSecond.toFixed(1)} docs/s, ${r.requests} requests, ${r.promptTokensPerDoc.toFixed(0)} prompt tokens/doc, ${r.seconds.toFixed(1)} s`);
  }
  return rows;
}

async function pacing() {
  const tpm = Number(values.tpm);
  const seconds = Number(values['tpm-seconds']);
  // Enough documents to keep the limit busy for the whole window.
  const count = Math.ceil(((tpm / 60) * seconds) / 250);
  const sim = await startSimulator({ ...latency, tpm });
  const r = await drive({ maxDocs: 10, concurrency: 16, maxOutputTokens: MAX_OUTPUT_TOKENS }, sim, count, 33);
  const s = sim.stats();
  await sim.close();
  // The server counts prompt + max_tokens per admitted request (as OpenAI does), and its bucket
  // starts full (one minute of tokens): the sustained rate is what was admitted after that.
  const admitted = s.byStatus['200'] ?? 0;
  const tokens = s.promptTokens + admitted * MAX_OUTPUT_TOKENS;
  const limitShare = (tokens - tpm) / ((tpm / 60) * r.seconds);
  const share429 = s.rateLimited / s.requests;
  console.log(`tpm ${tpm}: ${tokens} tokens in ${r.seconds.toFixed(1)} s; sustained share of the limit ${(limitShare * 100).toFixed(1)}%; 429s ${s.rateLimited}/${s.requests} (${(share429 * 100).toFixed(2)}%)`);
  return { tpm, ...r, serverTokens: tokens, sustainedLimitShare: limitShare, requests429: s.rateLimited, requestsTotal: s.requests, share429 };
}

const packed = values.only === 'pacing' ? [] : await packing();
const speedup = packed.length ? (packed[0]!.docsPerSecond as number) / (packed[1]!.docsPerSecond as number) : null;
if (speedup !== null) console.log(`packing speed-up (max-docs 10 vs 1, concurrency ${concurrency}): ${speedup.toFixed(2)}x`);
const paced = values.only === 'packing' ? null : await pacing();
const result = {
  name: 'llm-throughput',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  latencyModel: latency,
  concurrency,
  packing: packed,
  packingSpeedup: speedup,
  pacing: paced,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/llm-throughput.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
