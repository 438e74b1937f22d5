/**
 * The extractor wiring: which extractor for which options, the combinations refused (with the
 * messages the CLI tests match), and one close() that closes everything opened exactly once, also
 * when building fails half way. No HTTP: the client is a fake, the cache a real one in a temp dir.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { BATCH_NEEDS_LLM, CACHE_WITH_BATCH, wireExtractor, type ExtractorWiring, type WireDeps, type WireOptions } from '../../lib/extractors/wire.js';
import { embeddingsCodec } from '../../lib/extractors/openai-embeddings.js';
import { BATCH_NEEDS_CHECKPOINT } from '../../lib/batch/extractor.js';
import { ResponseCache } from '../../lib/llm/response-cache.js';
import { ErrorCode, SluiceError } from '../../lib/runtime/errors.js';
import type { Extractor } from '../../lib/runtime/extractor.js';
import type { Chunk, Pack } from '../../lib/runtime/records.js';
import { createRunContext } from '../../lib/runtime/run-context.js';

delete process.env.OPENAI_API_KEY;

const base: WireOptions = {
  baseUrl: 'http://127.0.0.1:9/v1',
  timeoutMs: 1000,
  batchApi: false,
  batchMaxRequests: 100,
  batchMaxBytes: 1_000_000,
  batchWindow: 10,
  batchFlushMs: 10,
  pollInterval: 1,
  batchRetry: 'batch',
  retryBaseMs: 1,
  maxRetryAfterMs: 1000,
  maxRetries: 0,
};

const noServer = () => new SluiceError(ErrorCode.USAGE, 'no server here');

function wiring(options: Partial<WireOptions>, more: Partial<ExtractorWiring> = {}): ExtractorWiring {
  return { pipeline: 'embed', options: { ...base, ...options }, codec: () => embeddingsCodec({ model: 'm' }), noServer, ...more };
}

/** Deps that count what was opened and closed; `calls` counts the fake client's requests. */
function spies(answer: (inputs: string[]) => unknown = (inputs) => ({ data: inputs.map((_, index) => ({ index, embedding: [1, 2] })), usage: { prompt_tokens: 3 } })) {
  const counts = { cachesOpened: 0, cachesClosed: 0, offlineClosed: 0, calls: 0 };
  const client = {
    baseURL: 'http://127.0.0.1:9/v1',
    embeddings: {
      create: (body: { input: string[] }) => {
        counts.calls++;
        return { withResponse: async () => ({ data: answer(body.input), response: new Response(null, { status: 200 }) }) };
      },
    },
  } as unknown as OpenAI;
  const deps: Partial<WireDeps> = {
    openCache: (dir) => {
      counts.cachesOpened++;
      const cache = ResponseCache.open(dir);
      const close = cache.close.bind(cache);
      cache.close = () => {
        counts.cachesClosed++;
        close();
      };
      return cache;
    },
    createClient: () => client,
    offline: () =>
      ({
        name: 'offline',
        templateTokens: 0,
        perChunkTokens: 0,
        concurrency: 2,
        extract: async () => ({ chunks: new Map(), usage: { promptTokens: 0, completionTokens: 0 } }),
        close: async () => void counts.offlineClosed++,
      }) satisfies Extractor,
  };
  return { counts, deps };
}

const chunkOf = (seq: number, text: string): Chunk => ({ kind: 'chunk', doc: { seq, line: seq + 1, source: 's', id: `d${seq}`, meta: {} }, index: 0, count: 1, text, tokens: 2 });
const pack: Pack = { kind: 'pack', id: 'p0.0', chunks: [chunkOf(0, 'zero'), chunkOf(1, 'one')], tokens: 4, promptTokens: 4 };
const signal = new AbortController().signal;
const tmp = () => mkdtempSync(join(tmpdir(), 'sluice-wire-'));

t.test('offline: the local extractor, closed once; --batch-api is refused', async (t) => {
  const { counts, deps } = spies();
  const e = await wireExtractor(wiring({ baseUrl: undefined }, { pipeline: 'kg', offline: { workers: 0 }, codec: () => t.fail('no codec offline') as never }), deps);
  t.equal(e.name, 'offline');
  await e.close();
  await e.close();
  t.equal(counts.offlineClosed, 1, 'closed once');
  await t.rejects(wireExtractor(wiring({ batchApi: true }, { offline: {} }), deps), { code: 'E_USAGE', message: BATCH_NEEDS_LLM });
});

