/**
 * The Batch API extractor (`--batch-api`): an Extractor whose `extract(pack)` writes the pack's
 * request as one line of the current batch input file and resolves when that line's answer comes
 * back from a finished batch, validated by the same code as a live answer (lib/runtime/extractor.ts
 * RequestCodec). So ordering, merging, the sink, the checkpoint and retry/split are those of live
 * mode; a failed line is retried by retry/split as a new line in a follow-up batch (or live, with
 * `--batch-retry live`).
 *
 * Crash safety: every sealed input file, upload, batch and downloaded answer is in the ledger
 * (lib/batch/ledger.ts) in the --checkpoint directory. Packs are deterministic, so a rerun forms
 * the same packs; each finds its latest request in the ledger and waits for, or reuses, its answer
 * instead of sending it again. A file sealed but not noted as uploaded is looked up by name, a
 * batch not noted as created by the run's metadata, so nothing is uploaded or created twice.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import { BatchApi, FILE_KEY, RUN_KEY } from './api.js';
import { BatchInputFile, type InputFileLimits } from './input-file.js';
import { BatchLedger, LEDGER_FILE, type FileRow } from './ledger.js';
import { ErrorCode, SluiceError, codeOf, messageOf } from '../runtime/errors.js';
import type { Extractor, PackRequest, RequestCodec } from '../runtime/extractor.js';
import { classifyError } from '../llm/client.js';
import { defineOptions, type OptionsOf } from '../runtime/options.js';
import type { Pack, PackAnswer } from '../runtime/records.js';
import type { RunContext, RunStats } from '../runtime/run-context.js';

export const batchOptionSpecs = defineOptions([
  { name: 'batch-api', type: 'boolean', default: false, description: 'Send requests through the OpenAI Batch API (half the price, answers within 24 h) instead of one live request per pack; needs --checkpoint DIR and --output FILE; the same command resumes the same batches' },
  { name: 'batch-max-requests', operational: true, type: 'integer', default: 50_000, min: 1, max: 50_000, description: 'Batch mode: most requests in one input file (the API takes 50,000)' },
  { name: 'batch-max-bytes', operational: true, type: 'integer', default: 190_000_000, min: 4096, max: 200 * 1024 * 1024, description: 'Batch mode: largest input file in bytes (the API takes 200 MB)' },
  { name: 'batch-max-tokens', operational: true, type: 'integer', min: 1, description: 'Batch mode: most enqueued tokens (prompt + max output) in one input file: set it under your enqueued-token limit for the model; halved after a batch fails with token_limit_exceeded' },
  { name: 'batch-window', operational: true, type: 'integer', default: 20_000, min: 1, description: 'Batch mode: packs outstanding at once (written, waiting for their batch); bounds memory (each holds its chunks\' text) and what waits to be written in order' },
  { name: 'batch-flush-ms', operational: true, type: 'integer', default: 2000, min: 0, description: 'Batch mode: a partly filled input file is submitted once no request was added to it for this long' },
  { name: 'poll-interval', operational: true, type: 'number', default: 30, min: 0.01, description: 'Batch mode: longest wait in seconds between polls of the batches in progress (polling starts at 0.25 s and backs off to this)' },
  { name: 'batch-retry', operational: true, type: 'string', default: 'batch', choices: ['batch', 'live'], description: 'Batch mode: failed lines (error file, expired, invalid answers) are retried in a follow-up batch, or live' },
]);

export type BatchOptions = OptionsOf<typeof batchOptionSpecs>;

export const BATCH_NEEDS_CHECKPOINT = '--batch-api needs --checkpoint DIR (and --output FILE): the directory keeps the batch ledger, so that a rerun resumes the same batches instead of paying for them twice';

/** Just the batch fields of a pipeline's resolved options. */
export function batchOf(o: BatchOptions): Omit<BatchOptions, 'batchApi'> {
  return { batchMaxRequests: o.batchMaxRequests, batchMaxBytes: o.batchMaxBytes, ...(o.batchMaxTokens !== undefined ? { batchMaxTokens: o.batchMaxTokens } : {}), batchWindow: o.batchWindow, batchFlushMs: o.batchFlushMs, pollInterval: o.pollInterval, batchRetry: o.batchRetry };
}

