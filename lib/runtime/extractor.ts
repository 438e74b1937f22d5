/**
 * The extractor interface: one pack in, extractions per chunk out. The offline NER extractor and
 * the LLM extractor both implement it, and retry/split wraps any of them, so tests inject fakes.
 */
import type { Pack, PackAnswer } from './records.js';
import type { RunContext } from './run-context.js';

export interface Extractor {
  readonly name: string;
  /** Prompt tokens around the documents (system prompt, instructions), for the pack budget. */
  readonly templateTokens: number;
  /** Tokens each chunk adds beyond its text (delimiter, id). */
  readonly perChunkTokens: number;
  /** Packs worth running at once (worker threads, or requests in flight). */
  readonly concurrency: number;
  /**
   * Extracts every chunk of the pack. Throws a SluiceError whose code tells retry/split what to do
   * (lib/runtime/errors.ts). Chunks absent from the answer are treated as missing and sent again.
   * `run` (when given) is the run's context: its counters and observer (cache hits, request
   * durations); `signal` is its stop signal.
   */
  extract(pack: Pack, signal: AbortSignal, run?: RunContext): Promise<PackAnswer>;
  close(): Promise<void>;
}

/**
 * How a pack becomes one API request body and how that request's answer becomes extractions: the
 * same for a live request and a batch input line, so both modes validate answers alike.
 */
export interface RequestCodec {
  /** The API path the bodies go to (a batch input line's `url`). */
  readonly url: '/v1/chat/completions' | '/v1/embeddings';
  /**
   * Throws a SluiceError when the pack cannot be one request (e.g. too many inputs). `outputTokens`
   * fixes max_tokens (a Batch API line asks the cap); otherwise the codec sizes it to the answer it
   * expects, or to the pack's askTokens after a cut-off.
   */
  request(pack: Pack, options?: { outputTokens?: number }): PackRequest;
}

export interface PackRequest {
  body: object;
  /** Prompt tokens of the body, counted exactly (rate and enqueued-token budgets). */
  promptTokens: number;
  /** Completion tokens the body asks for at most (max_tokens; 0 for embeddings): reserved with the prompt. */
  outputTokens: number;
  /** The max_tokens to ask again with when an answer was cut off at `cutAt`; undefined at the cap. */
  askAfterCut?(cutAt: number): number | undefined;
  /** Validates an answer body (untrusted) and maps it back to the pack's chunks; throws a SluiceError. */
  read(data: unknown): PackAnswer;
  /** Reads a stored answer (--cache); undefined when it is not whole (it is then asked again). */
  readStored?(stored: string): PackAnswer | undefined;
  /** What --cache keeps of a fresh answer, when it may be kept. */
  toStore?(data: unknown): string | undefined;
}
