import t from 'tap';
import { backoffMs, decide, withRetrySplit } from '../../stages/retry-split.js';
import { createRunContext } from '../../lib/runtime/run-context.js';
import { chunkKey, type Chunk, type Pack } from '../../lib/runtime/records.js';
import { fakeExtractor, fatal, tooLarge, transient } from '../helpers/fake-extractor.js';
import { ErrorCode, SluiceError } from '../../lib/runtime/errors.js';

const retry = { maxRetries: 2, retryBaseMs: 1, maxRetryAfterMs: 50 };
const chunk = (seq: number): Chunk => ({ kind: 'chunk', doc: { seq, line: seq + 1, source: 's', id: `d${seq}`, meta: {} }, index: 0, count: 1, text: `Doc ${seq} mentions Paris`, tokens: 10 });
const packOf = (n: number): Pack => {
  const chunks = Array.from({ length: n }, (_, i) => chunk(i));
  return { kind: 'pack', id: 'p0.0', chunks, tokens: 10 * n, promptTokens: 10 * n };
};

t.test('decides by error code', async (t) => {
  t.equal(decide(transient()), 'retry');
  t.equal(decide(tooLarge()), 'split');
  t.equal(decide(fatal()), 'fatal');
  t.equal(decide(new Error('anything else')), 'split');
});

t.test('backoff is full jitter under base x 2^n, and a server hint is honoured up to the cap', async (t) => {
  const o = { maxRetries: 3, retryBaseMs: 2000, maxRetryAfterMs: 60000 };
  t.equal(
    backoffMs(0, o, undefined, () => 0.999999),
    1999.998,
  );
  t.equal(
    backoffMs(2, o, undefined, () => 0.5),
    4000,
  );
  t.equal(
    backoffMs(0, o, 30000, () => 0.5),
    30000,
    'waits at least the hint',
  );
  t.equal(
    backoffMs(0, o, 3_600_000, () => 0.5),
    60000,
    'a huge Retry-After is clamped',
  );
  t.equal(
    backoffMs(10, o, undefined, () => 1),
    60000,
    'backoff is capped',
  );
});

t.test('a transient failure is retried, then succeeds', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ failWith: (_p, call) => (call < 2 ? transient() : undefined) });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(3));
  t.equal(out.extractions.size, 3);
  t.equal(out.failed.size, 0);
  t.equal(ctx.stats.retries, 2);
  t.equal(ctx.stats.splits, 0);
  t.equal(ex.calls.length, 3);
});

t.test('a pack that keeps failing splits in halves down to one chunk; only the bad one fails', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ failWith: (p) => (p.chunks.some((c) => c.doc.seq === 5) ? transient('boom on 5') : undefined) });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(8));
  t.equal(out.extractions.size, 7);
  t.same([...out.failed.keys()], ['5.0']);
  t.match(out.failed.get('5.0'), { code: 'E_TRANSIENT', reason: 'boom on 5' });
  t.ok(ctx.stats.splits >= 3, `${ctx.stats.splits} splits`);
});

t.test('split-required splits at once, without retrying', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ failWith: (p) => (p.chunks.length > 2 ? tooLarge() : undefined) });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(8));
  t.equal(out.extractions.size, 8);
  t.equal(ctx.stats.retries, 0);
  t.same(
    ex.calls.map((p) => p.chunks.length),
    [8, 4, 2, 2, 4, 2, 2],
  );
});

t.test('a truncated answer splits; a truncated single chunk is retried, then failed', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ failWith: (p) => (p.chunks.length > 1 || p.chunks[0]!.doc.seq === 1 ? new SluiceError(ErrorCode.TRUNCATED, 'cut off') : undefined) });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(2));
  t.equal(out.extractions.size, 1);
  t.match(out.failed.get('1.0'), { code: 'E_TRUNCATED' });
  t.equal(ctx.stats.splits, 1);
  t.equal(ctx.stats.retries, retry.maxRetries, 'the lone chunk was retried');
});

t.test('documents missing from an answer go again on their own', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ omit: (key, call) => call === 0 && key === '2.0' });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(4));
  t.equal(out.extractions.size, 4);
  t.same(ex.calls[1]!.chunks.map(chunkKey), ['2.0']);
});

t.test('a document always missing is failed after retries, not looped on', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ omit: (key) => key === '1.0' });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(3));
  t.equal(out.extractions.size, 2);
  t.match(out.failed.get('1.0'), { code: 'E_TRANSIENT', reason: /covered none/ });
  t.ok(ex.calls.length <= 1 + 1 + retry.maxRetries);
});

t.test('a fatal error stops at once', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ failWith: () => fatal() });
  await t.rejects(withRetrySplit(ex, retry, ctx)(packOf(4)), { code: 'E_FATAL' });
  t.equal(ex.calls.length, 1);
});

t.test('usage of every attempt is counted (a retried request is billed again)', async (t) => {
  const ctx = createRunContext();
  const ex = fakeExtractor({ omit: (key, call) => call === 0 && key === '0.0' });
  const out = await withRetrySplit(ex, retry, ctx)(packOf(2));
  t.equal(out.usage.promptTokens, 20 + 10);
  t.equal(ctx.stats.promptTokens, 30);
  t.equal(ctx.stats.requests, 2);
});

t.test('an abort while waiting to retry ends the wait', async (t) => {
  const controller = new AbortController();
  const ctx = createRunContext(controller.signal);
  const ex = fakeExtractor({ failWith: () => transient() });
  const slow = { maxRetries: 3, retryBaseMs: 60_000, maxRetryAfterMs: 60_000 };
  const p = withRetrySplit(ex, slow, ctx)(packOf(1));
  setTimeout(() => controller.abort(), 20);
  await t.rejects(p, { code: 'E_ABORTED' });
});
