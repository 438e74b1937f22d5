/**
 * graph-sink: adds every result to a graph store (lib/graph/store.ts) and passes it on unchanged.
 * Results are held until their batch is committed, at most `graphBatchSize` of them or one second's
 * worth, so the graph is never behind the output: a rerun after a crash re-adds what the output
 * lacks, and re-adding is idempotent. Failures pass straight through in order.
 */
import type { Failure, Result } from '../lib/runtime/records.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import type { StageTransform } from '../lib/runtime/stage.js';
import { contributionOf, type Contribution } from '../lib/graph/contribution.js';
import type { GraphStore } from '../lib/graph/store.js';

export const graphSinkOptionSpecs = defineOptions([
  { name: 'graph', type: 'string', description: 'Also merge every result into this graph store (SQLite; created if absent): entities merged across documents, see docs/graph.md' },
  // Operational: it says how often the graph commits, not what it holds (store.add is the same merge
  // whatever the grouping, and a batch is cut by time as well as by count), so a resume may change it.
  { name: 'graph-batch-size', type: 'integer', operational: true, default: 500, min: 1, description: 'Results per graph transaction (with --graph)' },
]);

export type GraphSinkOptions = OptionsOf<typeof graphSinkOptionSpecs>;

/** A partial batch is committed after this long, so a slow run's output is not held back. */
const FLUSH_MS = 1000;

export function graphSink(store: GraphStore, options: { batchSize: number }): StageTransform<Result | Failure, Result | Failure> {
  return (input) =>
    input
      .batchWithTimeOrCount(FLUSH_MS, options.batchSize)
      .map((items) => {
        const contributions: Contribution[] = [];
        for (const item of items) if (item.kind === 'result') contributions.push(contributionOf(item));
        if (contributions.length > 0) store.add(contributions);
        return items;
      })
      .sequence();
}
