/**
 * kg against the simulator with hanging requests (accepted, then silent for 30 s): a hung request
 * is abandoned at the deadline learned from the answered ones (floor 1 s here, ceiling 60 s),
 * counted as a timeout (stats and the request metric's status), retried, and nothing is lost;
 * with hedging, hedges are sent, counted among the requests, and nothing is lost either. The CLI
 * shows both counts in its summary (text and --summary) and its metrics.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startSimulator } from '../simulator/openai-sim.js';
import { generateDocs } from '../bench/generate-docs.js';
import { results } from '../lib/runtime/pipeline.js';
import { createRunContext, type RequestStatus } from '../lib/runtime/run-context.js';
import type { Failure, Result } from '../lib/runtime/records.js';
import { kg } from '../pipelines/kg.js';
import { kg as kgCli } from './helpers/cli.js';
import { parseExposition, valueOf } from './helpers/prometheus.js';

const docs = [...generateDocs(60, 17, { medianWords: 40, maxWords: 120 })];
const input = () => ({ name: 'docs', stream: Readable.from([Buffer.from(docs.map((d) => JSON.stringify(d)).join('\n'))]) });
const HANG_MS = 30_000;

async function runKg(options: Record<string, unknown>) {
  const ended: { status: RequestStatus; seconds: number }[] = [];
  const ctx = createRunContext(undefined, { requestEnded: (status, seconds) => void ended.push({ status, seconds }) });
  const out: Result[] = [];
  const dead: Failure[] = [];
  const started = Date.now();
  for await (const r of results(kg, [input()], { retryBaseMs: 1, maxDocs: 1, minTimeoutMs: 1000, timeoutMs: 60_000, ...options }, { context: ctx, onDeadLetter: (f) => void dead.push(f) }))
    out.push(r);
  return { out, dead, stats: ctx.stats, ended, seconds: (Date.now() - started) / 1000 };
}

t.test('a hung request is abandoned at the learned deadline and retried; nothing lost', async (t) => {
  const sim = await startSimulator({ latencyMs: 20, msPerToken: 0.05, faultRate: 0.1, faults: ['hang'], seed: 3, hangMs: HANG_MS });
  t.teardown(() => sim.close());
  const { out, dead, stats, ended, seconds } = await runKg({ baseUrl: sim.url, hedgeShare: 0 });
  const hangs = sim.stats().faults.hang ?? 0;
  t.ok(hangs >= 2, `${hangs} requests hung`);
  t.equal(dead.length, 0, 'nothing dead-lettered');
  t.same(
    out.map((r) => r.id),
    docs.map((d) => d.id),
    'every document, in order',
  );
  t.equal(stats.timedOut, hangs, 'every hung request timed out (and was counted)');
  t.ok(stats.retries >= hangs, 'and was retried');
  const timeouts = ended.filter((e) => e.status === 'timeout');
  t.equal(timeouts.length, hangs, "the request metric's status is 'timeout'");
  // The floor is 1 s and the answers take well under it: a hang is cut near the floor, far from
  // the 60 s ceiling and the 30 s the server would stay silent. (A hang among the first requests
  // waits for the model to warm up, which takes a fraction of a second here.)
  for (const e of timeouts) t.ok(e.seconds >= 0.9 && e.seconds < 10, `abandoned after ${e.seconds.toFixed(2)} s`);
  t.ok(seconds < HANG_MS / 1000, `the run took ${seconds.toFixed(1)} s, less than one hang`);
});

t.test('with hedging: hung requests are hedged, the hedges are counted among the requests; nothing lost', async (t) => {
  const sim = await startSimulator({ latencyMs: 20, msPerToken: 0.05, faultRate: 0.1, faults: ['hang'], seed: 3, hangMs: HANG_MS });
  t.teardown(() => sim.close());
  const { out, dead, stats, seconds } = await runKg({ baseUrl: sim.url, hedgeShare: 0.2 });
  t.equal(dead.length, 0);
  t.equal(out.length, docs.length);
  t.ok(stats.hedged >= 1, `${stats.hedged} hedges`);
  t.ok(stats.hedged <= Math.ceil(0.2 * stats.requests), 'within the share');
  t.equal(stats.requests, sim.stats().requests, 'every request the server saw is counted, hedges included');
  t.ok(seconds < HANG_MS / 1000, `the run took ${seconds.toFixed(1)} s`);
});

t.test('the CLI: timeouts and hedges in the summary, --summary and --metrics-file', async (t) => {
  const sim = await startSimulator({ latencyMs: 20, msPerToken: 0.05, faultRate: 0.1, faults: ['hang'], seed: 3, hangMs: HANG_MS });
  t.teardown(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'sluice-slow-tail-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [summary, metrics] = [join(dir, 'summary.json'), join(dir, 'run.prom')];
  const args = ['--base-url', sim.url, '--max-docs', '1', '--retry-base-ms', '1', '--min-timeout-ms', '1000', '--timeout-ms', '60000', '--hedge-share', '0.1'];
  const r = await kgCli([...args, '--summary', summary, '--metrics-file', metrics], { stdin: `${docs.map((d) => JSON.stringify(d)).join('\n')}\n` });
  t.equal(r.code, 0, r.stderr);
  const s = JSON.parse(readFileSync(summary, 'utf8')) as { timedOut: number; hedged: number; docsOut: number; deadLettered: number; requests: number };
  t.equal(s.docsOut, docs.length);
  t.equal(s.deadLettered, 0);
  t.ok(s.timedOut + s.hedged >= 1, `${s.timedOut} timed out, ${s.hedged} hedged`);
  t.match(r.stderr, new RegExp(`slow tail +${s.timedOut} requests timed out \\(retried\\), ${s.hedged} hedged`));
  const samples = parseExposition(readFileSync(metrics, 'utf8'));
  t.equal(valueOf(samples, 'sluice_timed_out_requests_total'), s.timedOut);
  t.equal(valueOf(samples, 'sluice_hedged_requests_total'), s.hedged);
  t.equal(valueOf(samples, 'sluice_requests_total', { status: 'timeout' }), s.timedOut, "a timeout is a request with status 'timeout'");
});
