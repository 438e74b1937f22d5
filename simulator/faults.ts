/**
 * Fault injection for the OpenAI simulator: which fault (if any) a request gets, drawn with a
 * seeded PRNG so a run is reproducible, and the answer defects (`omit`, `invent`).
 */
import type { Answer } from '../lib/llm/kg-answer.js';
import { seededRandom } from './seeded-random.js';

export type FaultKind = '500' | '502' | '503' | 'hang' | 'reset' | 'malformed' | 'truncated' | 'omit' | 'invent';

export const FAULT_KINDS: readonly FaultKind[] = ['500', '502', '503', 'hang', 'reset', 'malformed', 'truncated', 'omit', 'invent'];

/** Faults that need no answer: they apply to every endpoint (embeddings included). */
export const TRANSPORT_FAULTS: readonly FaultKind[] = ['500', '502', '503', 'hang', 'reset'];

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

export class FaultDrawer {
  private readonly rand: () => number;

  constructor(
    private readonly rate: number,
    private readonly mix: readonly FaultKind[],
    seed: number,
  ) {
    this.rand = seededRandom(seed);
  }

  /**
   * The fault for the next request, or undefined. With probability `rate` a fault is due; it is
   * drawn uniformly from the mix restricted to the kinds that can apply to this request (none if
   * no kind of the mix applies).
   */
  draw(applicable: readonly FaultKind[]): FaultKind | undefined {
    if (this.rate <= 0 || this.rand() >= this.rate) return undefined;
    const candidates = this.mix.filter((k) => applicable.includes(k));
    if (candidates.length === 0) return undefined;
    return candidates[Math.floor(this.rand() * candidates.length)];
  }

  /** A uniform integer in [0, n), from the same seeded stream. */
  index(n: number): number {
    return Math.min(n - 1, Math.floor(this.rand() * n));
  }
}

/** `omit`: the answer without one of its documents (the pack must have two or more). */
export function omitDocument(answer: Answer, drawer: FaultDrawer): Answer {
  const drop = drawer.index(answer.documents.length);
  return { documents: answer.documents.filter((_, i) => i !== drop) };
}

/** `invent`: the answer plus one document under an id that was never sent (a copy of a real one's graph). */
export function inventDocument(answer: Answer, sentIds: readonly string[], drawer: FaultDrawer): Answer {
  const sent = new Set(sentIds);
  let n = 1;
  while (sent.has(`invented-${n}`)) n++;
  const model = answer.documents.length > 0 ? answer.documents[drawer.index(answer.documents.length)] : undefined;
  const extra = {
    id: `invented-${n}`,
    entities: model ? model.entities.map((e) => ({ ...e })) : [],
    relations: model ? model.relations.map((r) => ({ ...r })) : [],
  };
  return { documents: [...answer.documents, extra] };
}
