/**
 * POST /v1/chat/completions: the request checked and measured as the API does (messages, context
 * length, max_tokens), the knowledge-graph answer built from the offline extractor, cut to max_tokens,
 * admitted past the rate limits, possibly faulted (transport faults, or a damaged answer: omitted or
 * invented documents, truncated or malformed JSON), queued for a slot (slots.ts), and sent after the
 * latency model's delay.
 */
import type { Answer } from '../lib/llm/kg-answer.js';
import { admit, transportFault } from './admission.js';
import { buildAnswer, contentText, requestDocuments, typeFilter } from './answer.js';
import { alive, hungUp, reply, type Route, type SimulatorCore } from './core.js';
import { FAULT_KINDS, inventDocument, omitDocument } from './faults.js';
import { invalidRequest, requestId } from './http.js';
import { positiveIntOrUndefined, requireModel } from './request-checks.js';

/** Chat framing as OpenAI counts it: per message, and the reply priming. */
const TOKENS_PER_MESSAGE = 4;
const REPLY_PRIMING = 3;

/** A chat request checked and measured as the API does, before any answer is built. */
export function prepareChat(core: SimulatorCore, body: Record<string, unknown>) {
  const model = requireModel(body);
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalidRequest("Missing required parameter: 'messages'.", 'messages');
  if (body.stream === true) throw invalidRequest('The simulator does not support streaming (stream: true).', 'stream');
  const messages = body.messages as unknown[];
  let promptTokens = REPLY_PRIMING;
  for (const [i, m] of messages.entries()) {
    if (typeof m !== 'object' || m === null) throw invalidRequest(`Invalid type for 'messages[${i}]': expected an object.`, `messages[${i}]`);
    const text = contentText((m as { content?: unknown }).content);
    if (text === undefined) throw invalidRequest(`Invalid content of 'messages[${i}]'.`, `messages[${i}].content`);
    promptTokens += TOKENS_PER_MESSAGE + core.tokens.count(model, text);
  }
  if (promptTokens > core.o.contextTokens) {
    throw invalidRequest(
      `This model's maximum context length is ${core.o.contextTokens} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`,
      'messages',
      'context_length_exceeded',
    );
  }
  const maxTokens = positiveIntOrUndefined(body.max_completion_tokens, 'max_completion_tokens') ?? positiveIntOrUndefined(body.max_tokens, 'max_tokens');
  const docs = requestDocuments(messages as { role?: unknown; content?: unknown }[]);
  return { model, promptTokens, maxTokens, docs, filter: typeFilter(body.response_format) };
}

/**
 * The content cut to max_tokens, as the API cuts it (finish_reason "length"), and its tokens.
 * `known`: the content's token count when already counted (encoding is most of the simulator's CPU).
 */
export function capped(
  core: SimulatorCore,
  model: string,
  content: string,
  maxTokens: number | undefined,
  known?: number,
): { content: string; finishReason: 'stop' | 'length'; completionTokens: number } {
  const n = known ?? core.tokens.count(model, content);
  if (maxTokens === undefined || n <= maxTokens) return { content, finishReason: 'stop', completionTokens: n };
  const cut = core.tokens.prefix(model, content, maxTokens);
  return { content: cut, finishReason: 'length', completionTokens: core.tokens.count(model, cut) };
}

export function completionBody(model: string, content: string, finishReason: 'stop' | 'length', promptTokens: number, completionTokens: number) {
  return {
    id: `chatcmpl-${requestId()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, finish_reason: finishReason, logprobs: null }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    service_tier: 'default',
    system_fingerprint: null,
  };
}

export function chatRoute(core: SimulatorCore): Route {
  const { tokens, drawer, o, stats } = core;
  return async (req, res, body, common) => {
    const { model, promptTokens, maxTokens, docs, filter } = prepareChat(core, body);

    // With max_tokens the cost is known up front (OpenAI counts max_tokens); without it the
    // simulator counts the completion it is about to give, so it answers before admitting.
    let limitHeaders = maxTokens !== undefined ? admit(core, model, promptTokens + maxTokens) : undefined;
    let answer: Answer = await buildAnswer(docs, filter, core.cache);
    alive(core);
    const full = JSON.stringify(answer);
    const fullTokens = limitHeaders ? undefined : tokens.count(model, full);
    limitHeaders ??= admit(core, model, promptTokens + fullTokens!);
    const headers = { ...common, ...limitHeaders };

    const applicable = docs.length >= 2 ? FAULT_KINDS : FAULT_KINDS.filter((k) => k !== 'omit');
    const fault = drawer.draw(applicable);
    if (await transportFault(core, fault, req, res, headers)) return;

    if (fault === 'omit') answer = omitDocument(answer, drawer);
    if (fault === 'invent')
      answer = inventDocument(
        answer,
        docs.map((d) => d.id),
        drawer,
      );
    const changed = fault === 'omit' || fault === 'invent';
    let { content, finishReason, completionTokens } = capped(core, model, changed ? JSON.stringify(answer) : full, maxTokens, changed ? undefined : fullTokens);
    if (fault === 'truncated') {
      content = tokens.prefix(model, content, Math.floor(completionTokens / 2));
      finishReason = 'length';
    }
    if (fault === 'malformed') content = content.slice(0, Math.floor(content.length / 2));
    if (fault) stats.fault(fault);
    if (fault === 'truncated' || fault === 'malformed') completionTokens = tokens.count(model, content);

    // A slots server queues what it cannot serve: the wait is part of the latency (slots.ts).
    const release = await core.slots.acquire(hungUp(res));
    alive(core);
    try {
      await core.timers.sleep(o.latencyMs + o.msPerToken * completionTokens);
    } finally {
      release();
    }
    alive(core);
    stats.current.promptTokens += promptTokens;
    stats.current.completionTokens += completionTokens;
    stats.current.answeredAdmittedTokens += promptTokens + (maxTokens ?? fullTokens!);
    if (finishReason === 'length') stats.cut(promptTokens, completionTokens);
    reply(core, res, 200, completionBody(model, content, finishReason, promptTokens, completionTokens), headers);
  };
}
