/**
 * How real servers' HTTP answers are classified, with the bodies they send: llama.cpp's server
 * (recorded from Debian's llama-server 0.7.0, see docs/llama-server.md), vLLM and Ollama (as their
 * issue trackers quote them). And the waiting out of a server that is still loading its model.
 */
import t from 'tap';
import OpenAI from 'openai';
import { classifyError, isServerLoading } from '../lib/llm/client.js';
import { pacedRequest } from '../lib/llm/request.js';
import { RateLimiter } from '../lib/llm/rate-limiter.js';
import type { RequestStatus } from '../lib/runtime/run-context.js';

const ENDPOINT = 'http://127.0.0.1:8080/v1/embeddings';
const answer = (status: number, body: unknown) => OpenAI.APIError.generate(status, body as object, undefined, new Headers());
const classify = (status: number, body: unknown) => classifyError(answer(status, body), undefined, false, ENDPOINT);

const LLAMA_NO_EMBEDDINGS = { error: { code: 501, message: 'This server does not support embeddings. Start it with `--embeddings`', type: 'not_supported_error' } };
const LLAMA_CONTEXT = {
  error: { code: 400, message: 'request (494 tokens) exceeds the available context size (256 tokens), try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 494, n_ctx: 256 },
};
const LLAMA_EMBEDDING_BATCH = { error: { code: 500, message: 'input (9002 tokens) is too large to process. increase the physical batch size (current batch size: 512)', type: 'server_error' } };
const LLAMA_LOADING = { error: { message: 'Loading model', type: 'unavailable_error', code: 503 } };

t.test("llama.cpp: 501 (no --embeddings) is fatal and names the status, the URL and the server's advice", async (t) => {
  const e = classify(501, LLAMA_NO_EMBEDDINGS);
  t.match(e, { code: 'E_FATAL', message: /HTTP 501/ });
  t.match(e.message, ENDPOINT);
  t.match(e.message, /Start it with `--embeddings`/);
  t.match(classify(405, { error: { message: 'Method Not Allowed' } }), { code: 'E_FATAL', message: /HTTP 405/ });
  t.match(classify(404, { error: { message: 'File Not Found', type: 'not_found_error', code: 404 } }), { code: 'E_FATAL', message: `HTTP 404 from ${ENDPOINT}` });
});

t.test('llama.cpp: a context overflow is too large (split), the chat one and the embeddings one', async (t) => {
  t.match(classify(400, LLAMA_CONTEXT), { code: 'E_SPLIT_REQUIRED', message: /context length exceeded \(HTTP 400\)/ });
  t.match(classify(500, LLAMA_EMBEDDING_BATCH), { code: 'E_SPLIT_REQUIRED', message: /HTTP 500/ });
});

t.test('vLLM: a context overflow is too large, also when it names a parameter', async (t) => {
  // Recent vLLM: wrapped in "error", with a param (which alone would read as a refused parameter: fatal).
  const recent = {
    error: {
      message:
        "This model's maximum context length is 2048 tokens. However, your request has 8 input tokens plus 2045 'max_tokens'. Please reduce one or the other. (parameter=input_tokens, max_tokens, value=(8, 2045))",
      type: 'BadRequestError',
      param: 'input_tokens, max_tokens',
      code: 400,
    },
  };
  const inputOnly = {
    error: {
      message: "This model's maximum context length is 3 tokens. However, your request has 8 input tokens. Please reduce the length of the input messages. (parameter=input_tokens, value=8)",
      type: 'BadRequestError',
      param: 'input_tokens',
      code: 400,
    },
  };
  const older = {
    error: {
      message:
        "This model's maximum context length is 16384 tokens. However, you requested 122946 tokens (112946 in the messages, 10000 in the completion). Please reduce the length of the messages or completion.",
      type: 'BadRequestError',
      param: null,
      code: 400,
    },
  };
  for (const body of [recent, inputOnly, older]) t.match(classify(400, body), { code: 'E_SPLIT_REQUIRED' });
});

t.test('Ollama: "the input length exceeds the context length" is too large, native and OpenAI-shaped', async (t) => {
  t.match(classify(400, { error: 'the input length exceeds the context length' }), { code: 'E_SPLIT_REQUIRED' });
  t.match(classify(400, { error: 'input length exceeds maximum context length' }), { code: 'E_SPLIT_REQUIRED' });
  t.match(classify(400, { error: { message: 'the input length exceeds the context length', type: 'invalid_request_error' } }), { code: 'E_SPLIT_REQUIRED' });
  t.match(classify(413, { error: { message: 'Payload Too Large' } }), { code: 'E_SPLIT_REQUIRED' });
});

t.test('other answers keep their classes', async (t) => {
  t.match(classify(400, { error: { message: 'bad request', type: 'invalid_request_error' } }), { code: 'E_EXTRACT' });
  t.match(classify(500, { error: { message: 'boom', type: 'server_error' } }), { code: 'E_TRANSIENT' });
  t.match(classify(503, { error: { message: 'server busy, please try again. maximum pending requests exceeded' } }), { code: 'E_TRANSIENT' });
  t.notOk(isServerLoading(answer(503, { error: { message: 'server busy, please try again.' } })), 'busy is not loading');
});

t.test('llama.cpp: 503 "Loading model" is a server still loading (transient if it outlasts the wait)', async (t) => {
  t.ok(isServerLoading(answer(503, LLAMA_LOADING)));
  t.match(classify(503, LLAMA_LOADING), { code: 'E_TRANSIENT', message: /still loading its model \(HTTP 503\)/ });
});

/** A send that answers 503 "Loading model" `times` times, then 200. */
function loadingThenReady(times: number) {
  const statuses: RequestStatus[] = [];
  let calls = 0;
  const send = async () => {
    calls++;
    if (calls <= times) throw answer(503, LLAMA_LOADING);
    return { data: { ok: true }, response: new Response('{}', { status: 200 }) };
  };
  const observer = { requestEnded: (status: RequestStatus) => void statuses.push(status) };
  return { send, observer, statuses, calls: () => calls };
}

t.test('pacedRequest waits out a loading server: resent, not a failed attempt, every answer counted', async (t) => {
  const server = loadingThenReady(2);
  const limiter = new RateLimiter();
  const data = await pacedRequest({ limiter, reserve: 10, signal: new AbortController().signal, maxRetryAfterMs: 60_000, observer: server.observer }, server.send, () => undefined);
  t.same(data, { ok: true });
  t.equal(server.calls(), 3);
  t.same(server.statuses, ['503', '503', '200']);
});

t.test('pacedRequest: a server loading for longer than --max-retry-after-ms is a transient error', async (t) => {
  const server = loadingThenReady(Infinity);
  const started = Date.now();
  await t.rejects(
    pacedRequest({ limiter: new RateLimiter(), reserve: 10, signal: new AbortController().signal, maxRetryAfterMs: 300, observer: server.observer }, server.send, () => undefined),
    { code: 'E_TRANSIENT', message: /still loading/ },
  );
  t.ok(Date.now() - started >= 300, 'waited the whole bound');
  t.ok(server.calls() >= 2);
});

t.test('pacedRequest: a stop while waiting for a loading server abandons the request', async (t) => {
  const server = loadingThenReady(Infinity);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 100);
  await t.rejects(
    pacedRequest({ limiter: new RateLimiter(), reserve: 10, signal: stop.signal, maxRetryAfterMs: 60_000 }, server.send, () => undefined),
    { code: 'E_ABORTED' },
  );
});
