/**
 * extract: runs each pack through the extractor (wrapped in retry/split) with at most `concurrency`
 * packs in flight. Ordered mode keeps pack order (later answers wait for earlier ones within the
 * reorder window); unordered mode hands on answers as they complete. Either way a bounded number
 * of packs is pulled ahead, so a slow sink holds the reader.
 */
import _ from 'highland';
import type { Extractor } from '../lib/runtime/extractor.js';
import { Semaphore } from '../lib/runtime/semaphore.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import type { Failure, Pack, PackOutcome } from '../lib/runtime/records.js';
import type { RunContext } from '../lib/runtime/run-context.js';
import type { StageTransform, Stream } from '../lib/runtime/stage.js';
import { withRetrySplit, type PackRunner, type RetryOptions } from './retry-split.js';

export const extractOptionSpecs = defineOptions([
  {
    name: 'concurrency',
    operational: true,
    type: 'integer',
    min: 1,
    defaultLabel: 'extractor-dependent',
    description: 'Packs in flight at once (offline: 2 per worker thread; LLM: requests in flight, default 32, the ceiling of the adaptive limit against a server without rate-limit headers)',
  },
  { name: 'unordered', type: 'boolean', default: false, description: 'Write results as they complete instead of in input order' },
  {
    name: 'reorder-window',
    operational: true,
    type: 'integer',
    min: 1,
    defaultLabel: '4 x concurrency',
    description: 'Packs started ahead of the oldest unfinished one (ordered mode), so one slow pack does not idle the others; bounds what waits to be written in order',
  },
]);

/** Packs started ahead of the oldest unfinished one, per request slot, when not told otherwise. */
const REORDER_PER_SLOT = 4;

/** The stage's options (each may be left out: the extractor's concurrency, ordered) and what it runs. */
export type ExtractOptions = Partial<OptionsOf<typeof extractOptionSpecs>> & {
  retry: RetryOptions;
} & (
    | { extractor: Extractor }
    /** Runs each pack elsewhere (scale-out: a BullMQ job); `concurrency` then bounds the packs outstanding. */
    | { runner: (ctx: RunContext) => PackRunner; concurrency: number }
  );

export function extract(options: ExtractOptions): StageTransform<Pack | Failure, PackOutcome | Failure> {
  const width = options.concurrency ?? ('extractor' in options ? options.extractor.concurrency : 1);
  // Ordered mode holds finished packs until the oldest is done; with only `width` packs started, one
  // slow pack (a retry, a split) would idle every other slot. So more packs are started than run:
  // the semaphore bounds the work in flight, the window bounds what waits to be written.
  const window = Math.max(width, options.reorderWindow ?? width * REORDER_PER_SLOT);
  return (input, ctx) => {
    const runPack = 'runner' in options ? options.runner(ctx) : withRetrySplit(options.extractor, options.retry, ctx);
    const slots = new Semaphore(width);
    const gated = async (pack: Pack): Promise<PackOutcome> => {
      await slots.acquire();
      try {
        return await runPack(pack);
      } finally {
        slots.release();
      }
    };
    // Kept on the run context until settled: a run that stops waits for its packs in flight, so the
    // requests they sent are counted in its summary (they were billed).
    const tracked = (pack: Pack): Promise<PackOutcome> => {
      const p = gated(pack);
      ctx.inFlight.add(p);
      void p.then(
        () => ctx.inFlight.delete(p),
        () => ctx.inFlight.delete(p),
      );
      return p;
    };
    const started = input.map((item): Stream<PackOutcome | Failure> => (item.kind === 'failure' ? _<PackOutcome | Failure>([item]) : _(tracked(item) as Promise<PackOutcome | Failure>)));
    return options.unordered ? started.mergeWithLimit(width) : started.parallel(window);
  };
}
