/**
 * The simulator's Files and Batches endpoints, with OpenAI's object shapes and statuses: upload a
 * JSONL input file (multipart, purpose "batch"), create a batch from it, watch it go validating ->
 * in_progress -> finalizing -> completed (or failed, expired, cancelling -> cancelled), then read its
 * output file and its separate error file. Each line is answered as the live endpoint answers the
 * same body (batch-lines.ts gives the answers), in a shuffled order. Faults of its own: a share of
 * lines to the error file as server errors, expiry with part done, and the enqueued-token limit
 * (token_limit_exceeded). Everything is held in memory: a test-sized store.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errorBody, HttpError, invalidRequest, parseJsonObject, parseMultipart, readBody } from './http.js';
import { seededRandom } from './seeded-random.js';

export interface BatchCounters {
  filesUploaded: number;
  batchesCreated: number;
  /** Lines answered (to the output or the error file), expired and cancelled lines not included. */
  linesProcessed: number;
  /** Lines put in an error file (faults, non-200 answers, expired, cancelled). */
  linesFailed: number;
  /** File contents read (GET /v1/files/:id/content). */
  contentReads: number;
}

export function emptyBatchCounters(): BatchCounters {
  return { filesUploaded: 0, batchesCreated: 0, linesProcessed: 0, linesFailed: 0, contentReads: 0 };
}

export interface BatchLineAnswer {
  status: number;
  body: unknown;
}

export interface BatchSettings {
  /** Time from create until completed, ms. */
  latencyMs: number;
  /** Share of lines answered with a server error in the error file. */
  faultRate: number;
  /** Expire once this share of the lines is done. */
  expireAt?: number;
  /** Enqueued-token limit over the batches in progress. */
  maxTokens?: number;
  /** Time a Files or Batches call takes after its effect, before the reply, ms. */
  apiLatencyMs: number;
  seed: number;
}

export interface BatchHooks {
  /** The live endpoint's answer for this body. */
  answer(url: string, body: Record<string, unknown>): Promise<BatchLineAnswer>;
  /** Tokens the line counts against the enqueued-token limit. */
  enqueuedTokens(url: string, body: Record<string, unknown>): number;
  /** The simulator's current counters (reset replaces them). */
  counters(): BatchCounters;
}

export interface BatchReply {
  status: number;
  /** A JSON value, or a Buffer for file contents. */
  body: unknown;
  headers?: Record<string, string>;
}

const MAX_FILE_BYTES = 512 * 1024 * 1024;
const ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/completions'];
const DAY_S = 24 * 3600;

interface StoredFile {
  object: { id: string; object: 'file'; bytes: number; created_at: number; filename: string; purpose: string; status: 'processed'; expires_at: number | null; status_details: null };
  data: Buffer;
}

type BatchStatus = 'validating' | 'in_progress' | 'finalizing' | 'completed' | 'failed' | 'expired' | 'cancelling' | 'cancelled';

interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  model: string | null;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

interface Line {
  custom_id: string;
  url: string;
  body: Record<string, unknown>;
}

interface BatchState {
  object: BatchObject;
  tokens: number;
  cancel: boolean;
}

const now = () => Math.floor(Date.now() / 1000);
const hex = (n: number) => randomBytes(n).toString('hex');

export function isBatchPath(path: string): boolean {
  return path === '/v1/files' || path.startsWith('/v1/files/') || path === '/v1/batches' || path.startsWith('/v1/batches/');
}