/**
 * The extract stage's window: in batch mode every outstanding pack is "in flight" (written, waiting
 * for its batch), so both bounds are --batch-window.
 */
export function windowOf(o: Partial<BatchOptions> & { concurrency?: number; reorderWindow?: number }): { concurrency?: number; reorderWindow?: number } {
  if (o.batchApi) return { concurrency: o.batchWindow, reorderWindow: o.batchWindow };
  return { ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}), ...(o.reorderWindow !== undefined ? { reorderWindow: o.reorderWindow } : {}) };
}

export interface BatchExtractorOptions extends Omit<BatchOptions, 'batchApi'> {
  /** The --checkpoint directory: the ledger and the input files being written. */
  dir: string;
  pipeline: string;
  codec: RequestCodec;
  client: OpenAI;
  apiKey?: string;
  /** Tokens a request may add beyond its prompt (max output tokens): they count against the enqueued-token limit. */
  outputTokens: number;
  templateTokens: number;
  perChunkTokens: number;
  /** `--batch-retry live`: the live extractor retries go to. */
  live?: Extractor;
  /** Retries of an upload or a create that failed transiently, and their backoff base. */
  maxRetries: number;
  retryBaseMs: number;
}

/** A line's outcome as the ledger keeps it. */
type Outcome = { answer: string } | { error: string };

interface Waiter {
  fileSeq: number;
  resolve(o: Outcome): void;
  reject(err: unknown): void;
}

const FIRST_POLL_MS = 250;
/** Downloaded lines recorded per ledger transaction. */
const RECORD_CHUNK = 500;
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export function batchExtractor(o: BatchExtractorOptions): Extractor & { readonly ledger: BatchLedger } {
  return new BatchExtractor(o);
}

class BatchExtractor implements Extractor {
  readonly name = 'openai-batch';
  readonly templateTokens: number;
  readonly perChunkTokens: number;
  readonly concurrency: number;
  readonly ledger: BatchLedger;
  private readonly api: BatchApi;
  private readonly inputs: string;
  private readonly waiters = new Map<string, Waiter>();
  private readonly tracked = new Set<number>();
  /** Tracked files failed with token_limit_exceeded, waiting for the other batches to finish. */
  private readonly draining = new Set<number>();
  private readonly batchCounts = new Map<number, { total: number; completed: number; failed: number }>();
  private open: BatchInputFile | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private polling = false;
  private wake: (() => void) | undefined;
  private closed = false;
  private fatal: unknown;
  private stats: RunStats | undefined;
  /** Lowered after token_limit_exceeded: smaller files for what follows. */
  private tokenCap: number | undefined;

  constructor(private readonly o: BatchExtractorOptions) {
    this.templateTokens = o.templateTokens;
    this.perChunkTokens = o.perChunkTokens;
    this.concurrency = o.batchWindow;
    this.tokenCap = o.batchMaxTokens;
    this.api = new BatchApi(o.client, o.apiKey);
    mkdirSync(o.dir, { recursive: true });
    this.inputs = join(o.dir, 'inputs');
    mkdirSync(this.inputs, { recursive: true });
    this.ledger = BatchLedger.open(join(o.dir, LEDGER_FILE));
    const files = this.ledger.files();
    // An input file not in the ledger was being written when the run stopped: nothing of it was
    // sent, and its packs are written again when the pipeline comes to them.
    const known = new Set(files.map((f) => f.name));
    for (const name of readdirSync(this.inputs)) if (!known.has(name)) rmSync(join(this.inputs, name), { force: true });
    for (const f of files) if (f.state !== 'done') this.submit(f.seq, true);
  }

