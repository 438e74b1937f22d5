/**
 * The typed seam: pipe() composes a source and stages in order (record types carried, checked by
 * the compiler), and iterate() pulls a flow as an async iterator, destroying it when the loop ends.
 */
import t from 'tap';
import _ from 'highland';
import { createRunContext, type RunContext } from '../../lib/runtime/run-context.js';
import { iterate, pipe, type Outlet, type Source, type StageTransform } from '../../lib/runtime/stage.js';

const numbers: Source<number> = () => _([1, 2, 3]);
const double: StageTransform<number, number> = (input) => input.map((n) => n * 2);
const label: StageTransform<number, string> = (input) => input.map((n) => `#${n}`);
const length: StageTransform<string, number> = (input) => input.map((s) => s.length);

t.test('pipe runs the stages in order, each on what the one before emitted', async (t) => {
  const out: string[] = [];
  for await (const s of iterate(pipe(numbers, double, label)(createRunContext()))) out.push(s);
  t.same(out, ['#2', '#4', '#6']);
  const back: number[] = [];
  for await (const n of iterate(pipe(pipe(numbers, label), length)(createRunContext()))) back.push(n);
  t.same(back, [2, 2, 2], 'a piped source can be piped on');
});

t.test('every stage and the source get the same run context', async (t) => {
  const seen: RunContext[] = [];
  const source: Source<number> = (ctx) => (seen.push(ctx), _([1]));
  const stage: StageTransform<number, number> = (input, ctx) => (seen.push(ctx), input);
  const ctx = createRunContext();
  for await (const _n of iterate(pipe(source, stage, stage)(ctx))) void _n;
  t.equal(seen.length, 3);
  t.ok(seen.every((c) => c === ctx));
});

t.test('a chain whose stages do not fit does not compile', async (t) => {
  // @ts-expect-error: `length` takes strings, `numbers` emits numbers.
  pipe(numbers, length);
  // @ts-expect-error: `label` emits strings, `double` takes numbers.
  pipe(numbers, label, double);
  t.pass('checked when this file compiled');
});

t.test('iterate pulls one item at a time and destroys the stream when the loop stops early', async (t) => {
  let pulls = 0;
  let destroyed = 0;
  const outlet: Outlet<number> = {
    pull: (f) => f(null as unknown as Error, ++pulls),
    destroy: () => void destroyed++,
  };
  for await (const n of iterate(outlet)) if (n === 3) break;
  t.equal(pulls, 3, 'nothing is pulled ahead of the consumer');
  t.equal(destroyed, 1);
});

t.test('iterate rejects with the stream error, and destroys the stream', async (t) => {
  let destroyed = 0;
  const outlet: Outlet<number> = { pull: (f) => f(new Error('boom'), _.nil), destroy: () => void destroyed++ };
  await t.rejects(async () => {
    for await (const _n of iterate(outlet)) void _n;
  }, /boom/);
  t.equal(destroyed, 1);
});
