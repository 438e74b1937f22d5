/**
 * An OpenAI-compatible HTTP simulator (node:http, 127.0.0.1 only) for tests and benchmarks: chat
 * completions that answer the knowledge-graph prompt with the offline extractor's findings per
 * document, deterministic embeddings, a latency model, rate limits with OpenAI's headers, context
 * length errors and seeded fault injection. No test ever needs a real API.
 *
 *   node simulator/openai-sim.js --port 8089 --latency-ms 200 --rpm 500 --tpm 200000 --fault-rate 0.1
 *
 * See docs/simulator.md.
 */
import { isMain } from '../lib/cli/is-main.js';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseArgs } from 'node:util';
import type { Answer } from '../lib/llm/kg-answer.js';
import { buildAnswer, contentText, ExtractionCache, loadExtractor, requestDocuments, typeFilter } from './answer.js';
import { embeddingVector, float32Base64 } from './embeddings.js';
import { FAULT_KINDS, FaultDrawer, inventDocument, isFaultKind, omitDocument, TRANSPORT_FAULTS, type FaultKind } from './faults.js';
import { BatchStore, emptyBatchCounters, isBatchPath, type BatchCounters, type BatchLineAnswer } from './batch.js';
import { errorBody, HttpError, invalidRequest, parseJsonObject, readBody, sendBytes, sendJson } from './http.js';
import { formatDuration, RateLimiter, type Admission } from './rate-limit.js';
import { acquireTokenTools } from './tokens.js';

export { FAULT_KINDS, type FaultKind } from './faults.js';
export { formatDuration } from './rate-limit.js';
export { acquireTokenTools } from './tokens.js';

export interface SimulatorOptions {
  /** 0 = ephemeral (default 0); the server always binds 127.0.0.1. */
  port?: number;
  /** Fixed cost per request, ms (default 0). */
  latencyMs?: number;
  /** Per output (completion) token, ms (default 0). */
  msPerToken?: number;
  /** Requests per minute (default: no limit). */
  rpm?: number;
  /** Tokens per minute, counting prompt tokens + max_tokens (or the expected completion) (default: no limit). */
  tpm?: number;
  /** Prompt tokens above this get 400 context_length_exceeded (default 128000). */
  contextTokens?: number;
  /** 0..1: probability that a request gets a fault (default 0). */
  faultRate?: number;
  /** The mix faults are drawn from (default: all kinds). */
  faults?: FaultKind[];
  /** Seed of the fault draws (default 1). */
  seed?: number;
  /** How long a "hang" fault stalls before closing the socket, ms (default 120000). */
  hangMs?: number;
  /** Batch API: time from creating a batch until it completes, ms (default 1000). */
  batchLatencyMs?: number;
  /** Batch API: share 0..1 of a batch's lines that go to its error file as server errors (default 0). */
  batchFaultRate?: number;
  /** Batch API: expire every batch once this share 0..1 of its lines is done (default: never). */
  batchExpire?: number;
  /** Batch API: enqueued-token limit (in-progress batches together); a batch over it fails with token_limit_exceeded (default: none). */
  batchMaxTokens?: number;
  /** Batch API: time a Files or Batches call takes, after its effect and before the reply, ms (default 0). */
  batchApiLatencyMs?: number;
}

export interface SimulatorStats {
  /** Requests received, /stats endpoints excluded (= sum of byStatus + faults.hang + faults.reset). */
  requests: number;
  /** Responses sent, by HTTP status ("200", "429", ...). */
  byStatus: Record<string, number>;
  /** Tokens billed in 200 answers. */
  promptTokens: number;
  completionTokens: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  /** Requests answered 429. */
  rateLimited: number;
  /** Tokens charged to the tpm budget by admitted requests (prompt + max_tokens, as OpenAI counts). */
  admittedTokens: number;
  /** The Batch API: files uploaded, batches created, batch lines processed (see batch.ts). */
  batch: BatchCounters;
}

