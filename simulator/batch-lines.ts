/**
 * How the Batch API (batch.ts) answers a line: as the live endpoint answers the same body, without
 * its latency, rate limits or faults (a batch has its own), and what the line counts against the
 * enqueued-token limit.
 */
import { buildAnswer } from './answer.js';
import type { BatchHooks } from './batch.js';
import { capped, completionBody, prepareChat } from './chat-route.js';
import type { SimulatorCore } from './core.js';
import { embeddingsBody, prepareEmbeddings } from './embeddings-route.js';
import { HttpError } from './http.js';

export function batchHooks(core: SimulatorCore): BatchHooks {
  return {
    answer: async (url, body) => {
      try {
        if (url === '/v1/embeddings') {
          const e = prepareEmbeddings(core, body);
          core.stats.current.promptTokens += e.promptTokens;
          return { status: 200, body: embeddingsBody(e) };
        }
        const { model, promptTokens, maxTokens, docs, filter } = prepareChat(core, body);
        const answer = await buildAnswer(docs, filter, core.cache);
        const { content, finishReason, completionTokens } = capped(core, model, JSON.stringify(answer), maxTokens);
        core.stats.current.promptTokens += promptTokens;
        core.stats.current.completionTokens += completionTokens;
        if (finishReason === 'length') core.stats.cut(promptTokens, completionTokens);
        return { status: 200, body: completionBody(model, content, finishReason, promptTokens, completionTokens) };
      } catch (err) {
        if (err instanceof HttpError) return { status: err.status, body: err.body };
        throw err;
      }
    },
    // Prompt + max_tokens, as the enqueued-token limit counts; a line the API would refuse counts nothing.
    enqueuedTokens: (url, body) => {
      try {
        if (url === '/v1/embeddings') return prepareEmbeddings(core, body).promptTokens;
        const c = prepareChat(core, body);
        return c.promptTokens + (c.maxTokens ?? 0);
      } catch {
        return 0;
      }
    },
    counters: () => core.stats.current.batch,
  };
}
