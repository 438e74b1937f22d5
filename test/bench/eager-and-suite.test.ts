import t from 'tap';
import { readAllLines } from '../../bench/eager-kg.js';
import { peakPairs } from '../../bench/memory-suite.js';
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
