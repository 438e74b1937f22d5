/**
 * How right the cost projection (lib/cli/projection.ts) is early in a run: kg on the simulator over
 * generated corpora written to a file (so the input size is known), the projection read when 10% of
 * the documents are written, against the run's final cost; and the dry run's completion estimate
 * (the answer prior) against the completion tokens the run used.
 *
 *   npm run build && node bench/cost-projection.js [--docs 1000] [--seeds 16,1,2,3,4,5,6,7] [--at 0.1]
 *     [--max-output-tokens 4096]
 *
 * Writes bench/results/cost-projection.json (or --out).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { benchArgs } from './bench-cli.js';
import { generateDocs } from './generate-docs.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { chunkUnitsOf, project, type Projection } from '../lib/cli/projection.js';
import { answerPriorOptionSpecs, packAnswerPrior } from '../lib/llm/output-model.js';
import { costUsd, priceOf } from '../lib/llm/prices.js';
import { resolveOptions } from '../lib/runtime/options.js';
import { itemsOf, results } from '../lib/runtime/pipeline.js';
import type { Pack } from '../lib/runtime/records.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { kg } from '../pipelines/kg.js';

const values = benchArgs({
  script: 'bench/cost-projection.js',
  about: ['The cost projection read at 10% of the documents against the final cost, and the dry run estimate against the completion tokens used, on the simulator.'],
  specs: [
    { name: 'docs', type: 'integer', default: 1000, min: 10, description: 'Documents per corpus' },
    { name: 'seeds', type: 'string', default: '16,1,2,3,4,5,6,7', description: 'Corpus seeds, comma-separated: one run each' },
    { name: 'at', type: 'number', default: 0.1, min: 0.01, max: 1, description: 'Share of the documents written when the projection is read' },
    { name: 'max-output-tokens', type: 'integer', default: 4096, min: 16, description: 'kg --max-output-tokens (answers cut off at it are billed and split)' },
    { name: 'out', type: 'string', default: 'bench/results/cost-projection.json', description: 'Where the result goes' },
  ],
});
const seeds = values.seeds.split(',').map(Number);
if (seeds.some((s) => !Number.isInteger(s))) throw new RangeError(`--seeds: integers, comma-separated (got ${values.seeds})`);

const model = 'gpt-4.1-mini';
const price = priceOf(model)!;
const prior = resolveOptions(answerPriorOptionSpecs, {});
const chunkUnits = chunkUnitsOf(prior);
const options = { baseUrl: '', model, retryBaseMs: 1, maxOutputTokens: values.maxOutputTokens };
const dir = mkdtempSync(join(tmpdir(), 'sluice-cost-projection-'));
const sim = await startSimulator();
const runs = [];
try {
  for (const seed of seeds) {
    const file = join(dir, `corpus-${seed}.jsonl`);
    writeFileSync(file, [...generateDocs(values.docs, seed)].map((d) => `${JSON.stringify(d)}\n`).join(''));
    // The dry run's point estimate: the prior over the packs (what --dry-run prints).
    let estimate = 0;
    const resolved = resolveOptions<Parameters<typeof kg.build>[0]>(kg.options, { ...options, baseUrl: sim.url });
    for await (const item of itemsOf(kg, [file], resolved, { context: createRunContext(), dryRun: true })) {
      if (item.kind === 'pack')
        estimate += packAnswerPrior(
          (item as Pack).chunks.map((c) => c.tokens),
          prior,
        );
    }
    const ctx = createRunContext();
    let early: Projection | undefined;
    let readShare = 0;
    for await (const _ of results(kg, [file], { ...options, baseUrl: sim.url }, { context: ctx })) {
      if (early === undefined && ctx.stats.resultsOut + ctx.stats.deadLettered >= values.at * values.docs) {
        early = project(ctx.stats, { price, chunkUnits });
        readShare = ctx.stats.bytesRead / ctx.stats.totalBytes!;
      }
    }
    const s = ctx.stats;
    const final = costUsd(price, s.promptTokens, s.completionTokens);
    const error = early?.costUsd !== undefined ? early.costUsd / final - 1 : null;
    runs.push({
      seed,
      projectedUsd: early?.costUsd ?? null,
      finalUsd: final,
      error,
      settledShare: early?.fraction ?? null,
      readShare,
      splits: s.splits,
      completionTokens: s.completionTokens,
      dryRunCompletion: Math.round(estimate),
      completionOverPrior: s.completionTokens / estimate,
    });
    console.log(
      `seed ${seed}: projected $${early?.costUsd?.toFixed(4) ?? '?'} at ${values.at * 100}% of the documents (${((early?.fraction ?? 0) * 100).toFixed(1)}% settled, ${(readShare * 100).toFixed(1)}% read), final $${final.toFixed(4)}: ${error === null ? 'no projection' : `${(error * 100).toFixed(1)}%`}; ${s.splits} splits; completion ${s.completionTokens} = ${(s.completionTokens / estimate).toFixed(3)} x the dry run's ${Math.round(estimate)}`,
    );
  }
} finally {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
const errors = runs.map((r) => r.error).filter((e): e is number => e !== null);
const worst = Math.max(...errors.map(Math.abs));
const ratios = runs.map((r) => r.completionOverPrior);
const result = {
  bench: 'cost-projection',
  docs: values.docs,
  at: values.at,
  maxOutputTokens: values.maxOutputTokens,
  model,
  worstAbsError: worst,
  completionOverPrior: { min: Math.min(...ratios), max: Math.max(...ratios) },
  runs,
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `worst projection error at ${values.at * 100}%: ${(worst * 100).toFixed(1)}% over ${errors.length} runs; completion / dry-run estimate ${result.completionOverPrior.min.toFixed(3)}..${result.completionOverPrior.max.toFixed(3)} (${values.out})`,
);
