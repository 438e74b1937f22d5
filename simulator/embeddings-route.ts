/**
 * POST /v1/embeddings: the inputs checked and measured as the API does (strings or token arrays,
 * the context length, dimensions, float or base64), deterministic vectors (embeddings.ts), admitted
 * past the rate limits, possibly dealt a transport fault, queued for a slot (slots.ts), and sent after
 * the fixed latency.
 */
import { admit, transportFault } from './admission.js';
import { alive, hungUp, reply, type Route, type SimulatorCore } from './core.js';
import { embeddingVector, float32Base64 } from './embeddings.js';
import { TRANSPORT_FAULTS } from './faults.js';
import { invalidRequest } from './http.js';
import { positiveIntOrUndefined, requireModel } from './request-checks.js';

/** `input` as the API accepts it: a string, strings, a token array, or token arrays. */
function embeddingInputs(input: unknown): (string | number[])[] {
  const isTokens = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((n) => Number.isInteger(n));
  let inputs: (string | number[])[];
  if (typeof input === 'string') inputs = [input];
  else if (isTokens(input)) inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string' || isTokens(x))) inputs = input as (string | number[])[];
  else throw invalidRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", 'input');
  if (inputs.some((i) => i === '')) throw invalidRequest("'$.input' is invalid: an input is an empty string.", 'input');
  return inputs;
}

/** An embeddings request checked and measured as the API does. */
export function prepareEmbeddings(core: SimulatorCore, body: Record<string, unknown>) {
  const model = requireModel(body);
  const inputs = embeddingInputs(body.input);
  const dimensions = positiveIntOrUndefined(body.dimensions, 'dimensions');
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw invalidRequest(`Invalid value for 'encoding_format': expected 'float' or 'base64'.`, 'encoding_format', 'invalid_value');
  const counts = inputs.map((i) => (typeof i === 'string' ? core.tokens.count(model, i) : i.length));
  const over = counts.findIndex((c) => c > core.o.contextTokens);
  if (over !== -1) {
    throw invalidRequest(
      `This model's maximum context length is ${core.o.contextTokens} tokens, however you requested ${counts[over]} tokens (${counts[over]} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
      'input',
      'context_length_exceeded',
    );
  }
  return { model, inputs, dimensions, format, promptTokens: counts.reduce((a, b) => a + b, 0) };
}

export function embeddingsBody(e: ReturnType<typeof prepareEmbeddings>) {
  const data = e.inputs.map((input, index) => {
    const v = embeddingVector(input, e.model, e.dimensions);
    return { object: 'embedding', index, embedding: e.format === 'base64' ? float32Base64(v) : Array.from(v) };
  });
  return { object: 'list', data, model: e.model, usage: { prompt_tokens: e.promptTokens, total_tokens: e.promptTokens } };
}

export function embeddingsRoute(core: SimulatorCore): Route {
  return async (req, res, body, common) => {
    const e = prepareEmbeddings(core, body);
    const headers = { ...common, ...admit(core, e.model, e.promptTokens) };
    if (await transportFault(core, core.drawer.draw(TRANSPORT_FAULTS), req, res, headers)) return;
    const answer = embeddingsBody(e);
    const release = await core.slots.acquire(hungUp(res));
    alive(core);
    try {
      await core.timers.sleep(core.o.latencyMs);
    } finally {
      release();
    }
    alive(core);
    core.stats.current.promptTokens += e.promptTokens;
    reply(core, res, 200, answer, headers);
  };
}
