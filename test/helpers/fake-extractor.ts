/** A scripted extractor for tests: finds capitalised "entities" and fails on cue. */
import { ErrorCode, SluiceError } from '../../lib/runtime/errors.js';
import type { Extractor } from '../../lib/runtime/extractor.js';
import { chunkKey, type ChunkExtraction, type Pack, type PackAnswer } from '../../lib/runtime/records.js';

export interface FakeOptions {
  /** Throw this error for the n-th call (0-based), or when it returns an error for a pack. */
  failWith?: (pack: Pack, call: number) => Error | undefined;
  /** Leave chunks out of the answer. */
  omit?: (key: string, call: number) => boolean;
  delayMs?: number;
  concurrency?: number;
}

export function fakeExtractor(options: FakeOptions = {}): Extractor & { calls: Pack[]; inFlight: number; maxInFlight: number } {
  const state = {
    calls: [] as Pack[],
    inFlight: 0,
    maxInFlight: 0,
  };
  return Object.assign(state, {
    name: 'fake',
    templateTokens: 0,
    perChunkTokens: 0,
    concurrency: options.concurrency ?? 2,
    async extract(pack: Pack): Promise<PackAnswer> {
      const call = state.calls.length;
      state.calls.push(pack);
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        const err = options.failWith?.(pack, call);
        if (err) throw err;
        const chunks = new Map<string, ChunkExtraction>();
        for (const c of pack.chunks) {
          if (options.omit?.(chunkKey(c), call)) continue;
          chunks.set(chunkKey(c), entitiesOf(c.text));
        }
        return { chunks, usage: { promptTokens: pack.tokens, completionTokens: pack.chunks.length } };
      } finally {
        state.inFlight--;
      }
    },
    async close() {},
  });
}

export function entitiesOf(text: string): ChunkExtraction {
  const names = [...new Set(text.match(/\b[A-Z][a-z]+\b/g) ?? [])];
  return {
    entities: names.map((name) => ({ name, type: 'thing', mentions: text.split(name).length - 1 })),
    relations: names.length > 1 ? [{ source: names[0]!, target: names[1]!, type: 'related_to', count: 1 }] : [],
  };
}

export const transient = (msg = 'server busy') => new SluiceError(ErrorCode.TRANSIENT, msg);
export const tooLarge = () => new SluiceError(ErrorCode.SPLIT_REQUIRED, 'context_length_exceeded');
export const fatal = () => new SluiceError(ErrorCode.FATAL, 'invalid API key');
