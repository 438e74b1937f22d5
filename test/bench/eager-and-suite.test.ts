import t from 'tap';
import { readAllLines } from '../../bench/eager-kg.js';
import { judge, peakPairs } from '../../bench/memory-suite.js';
import { heapTrend, peakCheck } from '../../bench/memory-checks.js';
import type { RunRecord } from '../../bench/memory-runs.js';

async function* chunks(...xs: string[]): AsyncGenerator<string> {
  yield* xs;
}

t.test('the eager reader holds every non-blank line, joined across chunks', async (t) => {
  t.same(await readAllLines(chunks('{"a":1}\n{"b', '":2}\n\n  \n{"c":3}')), ['{"a":1}', '{"b":2}', '{"c":3}']);
  t.same(await readAllLines(chunks()), []);
});

const run = (variant: RunRecord['variant'], docs: number, peakRssMb: number, extra: Partial<RunRecord> = {}): RunRecord =>
  ({ variant, docs, peakRssMb, problems: [], label: `${variant} ${docs}`, ...extra }) as RunRecord;

t.test('peak pairs: each variant, largest run against smallest; eager and unsound runs left out', async (t) => {
  const pairs = peakPairs([
    run('dry-run', 100_000, 140),
    run('dry-run', 1_000_000, 150),
    run('offline', 100_000, 300),
    run('offline', 1_000_000, 400),
    run('eager', 100_000, 900),
    run('llm', 100_000, 200),
    run('llm', 1_000_000, 999, { problems: ['exit code 1'] }),
  ]);
  t.same(
    pairs.map((p) => [p.variant, p.shortDocs, p.longDocs, p.ok]),
    [
      ['dry-run', 100_000, 1_000_000, true],
      ['offline', 100_000, 1_000_000, false],
    ],
  );
  t.match(pairs[1]!.reason, /1\.333 x/);
});

t.test('peak pairs keep offline runs with different worker counts apart', async (t) => {
  const pairs = peakPairs([run('offline', 10, 100, { workers: 1 }), run('offline', 20, 300, { workers: 2 })]);
  t.same(pairs, []);
});

t.test('judge: unsound runs, heap trends (main and workers) and grown peaks fail; the eager run only if unsound', async (t) => {
  const flat = heapTrend([]); // not judged below unless the run is a streaming one
  const ok = { ...flat, ok: true };
  const bad = { ...flat, ok: false, reason: 'heap after GC rose 9.00 MB over the second half (tolerance 2.00 MB)' };
  const sound = { heapTrend: ok, workerHeapTrends: [], peakGrowth: null };
  const failures = judge([
    run('dry-run', 1_000_000, 150, { ...sound, peakGrowth: { referenceDocs: 100_000, ...peakCheck(120, 150) } }),
    run('offline', 100_000, 300, { ...sound, workerHeapTrends: [{ ...bad, thread: 2, lastHeapMb: 40 }] }),
    run('llm', 100_000, 200, { ...sound, heapTrend: bad }),
    run('eager', 100_000, 900, { ...sound, heapTrend: bad, peakGrowth: { referenceDocs: 100_000, ...peakCheck(100, 900) } }),
    run('eager', 100_000, 900, { ...sound, problems: ['exit code 1'] }),
    run('dry-run', 100_000, 140, sound),
  ]);
  t.same(failures, [
    'dry-run 1000000: peak RSS 150 MB is 1.250 x 120 MB (limit 1.1), its peak at 100K documents',
    'offline 100000, worker thread 2: heap after GC rose 9.00 MB over the second half (tolerance 2.00 MB)',
    'llm 100000: heap after GC rose 9.00 MB over the second half (tolerance 2.00 MB)',
    'eager 100000: exit code 1',
  ]);
});
