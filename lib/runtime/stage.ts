/**
 * The stage contract: a factory takes options and returns a transform over highland streams
 * (highland composes and applies backpressure; Node streams sit underneath at the edges).
 * Stages pass arrays of records where per-record overhead would show.
 */
import type { RunContext } from './run-context.js';

export type Stream<T> = Highland.Stream<T>;

export type StageTransform<I, O> = (input: Stream<I>, ctx: RunContext) => Stream<O>;
