/**
 * `npm run bench:ci`: the constant-memory assertion CI runs after the tests (.ci/run). The dry run
 * (read, parse, chunk, pack: the cheapest path through the same stages) on 1M documents, judged on
 * peak RSS (at 1M <= 1.1 x at 100K documents) and on the heap trend; and a smaller run of the
 * offline extractor, judged on the heap trend (main and worker threads) and on every document
 * coming out. Exits 1 on a regression.
 *
 *   npm run build && node bench/ci.js [--offline-docs 40000]
 *
 * Writes bench/results/ci.json and bench/results/ci.svg.
 */
import { parseArgs } from 'node:util';
import { MEMORY_CORPUS } from './doc-batches.js';
import { runSuite } from './memory-suite.js';

const { values } = parseArgs({ options: { 'offline-docs': { type: 'string', default: '40000' }, seed: { type: 'string', default: '1' } } });
const offlineDocs = Number(values['offline-docs']);
if (!Number.isInteger(offlineDocs) || offlineDocs < 1) throw new RangeError(`--offline-docs must be a positive integer (got ${values['offline-docs']})`);
/** A hung run must fail CI, not stall it. */
const RUN_TIMEOUT_MS = 10 * 60_000;

const started = performance.now();
const outcome = await runSuite({
  name: 'ci',
  description: 'CI: constant memory of the dry run over 1M documents (peak at 1M against peak at 100K, heap trend), and a smaller offline-extractor run',
  seed: Number(values.seed),
  corpus: MEMORY_CORPUS,
  runs: [
    { variant: 'dry-run', docs: 1_000_000, timeoutMs: RUN_TIMEOUT_MS },
    { variant: 'offline', docs: offlineDocs, timeoutMs: RUN_TIMEOUT_MS },
  ],
});
process.stderr.write(`bench:ci took ${Math.round((performance.now() - started) / 1000)} s\n`);
process.exitCode = outcome.ok ? 0 : 1;
