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
 *
 * This file ties the parts together: the input-file writer (writer.ts), the submitter that uploads
 * and creates (submitter.ts), the poller that downloads the answers (poller.ts), the packs waiting
 * for them (waiters.ts) and the ledger. It closes what it opened (the ledger), not the live
 * extractor it is given: that one's owner closes it (lib/extractors/wire.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { BatchApi } from './api.js';
import { BatchLedger, LEDGER_FILE } from './ledger.js';
import { storedError, type Outcome } from './outcome.js';
import { BatchPoller } from './poller.js';
import { BatchSubmitter } from './submitter.js';
import { BatchWaiters } from './waiters.js';
import { BatchWriter } from './writer.js';
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';
import type { Extractor, RequestCodec } from '../runtime/extractor.js';
import { defineOptions, type OptionsOf } from '../runtime/options.js';
import type { Pack, PackAnswer } from '../runtime/records.js';
import type { RunContext } from '../runtime/run-context.js';

export const batchOptionSpecs = defineOptions([
  {
    name: 'batch-api',
    type: 'boolean',
    default: false,
    description:
      'Send requests through the OpenAI Batch API (half the price, answers within 24 h) instead of one live request per pack; needs --checkpoint DIR and --output FILE; the same command resumes the same batches',
  },
  { name: 'batch-max-requests', operational: true, type: 'integer', default: 50_000, min: 1, max: 50_000, description: 'Batch mode: most requests in one input file (the API takes 50,000)' },
  {
    name: 'batch-max-bytes',
    operational: true,
    type: 'integer',
    default: 190_000_000,
    min: 4096,
    max: 200 * 1024 * 1024,
    description: 'Batch mode: largest input file in bytes (the API takes 200 MB)',
  },
  {
    name: 'batch-max-tokens',
    operational: true,
    type: 'integer',
    min: 1,
    description: 'Batch mode: most enqueued tokens (prompt + max output) in one input file: set it under your enqueued-token limit for the model; halved after a batch fails with token_limit_exceeded',
  },
  {
    name: 'batch-window',
    operational: true,
    type: 'integer',
    default: 20_000,
    min: 1,
    description: "Batch mode: packs outstanding at once (written, waiting for their batch); bounds memory (each holds its chunks' text) and what waits to be written in order",
  },
  {
    name: 'batch-flush-ms',
    operational: true,
    type: 'integer',
    default: 2000,
    min: 0,
    description: 'Batch mode: a partly filled input file is submitted once no request was added to it for this long',
  },
  {
    name: 'poll-interval',
    operational: true,
    type: 'number',
    default: 30,
    min: 0.01,
    description: 'Batch mode: longest wait in seconds between polls of the batches in progress (polling starts at 0.25 s and backs off to this)',
  },
  {
    name: 'batch-retry',
    operational: true,
    type: 'string',
    default: 'batch',
    choices: ['batch', 'live'],
    description: 'Batch mode: failed lines (error file, expired, invalid answers) are retried in a follow-up batch, or live',
  },
]);

export type BatchOptions = OptionsOf<typeof batchOptionSpecs>;

export const BATCH_NEEDS_CHECKPOINT =
  '--batch-api needs --checkpoint DIR (and --output FILE): the directory keeps the batch ledger, so that a rerun resumes the same batches instead of paying for them twice';

/** Just the batch fields of a pipeline's resolved options. */
export function batchOf(o: BatchOptions): Omit<BatchOptions, 'batchApi'> {
  return {
    batchMaxRequests: o.batchMaxRequests,
    batchMaxBytes: o.batchMaxBytes,
    ...(o.batchMaxTokens !== undefined ? { batchMaxTokens: o.batchMaxTokens } : {}),
    batchWindow: o.batchWindow,
    batchFlushMs: o.batchFlushMs,
    pollInterval: o.pollInterval,
    batchRetry: o.batchRetry,
  };
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

export function batchExtractor(o: BatchExtractorOptions): Extractor & { readonly ledger: BatchLedger } {
  return new BatchExtractor(o);
}

class BatchExtractor implements Extractor {
  readonly name = 'openai-batch';
  readonly templateTokens: number;
  readonly perChunkTokens: number;
  readonly concurrency: number;
  readonly ledger: BatchLedger;
  private readonly closing = new AbortController();
  private readonly waiters = new BatchWaiters();
  private readonly writer: BatchWriter;
  private readonly submitter: BatchSubmitter;
  private readonly poller: BatchPoller;

  constructor(private readonly o: BatchExtractorOptions) {
    this.templateTokens = o.templateTokens;
    this.perChunkTokens = o.perChunkTokens;
    this.concurrency = o.batchWindow;
    const api = new BatchApi(o.client, o.apiKey);
    mkdirSync(o.dir, { recursive: true });
    const inputs = join(o.dir, 'inputs');
    mkdirSync(inputs, { recursive: true });
    const ledger = BatchLedger.open(join(o.dir, LEDGER_FILE));
    this.ledger = ledger;
    const closing = this.closing.signal;
    const failed = (err: unknown) => this.waiters.fail(err);
    try {
      this.writer = new BatchWriter(ledger, { ...o, inputs, url: o.codec.url, sealed: (seq) => this.submitter.submit(seq, false), failed });
      this.poller = new BatchPoller(api, ledger, this.waiters, { apiKey: o.apiKey, pollInterval: o.pollInterval, closing, overTokenLimit: (tokens) => this.writer.lowerTokenCap(tokens) });
      this.submitter = new BatchSubmitter(api, ledger, this.poller, { inputs, pipeline: o.pipeline, url: o.codec.url, maxRetries: o.maxRetries, retryBaseMs: o.retryBaseMs, closing, failed });
    } catch (err) {
      ledger.close();
      throw err;
    }
    for (const f of ledger.files()) if (f.state !== 'done') this.submitter.submit(f.seq, true);
  }

  async extract(pack: Pack, signal: AbortSignal, run?: RunContext): Promise<PackAnswer> {
    if (run) this.poller.attach(run.stats);
    if (this.waiters.fatal) throw this.waiters.fatal;
    if (signal.aborted) throw new SluiceError(ErrorCode.ABORTED, 'not sent: the run is stopping');
    const root = pack.id.split('/')[0]!;
    // A cut-off costs a whole batch round: a line asks the cap (packs are sized to fit under it).
    const request = this.o.codec.request(pack, { outputTokens: this.o.outputTokens });
    const latest = this.ledger.latest(pack.id);
    let customId: string;
    let outcome: Outcome;
    // Consumed by an earlier session: paid for and counted then.
    let earlier = false;
    if (latest && latest.consumed !== this.ledger.session) {
      // Sent by an earlier session of this run: its answer is used, or waited for, not asked again.
      customId = latest.customId;
      earlier = latest.consumed !== 0;
      outcome = latest.state === 'pending' ? await this.waiters.wait(customId, latest.fileSeq, signal) : latest.state === 'answered' ? { answer: latest.answer! } : { error: latest.error! };
    } else if (this.o.live && (latest !== undefined || this.ledger.rootFailed(root, ''))) {
      // --batch-retry live: this pack (or the pack it was split from) failed in a batch.
      return this.o.live.extract(pack, signal, run);
    } else {
      const n = (latest?.n ?? 0) + 1;
      customId = `${pack.id}~${n}`;
      const fileSeq = this.writer.append(request, { customId, packId: pack.id, root, n });
      outcome = await this.waiters.wait(customId, fileSeq, signal);
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

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    // Ends every wait at once: the poller's, the submitter's backoff.
    this.closing.abort();
    this.writer.abandon();
    await this.submitter.settled();
    this.ledger.close();
  }
}
