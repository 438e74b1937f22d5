/**
 * Batch API mode (--batch-api) against the simulator: the same output as live mode, byte for byte,
 * through shuffled answers, error lines, expiry, token_limit_exceeded and file roll-over; kill -9
 * while writing input files, between upload and create, while polling and while downloading, then
 * the same command: identical output, and no file uploaded or batch created twice (/stats).
 */
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { generateDocs } from '../bench/generate-docs.js';
import { acquireTokenTools, startSimulator, type Simulator, type SimulatorOptions } from '../simulator/openai-sim.js';
import { kg, runScript, type CliRun } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-batch-'));
const held = acquireTokenTools(['o200k_base']);
t.teardown(() => {
  held.release();
  rmSync(dir, { recursive: true, force: true });
});

/** Generated documents with bad records among them, so dead letters are part of the comparison. */
function corpus(count: number, seed: number): string {
  const lines: string[] = [];
  let i = 0;
  for (const d of generateDocs(count, seed, { medianWords: 80, maxWords: 400 })) {
    lines.push(JSON.stringify(d));
    if (++i % 53 === 0) lines.push('{"id": "broken", "text": ');
  }
  return `${lines.join('\n')}\n`;
}

const input = join(dir, 'input.jsonl');
writeFileSync(input, corpus(160, 7));

async function sim(t: { teardown(fn: () => unknown): void }, options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ batchLatencyMs: 150, ...options });
  t.teardown(() => s.close());
  return s;
}

let reference: { output: Buffer; dead: Buffer } | undefined;

/** The live run's output and dead letters: what every batch run must equal. */
/**
 * The output as batch mode matches live mode: every byte but each document's usage. A batch line
 * asks --max-output-tokens (a cut there would cost a whole batch round), while a live request asks
 * its expected answer and may have its rest asked again, which bills a little more.
 */
function withoutUsage(output: Buffer): string {
  return output
    .toString('utf8')
    .split('\n')
    .map((line) => (line ? JSON.stringify({ ...(JSON.parse(line) as object), usage: undefined }) : line))
    .join('\n');
}

async function live(): Promise<{ output: Buffer; dead: Buffer }> {
  if (reference) return reference;
  const s = await startSimulator();
  try {
    const output = join(dir, 'live.jsonl');
    const dead = join(dir, 'live-dead.jsonl');
    const r = await kg(['--quiet', '--base-url', s.url, input, '-o', output, '--dead-letter', dead]);
    if (r.code !== 0) throw new Error(`live run failed: ${r.stderr}`);
    reference = { output: readFileSync(output), dead: readFileSync(dead) };
    return reference;
  } finally {
    await s.close();
  }
}

let runs = 0;
function files(name: string) {
  runs++;
  return { output: join(dir, `${name}-${runs}.jsonl`), dead: join(dir, `${name}-${runs}-dead.jsonl`), state: join(dir, `${name}-${runs}-state`), summary: join(dir, `${name}-${runs}-summary.json`) };
}

const FAST = ['--poll-interval', '0.05', '--batch-flush-ms', '200', '--retry-base-ms', '10'];

function batchRun(s: Simulator, f: ReturnType<typeof files>, extra: string[] = [], onSpawn?: (child: ChildProcess) => void): Promise<CliRun> {
  return kg(
    ['--quiet', '--base-url', s.url, '--batch-api', ...FAST, ...extra, input, '-o', f.output, '--dead-letter', f.dead, '--checkpoint', f.state, '--summary', f.summary],
    onSpawn ? { onSpawn } : {},
  );
}

function ledgerFiles(state: string): { seq: number; state: string; batch_id: string | null; batch_status: string | null }[] {
  const db = new Database(join(state, 'batches.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT seq, state, batch_id, batch_status FROM files ORDER BY seq').all() as never;
  } finally {
    db.close();
  }
}