  private limits(): InputFileLimits {
    return { maxRequests: this.o.batchMaxRequests, maxBytes: this.o.batchMaxBytes, ...(this.tokenCap !== undefined ? { maxTokens: this.tokenCap } : {}) };
  }

  async extract(pack: Pack, signal: AbortSignal, run?: RunContext): Promise<PackAnswer> {
    if (run && !this.stats) {
      this.stats = run.stats;
      this.count();
    }
    if (this.fatal) throw this.fatal;
    if (signal.aborted) throw new SluiceError(ErrorCode.ABORTED, 'not sent: the run is stopping');
    const root = pack.id.split('/')[0]!;
    const request = this.o.codec.request(pack);
    const latest = this.ledger.latest(pack.id);
    let customId: string;
    let outcome: Outcome;
    // Consumed by an earlier session: paid for and counted then.
    let earlier = false;
    if (latest && latest.consumed !== this.ledger.session) {
      // Sent by an earlier session of this run: its answer is used, or waited for, not asked again.
      customId = latest.customId;
      earlier = latest.consumed !== 0;
      outcome = latest.state === 'pending' ? await this.wait(customId, latest.fileSeq, signal) : latest.state === 'answered' ? { answer: latest.answer! } : { error: latest.error! };
    } else if (this.o.live && (latest !== undefined || this.ledger.rootFailed(root, ''))) {
      // --batch-retry live: this pack (or the pack it was split from) failed in a batch.
      return this.o.live.extract(pack, signal, run);
    } else {
      const n = (latest?.n ?? 0) + 1;
      customId = `${pack.id}~${n}`;
      const fileSeq = this.append(request, { customId, packId: pack.id, root, n });
      outcome = await this.wait(customId, fileSeq, signal);
    }
    this.ledger.consume(customId);
    if ('error' in outcome) throw storedError(outcome.error);
    let answer: PackAnswer;
    try {
      answer = request.read(JSON.parse(outcome.answer));
    } catch (err) {
      const e = err instanceof SluiceError ? err : new SluiceError(ErrorCode.TRANSIENT, messageOf(err));
      throw new SluiceError(e.code, `${this.where(customId)}: ${e.message}`, e.usage ? { usage: e.usage } : undefined);
    }
    return earlier ? { ...answer, cached: true } : answer;
  }

  /** "batch <id> custom_id <id>": how a dead letter names the line. */
  private where(customId: string): string {
    const row = this.ledger.request(customId);
    const batch = row ? this.ledger.file(row.fileSeq)?.batchId : undefined;
    return `batch ${batch ?? '(none)'} custom_id ${customId}`;
  }

