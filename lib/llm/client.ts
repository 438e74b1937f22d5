/**
 * The LLM client: the openai SDK pointed at OpenAI or any OpenAI-compatible server, and the
 * mapping of its errors (OpenAI's, and the bodies llama.cpp's server, vLLM and Ollama send) to our
 * codes. The SDK's own retries are off (retry/split owns retrying so
 * that attempts are counted, capped and split); its per-request timeout is used.
 */
import OpenAI from 'openai';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { defineOptions, type OptionsOf } from '../runtime/options.js';

/** --min-timeout-ms and --hedge-share when not given (docs/decisions.md, "A slow tail"). */
export const DEFAULT_MIN_TIMEOUT_MS = 10_000;
export const DEFAULT_HEDGE_SHARE = 0.05;

/** How to reach the server and how fast: shared by every pipeline that calls an OpenAI-compatible API. */
export const openaiConnectionOptionSpecs = defineOptions([
  { name: 'base-url', operational: true, type: 'string', description: 'An OpenAI-compatible server (llama.cpp, vLLM, Ollama, the simulator), e.g. http://127.0.0.1:8080/v1; needs no API key' },
  { name: 'rpm', operational: true, type: 'integer', min: 1, description: "Client-side budget of requests per minute (the server's x-ratelimit headers are followed as well)" },
  { name: 'tpm', operational: true, type: 'integer', min: 1, description: 'Client-side budget of tokens per minute, counted as the API does: prompt + max-output-tokens' },
  {
    name: 'timeout-ms',
    operational: true,
    type: 'integer',
    default: 120_000,
    min: 100,
    description:
      "Longest a request may take; a request past its deadline is retried. The deadline is learned from the run's answered requests (3 x the predicted p99 for the request's size), within --min-timeout-ms and this",
  },
  // No `default` on these two: the fields stay optional for library callers; the DEFAULT_ constants apply.
  {
    name: 'min-timeout-ms',
    operational: true,
    type: 'integer',
    min: 100,
    defaultLabel: String(DEFAULT_MIN_TIMEOUT_MS),
    description: 'Floor of the learned per-request deadline (set it to --timeout-ms for a fixed timeout)',
  },
  {
    name: 'hedge-share',
    operational: true,
    type: 'number',
    defaultLabel: String(DEFAULT_HEDGE_SHARE),
    min: 0,
    max: 1,
    description: 'A request unanswered past its predicted p99 is sent a second time (first answer wins; it may be billed twice): at most this share of requests; 0 turns hedging off',
  },
]);

/** The resolved values of openaiConnectionOptionSpecs. */
export type ConnectionOptions = OptionsOf<typeof openaiConnectionOptionSpecs>;

/** Just the connection fields of a pipeline's resolved options. */
export function connectionOf(o: ConnectionOptions): ConnectionOptions {
  return {
    baseUrl: o.baseUrl,
    rpm: o.rpm,
    tpm: o.tpm,
    timeoutMs: o.timeoutMs,
    ...(o.minTimeoutMs !== undefined ? { minTimeoutMs: o.minTimeoutMs } : {}),
    ...(o.hedgeShare !== undefined ? { hedgeShare: o.hedgeShare } : {}),
  };
}

export interface ClientOptions {
  baseUrl?: string;
  /** From OPENAI_API_KEY; a local server needs none. Never logged. */
  apiKey?: string;
  timeoutMs: number;
}

/** Local servers (llama.cpp, vLLM, Ollama) accept any key; the SDK insists on one. */
const PLACEHOLDER_KEY = 'sk-no-key-needed';

export function createClient(o: ClientOptions): OpenAI {
  return new OpenAI({ apiKey: o.apiKey || PLACEHOLDER_KEY, baseURL: o.baseUrl, maxRetries: 0, timeout: o.timeoutMs });
}

const KEY_PATTERN = /\b(sk|sess|rk)-[A-Za-z0-9_*-]{6,}/g;

/** Removes anything shaped like an API key (and the key itself) from text that may reach output. */
export function redact(text: string, apiKey?: string): string {
  let out = text;
  if (apiKey && apiKey.length >= 4) out = out.split(apiKey).join('***');
  return out.replace(KEY_PATTERN, '$1-***');
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms)) return ms;
  const s = headers.get('retry-after');
  if (s === null) return undefined;
  const secs = Number(s);
  if (Number.isFinite(secs)) return secs * 1000;
  const date = Date.parse(s);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * Maps an SDK error to a SluiceError whose code tells retry/split what to do. `endpoint` (the URL
 * the request went to, without credentials) is named in the messages that ask the user to act.
 */
