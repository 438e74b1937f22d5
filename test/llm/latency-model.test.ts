/** The latency model: the fit (fixed + per token), the high quantile, floor, ceiling and warm-up. */
import t from 'tap';
import { LatencyModel, quantileOf } from '../../lib/llm/latency-model.js';

const model = (o: Partial<ConstructorParameters<typeof LatencyModel>[0]> = {}) => new LatencyModel({ floorMs: 1000, ceilingMs: 120_000, ...o });

t.test('warm-up: the ceiling is the deadline and no quantile is predicted until enough answers', async (t) => {
  const m = model({ warmup: 20 });
  for (let i = 0; i < 19; i++) m.observe(100 + i * 10, 500 + (100 + i * 10));
  t.equal(m.highQuantileMs(4096), undefined);
  t.equal(m.deadlineMs(4096), 120_000, 'the ceiling while warming up');
  m.observe(300, 800);
  t.not(m.highQuantileMs(4096), undefined, 'warm after 20 answers');
  t.ok(m.deadlineMs(4096) < 120_000);
});

t.test('fits a fixed part plus a part per completion token', async (t) => {
  const m = model();
  for (let i = 0; i < 100; i++) {
    const tokens = 50 + ((i * 37) % 400);
    m.observe(tokens, 500 + 2 * tokens);
  }
  const f = m.fit()!;
  t.ok(Math.abs(f.fixedMs - 500) < 1, `fixed ${f.fixedMs}`);
  t.ok(Math.abs(f.perTokenMs - 2) < 0.01, `per token ${f.perTokenMs}`);
  t.ok(f.residualMs < 1, 'exact data: no residual');
  // Extrapolated to the request's expected size (its max output tokens), not the sizes seen.
  t.ok(Math.abs(m.highQuantileMs(4096)! - (500 + 2 * 4096)) < 5);
  t.equal(m.deadlineMs(4096), Math.round(3 * m.highQuantileMs(4096)!), 'deadline = 3 x the high quantile');
});

t.test('robust: a few very slow answers move the quantile, not the line', async (t) => {
  const m = model();
  for (let i = 0; i < 200; i++) {
    const tokens = 100 + (i % 50) * 4;
    // Every 40th answer is 20 s late: 2.5% of them, above the p99.
    m.observe(tokens, 300 + tokens + (i % 40 === 0 ? 20_000 : (i * 7) % 50));
  }
  const f = m.fit()!;
  t.ok(Math.abs(f.perTokenMs - 1) < 0.1, `slope ${f.perTokenMs} stays near 1`);
  t.ok(f.fixedMs > 290 && f.fixedMs < 360, `fixed ${f.fixedMs}`);
  t.ok(f.residualMs > 1000, `the p99 residual ${f.residualMs} takes the slow answers in`);
});

t.test('the quantile follows the spread of the answers', async (t) => {
  const tight = model();
  const loose = model();
  for (let i = 0; i < 100; i++) {
    tight.observe(200, 700 + (i % 10));
    loose.observe(200, 700 + (i % 10) * 100);
  }
  t.ok(loose.highQuantileMs(200)! > tight.highQuantileMs(200)! + 500);
  t.ok(
    Math.abs(
      tight.highQuantileMs(200)! -
        quantileOf(
          [...Array(100).keys()].map((i) => 700 + (i % 10)),
          0.99,
        ),
    ) < 1,
    'one size: the p99 of what was seen',
  );
});

t.test('the floor and the ceiling bound the deadline', async (t) => {
  const fast = model({ floorMs: 5000 });
  for (let i = 0; i < 50; i++) fast.observe(10 + i, 20 + i);
  t.equal(fast.deadlineMs(50), 5000, 'a fast server: the floor');
  const slow = model({ ceilingMs: 30_000 });
  for (let i = 0; i < 50; i++) slow.observe(100 + i, 10_000 + 10 * (100 + i));
  t.equal(slow.deadlineMs(4096), 30_000, 'a slow one: the ceiling');
  const floorAbove = model({ floorMs: 10_000, ceilingMs: 5000 });
  for (let i = 0; i < 50; i++) floorAbove.observe(i, 10);
  t.equal(floorAbove.deadlineMs(10), 5000, 'a floor above the ceiling is the ceiling');
});

t.test('no slope seen (one size only): a larger request is scaled up, never cut short', async (t) => {
  const m = model();
  for (let i = 0; i < 30; i++) m.observe(400, 900);
  t.equal(m.fit()!.sloped, false);
  t.ok(m.highQuantileMs(4000)! >= 9000, `${m.highQuantileMs(4000)} for 10x the size`);
  t.equal(m.highQuantileMs(400), 900);
});

t.test('the window: the fit follows a server that slowed down', async (t) => {
  const m = model({ window: 64 });
  for (let i = 0; i < 64; i++) m.observe(100 + i, 200 + (100 + i));
  const before = m.highQuantileMs(300)!;
  for (let i = 0; i < 64; i++) m.observe(100 + i, 2000 + (100 + i));
  t.ok(m.highQuantileMs(300)! > before + 1500, 'the old answers left the window');
});

t.test('answered() times a request on the injected clock', async (t) => {
  let now = 1000;
  const m = model({ warmup: 2, now: () => now });
  for (let i = 0; i < 3; i++) {
    const started = m.now();
    now += 700 + i * 100;
    m.answered(started, 100 + i * 100);
  }
  t.ok(Math.abs(m.fit()!.perTokenMs - 1) < 1e-9);
  t.ok(Math.abs(m.fit()!.fixedMs - 600) < 1e-9);
});

t.test('bad settings are refused with a message naming them; bad observations are ignored', async (t) => {
  t.throws(() => model({ floorMs: 0 }), /floorMs must be a positive number/);
  t.throws(() => model({ ceilingMs: Number.NaN }), /ceilingMs/);
  t.throws(() => model({ quantile: 1 }), /quantile/);
  t.throws(() => model({ k: 0.5 }), /k must be >= 1/);
  t.throws(() => model({ warmup: 30, window: 10 }), /window/);
  const m = model({ warmup: 2 });
  m.observe(-1, 10);
  m.observe(10, Number.NaN);
  t.equal(m.samples, 0);
});