t.test('batch mode writes what live mode writes; files roll over at --batch-max-requests; half the price', async (t) => {
  const ref = await live();
  const s = await sim(t);
  const f = files('same');
  const r = await batchRun(s, f, ['--batch-max-requests', '4']);
  t.equal(r.code, 0, r.stderr);
  t.ok(withoutUsage(readFileSync(f.output)) === withoutUsage(ref.output), 'output byte for byte, but for usage');
  t.ok(readFileSync(f.dead).equals(ref.dead), 'dead letters byte for byte');
  const summary = JSON.parse(readFileSync(f.summary, 'utf8'));
  const batches = s.stats().batch;
  t.ok(batches.batchesCreated >= Math.ceil(summary.packs / 4), `${batches.batchesCreated} batches for ${summary.packs} packs`);
  t.equal(batches.filesUploaded, batches.batchesCreated, 'one upload per batch');
  t.equal(summary.batchesCreated, batches.batchesCreated, 'the summary counts the batches');
  t.equal(summary.requests, batches.linesProcessed, 'every request was a batch line');
  const ledger = ledgerFiles(f.state);
  t.ok(
    ledger.every((x) => x.state === 'done' && x.batch_status === 'completed'),
    'every batch completed and collected',
  );
  t.same(readdirSync(join(f.state, 'inputs')), [], 'input files are removed once their batch exists');
  // gpt-4.1-mini at half of $0.40 / $1.60 per million tokens.
  t.equal(summary.costUsd.toFixed(6), ((summary.promptTokens * 0.2 + summary.completionTokens * 0.8) / 1e6).toFixed(6), 'cost at the batch rate');

  const dry = await kg(['--dry-run', '--batch-api', input]);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /Batch API rate: half of live/);
  const dryLive = await kg(['--dry-run', '--extractor', 'openai', '--base-url', s.url, input]);
  const cost = (text: string) => Number(/estimated cost\s+\$([\d.]+)/.exec(text)![1]);
  // Both printed to 4 decimals: half of the one may round the other way.
  t.ok(Math.abs(cost(dry.stdout) - cost(dryLive.stdout) / 2) <= 0.0001, 'a dry run prices the batch rate');

  const again = await batchRun(s, f);
  t.equal(again.code, 0);
  t.equal(s.stats().batch.batchesCreated, batches.batchesCreated, 'a completed run is not redone');
});

t.test('error-file lines are retried in follow-up batches (or live) until the output equals live mode', async (t) => {
  const ref = await live();
  const s = await sim(t, { batchFaultRate: 0.25, seed: 5 });
  const f = files('faults');
  const r = await batchRun(s, f);
  t.equal(r.code, 0, r.stderr);
  t.ok(withoutUsage(readFileSync(f.output)) === withoutUsage(ref.output), 'output byte for byte, but for usage');
  t.ok(readFileSync(f.dead).equals(ref.dead), 'dead letters byte for byte');
  const summary = JSON.parse(readFileSync(f.summary, 'utf8'));
  t.ok(s.stats().batch.linesFailed > 0, `${s.stats().batch.linesFailed} error lines`);
  t.ok(summary.retries > 0, `${summary.retries} retries`);
  const first = ledgerFiles(f.state).length;
  t.ok(first > 1, `${first} batches: follow-ups for the failed lines`);

  const s2 = await sim(t, { batchFaultRate: 0.25, seed: 5 });
  const g = files('faults-live');
  const viaLive = await batchRun(s2, g, ['--batch-retry', 'live']);
  t.equal(viaLive.code, 0, viaLive.stderr);
  t.ok(withoutUsage(readFileSync(g.output)) === withoutUsage(ref.output), '--batch-retry live: output byte for byte, but for usage');
  const st = s2.stats();
  t.ok(st.batch.linesFailed > 0, `${st.batch.linesFailed} error lines`);
  // The output is whole with no second batch: the failed lines were answered live.
  t.equal(st.batch.batchesCreated, 1, 'no follow-up batch: the failed lines went live');
});

t.test('expired batches keep what was done and resubmit the rest', async (t) => {
  const ref = await live();
  const s = await sim(t, { batchExpire: 0.5 });
  const f = files('expire');
  const r = await batchRun(s, f, ['--max-retries', '8']);
  t.equal(r.code, 0, r.stderr);
  t.ok(withoutUsage(readFileSync(f.output)) === withoutUsage(ref.output), 'output byte for byte, but for usage');
  const ledger = ledgerFiles(f.state);
  t.ok(ledger.length > 1 && ledger[0]!.batch_status === 'expired', `${ledger.length} batches, the first expired part done`);
  t.ok(ledger.every((x) => x.batch_status === 'expired' || x.batch_status === 'completed'));
  t.equal(s.stats().batch.linesProcessed, JSON.parse(readFileSync(f.summary, 'utf8')).batchLinesAnswered, 'no line answered twice');
});

