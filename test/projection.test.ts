/**
 * The projection (lib/cli/projection.ts): its arithmetic on counters given by hand, then on the
 * simulator, read at 10% of the documents and compared with the run's final cost.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunkUnitsOf, evidenceNeeded, overCapWarning, project, type Projection, type ProjectionStats } from '../lib/cli/projection.js';
import { costUsd, priceOf } from '../lib/llm/prices.js';
import { answerPriorOptionSpecs } from '../lib/llm/output-model.js';
import { resolveOptions } from '../lib/runtime/options.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { kg } from '../pipelines/kg.js';

const price = { input: 1, output: 2 };
/** 50 units a chunk beyond its tokens: the default prior's 80 / 1.6. */
const chunkUnits = chunkUnitsOf(resolveOptions(answerPriorOptionSpecs, {}));
const model = { price, chunkUnits };
const NOW = 1_000_000;

/**
 * A run 10 s in: 1,000 records of 100,000 bytes read out of 400,000, all chunked (150 tokens each);
 * 200 documents settled, all billed ($0.08), $0.10 spent in all.
 */
function stats(over: Partial<ProjectionStats> = {}): ProjectionStats {
  return {
    startedAt: NOW - 10_000,
    bytesRead: 100_000,
    totalBytes: 400_000,
    recordsIn: 1000,
    resumedAt: undefined,
    docsParsed: 1000,
    chunks: 1000,
    textTokens: 150_000,
    promptTokens: 50_000,
    completionTokens: 25_000,
    settledDocs: 200,
    settledChunks: 200,
    settledTextTokens: 30_000,
    billedChunks: 200,
    billedTextTokens: 30_000,
    billedPromptTokens: 40_000,
    billedCompletionTokens: 20_000,
    failedBeforePacking: 0,
    ...over,
  };
}

const usd = (x: number | undefined) => x?.toFixed(6);

t.test('the default prior counts a chunk as 50 units beyond its tokens', async (t) => {
  t.equal(chunkUnits, 50);
  t.equal(chunkUnitsOf({ answerBaseTokens: 80, answerTokensRatio: 0 }), 0, 'no ratio: text tokens alone');
});

t.test('documents in all from the bytes read; cost per unit of the settled packs; ETA from the settled rate', async (t) => {
  const p = project(stats(), model, NOW)!;
  t.equal(p.docsTotal, 4000, 'records read x total bytes / bytes read');
  t.equal(p.fraction, 200 / 4000);
  // $0.10 spent + $0.08 per 40,000 units x (160,000 chunked and not settled + 200 a document x 3,000 not chunked).
  t.equal(usd(p.costUsd), usd(0.1 + (0.08 / 40_000) * 760_000));
  t.equal(p.etaSeconds, 3800 / 20, '200 documents in 10 s: 3,800 more in 190 s');
});

t.test('longer documents ahead than those settled: projected by their size, not by their count', async (t) => {
  // The 200 settled documents had 100 tokens each, the 1,000 chunked 150 on average.
  const p = project(stats({ settledTextTokens: 20_000, billedTextTokens: 20_000 }), model, NOW)!;
  t.equal(usd(p.costUsd), usd(0.1 + (0.08 / 30_000) * 770_000));
  t.ok(p.costUsd! > 0.1 + (0.08 / 200) * 3800, 'more than the cost per document settled would say');
  const noFixedPart = project(stats({ settledTextTokens: 20_000, billedTextTokens: 20_000 }), { price }, NOW)!;
  t.equal(usd(noFixedPart.costUsd), usd(0.1 + (0.08 / 20_000) * 580_000), 'chunkUnits 0 (embeddings): text tokens alone');
});

t.test('no total, no projection; no price, no cost', async (t) => {
  t.equal(project(stats({ totalBytes: undefined }), model, NOW), undefined, 'stdin from a pipe: left out, not guessed');
  t.equal(project(stats({ bytesRead: 0, recordsIn: 0 }), model, NOW), undefined, 'nothing read yet');
  const p = project(stats(), { chunkUnits: 50 }, NOW)!;
  t.equal(p.costUsd, undefined);
  t.equal(p.etaSeconds, 190, 'the ETA needs no price');
});

t.test('too little evidence: no cost and no ETA yet', async (t) => {
  t.equal(evidenceNeeded(1000), 20, '2% of the documents');
  t.equal(evidenceNeeded(100), 10, 'at least 10');
  t.equal(evidenceNeeded(1_000_000), 100, 'at most 100');
  t.equal(evidenceNeeded(4), 4, 'a tiny run: all of it');
  const p = project(stats({ settledDocs: 50, settledChunks: 50, billedChunks: 50 }), model, NOW)!;
  t.equal(p.costUsd, undefined, '50 of 4,000 is under 2%');
  t.equal(p.etaSeconds, undefined);
});