  private wait(customId: string, fileSeq: number, signal: AbortSignal): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(customId);
        reject(new SluiceError(ErrorCode.ABORTED, 'stopped while waiting for a batch'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(customId);
      };
      this.waiters.set(customId, {
        fileSeq,
        resolve: (x) => {
          done();
          resolve(x);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });
  }

  /** Appends the request line to the open input file (sealing a full one first); returns the file's seq. */
  private append(request: PackRequest, r: { customId: string; packId: string; root: string; n: number }): number {
    const line = Buffer.from(`${JSON.stringify({ custom_id: r.customId, method: 'POST', url: this.o.codec.url, body: request.body })}\n`);
    const tokens = request.promptTokens + this.o.outputTokens;
    if (this.open && !this.open.fits(line.length, tokens, this.limits())) this.seal();
    if (!this.open) {
      const seq = this.ledger.nextFileSeq();
      const name = `sluice-${this.o.pipeline}-${this.ledger.runId}-${String(seq).padStart(5, '0')}.jsonl`;
      this.open = new BatchInputFile(seq, name, join(this.inputs, name));
    }
    this.open.append(line, tokens, r);
    const seq = this.open.seq;
    if (this.open.requests.length >= this.o.batchMaxRequests) this.seal();
    else this.armFlush();
    return seq;
  }

  private armFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.closed) this.seal();
    }, this.o.batchFlushMs);
  }

  /** The open file is fsynced, then it and its lines go in the ledger in one transaction, then it is submitted. */
  private seal(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const f = this.open;
    if (!f || f.requests.length === 0) return;
    this.open = undefined;
    try {
      f.seal();
      this.ledger.addFile({ seq: f.seq, name: f.name, requests: f.requests.length, bytes: f.bytes, tokens: f.tokens }, f.requests);
    } catch (err) {
      this.fail(new SluiceError(ErrorCode.OUTPUT, `cannot write batch input file ${f.path}: ${messageOf(err)}`, { cause: err }));
      return;
    }
    this.submit(f.seq, false);
  }

  /** Uploads, creates and tracks a sealed file, one file after another. `resumed`: found in the ledger at start. */
  private submit(seq: number, resumed: boolean): void {
    this.chain = this.chain.then(() => this.advance(seq, resumed)).catch((err: unknown) => this.failFile(seq, err));
  }

  private async advance(seq: number, resumed: boolean): Promise<void> {
    const f = this.ledger.file(seq)!;
    if (this.closed) return;
    if (f.state === 'sealed') {
      // The upload may have gone through before a crash kept the ledger from noting it.
      let id = resumed ? await this.api.findUpload(f.name, f.bytes) : undefined;
      id ??= (await this.retrying(() => this.api.upload(join(this.inputs, f.name), f.name))).id;
      if (this.closed) return;
      f.state = 'uploaded';
      f.fileId = id;
      this.ledger.updateFile(f);
    }
    if (f.state === 'uploaded') {
      // Likewise the batch: found by the run's metadata, never created twice.
      let b = resumed ? await this.api.findBatch(this.ledger.runId, seq) : undefined;
      b ??= await this.retrying(() => this.api.create(f.fileId!, this.o.codec.url, { [RUN_KEY]: this.ledger.runId, [FILE_KEY]: String(seq), sluice_pipeline: this.o.pipeline }));
      if (this.closed) return;
      f.state = 'created';
      f.batchId = b.id;
      f.batchStatus = b.status;
      this.ledger.updateFile(f);
      rmSync(join(this.inputs, f.name), { force: true });
      this.count();
    }
    if (f.state === 'created') {
      this.tracked.add(seq);
      this.poll();
      this.wake?.();
    }
  }

  private async retrying<T>(f: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await f();
      } catch (err) {
        if (codeOf(err) !== ErrorCode.TRANSIENT || retry >= this.o.maxRetries || this.closed) throw err;
        await this.sleep(Math.random() * this.o.retryBaseMs * 2 ** retry);
      }
    }
  }

  /** A file that could not be submitted: fatal errors stop the run; otherwise its lines fail and are retried. */
  private failFile(seq: number, err: unknown): void {
    if (this.closed) return;
    const code = codeOf(err);
    if (code === ErrorCode.FATAL || code === ErrorCode.OUTPUT || code === ErrorCode.USAGE) return this.fail(err);
    const f = this.ledger.file(seq);
    if (!f) return;
    this.finishFile(f, 'not_submitted', messageOf(err), { code: ErrorCode.TRANSIENT, message: `input file ${f.name} could not be submitted: ${messageOf(err)}` });
  }

  /** Stops the run: every waiting pack and every later one gets this error. */
  private fail(err: unknown): void {
    this.fatal ??= err;
    for (const w of [...this.waiters.values()]) w.reject(this.fatal);
  }

  private poll(): void {
    if (this.polling) return;
    this.polling = true;
    void this.pollLoop()
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.polling = false;
      });
  }

  private async pollLoop(): Promise<void> {
    let delay = FIRST_POLL_MS;
    while (!this.closed && this.tracked.size > 0) {
      await this.sleep(delay, true);
      let changed = false;
      for (const seq of [...this.tracked]) {
        if (this.closed) return;
        const f = this.ledger.file(seq)!;
        if (this.draining.has(seq)) {
          // Failed over the enqueued-token limit: its lines go again once no other batch holds the queue.
          if (this.draining.size < this.tracked.size) continue;
          this.draining.delete(seq);
          this.tracked.delete(seq);
          this.finishFile(f, 'failed', f.errors, { code: ErrorCode.TRANSIENT, message: `batch ${f.batchId} failed: ${f.errors ?? 'token_limit_exceeded'}` });
          changed = true;
          continue;
        }
        let b: Batch;
        try {
          b = await this.api.retrieve(f.batchId!);
        } catch (err) {
          const code = codeOf(err);
          if (code === ErrorCode.FATAL || code === ErrorCode.USAGE) throw err;
          // A failed poll is asked again at the next round.
          continue;
        }
        if (this.closed) return;
        if (b.request_counts) this.batchCounts.set(seq, b.request_counts);
        if (b.status !== f.batchStatus) {
          changed = true;
          f.batchStatus = b.status;
          this.ledger.updateFile(f);
        }
        if (TERMINAL.has(b.status)) {
          this.batchCounts.delete(seq);
          if (await this.collect(f, b)) this.tracked.delete(seq);
        }
      }
      this.count();
      delay = changed ? FIRST_POLL_MS : Math.min(delay * 2, this.o.pollInterval * 1000);
    }
  }

  /**
   * A finished batch: every answer it has is kept; what it lacks fails (and is retried). False when
   * its lines wait for the queue to drain (token_limit_exceeded while other batches are in progress).
   */
  private async collect(f: FileRow, b: Batch): Promise<boolean> {
    if (b.status === 'failed') {
      const errors = b.errors?.data ?? [];
      const text = errors.map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}${e.line != null ? ` (line ${e.line})` : ''}`).join('; ') || 'no reason given';
      const tokenLimit = errors.some((e) => e.code === 'token_limit_exceeded');
      if (tokenLimit) {
        // Over the enqueued-token limit: later files are smaller, and these lines go again once
        // the batches in progress are done (sooner, they would only fail again and use up retries).
        this.tokenCap = Math.max(1, Math.min(this.tokenCap ?? Infinity, Math.floor(f.tokens / 2)));
        f.errors = text;
        this.ledger.updateFile(f);
        this.draining.add(f.seq);
        return false;
      }
      this.finishFile(f, b.status, text, { code: ErrorCode.EXTRACT, message: `batch ${b.id} failed: ${text}` });
      return true;
    }
    for (const fileId of [b.output_file_id, b.error_file_id]) if (fileId) await this.download(f, b.id, fileId);
    if (this.closed) return false;
    const why = b.status === 'expired' ? 'batch_expired: the batch expired before this request ran' : b.status === 'cancelled' ? 'batch_cancelled: the batch was cancelled before this request ran' : 'the line is missing from the batch output and error files';
    this.finishFile(f, b.status, null, { code: ErrorCode.TRANSIENT, message: `batch ${b.id}: ${why}` });
    return true;
  }

  /** Lines without an outcome fail with `error` (their custom_id added), the file is done, its waiters answered. */
  private finishFile(f: FileRow, status: string, errors: string | null, error: { code: string; message: string }): void {
    const pending = this.ledger.pending(f.seq);
    const outcomes = pending.map((customId) => ({ customId, error: JSON.stringify({ code: error.code, message: error.message.replace(/^(batch \S+)/, `$1 custom_id ${customId}`) }) }));
    this.ledger.record(f.seq, outcomes);
    f.state = 'done';
    f.batchStatus = status;
    f.errors = errors;
    this.ledger.updateFile(f);
    if (this.stats) this.stats.batchLinesFailed += outcomes.length;
    this.answer(f.seq, outcomes);
  }

  private async download(f: FileRow, batchId: string, fileId: string): Promise<void> {
    let chunk: ({ customId: string; answer: string } | { customId: string; error: string })[] = [];
    const flush = () => {
      this.ledger.record(f.seq, chunk);
      this.answer(f.seq, chunk);
      chunk = [];
    };
    for await (const line of this.api.lines(fileId)) {
      if (this.closed) return;
      const outcome = lineOutcome(line, batchId, this.o.apiKey);
      if (!outcome) continue;
      if (this.stats) {
        if ('answer' in outcome) this.stats.batchLinesAnswered++;
        else this.stats.batchLinesFailed++;
      }
      chunk.push(outcome);
      if (chunk.length >= RECORD_CHUNK) flush();
    }
    flush();
  }

  private answer(fileSeq: number, outcomes: readonly ({ customId: string } & Outcome)[]): void {
    for (const o of outcomes) {
      const w = this.waiters.get(o.customId);
      if (w && w.fileSeq === fileSeq) w.resolve('answer' in o ? { answer: o.answer } : { error: o.error });
    }
  }

  /** Batch counters for progress and the summary. */
  private count(): void {
    if (!this.stats) return;
    const files = this.ledger.files();
    this.stats.batchesCreated = files.filter((f) => f.batchId !== null).length;
    let total = 0;
    let done = 0;
    for (const c of this.batchCounts.values()) {
      total += c.total;
      done += c.completed + c.failed;
    }
    this.stats.batchRequestsTotal = total;
    this.stats.batchRequestsDone = done;
    this.stats.batchesInProgress = this.tracked.size;
  }

  /** A wait that close() ends at once; `wakeable`: a newly created batch ends it too (polling starts). */
  private sleep(ms: number, wakeable = false): Promise<void> {
    return new Promise((resolve) => {
      const waits = this.closeWaits;
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        waits.delete(done);
        resolve();
      }
      if (wakeable) this.wake = done;
      waits.add(done);
    });
  }

  private readonly closeWaits = new Set<() => void>();

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    // An unsealed file is discarded by the next run: its packs are written again.
    this.open?.abandon();
    for (const done of this.closeWaits) done();
    await this.chain.catch(() => undefined);
    this.ledger.close();
    await this.o.live?.close();
  }
}

/** An error kept in the ledger, thrown again as the SluiceError it was. */
function storedError(text: string): SluiceError {
  const { code, message } = JSON.parse(text) as { code: string; message: string };
  return new SluiceError(code, message);
}

/**
 * One output or error file line as the ledger keeps it: the response body of a 200, or the error
 * (a non-200 answer classified as a live one would be; a line never run, e.g. batch_expired, is
 * transient). Undefined for a line that is not one (counted as missing when the batch is done).
 */
export function lineOutcome(line: string, batchId: string, apiKey: string | undefined): ({ customId: string } & Outcome) | undefined {
  let v: { custom_id?: unknown; response?: { status_code?: unknown; body?: unknown } | null; error?: { code?: unknown; message?: unknown } | null };
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof v.custom_id !== 'string') return undefined;
  const customId = v.custom_id;
  const where = `batch ${batchId} custom_id ${customId}`;
  const status = v.response?.status_code;
  if (v.response && status === 200) return { customId, answer: JSON.stringify(v.response.body ?? null) };
  if (v.response && typeof status === 'number') {
    const e = classifyError(OpenAI.APIError.generate(status, v.response.body as object | undefined, undefined, new Headers()), apiKey, false);
    return { customId, error: JSON.stringify({ code: e.code, message: `${where}: ${e.message}` }) };
  }
  const code = typeof v.error?.code === 'string' ? v.error.code : 'error';
  const message = typeof v.error?.message === 'string' ? v.error.message.slice(0, 500) : 'no answer';
  return { customId, error: JSON.stringify({ code: ErrorCode.TRANSIENT, message: `${where}: ${code}: ${message}` }) };
}
