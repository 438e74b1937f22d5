/**
 * The response cache (`--cache`) as a wrapper between the codec and the transport: a request whose
 * body was answered before is served from the cache (marked `cached`: not billed again); any other
 * goes on, and its answer is stored once the codec has validated it (an invalid answer throws
 * first, so it is never cached). The key is the endpoint plus the body as sent
 * (lib/llm/response-cache.ts): the ids D1..Dn are in the prompt, so the body alone says what an
 * answer's ids mean.
 *
 * An answer cut off at max_tokens is not cached, but remembered: when an earlier run saw the same
 * request cut off, it is not sent; the wrapper throws the truncation error the answer gave, so
 * retry/split takes the same path as then (a pack is split, and its halves hit the cache).
 */
import { cachedAnswer, requestKey, type ResponseCache, type Truncation } from '../llm/response-cache.js';
import { ErrorCode, SluiceError, codeOf, messageOf } from '../runtime/errors.js';
import type { Interceptor } from './dispatch.js';

/**
 * The truncation an earlier run saw, thrown again without a request. `cached`: not sent, and its
 * usage (what that attempt was billed then) is counted as reused, not billed, like a cached answer's,
 * so the documents' usage and so the output are the same as the first run's.
 */
export class RememberedTruncation extends SluiceError {
  readonly cached = true;
  constructor(cut: Truncation, cutAt: number, askTokens: number | undefined) {
    super(ErrorCode.TRUNCATED, cut.reason, { usage: cut.usage, cutAt, ...(askTokens !== undefined ? { askTokens } : {}) });
  }
}

/** `endpoint`: the server's base URL and the codec's path, as endpointOf() gives it. */
export function withCache(cache: ResponseCache, endpoint: string): Interceptor {
  // Keys this process marked: within the run that saw the cut, a retry of a lone chunk is sent again
  // (it may come out whole), as without a cache; only a later run replays the marker. Only cut
  // requests are held, a small share of all.
  const markedHere = new Set<string>();
  return (next) => async (pack, request, signal, run) => {
    const key = requestKey(endpoint, request.body);
    const hit = cachedAnswer(cache, key, undefined, (stored) => request.readStored?.(stored));
    if (hit) {
      if (run) run.stats.cacheHits++;
      return hit;
    }
    const cut = markedHere.has(key.toString('hex')) ? undefined : cache.truncation(key);
    if (cut !== undefined) {
      if (run) run.stats.cacheHits++;
      throw new RememberedTruncation(cut, request.outputTokens, request.askAfterCut?.(request.outputTokens));
    }
    if (run) run.stats.cacheMisses++;
    const storing = {
      ...request,
      read: (data: unknown) => {
        let answer;
        try {
          answer = request.read(data);
        } catch (err) {
          if (codeOf(err) === ErrorCode.TRUNCATED) {
            markedHere.add(key.toString('hex'));
            const usage = (err as SluiceError).usage ?? { promptTokens: 0, completionTokens: 0 };
            cache.markTruncated(key, { reason: messageOf(err), usage });
          }
          throw err;
        }
        const stored = request.toStore?.(data);
        if (stored !== undefined) cache.put(key, stored);
        return answer;
      },
    };
    return next(pack, storing, signal, run);
  };
}
