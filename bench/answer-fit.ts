/**
 * Do answers fit their requests? kg with its default options on the generated corpus (its default
 * lengths, and longer documents: median 400 words) against the simulator without limits or latency:
 * the share of packs cut off at --max-output-tokens (the run's cutOffsAtCap per pack; check: at most
 * 2%), the share of requests cut at a max_tokens sized below the cap (their whole documents kept, the rest asked again), the answers the
 * simulator cut (finish_reason "length") and the tokens billed in them, requests per pack, and a
 * --cache rerun against the same server that must send no request at all.
 *
 *   npm run build && node bench/answer-fit.js [--docs 5000] [--long-docs 2000]
 *
 * Exit 1 when a check fails. Writes bench/results/answer-fit.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { benchArgs } from './bench-cli.js';
import { generateDocs, type GenerateOptions } from './generate-docs.js';
import { writeResults } from './results-file.js';
import { startSimulator, type Simulator } from '../simulator/openai-sim.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext, type RunStats } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';

const values = benchArgs({
  script: 'bench/answer-fit.js',
  about: [
    'Whether answers fit their requests: packs cut off at --max-output-tokens, requests cut at their max_tokens (whole documents kept, the rest asked again), requests per pack, and a --cache rerun sending no request.',
  ],
  specs: [
    { name: 'docs', type: 'integer', default: 5000, min: 1, description: 'Documents of the default-length corpus (median 100 words)' },
    { name: 'long-docs', type: 'integer', default: 2000, min: 0, description: 'Documents of the long corpus (median 400 words; 0 skips it)' },
  ],
});
const MAX_CUT_SHARE = 0.02;

async function drive(sim: Simulator, lines: string, cache: string): Promise<{ stats: RunStats; seconds: number; out: number }> {
  const ctx = createRunContext();
  const started = performance.now();
  let out = 0;
  for await (const _ of results(kg, [{ name: 'answer-fit', stream: Readable.from([Buffer.from(lines)]) }], { baseUrl: sim.url, cache }, { context: ctx })) out++;
  return { stats: ctx.stats, seconds: (performance.now() - started) / 1000, out };
}

async function corpus(name: string, count: number, seed: number, options: GenerateOptions) {
  const lines = [...generateDocs(count, seed, options)].map((d) => JSON.stringify(d)).join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-fit-'));
  const sim = await startSimulator();
  try {
    const first = await drive(sim, lines, dir);
    const s = sim.stats();
    const rerun = await drive(sim, lines, dir);
    const st = first.stats;
    const r = {
      corpus: name,
      docs: count,
      generate: options,
      seconds: first.seconds,
      resultsOut: first.out,
      deadLettered: st.deadLettered,
      packs: st.packs,
      docsPerPack: st.packedDocs / Math.max(1, st.packs),
      requests: st.requests,
      requestsPerPack: st.requests / Math.max(1, st.packs),
      splits: st.splits,
      splitsCutOff: st.splitsCutOff,
      // An answer cut at --max-output-tokens splits its pack (a half cut again counts again): per pack.
      cutOffsAtCap: st.cutOffsAtCap,
      packsCutShare: st.cutOffsAtCap / Math.max(1, st.packs),
      // Cut at a max_tokens sized below the cap: its whole documents kept, the rest asked again.
      cutOffsBelowCap: st.cutOffs - st.cutOffsAtCap,
      askedAgainShare: (st.cutOffs - st.cutOffsAtCap) / Math.max(1, st.requests),
      cutAnswers: s.cutAnswers,
      cutRequestShare: s.cutAnswers / Math.max(1, s.requests),
      promptTokens: s.promptTokens,
      completionTokens: s.completionTokens,
      admittedPerSpent: s.admittedTokens / Math.max(1, s.promptTokens + s.completionTokens),
      cutTokensShare: (s.cutPromptTokens + s.cutCompletionTokens) / Math.max(1, s.promptTokens + s.completionTokens),
      rerun: { requestsSent: sim.stats().requests - s.requests, cacheHits: rerun.stats.cacheHits, resultsOut: rerun.out, seconds: rerun.seconds },
    };
    console.log(
      `${name}: ${r.packs} packs (${r.docsPerPack.toFixed(1)} docs each), ${r.requests} requests (${r.requestsPerPack.toFixed(2)} per pack), ` +
        `${r.cutOffsAtCap} cut off at the cap (${(r.packsCutShare * 100).toFixed(1)}% of packs; ${r.splits} splits, ${r.splitsCutOff} of them for a cut-off), ` +
        `${r.cutOffsBelowCap} cut at a sized max_tokens, the rest asked again (${(r.askedAgainShare * 100).toFixed(1)}% of requests); ` +
        `the server cut ${r.cutAnswers} answers (${(r.cutRequestShare * 100).toFixed(1)}% of requests, ${(r.cutTokensShare * 100).toFixed(1)}% of tokens billed); ` +
        `${r.admittedPerSpent.toFixed(2)} tokens admitted per token spent; --cache rerun: ${r.rerun.requestsSent} requests sent, ${r.rerun.cacheHits} cache hits`,
    );
    return r;
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs = [await corpus('default lengths (median 100 words)', values.docs, 61, {})];
if (values.longDocs > 0) runs.push(await corpus('long (median 400 words)', values.longDocs, 62, { medianWords: 400 }));

const failures: string[] = [];
for (const r of runs) {
  if (r.packsCutShare > MAX_CUT_SHARE) failures.push(`${r.corpus}: ${(r.packsCutShare * 100).toFixed(1)}% of packs cut off at the cap (> ${MAX_CUT_SHARE * 100}%)`);
  if (r.rerun.requestsSent !== 0) failures.push(`${r.corpus}: the --cache rerun sent ${r.rerun.requestsSent} requests (expected 0)`);
  if (r.deadLettered !== 0 || r.resultsOut !== r.docs || r.rerun.resultsOut !== r.docs)
    failures.push(`${r.corpus}: ${r.resultsOut} results and ${r.deadLettered} dead letters for ${r.docs} documents (rerun: ${r.rerun.resultsOut})`);
}
const written = writeResults('answer-fit', { checks: { maxPacksCutShare: MAX_CUT_SHARE, passed: failures.length === 0, failures }, runs });
console.log(`wrote ${written.join(', ')}`);
if (failures.length > 0) {
  console.error(`answer-fit: check failed:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
