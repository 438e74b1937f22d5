/**
 * The Tier-1 benchmark's baseline (bench/tier1.ts): the loop a user writes by hand. One document per
 * request with the openai SDK and its default retries (2, with its own backoff and the server's
 * retry-after), a fixed number in flight, the same system prompt and response_format as kg (so it
 * asks the same thing), no max_tokens (a hand-written loop sets none). A document whose request
 * still fails, or whose answer is not JSON, is lost; the loss is counted by cause.
 */
import OpenAI from 'openai';
import { responseFormat } from '../lib/llm/kg-answer.js';
import { documentBlock, systemPrompt } from '../lib/llm/kg-prompt.js';

export interface LoopOptions {
  baseURL: string;
  model: string;
  concurrency: number;
}

export interface LoopResult {
  done: number;
  lost: number;
  /** Lost documents by HTTP status ("429") or "invalid-json" / "error". */
  lostBy: Record<string, number>;
}

export async function handLoop(docs: readonly { id: string; text: string }[], o: LoopOptions): Promise<LoopResult> {
  const client = new OpenAI({ baseURL: o.baseURL, apiKey: 'sk-bench-not-a-key' });
  const system = systemPrompt();
  const format = responseFormat();
  const lostBy: Record<string, number> = {};
  let next = 0;
  let done = 0;
  const lose = (why: string) => {
    lostBy[why] = (lostBy[why] ?? 0) + 1;
  };
  const worker = async () => {
    while (next < docs.length) {
      const doc = docs[next++]!;
      try {
        const answer = await client.chat.completions.create({
          model: o.model,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: documentBlock(doc.id, doc.text) },
          ],
          response_format: format,
          temperature: 0,
        });
        JSON.parse(answer.choices[0]?.message.content ?? '');
        done++;
      } catch (err) {
        if (err instanceof OpenAI.APIError && err.status !== undefined) lose(String(err.status));
        else lose(err instanceof SyntaxError ? 'invalid-json' : 'error');
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const lost = Object.values(lostBy).reduce((a, b) => a + b, 0);
  return { done, lost, lostBy };
}
