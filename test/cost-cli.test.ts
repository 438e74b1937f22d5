/**
 * The cost as the command line tells it, on the simulator and a generated corpus from a file: the
 * dry run's range holds the real run's completion tokens, and with --max-cost a projection over
 * the cap is said early, once, and in the summary, while the run stops only when the cap is spent.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { kg } from './helpers/cli.js';
import { parseExposition, valueOf } from './helpers/prometheus.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-cost-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const corpus = join(dir, 'corpus.jsonl');
writeFileSync(corpus, [...generateDocs(1000, 16)].map((d) => `${JSON.stringify(d)}\n`).join(''));
const sim = await startSimulator();
t.teardown(() => sim.close());
const common = ['--base-url', sim.url, '--retry-base-ms', '1', corpus];
const summaryOf = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const number = (s: string) => Number(s.replace(/,/g, ''));

// The whole run, uncapped: what the dry run and the projection are held to.
const fullSummary = join(dir, 'full.json');
const full = await kg([...common, '-o', join(dir, 'full.jsonl'), '--summary', fullSummary, '-q']);
const whole = summaryOf(fullSummary);

t.test('the whole run finished', async (t) => {
  t.equal(full.code, 0, full.stderr);
  t.match(whole, { status: 'finished', docsOut: 1000, projectedCostUsd: null, costWarning: null }, 'a finished run shows its cost, not a projection');
});

t.test("the dry run's range holds the completion tokens of the real run", async (t) => {
  const dry = await kg(['--dry-run', ...common]);
  t.equal(dry.code, 0, dry.stderr);
  const m = /completion {7}~([\d,]+) tokens, likely ([\d,]+) to ([\d,]+) \(prior: 80 \+ 1\.6 x each chunk's tokens; range: 0\.75-1\.3 x the prior/.exec(dry.stdout);
  t.ok(m, dry.stdout);
  const [point, low, high] = [number(m![1]!), number(m![2]!), number(m![3]!)];
  const actual = whole.completionTokens;
  t.ok(low <= actual && actual <= high, `actual ${actual} in ${low}..${high} (point ${point}, ${(actual / point).toFixed(3)} x)`);
  const cost = /estimated cost {3}\$([\d.]+) for gpt-4\.1-mini, likely \$([\d.]+) to \$([\d.]+) \(/.exec(dry.stdout);
  t.ok(cost, 'the cost as a range too');
  t.ok(Number(cost![2]) <= whole.costUsd && whole.costUsd <= Number(cost![3]), `cost $${whole.costUsd} in $${cost![2]}..$${cost![3]}`);
});

t.test('--max-cost: a projection over the cap is said early and once; the run stops when the cap is spent', async (t) => {
  const cap = Number((whole.costUsd / 2).toFixed(4));
  const summary = join(dir, 'capped.json');
  const metrics = join(dir, 'capped.prom');
  const r = await kg([...common, '--max-cost', String(cap), '-o', join(dir, 'capped.jsonl'), '--summary', summary, '--metrics-file', metrics]);
  t.equal(r.code, 3, r.stderr);
  const warnings = [...r.stderr.matchAll(/kg: projected cost ~\$([\d.]+) exceeds --max-cost \$([\d.]+) \(at ([\d.]+)% of the documents\); the run goes on and stops when \$[\d.]+ is spent\n/g)];
  t.equal(warnings.length, 1, `said once: ${r.stderr}`);
  const [, projected, given, at] = warnings[0]!;
  t.equal(Number(given), cap);
  t.ok(Number(at) < 10, `said at ${at}% of the documents, long before the cap (about half)`);
  // An early figure (2% of the documents: a few packs); the 15% claim is at 10% (test/projection.test.ts).
  t.ok(Number(projected) > cap && Number(projected) < 2 * whole.costUsd, `projected $${projected} against $${whole.costUsd} for the whole run`);
  // The warning comes before the stop, which comes once the cap is spent.
  t.ok(r.stderr.indexOf('projected cost') < r.stderr.indexOf('stopped at --max-cost'), 'the warning before the stop');
  const s = summaryOf(summary);
  t.match(s, { status: 'stopped', stoppedBy: 'max-cost' });
  t.ok(s.costUsd >= cap, `spent $${s.costUsd}: the cap was reached`);
  t.match(s.costWarning, /^projected cost ~\$[\d.]+ exceeds --max-cost/);
  t.ok(Math.abs(s.projectedCostUsd / whole.costUsd - 1) < 0.15, `the summary's projection of the whole, $${s.projectedCostUsd}`);
  t.match(r.stderr, /\n {2}tokens .*, cost \$[\d.]+ \(the whole input: ~\$[\d.]+ projected\)\n {2}warning {4}projected cost ~\$/, 'the summary says both');
  const samples = parseExposition(readFileSync(metrics, 'utf8'));
  t.equal(valueOf(samples, 'sluice_cost_projected_usd')!.toFixed(6), s.projectedCostUsd.toFixed(6), 'the metric agrees');
  t.ok(valueOf(samples, 'sluice_eta_seconds')! >= 0);
});

t.test('--quiet keeps the warning: it is about money', async (t) => {
  const r = await kg([...common, '--max-cost', String(Number((whole.costUsd / 2).toFixed(4))), '-o', join(dir, 'quiet.jsonl'), '-q']);
  t.equal(r.code, 3, r.stderr);
  t.match(r.stderr, /^kg: projected cost ~\$[\d.]+ exceeds --max-cost/);
  t.notMatch(r.stderr, /tokens {5}text/, 'and no summary');
});

t.test('a cap above the projection: no warning', async (t) => {
  const r = await kg([...common, '--max-cost', String(Number((whole.costUsd * 2).toFixed(4))), '-o', join(dir, 'roomy.jsonl'), '-q']);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /projected cost/);
});
