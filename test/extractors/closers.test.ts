/** Closers: last opened first, each once, every one attempted, the first error thrown. */
import t from 'tap';
import { Closers } from '../../lib/extractors/closers.js';

t.test('closes in reverse order, once, and hands back what was added', async (t) => {
  const closers = new Closers();
  const order: string[] = [];
  const a = closers.add('a', (x) => order.push(x));
  closers.add('b', async (x) => void order.push(x));
  t.equal(a, 'a');
  await Promise.all([closers.close(), closers.close()]);
  await closers.close();
  t.same(order, ['b', 'a']);
});

t.test('a failing close does not keep the others open', async (t) => {
  const closers = new Closers();
  const closed: string[] = [];
  closers.add('a', (x) => closed.push(x));
  closers.add('b', () => {
    throw new Error('b failed');
  });
  closers.add('c', () => {
    throw new Error('c failed');
  });
  await t.rejects(closers.close(), { message: 'c failed' }, 'the first error');
  t.same(closed, ['a']);
});
