/**
 * The Batch API calls over the openai SDK: a streamed upload of an input file (openai >= 6.47
 * streams `toStreamingFile` as multipart without reading the file into memory), create, retrieve,
 * and the reconciliation lookups (a file by name, a batch by the run's metadata). Errors become
 * SluiceErrors (API key redacted) as for live requests. Answers are read line by line.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type OpenAI from 'openai';
import { toStreamingFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { classifyError } from '../llm/client.js';

/** Metadata keys that name a batch's run and input file (the reconciliation key). */
export const RUN_KEY = 'sluice_run';
export const FILE_KEY = 'sluice_file';

/** How many batches (newest first) are listed when looking for one created before a crash. */
const RECONCILE_LIST_LIMIT = 1000;

export class BatchApi {
  constructor(
    private readonly client: OpenAI,
    private readonly apiKey: string | undefined,
  ) {}

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw classifyError(err, this.apiKey, false);
    }
  }

  upload(path: string, name: string): Promise<{ id: string; bytes: number }> {
    return this.call(() => this.client.files.create({ file: toStreamingFile(createReadStream(path), name, { type: 'application/jsonl' }), purpose: 'batch' }));
  }

  /** An upload of this name and size made before a crash kept the ledger from noting it. */
  async findUpload(name: string, bytes: number): Promise<string | undefined> {
    return this.call(async () => {
      for await (const f of this.client.files.list({ purpose: 'batch' })) if (f.filename === name && f.bytes === bytes) return f.id;
      return undefined;
    });
  }

  create(fileId: string, url: string, metadata: Record<string, string>): Promise<Batch> {
    return this.call(() => this.client.batches.create({ input_file_id: fileId, endpoint: url as '/v1/chat/completions', completion_window: '24h', metadata }));
  }

  /** A batch created with this run's metadata for this file before a crash kept the ledger from noting it. */
  async findBatch(runId: string, fileSeq: number): Promise<Batch | undefined> {
    return this.call(async () => {
      let seen = 0;
      for await (const b of this.client.batches.list({ limit: 100 })) {
        if (b.metadata?.[RUN_KEY] === runId && b.metadata?.[FILE_KEY] === String(fileSeq)) return b;
        if (++seen >= RECONCILE_LIST_LIMIT) break;
      }
      return undefined;
    });
  }

  retrieve(batchId: string): Promise<Batch> {
    return this.call(() => this.client.batches.retrieve(batchId));
  }

  cancel(batchId: string): Promise<Batch> {
    return this.call(() => this.client.batches.cancel(batchId));
  }

  /** The lines of a file (output or error file), streamed. */
  async *lines(fileId: string): AsyncGenerator<string> {
    const response = await this.call(() => this.client.files.content(fileId));
    if (!response.body) return;
    const lines = createInterface({ input: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), crlfDelay: Infinity });
    try {
      for await (const line of lines) if (line.trim() !== '') yield line;
    } catch (err) {
      throw classifyError(err, this.apiKey, false);
    }
  }
}
