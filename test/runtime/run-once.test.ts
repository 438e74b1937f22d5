/**
 * A run resolves its options once and hands the same resolved object to every hook (checkpoint
 * layout, identity, build), from code and from the CLI; and it counts each item once, after the
 * sink's verdict, so no counter goes up and then down.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../lib/cli/run-cli.js';
import { mergeSpecs } from '../../lib/runtime/options.js';
import { definePipeline, run, type Sink } from '../../lib/runtime/pipeline.js';
import { failure, type Doc, type Failure, type Result } from '../../lib/runtime/records.js';
import { createRunContext, type RunStats } from '../../lib/runtime/run-context.js';
import { pipe, type StageTransform } from '../../lib/runtime/stage.js';
import { extractOptionSpecs } from '../../stages/extract.js';
import { parse, parseOptionSpecs } from '../../stages/parse.js';
import { read, readOptionSpecs, type InputSpec } from '../../stages/read.js';
import { jsonlSink } from '../../stages/sink.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-run-once-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** One result per document: an entity per word after the first, none for a one-word text. */
const toResults: StageTransform<(Doc | Failure)[], Result | Failure> = (input) =>
  input.sequence().map((d): Result | Failure =>
    d.kind === 'doc'
      ? {
          kind: 'result',
          seq: d.seq,
          line: d.line,
          source: d.source,
          id: d.id,
          entities: d.text
            .split(' ')
            .slice(1)
            .map((w) => ({ name: w, type: 'word', mentions: 1 })),
          relations: [],
          meta: d.meta,
          usage: { promptTokens: 0, completionTokens: 0, chunks: 1 },
        }
      : d,
  );

/** A pipeline that records the options object each hook is given. */
function recording(sinkOf: (target: Parameters<typeof jsonlSink>[0]) => Sink = jsonlSink) {
  const seen: { hook: string; options: unknown }[] = [];
  const pipeline = definePipeline<any>({
    name: 'recording',
    description: 'test pipeline',
    options: mergeSpecs(readOptionSpecs, parseOptionSpecs, extractOptionSpecs),
    build: (o, inputs) => {
      seen.push({ hook: 'build', options: o });
      return { flow: pipe(read(inputs as InputSpec[], o), parse(o), toResults) };
    },
    identity: (o) => (seen.push({ hook: 'identity', options: o }), {}),
    checkpointLayout: (o) => (seen.push({ hook: 'checkpointLayout', options: o }), 'file'),
    sink: sinkOf,
  });
  return { pipeline, seen };
}

const docs = ['{"id":"a","text":"Alice met Bob"}', '{"id":"b","text":"Alone"}', '{"id":"refused","text":"Carol met Dan"}', '{"id":"c","text":"Eve met"}'];
const input = () => ({ name: 'test', stream: Readable.from([Buffer.from(`${docs.join('\n')}\n`)]) });

t.test('run() resolves the options once: every hook gets the same resolved object', async (t) => {
  const { pipeline, seen } = recording();
  await run(pipeline, [input()], { idField: 'id' }, { output: join(dir, 'out.jsonl'), checkpoint: join(dir, 'out.checkpoint') });
  t.same(seen.map((s) => s.hook).sort(), ['build', 'checkpointLayout', 'identity']);
  t.ok(
    seen.every((s) => s.options === seen[0]!.options),
    'one object, resolved once',
  );
  t.match(seen[0]!.options, { idField: 'id', textField: 'text', maxLineBytes: 16 * 1024 * 1024, unordered: false });
});

t.test('the CLI resolves once and runs on the object it resolved', async (t) => {
  const { pipeline, seen } = recording();
  const path = join(dir, 'in.jsonl');
  writeFileSync(path, `${docs.join('\n')}\n`);
  const stderr = new Writable({ write: (_c, _e, cb) => cb() });
  const code = await runCli(pipeline, [path, '--quiet', '-o', join(dir, 'cli.jsonl'), '--checkpoint', join(dir, 'cli.checkpoint'), '--text-field', 'text'], { stderr });
  t.equal(code, 0);
  t.same(seen.map((s) => s.hook).sort(), ['build', 'checkpointLayout', 'identity']);
  t.ok(
    seen.every((s) => s.options === seen[0]!.options),
    'one object, resolved once',
  );
});

/** Records every value a counter takes. */
function watch(stats: RunStats, keys: readonly (keyof RunStats)[]): Map<string, number[]> {
  const values = new Map<string, number[]>();
  for (const key of keys) {
    let v = stats[key] as number;
    values.set(key, [v]);
    Object.defineProperty(stats, key, { get: () => v, set: (x: number) => void values.get(key)!.push((v = x)) });
  }
  return values;
}

t.test('a result the sink dead-letters is counted once, as a dead letter: no counter goes up and down', async (t) => {
  // A sink that refuses one result, as jsonlSink does with an unserialisable one.
  const refusing = (target: Parameters<typeof jsonlSink>[0]): Sink => {
    const inner = jsonlSink(target);
    return { ...inner, write: async (item) => (item.kind === 'result' && item.id === 'refused' ? failure(item, 'sink', 'UNSERIALISABLE', 'refused', '', item.id) : inner.write(item)) };
  };
  const { pipeline } = recording(refusing);
  const ctx = createRunContext();
  const values = watch(ctx.stats, ['resultsOut', 'entitiesOut', 'docsWithoutEntities', 'deadLettered']);
  const out: string[] = [];
  const stats = await run(pipeline, [input()], {}, { context: ctx, output: new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) }) });
  t.same(
    out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id),
    ['a', 'b', 'c'],
  );
  t.equal(stats.resultsOut, 3);
  t.equal(stats.entitiesOut, 3, "the refused result's entities are not counted");
  t.equal(stats.docsWithoutEntities, 1);
  t.equal(stats.deadLettered, 1);
  t.equal(stats.recordsIn, stats.resultsOut + stats.deadLettered);
  for (const [key, seen] of values)
    t.ok(
      seen.every((v, i) => i === 0 || v >= seen[i - 1]!),
      `${key} only goes up: ${seen.join(', ')}`,
    );
});
