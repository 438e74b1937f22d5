import t from 'tap';
import { Readable } from 'node:stream';
import { onBatch, results, run } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import type { Failure, Result } from '../lib/runtime/records.js';
import { fakeExtractor, transient } from './helpers/fake-extractor.js';
import { fakePipeline, messyLines } from './helpers/fake-pipeline.js';
import { Writable } from 'node:stream';

const stream = (lines: string[]) => ({ name: 'test', stream: Readable.from([Buffer.from(lines.join('\n') + '\n')]) });

t.test('results() yields one result per good document, in input order; bad records reach onDeadLetter', async (t) => {
  const { lines, goodIds, badCount } = messyLines(100);
  const failures: Failure[] = [];
  const got: Result[] = [];
  const ctx = createRunContext();
  for await (const r of results(fakePipeline(fakeExtractor()), [stream(lines)], { maxDocs: 4 }, { context: ctx, onDeadLetter: (f) => void failures.push(f) })) got.push(r);
  t.same(
    got.map((r) => r.id),
    goodIds,
  );
  t.equal(failures.length, badCount);
  t.ok(failures.every((f) => f.line > 0 && f.reason.length > 0 && f.source === 'test'));
  t.equal(ctx.stats.recordsIn, got.length + failures.length, 'documents in = results out + dead-lettered');
  t.same(
    got[0]!.entities.map((e) => e.name),
    ['Document', 'Alice', 'Bob', 'Paris'],
  );
});

t.test('the invariant holds with extraction failures, retries and splits (many seeds)', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const { lines } = messyLines(60);
    let x = seed;
    const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const ex = fakeExtractor({
      failWith: (p) => (p.chunks.some((c) => c.doc.id.endsWith('7')) && rand() < 0.9 ? transient() : rand() < 0.2 ? transient() : undefined),
      omit: () => rand() < 0.05,
    });
    const ctx = createRunContext();
    const ids: string[] = [];
    const dead: Failure[] = [];
    for await (const r of results(fakePipeline(ex), [stream(lines)], { maxDocs: 5, maxRetries: 1, retryBaseMs: 0 }, { context: ctx, onDeadLetter: (f) => void dead.push(f) })) ids.push(r.id);
    t.equal(new Set(ids).size, ids.length, `seed ${seed}: no duplicate`);
    t.equal(ctx.stats.recordsIn, ids.length + dead.length, `seed ${seed}: in = out + dead (${ids.length} + ${dead.length})`);
    const seqs = [...ids.map((id) => Number(id.slice(1)))];
    t.same(
      seqs,
      [...seqs].sort((a, b) => a - b),
      `seed ${seed}: in order`,
    );
  }
});

t.test('unordered mode gives the same results, as completed', async (t) => {
  const { lines, goodIds } = messyLines(50);
  const ex = fakeExtractor({ delayMs: 1 });
  const got: string[] = [];
  for await (const r of results(fakePipeline(ex), [stream(lines)], { unordered: true, maxDocs: 2, concurrency: 4 })) got.push(r.id);
  t.same([...got].sort(), [...goodIds].sort());
});

t.test('backpressure: with a slow consumer, the records read ahead stay bounded', async (t) => {
  const total = 50_000;
  let produced = 0;
  function* lines() {
    for (let i = 0; i < total; i++) {
      produced++;
      yield Buffer.from(`${JSON.stringify({ id: i, text: `Text ${i} about Rome.` })}\n`);
    }
  }
  const ex = fakeExtractor({ concurrency: 2 });
  let consumed = 0;
  let maxAhead = 0;
  for await (const _r of results(fakePipeline(ex), [{ name: 'gen', stream: Readable.from(lines()) }], { maxDocs: 10 })) {
    consumed++;
    maxAhead = Math.max(maxAhead, produced - consumed);
    if (consumed % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    if (consumed === 2000) break;
  }
  t.ok(produced < 20_000, `stopped reading early: ${produced} of ${total} produced`);
  t.ok(maxAhead < 5000, `records ahead of the consumer stayed bounded (max ${maxAhead})`);
  t.ok(ex.maxInFlight <= 2, `packs in flight <= concurrency (${ex.maxInFlight})`);
});

t.test('ordered mode: one slow pack does not idle the other request slots', async (t) => {
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `s${i}`, text: `Doc ${i} in Oslo.` }));
  let firstDone = false;
  let startedWhileFirstRan = 0;
  const ex = fakeExtractor({ concurrency: 2 });
  const extract = ex.extract.bind(ex);
  ex.extract = async (pack, signal) => {
    if (pack.chunks[0]!.doc.seq === 0) {
      await new Promise((r) => setTimeout(r, 300));
      firstDone = true;
    } else if (!firstDone) startedWhileFirstRan++;
    return extract(pack, signal);
  };
  const ids: string[] = [];
  for await (const r of results(fakePipeline(ex), [stream(lines)], { maxDocs: 2 })) ids.push(r.id);
  t.same(
    ids,
    lines.map((_l, i) => `s${i}`),
    'still in input order',
  );
  t.ok(startedWhileFirstRan >= 4, `${startedWhileFirstRan} packs ran in the other slot meanwhile`);
  t.ok(ex.maxInFlight <= 2, `never more than concurrency in flight (${ex.maxInFlight})`);
});