export class BatchStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly batches = new Map<string, BatchState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rand: () => number;
  private closed = false;

  constructor(
    private readonly o: BatchSettings,
    private readonly hooks: BatchHooks,
  ) {
    this.rand = seededRandom(o.seed ^ 0x5eed);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Stats: what is stored (tests and /stats readers). */
  get counts(): { files: number; batches: number } {
    return { files: this.files.size, batches: this.batches.size };
  }

  /** The reply to a Files or Batches call, sent after apiLatencyMs (the effect is already done: a client that dies meanwhile never learns of it). */
  async handle(req: IncomingMessage, path: string): Promise<BatchReply> {
    const reply = await this.route(req, path);
    await this.sleep(this.o.apiLatencyMs);
    return reply;
  }

  private async route(req: IncomingMessage, path: string): Promise<BatchReply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = path.split('/').filter(Boolean); // ['v1', 'files' | 'batches', id?, action?]
    const [, kind, id, action] = parts;
    const method = req.method ?? 'GET';
    if (kind === 'files') {
      if (method === 'POST' && id === undefined) return this.upload(req);
      req.resume();
      if (method === 'GET' && id === undefined)
        return this.list(
          [...this.files.values()].map((f) => f.object),
          url,
          10_000,
          (f) => !url.searchParams.get('purpose') || f.purpose === url.searchParams.get('purpose'),
        );
      if (method === 'GET' && id !== undefined && action === undefined) return { status: 200, body: this.file(id).object };
      if (method === 'GET' && id !== undefined && action === 'content') {
        const data = this.file(id).data;
        this.hooks.counters().contentReads++;
        return { status: 200, body: data, headers: { 'content-type': 'application/octet-stream' } };
      }
    } else {
      if (method === 'POST' && id === undefined) return this.create(parseJsonObject(await readBody(req, 1024 * 1024)));
      req.resume();
      if (method === 'GET' && id === undefined)
        return this.list(
          [...this.batches.values()].map((b) => b.object),
          url,
          20,
        );
      if (method === 'GET' && id !== undefined && action === undefined) return { status: 200, body: this.batch(id).object };
      if (method === 'POST' && id !== undefined && action === 'cancel') return this.cancel(id);
    }
    throw new HttpError(404, errorBody(`Invalid URL (${method} ${path})`, 'invalid_request_error'));
  }

  private file(id: string): StoredFile {
    const f = this.files.get(id);
    if (!f) throw new HttpError(404, errorBody(`No such File object: ${id}`, 'invalid_request_error', 'id'));
    return f;
  }

  private batch(id: string): BatchState {
    const b = this.batches.get(id);
    if (!b) throw new HttpError(404, errorBody(`No batch found with id '${id}'.`, 'invalid_request_error', 'batch_id'));
    return b;
  }

  /** Newest first, cursor paging with `after` (an id) and `limit`, as OpenAI lists. */
  private list<T extends { id: string; created_at: number }>(all: T[], url: URL, defaultLimit: number, keep: (x: T) => boolean = () => true): BatchReply {
    const limit = Math.max(1, Math.min(10_000, Number(url.searchParams.get('limit') ?? defaultLimit) || defaultLimit));
    const items = all.filter(keep).reverse();
    const after = url.searchParams.get('after');
    const from = after ? items.findIndex((x) => x.id === after) + 1 : 0;
    const page = items.slice(from, from + limit);
    return { status: 200, body: { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: from + limit < items.length } };
  }

  private async upload(req: IncomingMessage): Promise<BatchReply> {
    const parts = parseMultipart(await readBody(req, MAX_FILE_BYTES), req.headers['content-type']);
    const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8');
    const file = parts.find((p) => p.name === 'file');
    if (!purpose) throw invalidRequest("Missing required parameter: 'purpose'.", 'purpose');
    if (!file) throw invalidRequest("Missing required parameter: 'file'.", 'file');
    if (purpose !== 'batch') throw invalidRequest(`The simulator takes purpose 'batch' only, got '${purpose}'.`, 'purpose', 'invalid_value');
    if (!(file.filename ?? '').endsWith('.jsonl')) throw invalidRequest('Invalid file format for Batch API. Must be .jsonl', 'file');
    const stored = this.store(file.filename!, 'batch', Buffer.from(file.data));
    this.hooks.counters().filesUploaded++;
    return { status: 200, body: stored.object };
  }

  private store(filename: string, purpose: string, data: Buffer): StoredFile {
    const created = now();
    const f: StoredFile = {
      object: { id: `file-${hex(12)}`, object: 'file', bytes: data.length, created_at: created, filename, purpose, status: 'processed', expires_at: created + 30 * DAY_S, status_details: null },
      data,
    };
    this.files.set(f.object.id, f);
    return f;
  }

  private create(body: Record<string, unknown>): BatchReply {
    const inputFileId = body.input_file_id;
    if (typeof inputFileId !== 'string') throw invalidRequest("Missing required parameter: 'input_file_id'.", 'input_file_id');
    if (typeof body.endpoint !== 'string' || !ENDPOINTS.includes(body.endpoint)) throw invalidRequest(`Invalid 'endpoint': expected one of ${ENDPOINTS.join(', ')}.`, 'endpoint', 'invalid_value');
    if (body.completion_window !== '24h') throw invalidRequest("Invalid 'completion_window': expected '24h'.", 'completion_window', 'invalid_value');
    const metadata = body.metadata ?? null;
    if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata) || Object.values(metadata).some((v) => typeof v !== 'string') || Object.keys(metadata).length > 16)) {
      throw invalidRequest("Invalid 'metadata': expected at most 16 string values.", 'metadata');
    }
    const input = this.file(inputFileId);
    if (input.object.purpose !== 'batch') throw invalidRequest(`File ${inputFileId} has purpose '${input.object.purpose}', not 'batch'.`, 'input_file_id');
    const created = now();
    const state: BatchState = {
      object: {
        id: `batch_${hex(12)}`,
        object: 'batch',
        endpoint: body.endpoint,
        model: null,
        errors: null,
        input_file_id: inputFileId,
        completion_window: '24h',
        status: 'validating',
        output_file_id: null,
        error_file_id: null,
        created_at: created,
        in_progress_at: null,
        expires_at: created + DAY_S,
        finalizing_at: null,
        completed_at: null,
        failed_at: null,
        expired_at: null,
        cancelling_at: null,
        cancelled_at: null,
        request_counts: { total: 0, completed: 0, failed: 0 },
        metadata: metadata as Record<string, string> | null,
      },
      tokens: 0,
      cancel: false,
    };
    this.batches.set(state.object.id, state);
    this.hooks.counters().batchesCreated++;
    void this.run(state, input.data).catch(() => undefined);
    return { status: 200, body: state.object };
  }

  private cancel(id: string): BatchReply {
    const b = this.batch(id);
    const s = b.object.status;
    if (s === 'completed' || s === 'failed' || s === 'expired' || s === 'cancelled') throw new HttpError(409, errorBody(`Cannot cancel a batch with status '${s}'.`, 'invalid_request_error'));
    b.cancel = true;
    if (s !== 'cancelling') {
      b.object.status = 'cancelling';
      b.object.cancelling_at = now();
    }
    return { status: 200, body: b.object };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  /** Input lines, or the validation errors the API reports for a bad file. */
  private validate(b: BatchObject, data: Buffer): { lines: Line[]; errors: BatchError[] } {
    const lines: Line[] = [];
    const errors: BatchError[] = [];
    const ids = new Set<string>();
    let model: string | undefined;
    const text = data.toString('utf8').split('\n');
    for (const [i, raw] of text.entries()) {
      if (raw.trim() === '') continue;
      const at = i + 1;
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        errors.push({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: at });
        continue;
      }
      const l = v as Partial<Line> & { method?: unknown };
      if (typeof l !== 'object' || l === null || typeof l.custom_id !== 'string' || l.method !== 'POST' || typeof l.url !== 'string' || typeof l.body !== 'object' || l.body === null) {
        errors.push({ code: 'invalid_request', message: 'Each line needs custom_id, method "POST", url and body.', param: null, line: at });
        continue;
      }
      if (l.url !== b.endpoint) errors.push({ code: 'mismatched_endpoint', message: `The url '${l.url}' does not match the batch endpoint '${b.endpoint}'.`, param: 'url', line: at });
      if (ids.has(l.custom_id)) errors.push({ code: 'duplicate_custom_id', message: `The custom_id '${l.custom_id}' is used more than once.`, param: 'custom_id', line: at });
      ids.add(l.custom_id);
      const m = (l.body as { model?: unknown }).model;
      if (typeof m === 'string') {
        model ??= m;
        if (m !== model) errors.push({ code: 'mismatched_model', message: 'Every line of a batch must use the same model.', param: 'body.model', line: at });
      }
      lines.push({ custom_id: l.custom_id, url: l.url, body: l.body as Record<string, unknown> });
    }
    if (lines.length === 0 && errors.length === 0) errors.push({ code: 'empty_file', message: 'The input file is empty.', param: null, line: null });
    b.model = model ?? null;
    return { lines, errors };
  }

  private enqueued(): number {
    let sum = 0;
    for (const b of this.batches.values()) if (b.object.status === 'in_progress' || b.object.status === 'finalizing') sum += b.tokens;
    return sum;
  }

  /** The life of one batch, paced so that it completes about latencyMs after it was created. */
  private async run(state: BatchState, data: Buffer): Promise<void> {
    const b = state.object;
    const started = Date.now();
    await this.sleep(Math.min(50, this.o.latencyMs / 10));
    if (this.closed) return;
    const { lines, errors } = this.validate(b, data);
    if (errors.length === 0 && this.o.maxTokens !== undefined) {
      state.tokens = lines.reduce((s, l) => s + this.hooks.enqueuedTokens(l.url, l.body), 0);
      const queued = this.enqueued();
      if (queued + state.tokens > this.o.maxTokens) {
        errors.push({
          code: 'token_limit_exceeded',
          message: `Enqueued token limit reached for ${b.model ?? 'the model'} in organization org-simulator. Limit: ${this.o.maxTokens} enqueued tokens. Please try again once some in_progress batches have been completed.`,
          param: null,
          line: null,
        });
      }
    }
    if (errors.length > 0) {
      b.status = 'failed';
      b.failed_at = now();
      b.errors = { object: 'list', data: errors };
      return;
    }
    b.status = b.status === 'cancelling' ? 'cancelling' : 'in_progress';
    b.in_progress_at = now();
    b.request_counts.total = lines.length;
    // Answers come back in any order: the lines are processed shuffled.
    const order = lines.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // Rounded up: a batch with any share done finishes at least one line, so retries converge.
    const stopAt = this.o.expireAt === undefined ? lines.length : Math.ceil(this.o.expireAt * lines.length);
    const output: string[] = [];
    const failed: string[] = [];
    const counters = () => this.hooks.counters();
    let done = 0;
    for (const index of order) {
      if (this.closed) return;
      if (state.cancel || done >= stopAt) break;
      const line = lines[index]!;
      const requestId = `req_${hex(12)}`;
      if (this.rand() < this.o.faultRate) {
        failed.push(
          JSON.stringify({
            id: `batch_req_${hex(12)}`,
            custom_id: line.custom_id,
            response: { status_code: 500, request_id: requestId, body: errorBody('The server had an error while processing your request. Sorry about that!', 'server_error') },
            error: null,
          }),
        );
        b.request_counts.failed++;
        counters().linesFailed++;
      } else {
        const answer = await this.hooks.answer(line.url, line.body);
        const text = JSON.stringify({ id: `batch_req_${hex(12)}`, custom_id: line.custom_id, response: { status_code: answer.status, request_id: requestId, body: answer.body }, error: null });
        if (answer.status === 200) {
          output.push(text);
          b.request_counts.completed++;
        } else {
          failed.push(text);
          b.request_counts.failed++;
          counters().linesFailed++;
        }
      }
      counters().linesProcessed++;
      done++;
      // Spread over the batch's latency, so request_counts move while it is in progress.
      await this.sleep(started + (this.o.latencyMs * done) / lines.length - Date.now());
    }
    if (this.closed) return;
    const expired = !state.cancel && done < lines.length;
    const cancelled = state.cancel;
    // Lines never run: in the error file, with the reason.
    const rest = order.slice(done).map((i) => lines[i]!);
    for (const line of rest) {
      const error = cancelled
        ? { code: 'batch_cancelled', message: 'This request was not executed because the batch was cancelled.' }
        : { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' };
      failed.push(JSON.stringify({ id: `batch_req_${hex(12)}`, custom_id: line.custom_id, response: null, error }));
      b.request_counts.failed++;
      counters().linesFailed++;
    }
    if (!cancelled && !expired) {
      b.status = 'finalizing';
      b.finalizing_at = now();
      await this.sleep(Math.min(50, this.o.latencyMs / 10));
      if (this.closed) return;
    }
    if (output.length > 0) b.output_file_id = this.store(`${b.id}_output.jsonl`, 'batch_output', Buffer.from(`${output.join('\n')}\n`)).object.id;
    if (failed.length > 0) b.error_file_id = this.store(`${b.id}_error.jsonl`, 'batch_output', Buffer.from(`${failed.join('\n')}\n`)).object.id;
    if (cancelled) {
      b.status = 'cancelled';
      b.cancelled_at = now();
    } else if (expired) {
      b.status = 'expired';
      b.expired_at = now();
    } else {
      b.status = 'completed';
      b.completed_at = now();
    }
  }
}