t.test('the refusals, in order, before anything is opened', async (t) => {
  const { counts, deps } = spies();
  let codecs = 0;
  const counted = { codec: () => (codecs++, embeddingsCodec({ model: 'm' })) };
  await t.rejects(wireExtractor(wiring({ baseUrl: undefined, batchApi: true, cache: tmp() }, counted), deps), { message: 'no server here' }, 'no key and no --base-url first');
  await t.rejects(wireExtractor(wiring({ batchApi: true, cache: tmp() }, counted), deps), { code: 'E_USAGE', message: BATCH_NEEDS_CHECKPOINT }, '--batch-api without --checkpoint');
  await t.rejects(
    wireExtractor(wiring({ batchApi: true, cache: tmp() }, { ...counted, extras: { stateDir: tmp() } }), deps),
    { code: 'E_USAGE', message: CACHE_WITH_BATCH },
    '--cache with --batch-api',
  );
  t.equal(codecs, 0, 'no codec built');
  t.equal(counts.cachesOpened, 0, 'no cache opened');
});

t.test('live without a cache: the codec over the live transport', async (t) => {
  const { counts, deps } = spies();
  const e = await wireExtractor(wiring({ concurrency: 3 }), deps);
  t.same([e.name, e.concurrency, e.templateTokens], ['openai-embeddings', 3, 0]);
  const answer = await e.extract(pack, signal, createRunContext());
  t.equal(answer.chunks.size, 2);
  t.notOk(answer.cached);
  t.equal(counts.calls, 1);
  t.equal(counts.cachesOpened, 0);
  await e.close();
});

t.test('live with a cache: a repeated request is served from it, and close() closes the cache once', async (t) => {
  const { counts, deps } = spies();
  const e = await wireExtractor(wiring({ cache: tmp() }), deps);
  const run = createRunContext();
  t.notOk((await e.extract(pack, signal, run)).cached);
  const again = await e.extract(pack, signal, run);
  t.ok(again.cached, 'served from the cache');
  t.equal(again.chunks.size, 2);
  t.equal(counts.calls, 1, 'one request reached the server');
  t.same([run.stats.cacheHits, run.stats.cacheMisses], [1, 1]);
  await Promise.all([e.close(), e.close()]);
  await e.close();
  t.same([counts.cachesOpened, counts.cachesClosed], [1, 1]);
});

t.test('an answer that fails validation is not cached', async (t) => {
  const { counts, deps } = spies(() => ({ data: [] }));
  const e = await wireExtractor(wiring({ cache: tmp() }), deps);
  await t.rejects(e.extract(pack, signal, createRunContext()), { code: 'E_TRANSIENT' });
  await t.rejects(e.extract(pack, signal, createRunContext()), { code: 'E_TRANSIENT' });
  t.equal(counts.calls, 2, 'asked again: nothing was stored');
  await e.close();
});

t.test('a build that fails half way closes what it had opened', async (t) => {
  const { counts, deps } = spies();
  const broken = {
    ...deps,
    createClient: () => {
      throw new Error('no client today');
    },
  };
  await t.rejects(wireExtractor(wiring({ cache: tmp() }), broken), { message: 'no client today' });
  t.same([counts.cachesOpened, counts.cachesClosed], [1, 1], 'the cache opened before the failure is closed');
});

t.test('batch: the Batch API extractor (with live retry), closed once', async (t) => {
  const { deps } = spies();
  const e = await wireExtractor(wiring({ batchApi: true, batchRetry: 'live', batchWindow: 7 }, { extras: { stateDir: tmp() } }), deps);
  t.same([e.name, e.concurrency], ['openai-batch', 7]);
  await e.close();
  await e.close();
  // The ledger was closed: the same directory opens again for the next run.
  const dir = tmp();
  const first = await wireExtractor(wiring({ batchApi: true }, { extras: { stateDir: dir } }), deps);
  await first.close();
  const second = await wireExtractor(wiring({ batchApi: true }, { extras: { stateDir: dir } }), deps);
  await second.close();
});
