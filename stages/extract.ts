/**
 * extract: runs each pack through the extractor (wrapped in retry/split) with a bounded window of
 * packs in flight. Ordered mode keeps pack order (later answers wait for earlier ones, within the
 * window); unordered mode hands on answers as they complete. Either way at most `concurrency`
 * packs are pulled ahead, so a slow sink holds the reader.
 */
import _ from 'highland';
import type { Extractor } from '../lib/extractor.js';
import type { OptionSpec } from '../lib/options.js';
import type { Failure, Pack, PackOutcome } from '../lib/records.js';
import type { StageTransform, Stream } from '../lib/stage.js';
import { withRetrySplit, type RetryOptions } from './retry-split.js';

export const extractOptionSpecs: readonly OptionSpec[] = [
  { name: 'concurrency', type: 'integer', min: 1, defaultLabel: 'extractor-dependent', description: 'Packs in flight at once (offline: 2 per worker thread; LLM: requests in flight)' },
  { name: 'unordered', type: 'boolean', default: false, description: 'Write results as they complete instead of in input order' },
];

export interface ExtractOptions {
  extractor: Extractor;
  retry: RetryOptions;
  concurrency?: number;
  unordered?: boolean;
}

export function extract(options: ExtractOptions): StageTransform<Pack | Failure, PackOutcome | Failure> {
  const width = options.concurrency ?? options.extractor.concurrency;
  return (input, ctx) => {
    const runPack = withRetrySplit(options.extractor, options.retry, ctx);
    const started = input.map((item): Stream<PackOutcome | Failure> => (item.kind === 'failure' ? _<PackOutcome | Failure>([item]) : _(runPack(item) as Promise<PackOutcome | Failure>)));
    return options.unordered ? started.mergeWithLimit(width) : started.parallel(width);
  };
}
