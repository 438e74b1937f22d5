/**
 * `npm run bench:ci`: the constant-memory assertion CI runs after the tests (.ci/run). The dry run
 * (read, parse, chunk, pack: the cheapest path through the same stages) on 1M documents, judged on
 * peak RSS (at 1M <= 1.1 x at 100K documents) and on the heap trend; and a smaller run of the
 * offline extractor, judged on the heap trend (main and worker threads) and on every document
 * coming out. Exits 1 on a regression.
 *
 *   npm run build && node bench/ci.js [--offline-docs 80000]
 *
 * Writes bench/results/ci.json and bench/results/ci.svg.
 */
import { benchArgs } from './bench-cli.js';
import { MEMORY_CORPUS } from './doc-batches.js';
import { runSuite } from './memory-suite.js';

const values = benchArgs({
  script: 'bench/ci.js',
  about: ['The constant-memory assertion CI runs: the dry run on 1M documents and a smaller offline-extractor run. Exits 1 on a regression.'],
  specs: [
    // Long enough for 8+ worker-heap samples (every 1 s) in its second half on an idle machine: 40K
    // took 11.6 s there and left 5-6.
    { name: 'offline-docs', type: 'integer', default: 80000, min: 1, description: 'Documents of the offline-extractor run' },
    { name: 'seed', type: 'integer', default: 1, description: 'Seed of the generated documents' },
  ],
});
const offlineDocs = values.offlineDocs;
/** A hung run must fail CI, not stall it. */
const RUN_TIMEOUT_MS = 10 * 60_000;

const started = performance.now();
const outcome = await runSuite({
  name: 'ci',
  description: 'CI: constant memory of the dry run over 1M documents (peak at 1M against peak at 100K, heap trend), and a smaller offline-extractor run',
  seed: values.seed,
  corpus: MEMORY_CORPUS,
  runs: [
    { variant: 'dry-run', docs: 1_000_000, timeoutMs: RUN_TIMEOUT_MS },
    { variant: 'offline', docs: offlineDocs, timeoutMs: RUN_TIMEOUT_MS },
  ],
});
process.stderr.write(`bench:ci took ${Math.round((performance.now() - started) / 1000)} s\n`);
process.exitCode = outcome.ok ? 0 : 1;