t.test('token_limit_exceeded: the batch fails, later files are smaller, and the output is whole', async (t) => {
  const ref = await live();
  const s = await sim(t, { batchMaxTokens: 60_000 });
  const f = files('tokens');
  const r = await batchRun(s, f);
  t.equal(r.code, 0, r.stderr);
  t.ok(withoutUsage(readFileSync(f.output)) === withoutUsage(ref.output), 'output byte for byte, but for usage');
  const ledger = ledgerFiles(f.state);
  t.ok(
    ledger.some((x) => x.batch_status === 'failed'),
    'a batch failed',
  );
  t.ok(
    ledger.some((x) => x.batch_status === 'completed'),
    'smaller ones completed',
  );
  t.equal(JSON.parse(readFileSync(f.summary, 'utf8')).splits, 0, 'retried once the queue drained: no pack had to be split');
  const db = new Database(join(f.state, 'batches.sqlite'), { readonly: true });
  t.match(db.prepare("SELECT errors FROM files WHERE batch_status = 'failed'").pluck().get(), /token_limit_exceeded/, "the provider's error is kept");
  db.close();
});

/**
 * Kills the run (SIGKILL) once `when` holds, then runs the same command to the end. Returns the
 * final run.
 */
async function killThenResume(s: Simulator, f: ReturnType<typeof files>, when: () => boolean, extra: string[] = []): Promise<{ killed: boolean; last: CliRun }> {
  let timer: NodeJS.Timeout | undefined;
  const first = await batchRun(s, f, extra, (child) => {
    timer = setInterval(() => {
      if (when()) {
        child.kill('SIGKILL');
        clearInterval(timer);
      }
    }, 2);
  });
  clearInterval(timer);
  const last = await batchRun(s, f, extra);
  return { killed: first.signal === 'SIGKILL', last };
}

const moments: [string, SimulatorOptions, (s: Simulator, f: ReturnType<typeof files>) => boolean][] = [
  [
    'while writing input files',
    {},
    (s, f) => s.stats().batch.filesUploaded === 0 && existsSync(join(f.state, 'inputs')) && readdirSync(join(f.state, 'inputs')).some((n) => statSync(join(f.state, 'inputs', n)).size > 0),
  ],
  // The simulator has stored the upload (or created the batch) but not replied yet: the run never
  // learns the file id (batch id), which only reconciliation by name (metadata) can recover.
  ['between upload and its reply', { batchApiLatencyMs: 300 }, (s) => s.stats().batch.filesUploaded >= 1],
  ['between create and its reply', { batchApiLatencyMs: 300 }, (s) => s.stats().batch.batchesCreated >= 1],
  ['while polling', { batchLatencyMs: 1500 }, (s) => s.stats().batch.batchesCreated >= 2],
  ['while downloading', { batchApiLatencyMs: 200 }, (s) => s.stats().batch.contentReads >= 1],
];

for (const [moment, options, when] of moments) {
  t.test(`kill -9 ${moment}, then the same command: identical output, nothing uploaded or created twice`, async (t) => {
    const ref = await live();
    const s = await sim(t, options);
    const f = files('kill');
    const { killed, last } = await killThenResume(s, f, () => when(s, f), ['--batch-max-requests', '6']);
    t.ok(killed, 'the first run was killed');
    t.equal(last.code, 0, last.stderr);
    t.ok(withoutUsage(readFileSync(f.output)) === withoutUsage(ref.output), 'output byte for byte, but for usage');
    t.ok(readFileSync(f.dead).equals(ref.dead), 'dead letters byte for byte');
    const st = s.stats().batch;
    const ledger = ledgerFiles(f.state);
    t.equal(st.batchesCreated, ledger.length, `${st.batchesCreated} batches created, one per input file of the ledger`);
    t.equal(st.filesUploaded, ledger.length, 'one upload per input file');
    t.equal(new Set(ledger.map((x) => x.batch_id)).size, ledger.length);
    t.ok(ledger.every((x) => x.batch_status === 'completed'));
  });
}