export interface Simulator {
  /** Base URL for the openai client, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  stats(): SimulatorStats;
  /** Zeroes the statistics (rate-limit buckets and the fault sequence carry on). */
  reset(): void;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Chat framing as OpenAI counts it: per message, and the reply priming. */
const TOKENS_PER_MESSAGE = 4;
const REPLY_PRIMING = 3;
const ORGANIZATION = 'org-simulator';

const SERVER_ERRORS: Record<'500' | '502' | '503', string> = {
  '500': 'The server had an error while processing your request. Sorry about that!',
  '502': 'Bad gateway.',
  '503': 'The engine is currently overloaded, please try again later.',
};

interface Settings {
  port: number;
  latencyMs: number;
  msPerToken: number;
  rpm?: number;
  tpm?: number;
  contextTokens: number;
  faultRate: number;
  faults: FaultKind[];
  seed: number;
  hangMs: number;
  batchLatencyMs: number;
  batchFaultRate: number;
  batchExpire?: number;
  batchMaxTokens?: number;
  batchApiLatencyMs: number;
}

function check(name: string, value: number | undefined, fallback: number, test: (v: number) => boolean, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new RangeError(`simulator option ${name} must be ${what} (got ${String(value)})`);
  return v;
}

function settings(o: SimulatorOptions): Settings {
  const nonNegative = (v: number) => v >= 0;
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  const faults = o.faults ?? [...FAULT_KINDS];
  for (const f of faults) if (!isFaultKind(f)) throw new RangeError(`simulator option faults: unknown kind ${JSON.stringify(f)} (kinds: ${FAULT_KINDS.join(', ')})`);
  if (faults.length === 0) throw new RangeError('simulator option faults must name at least one kind');
  const s: Settings = {
    port: check('port', o.port, 0, (v) => Number.isInteger(v) && v >= 0 && v <= 65535, 'an integer 0..65535'),
    latencyMs: check('latencyMs', o.latencyMs, 0, nonNegative, '>= 0'),
    msPerToken: check('msPerToken', o.msPerToken, 0, nonNegative, '>= 0'),
    contextTokens: check('contextTokens', o.contextTokens, 128_000, positiveInt, 'a positive integer'),
    faultRate: check('faultRate', o.faultRate, 0, (v) => v >= 0 && v <= 1, 'between 0 and 1'),
    faults,
    seed: check('seed', o.seed, 1, Number.isInteger, 'an integer'),
    hangMs: check('hangMs', o.hangMs, 120_000, nonNegative, '>= 0'),
    batchLatencyMs: check('batchLatencyMs', o.batchLatencyMs, 1000, nonNegative, '>= 0'),
    batchFaultRate: check('batchFaultRate', o.batchFaultRate, 0, (v) => v >= 0 && v <= 1, 'between 0 and 1'),
    batchApiLatencyMs: check('batchApiLatencyMs', o.batchApiLatencyMs, 0, nonNegative, '>= 0'),
  };
  if (o.batchExpire !== undefined) s.batchExpire = check('batchExpire', o.batchExpire, 0, (v) => v >= 0 && v <= 1, 'between 0 and 1');
  if (o.batchMaxTokens !== undefined) s.batchMaxTokens = check('batchMaxTokens', o.batchMaxTokens, 0, positiveInt, 'a positive integer');
  if (o.rpm !== undefined) s.rpm = check('rpm', o.rpm, 0, (v) => v > 0, '> 0');
  if (o.tpm !== undefined) s.tpm = check('tpm', o.tpm, 0, (v) => v > 0, '> 0');
  return s;
}

function emptyStats(): SimulatorStats {
  return { requests: 0, byStatus: {}, promptTokens: 0, completionTokens: 0, faults: {}, rateLimited: 0, admittedTokens: 0, batch: emptyBatchCounters() };
}

function copyStats(s: SimulatorStats): SimulatorStats {
  return { ...s, byStatus: { ...s.byStatus }, faults: { ...s.faults }, batch: { ...s.batch } };
}

function positiveIntOrUndefined(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidRequest(`Invalid '${param}': expected an integer >= 1.`, param, 'invalid_value');
  return value;
}

function requireModel(body: Record<string, unknown>): string {
  if (typeof body.model !== 'string' || body.model === '') throw invalidRequest('you must provide a model parameter', 'model');
  return body.model;
}

function rateLimitError(model: string, a: Extract<Admission, { ok: false }>): HttpError {
  const scope = a.kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const message =
    a.waitMs === Infinity
      ? `Request too large for ${model} in organization ${ORGANIZATION} on ${scope}: Limit ${a.limit}, Requested ${a.requested}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`
      : `Rate limit reached for ${model} in organization ${ORGANIZATION} on ${scope}: Limit ${a.limit}, Used ${a.used}, Requested ${a.requested}. Please try again in ${formatDuration(a.waitMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`;
  return new HttpError(429, errorBody(message, a.kind, null, 'rate_limit_exceeded'));
}

/** Headers of a 429: the limiter's, plus when to retry (absent when waiting cannot help). */
function retryHeaders(a: Extract<Admission, { ok: false }>): Record<string, string> {
  if (a.waitMs === Infinity) return a.headers;
  const ms = Math.max(1, Math.ceil(a.waitMs));
  return { ...a.headers, 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
}

function requestId(): string {
  return randomBytes(12).toString('hex');
}

/** An API key that the simulator treats as revoked (to exercise fatal 401 handling). */
const REVOKED_KEY = /^Bearer\s+sk-revoked/i;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const o = settings(options);
  const extractor = loadExtractor();
  // o200k_base (recent and unknown models) loads before listening: no request waits for it.
  const tokens = acquireTokenTools(['o200k_base']);
  let cache: ExtractionCache;
  try {
    cache = new ExtractionCache(await extractor);
  } catch (err) {
    tokens.release();
    throw err;
  }
  const limiter = new RateLimiter({ ...(o.rpm !== undefined && { rpm: o.rpm }), ...(o.tpm !== undefined && { tpm: o.tpm }) });
  const drawer = new FaultDrawer(o.faultRate, o.faults, o.seed);
  const timers = new Set<NodeJS.Timeout>();
  let stats = emptyStats();
  let closed = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  /** Stops a closed simulator's handlers at their next await. */
  const alive = (): void => {
    if (closed) throw new Error('simulator closed');
  };

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void => {
    stats.byStatus[String(status)] = (stats.byStatus[String(status)] ?? 0) + 1;
    if (status === 429) stats.rateLimited++;
    // File contents (batch output) go as they are, not as JSON.
    if (Buffer.isBuffer(body)) sendBytes(res, status, body, headers);
    else sendJson(res, status, body, headers);
  };

  const countFault = (kind: FaultKind): void => {
    stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
  };

  /** The faults that need no answer; true when one was applied (the request is then dealt with). */
  const transportFault = async (kind: FaultKind | undefined, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<boolean> => {
    switch (kind) {
      case '500':
      case '502':
      case '503':
        countFault(kind);
        await sleep(o.latencyMs);
        alive();
        reply(res, Number(kind), errorBody(SERVER_ERRORS[kind], 'server_error'), headers);
        return true;
      case 'hang': {
        countFault(kind);
        const socket = req.socket;
        const t = setTimeout(() => {
          timers.delete(t);
          socket.destroy();
        }, o.hangMs);
        timers.add(t);
        socket.once('close', () => {
          clearTimeout(t);
          timers.delete(t);
        });
        return true;
      }
      case 'reset':
        countFault(kind);
        resetSocket(req.socket);
        return true;
      default:
        return false;
    }
  };

  const admit = (model: string, cost: number): Record<string, string> => {
    const a = limiter.admit(cost);
    if (!a.ok) throw Object.assign(rateLimitError(model, a), { headers: retryHeaders(a) });
    stats.admittedTokens += cost;
    return a.headers;
  };

  /** A chat request checked and measured as the API does, before any answer is built. */
  const prepareChat = (body: Record<string, unknown>) => {
    const model = requireModel(body);
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalidRequest("Missing required parameter: 'messages'.", 'messages');
    if (body.stream === true) throw invalidRequest('The simulator does not support streaming (stream: true).', 'stream');
    const messages = body.messages as unknown[];
    let promptTokens = REPLY_PRIMING;
    for (const [i, m] of messages.entries()) {
      if (typeof m !== 'object' || m === null) throw invalidRequest(`Invalid type for 'messages[${i}]': expected an object.`, `messages[${i}]`);
      const text = contentText((m as { content?: unknown }).content);
      if (text === undefined) throw invalidRequest(`Invalid content of 'messages[${i}]'.`, `messages[${i}].content`);
      promptTokens += TOKENS_PER_MESSAGE + tokens.count(model, text);
    }
    if (promptTokens > o.contextTokens) {
      throw invalidRequest(
        `This model's maximum context length is ${o.contextTokens} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`,
        'messages',
        'context_length_exceeded',
      );
    }
    const maxTokens = positiveIntOrUndefined(body.max_completion_tokens, 'max_completion_tokens') ?? positiveIntOrUndefined(body.max_tokens, 'max_tokens');
    const docs = requestDocuments(messages as { role?: unknown; content?: unknown }[]);
    return { model, promptTokens, maxTokens, docs, filter: typeFilter(body.response_format) };
  };

  /**
   * The content cut to max_tokens, as the API cuts it (finish_reason "length"), and its tokens.
   * `known`: the content's token count when already counted (encoding is most of the simulator's CPU).
   */
  const capped = (model: string, content: string, maxTokens: number | undefined, known?: number): { content: string; finishReason: 'stop' | 'length'; completionTokens: number } => {
    const n = known ?? tokens.count(model, content);
    if (maxTokens === undefined || n <= maxTokens) return { content, finishReason: 'stop', completionTokens: n };
    const cut = tokens.prefix(model, content, maxTokens);
    return { content: cut, finishReason: 'length', completionTokens: tokens.count(model, cut) };
  };

  const completionBody = (model: string, content: string, finishReason: 'stop' | 'length', promptTokens: number, completionTokens: number) => ({
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
  });

  const chat = async (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, common: Record<string, string>): Promise<void> => {
    const { model, promptTokens, maxTokens, docs, filter } = prepareChat(body);

    // With max_tokens the cost is known up front (OpenAI counts max_tokens); without it the
    // simulator counts the completion it is about to give, so it answers before admitting.
    let limitHeaders = maxTokens !== undefined ? admit(model, promptTokens + maxTokens) : undefined;
    let answer: Answer = await buildAnswer(docs, filter, cache);
    alive();
    const full = JSON.stringify(answer);
    const fullTokens = limitHeaders ? undefined : tokens.count(model, full);
    limitHeaders ??= admit(model, promptTokens + fullTokens!);
    const headers = { ...common, ...limitHeaders };

    const applicable = docs.length >= 2 ? FAULT_KINDS : FAULT_KINDS.filter((k) => k !== 'omit');
    const fault = drawer.draw(applicable);
    if (await transportFault(fault, req, res, headers)) return;

    if (fault === 'omit') answer = omitDocument(answer, drawer);
    if (fault === 'invent') answer = inventDocument(answer, docs.map((d) => d.id), drawer);
    const changed = fault === 'omit' || fault === 'invent';
    let { content, finishReason, completionTokens } = capped(model, changed ? JSON.stringify(answer) : full, maxTokens, changed ? undefined : fullTokens);
    if (fault === 'truncated') {
      content = tokens.prefix(model, content, Math.floor(completionTokens / 2));
      finishReason = 'length';
    }
    if (fault === 'malformed') content = content.slice(0, Math.floor(content.length / 2));
    if (fault) countFault(fault);
    if (fault === 'truncated' || fault === 'malformed') completionTokens = tokens.count(model, content);

    await sleep(o.latencyMs + o.msPerToken * completionTokens);
    alive();
    stats.promptTokens += promptTokens;
    stats.completionTokens += completionTokens;
    reply(res, 200, completionBody(model, content, finishReason, promptTokens, completionTokens), headers);
  };

  /** An embeddings request checked and measured as the API does. */
  const prepareEmbeddings = (body: Record<string, unknown>) => {
    const model = requireModel(body);
    const inputs = embeddingInputs(body.input);
    const dimensions = positiveIntOrUndefined(body.dimensions, 'dimensions');
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw invalidRequest(`Invalid value for 'encoding_format': expected 'float' or 'base64'.`, 'encoding_format', 'invalid_value');
    const counts = inputs.map((i) => (typeof i === 'string' ? tokens.count(model, i) : i.length));
    const over = counts.findIndex((c) => c > o.contextTokens);
    if (over !== -1) {
      throw invalidRequest(
        `This model's maximum context length is ${o.contextTokens} tokens, however you requested ${counts[over]} tokens (${counts[over]} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
        'input',
        'context_length_exceeded',
      );
    }
    return { model, inputs, dimensions, format, promptTokens: counts.reduce((a, b) => a + b, 0) };
  };

  const embeddingsBody = (e: ReturnType<typeof prepareEmbeddings>) => {
    const data = e.inputs.map((input, index) => {
      const v = embeddingVector(input, e.model, e.dimensions);
      return { object: 'embedding', index, embedding: e.format === 'base64' ? float32Base64(v) : Array.from(v) };
    });
    return { object: 'list', data, model: e.model, usage: { prompt_tokens: e.promptTokens, total_tokens: e.promptTokens } };
  };

  const embeddings = async (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, common: Record<string, string>): Promise<void> => {
    const e = prepareEmbeddings(body);
    const headers = { ...common, ...admit(e.model, e.promptTokens) };
    if (await transportFault(drawer.draw(TRANSPORT_FAULTS), req, res, headers)) return;
    const answer = embeddingsBody(e);
    await sleep(o.latencyMs);
    alive();
    stats.promptTokens += e.promptTokens;
    reply(res, 200, answer, headers);
  };

  /**
   * One line of a batch: the answer the live endpoint gives the same body, without its latency,
   * rate limits or faults (a batch has its own: see batch.ts).
   */
  const answerLine = async (url: string, body: Record<string, unknown>): Promise<BatchLineAnswer> => {
    try {
      if (url === '/v1/embeddings') {
        const e = prepareEmbeddings(body);
        stats.promptTokens += e.promptTokens;
        return { status: 200, body: embeddingsBody(e) };
      }
      const { model, promptTokens, maxTokens, docs, filter } = prepareChat(body);
      const answer = await buildAnswer(docs, filter, cache);
      const { content, finishReason, completionTokens } = capped(model, JSON.stringify(answer), maxTokens);
      stats.promptTokens += promptTokens;
      stats.completionTokens += completionTokens;
      return { status: 200, body: completionBody(model, content, finishReason, promptTokens, completionTokens) };
    } catch (err) {
      if (err instanceof HttpError) return { status: err.status, body: err.body };
      throw err;
    }
  };

  /** Tokens a line puts in the queue (prompt + max_tokens, as the enqueued-token limit counts). */
  const enqueuedTokens = (url: string, body: Record<string, unknown>): number => {
    try {
      if (url === '/v1/embeddings') return prepareEmbeddings(body).promptTokens;
      const c = prepareChat(body);
      return c.promptTokens + (c.maxTokens ?? 0);
    } catch {
      return 0;
    }
  };

  const batches = new BatchStore({ latencyMs: o.batchLatencyMs, faultRate: o.batchFaultRate, expireAt: o.batchExpire, maxTokens: o.batchMaxTokens, apiLatencyMs: o.batchApiLatencyMs, seed: o.seed }, { answer: answerLine, enqueuedTokens, counters: () => stats.batch });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/stats' && req.method === 'GET') return sendJson(res, 200, copyStats(stats));
    if (path === '/stats/reset' && req.method === 'POST') {
      req.resume();
      const before = copyStats(stats);
      stats = emptyStats();
      return sendJson(res, 200, before);
    }
    stats.requests++;
    const v1 = path.startsWith('/v1/');
    const id = `req_${requestId()}`;
    const common = { 'x-request-id': id, 'openai-organization': ORGANIZATION, 'openai-version': '2020-10-01' };
    try {
      if (isBatchPath(path)) {
        if (REVOKED_KEY.test(req.headers.authorization ?? '')) {
          req.resume();
          throw new HttpError(401, errorBody('Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', null, 'invalid_api_key'));
        }
        const answer = await batches.handle(req, path);
        alive();
        return reply(res, answer.status, answer.body, { ...common, ...(answer.headers ?? {}) });
      }
      const endpoint = req.method !== 'POST' ? undefined : path === '/v1/chat/completions' ? chat : path === '/v1/embeddings' ? embeddings : undefined;
      if (!endpoint) {
        req.resume();
        throw new HttpError(404, errorBody(`Invalid URL (${req.method ?? 'GET'} ${path})`, 'invalid_request_error'));
      }
      if (REVOKED_KEY.test(req.headers.authorization ?? '')) {
        req.resume();
        throw new HttpError(401, errorBody('Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', null, 'invalid_api_key'));
      }
      const body = parseJsonObject(await readBody(req, MAX_BODY_BYTES));
      alive();
      await endpoint(req, res, body, common);
    } catch (err) {
      if (closed) return;
      const headers = { ...common, ...(v1 ? limiter.headers() : {}), ...((err as { headers?: Record<string, string> }).headers ?? {}) };
      if (err instanceof HttpError) reply(res, err.status, err.body, headers);
      else reply(res, 500, errorBody(`Simulator error: ${(err as Error).message}`, 'server_error'), headers);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    tokens.release();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}/v1`,
    port,
    stats: () => copyStats(stats),
    reset: () => {
      stats = emptyStats();
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        batches.close();
        server.close(() => {
          tokens.release();
          cache.clear();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A TCP reset where the platform offers one (ECONNRESET for the client), else a plain close. */
function resetSocket(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

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

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `Usage: node simulator/openai-sim.js [options]

An OpenAI-compatible simulator on 127.0.0.1 (chat completions, embeddings, files and batches, /stats).
Prints its base URL (http://127.0.0.1:PORT/v1) on stdout once listening; SIGINT/SIGTERM stop it.

  --port N              port (default 8089; 0 picks a free one)
  --latency-ms N        fixed latency per request (default 0)
  --ms-per-token N      extra latency per completion token (default 0)
  --rpm N               requests per minute limit (default none)
  --tpm N               tokens per minute limit (default none)
  --context-tokens N    largest prompt in tokens (default 128000)
  --fault-rate X        probability 0..1 that a request gets a fault (default 0)
  --faults LIST         comma-separated mix: ${FAULT_KINDS.join(',')} (default all)
  --seed N              seed of the fault draws (default 1)
  --hang-ms N           how long a "hang" fault stalls (default 120000)
  --batch-latency-ms N  Batch API: time from create until a batch completes (default 1000)
  --batch-fault-rate X  Batch API: share 0..1 of lines that go to the error file (default 0)
  --batch-expire X      Batch API: batches expire with this share 0..1 of lines done (default never)
  --batch-max-tokens N  Batch API: enqueued-token limit; a batch over it fails token_limit_exceeded
  --batch-api-latency-ms N  Batch API: time a Files/Batches call takes (after its effect) (default 0)
  -h, --help            this help
`;

/** Parses the command line into simulator options; throws a RangeError or TypeError on bad usage. */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: '8089' },
      'latency-ms': { type: 'string' },
      'ms-per-token': { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      'context-tokens': { type: 'string' },
      'fault-rate': { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      'hang-ms': { type: 'string' },
      'batch-latency-ms': { type: 'string' },
      'batch-fault-rate': { type: 'string' },
      'batch-expire': { type: 'string' },
      'batch-max-tokens': { type: 'string' },
      'batch-api-latency-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const num = (flag: string, s: string | undefined): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) throw new RangeError(`--${flag} must be a number (got ${JSON.stringify(s)})`);
    return n;
  };
  const opts: SimulatorOptions = {};
  const set = <K extends keyof SimulatorOptions>(key: K, value: SimulatorOptions[K] | undefined) => {
    if (value !== undefined) opts[key] = value;
  };
  set('port', num('port', values.port));
  set('latencyMs', num('latency-ms', values['latency-ms']));
  set('msPerToken', num('ms-per-token', values['ms-per-token']));
  set('rpm', num('rpm', values.rpm));
  set('tpm', num('tpm', values.tpm));
  set('contextTokens', num('context-tokens', values['context-tokens']));
  set('faultRate', num('fault-rate', values['fault-rate']));
  set('seed', num('seed', values.seed));
  set('hangMs', num('hang-ms', values['hang-ms']));
  set('batchLatencyMs', num('batch-latency-ms', values['batch-latency-ms']));
  set('batchFaultRate', num('batch-fault-rate', values['batch-fault-rate']));
  set('batchExpire', num('batch-expire', values['batch-expire']));
  set('batchMaxTokens', num('batch-max-tokens', values['batch-max-tokens']));
  set('batchApiLatencyMs', num('batch-api-latency-ms', values['batch-api-latency-ms']));
  if (values.faults !== undefined) {
    const kinds = values.faults.split(',').map((k) => k.trim()).filter((k) => k !== '');
    for (const k of kinds) if (!isFaultKind(k)) throw new RangeError(`--faults: unknown kind ${JSON.stringify(k)} (kinds: ${FAULT_KINDS.join(', ')})`);
    opts.faults = kinds as FaultKind[];
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: SimulatorOptions | 'help';
  try {
    opts = parseSimulatorArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`openai-sim: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let sim: Simulator;
  try {
    sim = await startSimulator(opts);
  } catch (err) {
    process.stderr.write(`openai-sim: ${(err as Error).message}\n`);
    process.exitCode = err instanceof RangeError ? 2 : 1;
    return;
  }
  process.stdout.write(`${sim.url}\n`);
  process.stderr.write(`openai-sim: listening on ${sim.url} (GET ${sim.url.replace(/\/v1$/, '')}/stats for statistics)\n`);
  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`openai-sim: ${signal}, stopping; stats ${JSON.stringify(sim.stats())}\n`);
    void sim.close().then(() => {
      process.exitCode = 0;
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}


if (isMain(import.meta.url)) await main();
