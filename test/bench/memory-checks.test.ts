import t from 'tap';
import { heapTrend, linearFit, median, peakAt, peakCheck } from '../../bench/memory-checks.js';
import type { MemorySample } from '../../bench/probe-samples.js';
import { seededRandom } from '../../simulator/seeded-random.js';

/** Samples every 250 ms; `heap(i)` gives heap-used after GC in MB, docs grow 1000 per sample. */
function series(n: number, heap: (i: number) => number, afterGc = true): MemorySample[] {
  return Array.from({ length: n }, (_, i) => ({ thread: 0, t: i * 250, docs: i * 1000, rssMb: 150, heapUsedMb: heap(i), afterGc }));
}

t.test('linearFit recovers a line exactly, and gives slope 0 when x does not vary', async (t) => {
  const fit = linearFit([0, 1, 2, 3], [5, 7, 9, 11]);
  t.equal(fit.slope, 2);
  t.equal(fit.intercept, 5);
  t.equal(linearFit([4, 4, 4], [1, 2, 3]).slope, 0);
  t.throws(() => linearFit([1, 2], [1]), RangeError);
  t.throws(() => linearFit([], []), RangeError);
});

t.test('median of odd and even lengths', async (t) => {
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.ok(Number.isNaN(median([])));
});

t.test('a flat heap with noise passes', async (t) => {
  const rand = seededRandom(3);
  const r = heapTrend(series(400, () => 30 + (rand() - 0.5) * 3));
  t.ok(r.ok, r.reason ?? 'ok');
  t.equal(r.samples, 200);
  t.ok(Math.abs(r.riseMb) < 1, `rise ${r.riseMb}`);
  t.equal(r.toleranceMb, 2);
});

t.test('a steady leak over the second half fails, naming the rise and the tolerance', async (t) => {
  // 40 bytes per document from 30 MB: ~7.6 MB over the 200K documents of the second half, whose
  // median heap is ~41.4 MB (5% of it, 2.07 MB, is over the 2 MB floor).
  const r = heapTrend(series(400, (i) => 30 + (i * 1000 * 40) / (1024 * 1024)));
  t.notOk(r.ok);
  t.match(r.reason, 'heap after GC rose 7.59 MB over the second half (tolerance 2.07 MB)');
  t.ok(r.riseMb > 7 && r.riseMb < 8, `rise ${r.riseMb}`);
  t.ok(Math.abs(r.bytesPerDoc! - 40) < 0.5, `bytes per doc ${r.bytesPerDoc}`);
});

t.test('growth during the first half (start-up) is not a trend', async (t) => {
  const r = heapTrend(series(400, (i) => (i < 100 ? 5 + i * 0.25 : 30)));
  t.ok(r.ok, r.reason ?? 'ok');
  t.ok(Math.abs(r.riseMb) < 0.01);
});

t.test('a shrinking heap passes', async (t) => {
  t.ok(heapTrend(series(100, (i) => 60 - i * 0.1)).ok);
});

t.test('the tolerance scales with a large heap', async (t) => {
  // 200 MB heap: 5% is 10 MB; a 6 MB rise passes, a 12 MB rise fails.
  const rising = (mb: number) => series(200, (i) => 200 + (i >= 100 ? ((i - 100) / 99) * mb : 0));
  const small = heapTrend(rising(6));
  t.ok(small.ok, small.reason ?? 'ok');
  t.ok(Math.abs(small.toleranceMb - 10) < 0.2, `tolerance ${small.toleranceMb}`);
  t.notOk(heapTrend(rising(12)).ok);
  t.notOk(heapTrend(rising(6), { toleranceShare: 0.01 }).ok, 'a tighter share catches it');
});

t.test('too short a run, or samples not taken after GC, cannot be judged', async (t) => {
  const short = heapTrend(series(10, () => 30));
  t.notOk(short.ok);
  t.match(short.reason, /too few samples in the second half \(5 < 8\)/);
  const noGc = heapTrend(series(100, () => 30, false));
  t.notOk(noGc.ok);
  t.match(noGc.reason, /--expose-gc/);
  t.notOk(heapTrend([]).ok);
});

t.test('peakAt: the peak so far at the first sample that reached the documents', async (t) => {
  const samples: MemorySample[] = [0, 40_000, 90_000, 100_000, 100_500, 700_000].map((docs, i) => ({ thread: 0, t: i * 250, docs, rssMb: 120, heapUsedMb: 27, peakRssMb: 120 + i, afterGc: true }));
  t.equal(peakAt(samples, 100_000), 123);
  t.equal(peakAt(samples, 95_000), 123);
  t.equal(peakAt(samples, 100_001), 124);
  t.equal(peakAt(samples, 800_000), undefined, 'never reached');
  const withoutPeaks = samples.map(({ peakRssMb: _p, ...rest }) => rest);
  t.equal(peakAt(withoutPeaks, 100_000), undefined);
});

t.test('peak check: within the limit passes, over it fails with the ratio', async (t) => {
  const ok = peakCheck(200, 219);
  t.ok(ok.ok);
  t.equal(ok.limit, 1.1);
  t.ok(Math.abs(ok.ratio - 1.095) < 1e-9);
  t.ok(peakCheck(200, 220).ok, 'exactly 1.1 x passes');
  const bad = peakCheck(200, 221);
  t.notOk(bad.ok);
  t.match(bad.reason, 'peak RSS 221 MB is 1.105 x 200 MB (limit 1.1)');
  t.notOk(peakCheck(200, 215, 1.05).ok);
  t.throws(() => peakCheck(0, 100), RangeError);
  t.throws(() => peakCheck(100, Number.NaN), RangeError);
});
