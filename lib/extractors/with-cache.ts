/**
 * The response cache (`--cache`) as a wrapper between the codec and the transport: a request whose
 * body was answered before is served from the cache (marked `cached`: not billed again); any other
 * goes on, and its answer is stored once the codec has validated it (an invalid answer throws
 * first, so it is never cached). The key is the endpoint plus the body as sent
 * (lib/llm/response-cache.ts): the ids D1..Dn are in the prompt, so the body alone says what an
 * answer's ids mean.
 */
import { cachedAnswer, requestKey, type ResponseCache } from '../llm/response-cache.js';
import type { Interceptor } from './dispatch.js';

/** `endpoint`: the server's base URL and the codec's path, as endpointOf() gives it. */
export function withCache(cache: ResponseCache, endpoint: string): Interceptor {
  return (next) => async (pack, request, signal, run) => {
    const key = requestKey(endpoint, request.body);
    const hit = cachedAnswer(cache, key, run?.stats, (stored) => request.readStored?.(stored));
    if (hit) return hit;
    const storing = {
      ...request,
      read: (data: unknown) => {
        const answer = request.read(data);
        const stored = request.toStore?.(data);
        if (stored !== undefined) cache.put(key, stored);
        return answer;
      },
    };
    return next(pack, storing, signal, run);
  };
}
