/** Small helpers to run one stage over given input without the rest of the pipeline. */
import _ from 'highland';
import { createRunContext, type RunContext } from '../../lib/runtime/run-context.js';
import type { StageTransform, Stream } from '../../lib/runtime/stage.js';

export function collect<T>(stream: Stream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    stream.stopOnError((err) => reject(err)).toArray((xs) => resolve(xs));
  });
}

export async function runStage<I, O>(stage: StageTransform<I, O>, input: I[], ctx: RunContext = createRunContext()): Promise<O[]> {
  return collect(stage(_(input), ctx));
}
