/**
 * The LLM client: the openai SDK pointed at OpenAI or any OpenAI-compatible server, and the
 * mapping of its errors to our codes. The SDK's own retries are off (retry/split owns retrying so
 * that attempts are counted, capped and split); its per-request timeout is used.
 */
import OpenAI from 'openai';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { defineOptions, type OptionsOf } from '../runtime/options.js';

/** How to reach the server and how fast: shared by every pipeline that calls an OpenAI-compatible API. */
export const openaiConnectionOptionSpecs = defineOptions([
  { name: 'base-url', operational: true, type: 'string', description: 'An OpenAI-compatible server (llama.cpp, vLLM, Ollama, the simulator), e.g. http://127.0.0.1:8080/v1; needs no API key' },
  { name: 'rpm', operational: true, type: 'integer', min: 1, description: 'Client-side budget of requests per minute (the server\'s x-ratelimit headers are followed as well)' },
  { name: 'tpm', operational: true, type: 'integer', min: 1, description: 'Client-side budget of tokens per minute, counted as the API does: prompt + max-output-tokens' },
  { name: 'timeout-ms', operational: true, type: 'integer', default: 120_000, min: 100, description: 'Per-request timeout; a request past it is retried' },
]);

/** The resolved values of openaiConnectionOptionSpecs. */
export type ConnectionOptions = OptionsOf<typeof openaiConnectionOptionSpecs>;

/** Just the connection fields of a pipeline's resolved options. */
export function connectionOf(o: ConnectionOptions): ConnectionOptions {
  return { baseUrl: o.baseUrl, rpm: o.rpm, tpm: o.tpm, timeoutMs: o.timeoutMs };
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

/** Maps an SDK error to a SluiceError whose code tells retry/split what to do. */
export function classifyError(err: unknown, apiKey: string | undefined, aborted: boolean): SluiceError {
  if (err instanceof SluiceError) return err;
  if (aborted || err instanceof OpenAI.APIUserAbortError) return new SluiceError(ErrorCode.ABORTED, 'request abandoned: the run is stopping');
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new SluiceError(ErrorCode.TRANSIENT, 'request timed out');
  if (err instanceof OpenAI.APIConnectionError) return new SluiceError(ErrorCode.TRANSIENT, `connection failed: ${redact(causeOf(err), apiKey)}`);
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    const detail = redact(err.message, apiKey);
    if (status === 401 || status === 403) {
      // The server's message can echo part of the key: say nothing of it.
      return new SluiceError(ErrorCode.FATAL, `the API refused the credentials (HTTP ${status}); check OPENAI_API_KEY or --base-url`);
    }
    if (status === 404) return new SluiceError(ErrorCode.FATAL, `not found (HTTP 404): ${detail}; check --model and --base-url`);
    if (status === 429) {
      if (err.code === 'insufficient_quota') return new SluiceError(ErrorCode.FATAL, `quota exhausted (HTTP 429 insufficient_quota): ${detail}`);
      return new SluiceError(ErrorCode.TRANSIENT, `rate limited (HTTP 429): ${detail}`, { retryAfterMs: retryAfterMs(err.headers) });
    }
    if (status === 400 && err.code === 'context_length_exceeded') return new SluiceError(ErrorCode.SPLIT_REQUIRED, `context length exceeded: ${detail}`);
    if (status === 400 && err.param && err.param !== 'messages' && err.param !== 'input') {
      // A parameter the server does not take (e.g. --dimensions on an old model) fails every request alike.
      return new SluiceError(ErrorCode.FATAL, `the server refused the request parameter "${err.param}" (HTTP 400): ${detail}`);
    }
    if (status === 408 || status === 409 || status >= 500) return new SluiceError(ErrorCode.TRANSIENT, `server error (HTTP ${status}): ${detail}`, { retryAfterMs: retryAfterMs(err.headers) });
    return new SluiceError(ErrorCode.EXTRACT, `request refused (HTTP ${status}): ${detail}`);
  }
  return new SluiceError(ErrorCode.EXTRACT, redact(err instanceof Error ? err.message : String(err), apiKey));
}

function causeOf(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String((cause as { code: unknown }).code) : '';
  return [err.message, code].filter(Boolean).join(' ');
}
