/**
 * `npm run bench:memory`: constant memory, asserted. Streams generated documents (never stored)
 * through pipelines/kg in child processes at 100K and 1M documents: the dry run, the offline
 * extractor, and the LLM extractor against the simulator; plus the eager variant at 100K, shown for
 * comparison. Exits 1 when a check fails. Long: the LLM runs go at the simulator's pace (see
 * docs/runbook.md); `--variants` and `--sizes` pick a subset.
 *
 *   npm run build && node bench/memory.js [--sizes 100000,1000000] [--variants dry-run,offline,llm,eager] [--seed 1]
 *
 * Writes bench/results/memory.json and bench/results/memory.svg.
 */
import { benchArgs } from './bench-cli.js';
import { MEMORY_CORPUS } from './doc-batches.js';
import { VARIANTS, type Variant } from './memory-runs.js';
import { runSuite, type SuitePlan } from './memory-suite.js';

const values = benchArgs({
  script: 'bench/memory.js',
  about: ['Constant memory, asserted: generated documents through pipelines/kg in child processes at each size, per variant. Exits 1 when a check fails.'],
  specs: [
    { name: 'sizes', type: 'string', default: '100000,1000000', description: 'Document counts, comma-separated' },
    { name: 'variants', type: 'string', default: VARIANTS.join(','), description: `Variants to run, comma-separated: ${VARIANTS.join(', ')}` },
    { name: 'seed', type: 'integer', default: 1, description: 'Seed of the generated documents' },
    { name: 'name', type: 'string', default: 'memory', description: 'Name of the results (bench/results/NAME.json and .svg)' },
  ],
});

const sizes = values.sizes
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`--sizes: positive integers, comma-separated (got ${values.sizes})`);
const variants = values.variants.split(',') as Variant[];
for (const v of variants) if (!VARIANTS.includes(v)) throw new RangeError(`--variants: unknown ${JSON.stringify(v)} (one of ${VARIANTS.join(', ')})`);

const runs: SuitePlan['runs'] = [];
for (const variant of variants) {
  // The eager variant holds the whole input: the smallest size shows its growth well enough.
  for (const docs of variant === 'eager' ? sizes.slice(0, 1) : sizes) runs.push({ variant, docs });
}

const outcome = await runSuite({
  name: values.name,
  description: 'Peak RSS and heap-used-after-GC of pipelines/kg on generated documents piped in, per variant and input size',
  seed: values.seed,
  corpus: MEMORY_CORPUS,
  runs,
});
process.exitCode = outcome.ok ? 0 : 1;
