/**
 * How an extractor is composed, after undici's interceptors: a request codec turns the pack into
 * one request (lib/runtime/extractor.ts RequestCodec), then a chain of Dispatch functions carries
 * it: wrappers (the response cache) around a transport (live requests, the Batch API). A cache or
 * a transport is added by wrapping, not by a flag inside the client. Retry/split wraps the whole
 * extractor (stages/retry-split.ts), as the Redis transport replaces it (lib/scale/remote-runner.ts).
 */
import type OpenAI from 'openai';
import type { Extractor, PackRequest, RequestCodec } from '../runtime/extractor.js';
import type { Pack, PackAnswer } from '../runtime/records.js';
import type { RunContext } from '../runtime/run-context.js';

/** Carries one pack's request and hands back its answer, validated by `request.read`. */
export type Dispatch = (pack: Pack, request: PackRequest, signal: AbortSignal, run?: RunContext) => Promise<PackAnswer>;

/** A behaviour added around a dispatch (a cache, a fallback). */
export type Interceptor = (next: Dispatch) => Dispatch;

/** A codec with what the transports need to know of its API: sizes, how to send, what was billed. */
export interface ApiCodec extends RequestCodec {
  /** The live extractor's name (summary, metrics). */
  readonly name: string;
  /** Prompt tokens around the documents, and per chunk beyond its text (the pack budget). */
  readonly templateTokens: number;
  readonly perChunkTokens: number;
  /** The most tokens a request may add beyond its prompt (--max-output-tokens; 0 for embeddings): what a batch line asks. A live request asks its own `PackRequest.outputTokens`. */
  readonly outputTokens: number;
  /** Sends one body with the SDK method of the codec's endpoint; `timeoutMs`: this request's deadline. */
  send(client: OpenAI, body: object, signal: AbortSignal, timeoutMs?: number): Promise<{ data: unknown; response: Response }>;
  /** The completion tokens of an answer, which its latency grows with (the latency model's size); none: 0. */
  answerTokens?(data: unknown): number | undefined;
  /** The prompt tokens the server says it billed; undefined: the reservation stands. */
  billed(data: unknown): number | undefined;
}

export interface ComposedOptions {
  name: string;
  concurrency: number;
  /** What closing the extractor closes (what its transport opened). */
  close?: () => Promise<void>;
}

/** An Extractor that runs each pack's request (from `codec`) through `dispatch`. */
export function composedExtractor(codec: ApiCodec, dispatch: Dispatch, o: ComposedOptions): Extractor {
  return {
    name: o.name,
    templateTokens: codec.templateTokens,
    perChunkTokens: codec.perChunkTokens,
    concurrency: o.concurrency,
    // Async, so a pack the codec refuses (too many inputs) is a rejection like any other failure.
    extract: async (pack, signal, run) => dispatch(pack, codec.request(pack), signal, run),
    close: o.close ?? (async () => {}),
  };
}
