/**
 * The stage contract: a factory takes options and returns a transform over highland streams
 * (highland composes and applies backpressure; Node streams sit underneath at the edges).
 * Stages pass arrays of records where per-record overhead would show.
 *
 * The one typed seam: `pipe(source, ...stages)` composes a source and stages with each record
 * type carried from one to the next, and `iterate` is the one way out of highland, to an async
 * iterator.
 */
import _ from 'highland';
import type { RunContext } from './run-context.js';

export type Stream<T> = Highland.Stream<T>;

export type StageTransform<I, O> = (input: Stream<I>, ctx: RunContext) => Stream<O>;

/** Produces a run's first stream (e.g. `read(inputs, options)`). */
export type Source<T> = (ctx: RunContext) => Stream<T>;

/**
 * The end of a flow as its consumer uses it: items pulled one at a time, the stream destroyed
 * when done. Every highland stream is one. Read-only, so (unlike a highland stream, which is
 * invariant) an outlet of results is also an outlet of anything results are.
 */
export interface Outlet<T> {
  pull(f: (err: Error, x: T | Highland.Nil) => void): void;
  destroy(): void;
}

/**
 * The source's records through each stage in turn: a stage takes what the one before emits, so
 * a chain that does not fit does not compile. Composed with `.through`, not highland's
 * `_.pipeline` (~300x slower at 100K items, highland #270). The result is a source again, so a
 * chain can be continued: `pipe(pipe(source, a), b)`.
 */
export function pipe<A>(source: Source<A>): Source<A>;
export function pipe<A, B>(source: Source<A>, s1: StageTransform<A, B>): Source<B>;
export function pipe<A, B, C>(source: Source<A>, s1: StageTransform<A, B>, s2: StageTransform<B, C>): Source<C>;
export function pipe<A, B, C, D>(source: Source<A>, s1: StageTransform<A, B>, s2: StageTransform<B, C>, s3: StageTransform<C, D>): Source<D>;
export function pipe<A, B, C, D, E>(source: Source<A>, s1: StageTransform<A, B>, s2: StageTransform<B, C>, s3: StageTransform<C, D>, s4: StageTransform<D, E>): Source<E>;
export function pipe<A, B, C, D, E, F>(source: Source<A>, s1: StageTransform<A, B>, s2: StageTransform<B, C>, s3: StageTransform<C, D>, s4: StageTransform<D, E>, s5: StageTransform<E, F>): Source<F>;
export function pipe<A, B, C, D, E, F, G>(
  source: Source<A>,
  s1: StageTransform<A, B>,
  s2: StageTransform<B, C>,
  s3: StageTransform<C, D>,
  s4: StageTransform<D, E>,
  s5: StageTransform<E, F>,
  s6: StageTransform<F, G>,
): Source<G>;
export function pipe<A, B, C, D, E, F, G, H>(
  source: Source<A>,
  s1: StageTransform<A, B>,
  s2: StageTransform<B, C>,
  s3: StageTransform<C, D>,
  s4: StageTransform<D, E>,
  s5: StageTransform<E, F>,
  s6: StageTransform<F, G>,
  s7: StageTransform<G, H>,
): Source<H>;
export function pipe(source: Source<unknown>, ...stages: StageTransform<unknown, unknown>[]): Source<unknown> {
  return (ctx) => stages.reduce((stream, stage) => stream.through((input: Stream<unknown>) => stage(input, ctx)), source(ctx));
}

/**
 * Pulls a stream's items one at a time as an async iterator, so the consumer's pace is the
 * stream's (backpressure reaches the source). Ending the loop early destroys the stream.
 */
export async function* iterate<T>(stream: Outlet<T>): AsyncGenerator<T> {
  try {
    for (;;) {
      const item = await new Promise<T | undefined>((resolve, reject) => {
        stream.pull((err, x) => {
          if (err) reject(err);
          else resolve(_.isNil(x) ? undefined : (x as T));
        });
      });
      if (item === undefined) return;
      yield item;
    }
  } finally {
    stream.destroy();
  }
}
