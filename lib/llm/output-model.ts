/**
 * The output model: how many completion tokens a document's answer takes. Two parts, kept apart
 * on purpose (docs/decisions.md, "Requests sized to their answers"):
 *
 * - the prior, `answerPrior`: a fixed line in the chunk's tokens (options --answer-base-tokens and
 *   --answer-tokens-ratio). The packer and the dry run use only this, so packs stay the same for
 *   the same input and options (resume, the cache and the Batch API depend on it);
 * - the learned correction, `OutputModel`: the ratio of answers' actual tokens to their prior, over
 *   the last answers this process saw. It sizes each request's max_tokens and the projections, never
 *   the packs.
 */
import { defineOptions, type OptionsOf } from '../runtime/options.js';

export const answerPriorOptionSpecs = defineOptions([
  {
    name: 'answer-base-tokens',
    type: 'number',
    default: 80,
    min: 0,
    description: "Expected answer tokens per document beyond its text's share (the answer's framing): with --answer-tokens-ratio, what packs are sized by",
  },
  {
    name: 'answer-tokens-ratio',
    type: 'number',
    default: 1.6,
    min: 0,
    description: 'Expected answer tokens per document token: packs are closed so their expected answer fits --max-output-tokens with a margin',
  },
]);

export type AnswerPriorOptions = OptionsOf<typeof answerPriorOptionSpecs>;

/** Tokens every answer spends beyond its documents: `{"documents":[` ... `]}`. */
export const ANSWER_FRAME_TOKENS = 6;

/**
 * The share of --max-output-tokens a pack's expected answer may take: the rest is the margin for
 * answers longer than expected (measured on the generated corpus: a pack's answer runs up to 1.17x
 * its prior at the 99th percentile).
 */
export const PACK_ANSWER_SHARE = 0.8;

/** Expected answer tokens of one chunk of `tokens` text tokens. */
export function answerPrior(tokens: number, o: AnswerPriorOptions): number {
  return o.answerBaseTokens + o.answerTokensRatio * tokens;
}

/** Expected answer tokens of a request of chunks of these token counts (its frame included). */
export function packAnswerPrior(chunkTokens: readonly number[], o: AnswerPriorOptions): number {
  let sum = ANSWER_FRAME_TOKENS;
  for (const t of chunkTokens) sum += answerPrior(t, o);
  return sum;
}

/** Answers remembered for the learned ratio: enough for a stable quantile, few enough to follow a change. */
const WINDOW = 256;
/** Answers seen before the learned ratio is trusted; until then requests ask WARMUP_FACTOR x their prior. */
const WARMUP_ANSWERS = 8;
const WARMUP_FACTOR = 1.5;
/**
 * max_tokens is the prior x the learned ratio at this quantile x (1 + SIZE_MARGIN). A cut answer
 * keeps its whole documents and only the rest are asked again (lib/llm/cut-answer.ts), so a cut
 * costs little: the reservation can sit near the typical answer. Against a 300K TPM limit on the
 * simulator, tokens spent came to 89% of the limit at the 90th percentile + 8%, 93% at the 75th + 3%.
 */
const SIZE_QUANTILE = 0.75;
const SIZE_MARGIN = 0.03;
/** A cut answer is asked again with this many times the max_tokens it was cut at (up to the cap). */
const ESCALATION = 1.5;
/** Fewest tokens a request asks for: a tiny answer still needs its frame and one document's object. */
const MIN_MAX_TOKENS = 64;

export class OutputModel {
  private readonly ratios: number[] = [];
  private next = 0;
  private sorted: number[] | undefined;

  constructor(private readonly cap: number) {}

  /** Answers observed so far (in the window). */
  get observed(): number {
    return this.ratios.length;
  }

  /** The learned ratio at quantile q (1 before any answer: the prior as it is). */
  ratio(q: number): number {
    if (this.ratios.length === 0) return 1;
    this.sorted ??= [...this.ratios].sort((a, b) => a - b);
    const s = this.sorted;
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  }

  /** The answer expected for a request of this prior (the median learned ratio). */
  expected(prior: number): number {
    return prior * this.ratio(0.5);
  }

  /** max_tokens for a request whose answer's prior is `prior`. */
  maxTokens(prior: number): number {
    const factor = this.ratios.length < WARMUP_ANSWERS ? Math.max(WARMUP_FACTOR, this.ratio(1)) : this.ratio(SIZE_QUANTILE) * (1 + SIZE_MARGIN);
    return this.clamp(Math.ceil(prior * factor));
  }

  /** max_tokens for asking again an answer cut off at `cutAt`; undefined when it was cut at the cap. */
  escalated(cutAt: number): number | undefined {
    if (cutAt >= this.cap) return undefined;
    return this.clamp(Math.ceil(cutAt * ESCALATION));
  }

  /**
   * An answer of `completion` tokens to a request of this prior. A cut answer says only that the
   * whole would have been longer: it is counted as the tokens it was cut at, a lower bound, which
   * still pulls the quantile up when cuts are frequent.
   */
  observe(prior: number, completion: number): void {
    if (!(prior > 0) || !(completion >= 0)) return;
    const r = completion / prior;
    if (this.ratios.length < WINDOW) this.ratios.push(r);
    else this.ratios[this.next] = r;
    this.next = (this.next + 1) % WINDOW;
    this.sorted = undefined;
  }

  private clamp(n: number): number {
    return Math.min(this.cap, Math.max(MIN_MAX_TOKENS, n));
  }
}
