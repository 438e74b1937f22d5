/**
 * Requests sized to their answers, end to end on the simulator: packs fit --max-output-tokens,
 * each request asks about what its answer needs (not the cap), an answer cut below the cap is asked
 * again with more before anything splits, the summary says why packs split, and --cache reruns
 * stay free and byte-identical.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { jsonLines, kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-answer-sizing-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'in.jsonl');
const DOCS = 200;
writeFileSync(input, `${[...generateDocs(DOCS, 5)].map((d) => JSON.stringify({ id: d.id, text: d.text })).join('\n')}\n`);
const summaryOf = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

t.test('with default options no pack is cut off, and requests reserve about what their answers take', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const summary = join(dir, 'default.json');
  const run = await kg([input, '--base-url', sim.url, '--summary', summary]);
  t.equal(run.code, 0, run.stderr);
  t.equal(jsonLines(run.stdout).length, DOCS, 'every document out');
  const s = summaryOf(summary);
  const server = sim.stats();
  t.equal(s.cutOffsAtCap, 0, 'no answer reached --max-output-tokens');
  t.equal(s.splits, 0);
  t.ok(s.cutOffs <= Math.ceil(0.1 * s.requests), `${s.cutOffs} of ${s.requests} answers cut below the cap and asked again`);
  // The simulator charges prompt + max_tokens at admission: what is left over the prompt is max_tokens.
  const asked = (server.admittedTokens - server.promptTokens) / server.requests;
  t.ok(asked < 4096, `requests asked ${asked.toFixed(0)} completion tokens on average, under the cap`);
  const answered = server.completionTokens / (server.admittedTokens - server.promptTokens);
  t.ok(answered > 0.7, `${(answered * 100).toFixed(0)}% of the tokens reserved for answers were answered`);
  t.ok(s.docsPerPack > 5, `${s.docsPerPack} documents per pack`);
});

t.test('a prior far below the answers: cut answers are asked again with more, nothing splits, and a --cache rerun sends nothing', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const cache = join(dir, 'cache');
  const args = (n: number) => [
    input,
    '--base-url',
    sim.url,
    '--cache',
    cache,
    '--answer-tokens-ratio',
    '0.4',
    '--answer-base-tokens',
    '10',
    '--summary',
    join(dir, `low${n}.json`),
    '-o',
    join(dir, `low${n}.jsonl`),
  ];
  const first = await kg(args(1));
  t.equal(first.code, 0, first.stderr);
  const s1 = summaryOf(join(dir, 'low1.json'));
  t.ok(s1.cutOffs > 0, `${s1.cutOffs} answers cut off`);
  t.ok(s1.requests > s1.packs, 'the cut ones were asked again');
  t.match(first.stderr, /answers +\d+ answers? cut off at max_tokens \(\d+ asked again with more room, \d+ at --max-output-tokens\); splits: \d+ for a cut-off, \d+ for failures/);
  t.equal(s1.docsOut, DOCS);
  const sent = sim.stats().requests;
  t.equal(s1.requests, sent);

  sim.reset();
  const second = await kg(args(2));
  t.equal(second.code, 0, second.stderr);
  t.equal(sim.stats().requests, 0, 'the rerun is served from the cache');
  t.equal(readFileSync(join(dir, 'low2.jsonl'), 'utf8'), readFileSync(join(dir, 'low1.jsonl'), 'utf8'), 'byte-identical output');
  t.equal(summaryOf(join(dir, 'low2.json')).costUsd, 0);
});

t.test('a cap too small for whole packs: the answer is cut at the cap and the pack splits, and the summary says so', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const summary = join(dir, 'cap.json');
  // The prior expects a tenth of the real answers, so packs of ten are formed for a 600-token cap.
  const run = await kg([
    input,
    '--base-url',
    sim.url,
    '--max-output-tokens',
    '600',
    '--answer-tokens-ratio',
    '0.15',
    '--answer-base-tokens',
    '5',
    '--retry-base-ms',
    '1',
    '--max-retries',
    '1',
    '--summary',
    summary,
  ]);
  t.equal(run.code, 0, run.stderr);
  const s = summaryOf(summary);
  t.ok(s.cutOffsAtCap > 0, `${s.cutOffsAtCap} answers cut at the cap`);
  t.ok(s.splitsCutOff > 0 && s.splitsCutOff <= s.splits, `${s.splitsCutOff} of ${s.splits} splits for a cut-off`);
  t.equal(s.docsOut + s.deadLettered, DOCS, 'nothing lost');
});