t.test('answers from --cache are not evidence of the price; the work left is assumed billed', async (t) => {
  // 300 settled, 100 of them from the cache at no cost: the rate is of the 200 billed.
  const cached = { settledDocs: 300, settledChunks: 300, settledTextTokens: 45_000 };
  const p = project(stats(cached), model, NOW)!;
  t.equal(usd(p.costUsd), usd(0.1 + (0.08 / 40_000) * 740_000));
  const cachedOnly = project(stats({ ...cached, billedChunks: 0, billedTextTokens: 0, billedPromptTokens: 0, billedCompletionTokens: 0 }), model, NOW)!;
  t.equal(cachedOnly.costUsd, undefined, 'nothing billed yet: unknown, not $0');
});

t.test('a resumed run: earlier sessions are spent, only the rest is projected', async (t) => {
  // 2,000 records committed by earlier sessions (their records and tokens restored), 1,000 read in this one.
  const p = project(stats({ resumedAt: 2000, recordsIn: 3000, bytesRead: 300_000 }), model, NOW)!;
  t.equal(p.docsTotal, 4000);
  t.equal(p.fraction, 2200 / 4000);
  t.equal(usd(p.costUsd), usd(0.1 + (0.08 / 40_000) * 360_000));
  t.equal(p.etaSeconds, 1800 / 20);
});

t.test('bad records are finished at no cost; all settled, the projection is what was spent', async (t) => {
  const p = project(stats({ failedBeforePacking: 100, docsParsed: 900, chunks: 900, textTokens: 135_000 }), model, NOW)!;
  t.equal(usd(p.costUsd), usd(0.1 + (0.08 / 40_000) * 740_000));
  t.equal(p.etaSeconds, 3700 / 30);
  const done = project(stats({ bytesRead: 400_000, settledDocs: 990, failedBeforePacking: 10 }), model, NOW)!;
  t.equal(done.costUsd, costUsd(price, 50_000, 25_000));
  t.equal(done.etaSeconds, 0);
  t.equal(done.fraction, 1);
});

t.test('the --max-cost warning: only over the cap, with the share done', async (t) => {
  const p: Projection = { docsTotal: 1000, fraction: 0.123, costUsd: 12.5 };
  t.equal(overCapWarning(p, 20), undefined);
  t.equal(overCapWarning({ docsTotal: 1000, fraction: 0.1 }, 20), undefined, 'no cost projected yet');
  t.equal(overCapWarning(p, 10), 'projected cost ~$12.5000 exceeds --max-cost $10 (at 12.3% of the documents); the run goes on and stops when $10 is spent');
});

t.test('on the simulator: read at 10% of the documents, the projection is within 15% of the final cost', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-projection-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'corpus.jsonl');
  writeFileSync(file, [...generateDocs(1000, 16)].map((d) => `${JSON.stringify(d)}\n`).join(''));
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const ctx = createRunContext();
  const model = 'gpt-4.1-mini';
  const listed = priceOf(model)!;
  let atTenth: Projection | undefined;
  let out = 0;
  for await (const _ of results(kg, [file], { baseUrl: sim.url, model, retryBaseMs: 1 }, { context: ctx })) {
    out++;
    if (atTenth === undefined && ctx.stats.resultsOut + ctx.stats.deadLettered >= 100) atTenth = project(ctx.stats, { price: listed, chunkUnits });
  }
  t.equal(out + ctx.stats.deadLettered, 1000);
  const final = costUsd(listed, ctx.stats.promptTokens, ctx.stats.completionTokens);
  t.ok(atTenth?.costUsd !== undefined, 'a projection at 10%');
  const error = atTenth!.costUsd! / final - 1;
  t.ok(Math.abs(error) < 0.15, `projected $${atTenth!.costUsd!.toFixed(4)} at 10%, final $${final.toFixed(4)} (${(error * 100).toFixed(1)}%)`);
  t.ok(atTenth!.fraction < 0.5, `read at ${(atTenth!.fraction * 100).toFixed(1)}% settled`);
  const end = project(ctx.stats, { price: listed, chunkUnits })!;
  t.equal(end.costUsd!.toFixed(8), final.toFixed(8), 'at the end the projection is what was spent');
});
