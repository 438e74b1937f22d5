/**
 * The output model: how many completion tokens a document's answer takes (docs/decisions.md,
 * "Requests sized to their answers"):
 *
 * - the prior, `answerPrior`: a fixed line in the chunk's tokens (options --answer-base-tokens and
 *   --answer-tokens-ratio). The packer and the dry run use it, so packs stay the same for the same
 *   input and options (resume, the cache and the Batch API depend on it);
 * - the request's max_tokens: the prior x ASK_FACTOR, also fixed, so that a run's requests, and so
 *   its output (each document's usage), are the same whatever ran before them: resumed or not,
 *   local or on scale-out workers;
 * - what the run measured: whole answers against their prior, which the summary turns into a hint
 *   when the prior is off (`priorHint`).
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

/**
 * max_tokens asked: the pack's prior x this. A cut answer keeps its whole documents and only the
 * rest are asked again (lib/llm/cut-answer.ts), so a cut costs little and the reservation can sit
 * near the typical answer: on the simulator a pack's answer ran 1.03x its prior at the 75th
 * percentile (bench/tpm-share.ts measures the share of a tpm limit this spends).
 */
export const ASK_FACTOR = 1.06;
/**
 * A lone chunk asks this much more instead: cut, it has no whole document to keep and is asked
 * again whole, and one document's answer strays further from its prior than a pack's sum (the
 * 90th percentile of a document's ratio was 1.30 on the simulator, a pack's 1.07).
 */
export const LONE_ASK_FACTOR = 1.3;
/** A cut answer with nothing whole is asked again with this many times the max_tokens it was cut at (up to the cap). */
const ESCALATION = 1.5;
/** Fewest tokens a request asks for: a tiny answer still needs its frame and one document's object. */
const MIN_MAX_TOKENS = 64;

/** max_tokens for a request of `chunks` chunks whose answer's prior is `prior`, under the cap: a function of the pack and the options only. */
export function askTokens(prior: number, cap: number, chunks: number): number {
  return clampAsk(Math.ceil(prior * (chunks > 1 ? ASK_FACTOR : LONE_ASK_FACTOR)), cap);
}

/** max_tokens for asking again an answer cut off at `cutAt` with nothing whole; undefined when it was cut at the cap. */
export function askAgain(cutAt: number, cap: number): number | undefined {
  return cutAt >= cap ? undefined : clampAsk(Math.ceil(cutAt * ESCALATION), cap);
}

function clampAsk(n: number, cap: number): number {
  return Math.min(cap, Math.max(MIN_MAX_TOKENS, n));
}

/** Answers measured before their ratio to the prior is worth a hint. */
const HINT_MIN_ANSWERS = 20;
/** How far answers may run from the prior (either way) before the summary says so. */
const HINT_TOLERANCE = 0.2;

/**
 * The prior that would have fitted the answers seen: `measured` whole answers of `answerTokens`
 * completion tokens against `expectedTokens` of prior. Undefined while too few were seen, or when
 * the prior is within 20% of them.
 */
export function priorHint(measured: number, answerTokens: number, expectedTokens: number, o: AnswerPriorOptions): { ratio: number; suggested: AnswerPriorOptions } | undefined {
  if (measured < HINT_MIN_ANSWERS || !(expectedTokens > 0)) return undefined;
  const ratio = answerTokens / expectedTokens;
  if (Math.abs(ratio - 1) <= HINT_TOLERANCE) return undefined;
  // Whole hundredths: options a user can type, without binary float tails.
  const round = (x: number, step: number) => Number((Math.round(x / step) * step).toFixed(2));
  return { ratio, suggested: { answerBaseTokens: round(o.answerBaseTokens * ratio, 1), answerTokensRatio: round(o.answerTokensRatio * ratio, 0.05) } };
}