t.test('onBatch hands results over in batches of the given size', async (t) => {
  const { lines, goodIds } = messyLines(25);
  const sizes: number[] = [];
  const ids: string[] = [];
  const stats = await onBatch(fakePipeline(fakeExtractor()), [stream(lines)], {}, { batchSize: 10, onBatch: (rs) => void (sizes.push(rs.length), ids.push(...rs.map((r) => r.id))) });
  t.same(sizes, [10, 10, 5]);
  t.same(ids, goodIds);
  t.equal(stats.resultsOut, 25);
});

t.test('run() writes JSONL results and dead letters to the given streams', async (t) => {
  const { lines, goodIds, badCount } = messyLines(10);
  const out: string[] = [];
  const dead: string[] = [];
  const sinkOf = (into: string[]) => new Writable({ write: (c, _e, cb) => (into.push(String(c)), cb()) });
  const stats = await run(fakePipeline(fakeExtractor()), [stream(lines)], {}, { output: sinkOf(out), deadLetter: sinkOf(dead) });
  const outLines = out
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const deadLines = dead
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.same(
    outLines.map((r) => r.id),
    goodIds,
  );
  t.same(Object.keys(outLines[0]), ['id', 'entities', 'relations', 'meta', 'usage']);
  t.equal(deadLines.length, badCount);
  t.same(
    Object.keys(deadLines[0]).filter((k) => k !== 'id'),
    ['line', 'source', 'stage', 'code', 'reason', 'excerpt'],
  );
  t.equal(stats.recordsIn, stats.resultsOut + stats.deadLettered);
});

t.test('a result whose meta cannot be serialised is dead-lettered at the sink', async (t) => {
  let nested = '1';
  for (let i = 0; i < 20000; i++) nested = `{"a":${nested}}`;
  const lines = [JSON.stringify({ id: 'ok', text: 'Fine.' }), `{"id":"deep","text":"Deep.","m":${nested}}`, JSON.stringify({ id: 'ok2', text: 'Fine.' })];
  const out: string[] = [];
  const dead: string[] = [];
  const sinkOf = (into: string[]) => new Writable({ write: (c, _e, cb) => (into.push(String(c)), cb()) });
  const stats = await run(fakePipeline(fakeExtractor()), [stream(lines)], { maxLineBytes: 1e6 }, { output: sinkOf(out), deadLetter: sinkOf(dead) });
  t.same(
    out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id),
    ['ok', 'ok2'],
  );
  t.match(JSON.parse(dead.join('').trim()), { id: 'deep', code: 'UNSERIALISABLE', stage: 'sink' });
  t.equal(stats.recordsIn, stats.resultsOut + stats.deadLettered);
});

t.test('options given in code are validated, naming the option', async (t) => {
  const it = results(fakePipeline(fakeExtractor()), [stream(['{}'])], { maxDocs: 'ten' });
  await t.rejects(it.next(), { code: 'E_USAGE', message: /--max-docs must be an integer, got "ten"/ });
  const it2 = results(fakePipeline(fakeExtractor()), [stream(['{}'])], { maxDoc: 3 });
  await t.rejects(it2.next(), { code: 'E_USAGE', message: /unknown option "maxDoc"/ });
});
