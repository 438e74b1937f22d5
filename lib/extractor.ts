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
   * (lib/errors.ts). Chunks absent from the answer are treated as missing and sent again.
   * `run` (when given) is the run's context: its counters and observer (cache hits, request
   * durations); `signal` is its stop signal.
   */
  extract(pack: Pack, signal: AbortSignal, run?: RunContext): Promise<PackAnswer>;
  close(): Promise<void>;
}