export function classifyError(err: unknown, apiKey: string | undefined, aborted: boolean, endpoint?: string): SluiceError {
  if (err instanceof SluiceError) return err;
  if (aborted || err instanceof OpenAI.APIUserAbortError) return new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new SluiceError(ErrorCode.TRANSIENT, 'request timed out');
  // Refused, reset, DNS, TLS: nothing the document did; the run's circuit counts it (serverSide).
  if (err instanceof OpenAI.APIConnectionError)
    return new SluiceError(ErrorCode.TRANSIENT, `connection failed${endpoint ? ` to ${endpoint}` : ''}: ${redact(causeOf(err), apiKey)}`, { serverSide: true });
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    const detail = redact(err.message, apiKey);
    const at = endpoint ? ` from ${endpoint}` : '';
    if (status === 401 || status === 403) {
      // The server's message can echo part of the key: say nothing of it.
      return new SluiceError(ErrorCode.FATAL, `the API refused the credentials (HTTP ${status}); check OPENAI_API_KEY or --base-url`);
    }
    if (status === 404) return new SluiceError(ErrorCode.FATAL, `not found (HTTP 404${at}): ${detail}; check --model and --base-url`);
    if (NOT_SERVED.has(status)) {
      // e.g. llama.cpp's server started without --embeddings: every request would fail alike.
      return new SluiceError(ErrorCode.FATAL, `the server does not serve this request (HTTP ${status}${at}): ${detail}; check --base-url and the options the server was started with`);
    }
    if (status === 429) {
      if (err.code === 'insufficient_quota') return new SluiceError(ErrorCode.FATAL, `quota exhausted (HTTP 429 insufficient_quota): ${detail}`);
      return new SluiceError(ErrorCode.TRANSIENT, `rate limited (HTTP 429): ${detail}`, { retryAfterMs: retryAfterMs(err.headers) });
    }
    // Before the parameter rule: vLLM names the parameter ("input_tokens") of a context overflow.
    if (isTooLarge(err)) return new SluiceError(ErrorCode.SPLIT_REQUIRED, `context length exceeded (HTTP ${status}): ${detail}`);
    if (status === 400 && err.param && err.param !== 'messages' && err.param !== 'input') {
      // A parameter the server does not take (e.g. --dimensions on an old model) fails every request alike.
      return new SluiceError(ErrorCode.FATAL, `the server refused the request parameter "${err.param}" (HTTP 400): ${detail}`);
    }
    if (isServerLoading(err)) return new SluiceError(ErrorCode.TRANSIENT, `the server is still loading its model (HTTP 503): ${detail}`, { retryAfterMs: retryAfterMs(err.headers) });
    if (status === 408 || status === 409) return new SluiceError(ErrorCode.TRANSIENT, `server error (HTTP ${status}${at}): ${detail}`, { retryAfterMs: retryAfterMs(err.headers) });
    if (status >= 500) return new SluiceError(ErrorCode.TRANSIENT, `server error (HTTP ${status}${at}): ${detail}`, { retryAfterMs: retryAfterMs(err.headers), serverSide: true });
    return new SluiceError(ErrorCode.EXTRACT, `request refused (HTTP ${status}): ${detail}`);
  }
  return new SluiceError(ErrorCode.EXTRACT, redact(err instanceof Error ? err.message : String(err), apiKey));
}

/** The endpoint is not there at all (405 Method Not Allowed, 501 Not Implemented), like a 404. */
const NOT_SERVED = new Set([405, 501]);

/**
 * How servers say a request is over the model's context, which only a smaller request can cure.
 * Codes where the server gives one; otherwise its message, as it reads in the server's source.
 */
const TOO_LARGE_CODES = new Set([
  'context_length_exceeded', // OpenAI (error.code)
  'exceed_context_size_error', // llama.cpp's server (error.type): "request (N tokens) exceeds the available context size (M tokens)"
]);
const TOO_LARGE_MESSAGES = [
  // OpenAI and vLLM: "This model's maximum context length is 4096 tokens. However, you requested ..."
  /maximum context length is \d+ tokens/i,
  // llama.cpp's server, embeddings over its batch (HTTP 500): "input (N tokens) is too large to process. increase the physical batch size"
  /too large to process\. increase the physical batch size/i,
  // Ollama: "the input length exceeds the context length" (older: "input length exceeds maximum context length")
  /input length exceeds (?:the|maximum) context length/i,
];
/** Statuses a context overflow comes with: 400 (most) and 500 (llama.cpp's embeddings); a 413 always is one. */
const TOO_LARGE_STATUSES = new Set([400, 500]);

function isTooLarge(err: InstanceType<typeof OpenAI.APIError>): boolean {
  if (err.status === 413) return true;
  if (!TOO_LARGE_STATUSES.has(err.status ?? 0)) return false;
  if (TOO_LARGE_CODES.has(String(err.code)) || TOO_LARGE_CODES.has(String(err.type))) return true;
  return TOO_LARGE_MESSAGES.some((re) => re.test(err.message));
}

/**
 * A server that is up but still loading its model: llama.cpp's server answers every request with
 * 503 {"error":{"message":"Loading model","type":"unavailable_error"}} until it is ready. Such an
 * answer is waited out (pacedRequest), not counted as a failed attempt.
 */
export function isServerLoading(err: unknown): boolean {
  return err instanceof OpenAI.APIError && err.status === 503 && /\bloading model\b/i.test(err.message);
}

/**
 * The SDK's message ("Connection error.") and the system's reason beneath it: fetch wraps the
 * socket's error (ECONNREFUSED, ENOTFOUND, a TLS code) a cause or two down.
 */
function causeOf(err: Error): string {
  let deepest = '';
  let cause: unknown = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause && typeof cause === 'object' && depth < 4; depth++, cause = (cause as { cause?: unknown }).cause) {
    const code = 'code' in cause ? String((cause as { code: unknown }).code) : '';
    const message = cause instanceof Error ? cause.message : '';
    if (code) return `${err.message} ${code}${message && !message.includes(code) ? ` ${message}` : ''}`;
    deepest = message || deepest;
  }
  // No system code (e.g. fetch's "bad port"): the innermost message is the reason.
  return deepest ? `${err.message} (${deepest})` : err.message;
}
