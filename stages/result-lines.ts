/**
 * result-lines: raw records holding result lines (kg output, or any line with id, entities and
 * relations) to graph contributions. A line that cannot be one becomes a dead letter naming its
 * line, id when known, and the field at fault; the run goes on.
 */
import { contributionOf, type Contribution } from '../lib/graph/contribution.js';
import { graphDocumentOf, isProblem } from '../lib/graph/graph-input.js';
import { failure, type Failure, type Origin, type RawRecord } from '../lib/runtime/records.js';
import type { StageTransform } from '../lib/runtime/stage.js';
import { jsonValueOf } from './parse.js';

export interface ContributionRecord extends Origin {
  kind: 'contribution';
  contribution: Contribution;
}

/** The pure core: one raw record to a contribution or a failure. */
export function resultLineOf(rec: RawRecord): ContributionRecord | Failure {
  const read = jsonValueOf(rec);
  if ('kind' in read) return read;
  const { value } = read;
  const doc = graphDocumentOf(value);
  if (isProblem(doc)) return failure(rec, 'parse', doc.code, doc.reason, rec.text ?? safeJson(value), doc.id);
  return { kind: 'contribution', seq: rec.seq, line: rec.line, source: rec.source, contribution: contributionOf(doc) };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function resultLines(): StageTransform<(RawRecord | Failure)[], (ContributionRecord | Failure)[]> {
  return (input) => input.map((batch) => batch.map((rec) => (rec.kind === 'raw' ? resultLineOf(rec) : rec)));
}