t.test('embed --batch-api writes what live embed writes', async (t) => {
  const s = await sim(t);
  const out = (name: string) => join(dir, `embed-${name}.jsonl`);
  const liveRun = await runScript('pipelines/embed.js', ['--quiet', '--base-url', s.url, '--batch-size', '8', input, '-o', out('live'), '--dead-letter', out('live-dead')]);
  t.equal(liveRun.code, 0, liveRun.stderr);
  const state = join(dir, 'embed-state');
  const batch = await runScript('pipelines/embed.js', [
    '--quiet',
    '--base-url',
    s.url,
    '--batch-size',
    '8',
    '--batch-api',
    ...FAST,
    input,
    '-o',
    out('batch'),
    '--dead-letter',
    out('batch-dead'),
    '--checkpoint',
    state,
  ]);
  t.equal(batch.code, 0, batch.stderr);
  t.ok(readFileSync(out('batch')).equals(readFileSync(out('live'))), 'vectors byte for byte');
  t.ok(readFileSync(out('batch-dead')).equals(readFileSync(out('live-dead'))));
  t.ok(s.stats().batch.batchesCreated >= 1);
  t.ok(ledgerFiles(state).every((x) => x.batch_status === 'completed'));
});

t.test('--status shows every batch; batch mode refuses what it cannot do', async (t) => {
  const s = await sim(t);
  const f = files('status');
  const r = await batchRun(s, f, ['--batch-max-requests', '5']);
  t.equal(r.code, 0, r.stderr);
  const status = await kg(['--batch-api', '--status', '--checkpoint', f.state, '--base-url', s.url]);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /run: complete; \d+ records committed/);
  t.match(status.stdout, /requests: \d+ answered, 0 failed, 0 pending; \d+ input file\(s\)/);
  t.equal(status.stdout.split('\n').filter((l) => /^\d+\s+batch_\S+\s+completed/.test(l)).length, ledgerFiles(f.state).length, 'one line per batch');

  const noDir = await kg(['--batch-api', '--status', '--checkpoint', join(dir, 'nowhere')]);
  t.equal(noDir.code, 2);
  t.match(noDir.stderr, /no batch ledger/);
  const noCheckpoint = await kg(['--batch-api', '--base-url', s.url, input, '-o', join(dir, 'x.jsonl')]);
  t.equal(noCheckpoint.code, 2);
  t.match(noCheckpoint.stderr, /--batch-api needs --checkpoint DIR/);
  const offline = await kg(['--batch-api', '--extractor', 'offline', input, '-o', join(dir, 'y.jsonl'), '--checkpoint', join(dir, 'y-state')]);
  t.equal(offline.code, 2);
  t.match(offline.stderr, /drop --extractor offline/);
  const withCache = await kg(['--batch-api', '--base-url', s.url, '--cache', join(dir, 'cache'), input, '-o', join(dir, 'z.jsonl'), '--checkpoint', join(dir, 'z-state')]);
  t.equal(withCache.code, 2);
  t.match(withCache.stderr, /--cache is not used with --batch-api/);
  const fileCheckpoint = join(dir, 'a-file');
  writeFileSync(fileCheckpoint, '');
  const notDir = await kg(['--batch-api', '--base-url', s.url, input, '-o', join(dir, 'w.jsonl'), '--checkpoint', fileCheckpoint]);
  t.equal(notDir.code, 2);
  t.match(notDir.stderr, /is a file; in this mode it is a directory/);
});

t.test('no API key reaches the ledger, the checkpoint or the output', async (t) => {
  const s = await sim(t);
  const f = files('key');
  const key = 'sk-batchsecret0123456789abcdef';
  const r = await kg(['--quiet', '--base-url', s.url, '--batch-api', ...FAST, input, '-o', f.output, '--checkpoint', f.state], { env: { OPENAI_API_KEY: key } });
  t.equal(r.code, 0, r.stderr);
  for (const file of [f.output, join(f.state, 'checkpoint.json'), join(f.state, 'batches.sqlite')]) t.notOk(readFileSync(file).includes(key), `${file} holds no key`);
  t.notOk(r.stderr.includes(key));
});
