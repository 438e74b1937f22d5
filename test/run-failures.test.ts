/**
 * Runs that fail must say so: a server that cannot be reached (a port with no listener) or that
 * answers 500 to everything stops the run as fatal in bounded time, names the cause and the URL,
 * dead-letters nothing and resumes; --max-failures stops a run past its cap (exit 4); an output
 * that cannot be written is found before the first request. The CLI as a child process, the real
 * openai client over real HTTP to the simulator on 127.0.0.1.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { ErrorCode, ExitCode, SluiceError } from '../lib/runtime/errors.js';
import { Circuit } from '../lib/runtime/circuit.js';
import { ROOT, kg, runScript } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-failures-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'sk-test-secret-failures-123456';
const env = { OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: '' };
const news = join(ROOT, 'examples/news.jsonl');
/** Short waits, so a down server is found in well under a second of its window. */
const FAST = ['--fatal-after-ms', '400', '--retry-base-ms', '20', '--max-docs', '5', '--concurrency', '2'];
const embed = (args: string[]) =>
  runScript(
    'pipelines/embed.js',
    args.map((a) => (a === '--max-docs' ? '--batch-size' : a)),
    { env },
  );

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

for (const [name, run] of [
  ['kg', (args: string[]) => kg(args, { env })],
  ['embed', embed],
] as const) {
  t.test(`${name}: a port with no listener is fatal in bounded time; nothing dead-lettered; the same command resumes`, async (t) => {
    const sim = await startSimulator();
    t.teardown(() => sim.close());
    const ref = join(dir, `${name}-ref.jsonl`);
    const whole = await run([...FAST, '--quiet', '--base-url', sim.url, '-o', ref, news]);
    t.equal(whole.code, 0, whole.stderr);

    const url = `http://127.0.0.1:${await deadPort()}/v1`;
    const files = { output: join(dir, `${name}-out.jsonl`), dead: join(dir, `${name}-dead.jsonl`), checkpoint: join(dir, `${name}.ckpt`), summary: join(dir, `${name}-summary.json`) };
    const common = [...FAST, '-o', files.output, '--dead-letter', files.dead, '--checkpoint', files.checkpoint, '--summary', files.summary, news];
    const startedAt = Date.now();
    const down = await run(['--base-url', url, ...common]);
    const seconds = (Date.now() - startedAt) / 1000;
    t.equal(down.code, ExitCode.FATAL, down.stderr);
    t.ok(seconds < 15, `stopped in ${seconds}s`);
    t.match(down.stderr, /error: the server cannot be used: every request for [\d.]+s failed/);
    t.match(down.stderr, 'ECONNREFUSED', 'names the cause');
    t.match(down.stderr, `${url}/`, 'names the URL');
    t.notMatch(down.stderr, SECRET, 'never the key');
    t.notMatch(down.stderr, 'EXTRACT_FAILED');
    t.equal(read(files.dead), '', 'nothing dead-lettered');
    const summary = JSON.parse(readFileSync(files.summary, 'utf8'));
    t.match(summary, { status: 'stopped', stoppedBy: 'fatal', deadLettered: 0 });
    t.match(summary.reason, /ECONNREFUSED/);

    // The same command, the server now up: it resumes and ends where an uninterrupted run does.
    const up = await run(['--base-url', sim.url, ...common]);
    t.equal(up.code, 0, up.stderr);
    t.equal(read(files.output), read(ref), 'the output equals an uninterrupted run');
    t.equal(read(files.dead), '');
  });
}

t.test('kg: a server answering 500 to everything is fatal, nothing dead-lettered, and the run resumes against a working one', async (t) => {
  const broken = await startSimulator({ faults: ['500'], faultRate: 1 });
  const sim = await startSimulator();
  t.teardown(() => Promise.all([broken.close(), sim.close()]));
  const ref = join(dir, 'five-ref.jsonl');
  t.equal((await kg([...FAST, '--quiet', '--base-url', sim.url, '-o', ref, news], { env })).code, 0);
  const files = { output: join(dir, 'five-out.jsonl'), dead: join(dir, 'five-dead.jsonl'), checkpoint: join(dir, 'five.ckpt') };
  const common = [...FAST, '-o', files.output, '--dead-letter', files.dead, '--checkpoint', files.checkpoint, news];
  const summaryFile = join(dir, 'five-summary.json');
  const r = await kg(['--base-url', broken.url, '--summary', summaryFile, ...common], { env });
  t.equal(r.code, ExitCode.FATAL, r.stderr);
  // Every request the server saw is in the summary: those in flight at the stop were waited for.
  const { requests } = JSON.parse(readFileSync(summaryFile, 'utf8'));
  t.ok(requests >= broken.stats().requests && requests <= broken.stats().requests + 2, `summary ${requests}, server ${broken.stats().requests}`);
  t.match(r.stderr, /HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
  t.notMatch(r.stderr, SECRET);
  t.ok(broken.stats().requests >= 3, `${broken.stats().requests} requests answered 500`);
  t.equal(read(files.dead), '', 'nothing dead-lettered');
  const resumed = await kg(['--base-url', sim.url, ...common], { env });
  t.equal(resumed.code, 0, resumed.stderr);
  t.equal(read(files.output), read(ref));
});

t.test('the circuit: trips only after the window and the minimum of failures; a success resets it', async (t) => {
  let now = 0;
  const circuit = new Circuit(1000, () => now);
  const err = new SluiceError(ErrorCode.TRANSIENT, 'connection failed to http://127.0.0.1:9/v1: ECONNREFUSED', { serverSide: true });
  t.ok(circuit.serverDown(), "nothing answered yet: a server-side failure is not the document's");
  t.equal(circuit.failure(err), undefined);
  now = 2000;
  t.equal(circuit.failure(err), undefined, 'two failures, past the window: not yet (minimum 3)');
  t.match(circuit.failure(err)?.message, /every request for 2\.0s failed \(3 requests\), the last with: connection failed to http:\/\/127\.0\.0\.1:9\/v1: ECONNREFUSED/);
  const fresh = new Circuit(1000, () => now);
  fresh.failure(err);
  fresh.failure(err);
  fresh.success();
  t.notOk(fresh.serverDown(), "answered within the window: failures are the documents'");
  now = 2500;
  t.equal(fresh.failure(err), undefined, 'a success restarted the count');
  now = 3100;
  t.ok(fresh.serverDown(), 'nothing answered for the window');
});

t.test('a document the server fails alone, while others succeed, is still dead-lettered (the run goes on)', async (t) => {
  // One request in four fails with a 500: the server serves, so what fails is the document's.
  const sim = await startSimulator({ faults: ['500'], faultRate: 0.25, seed: 7 });
  t.teardown(() => sim.close());
  const r = await kg(['--fatal-after-ms', '60000', '--retry-base-ms', '1', '--max-retries', '0', '--max-docs', '1', '--base-url', sim.url, news], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /dead-lettered [1-9]/);
});

t.test('--max-failures N: past N dead letters the run stops with exit 4 and says so', async (t) => {
  const input = join(dir, 'bad.jsonl');
  const lines = [];
  for (let i = 0; i < 40; i++) lines.push(i % 2 ? '{"id": "broken", ' : JSON.stringify({ id: `d${i}`, text: 'Ada Lovelace met Charles Babbage in London.' }));
  writeFileSync(input, `${lines.join('\n')}\n`);
  const r = await kg(['--workers', '0', '--max-failures', '3', '--max-docs', '1', '--concurrency', '1', '-o', join(dir, 'mf.jsonl'), input]);
  t.equal(r.code, 4, r.stderr);
  t.match(r.stderr, /stopped past --max-failures/);
  t.match(r.stderr, /more than --max-failures 3 documents were dead-lettered/);
  const ok = await kg(['--workers', '0', '--max-failures', '100', '-o', join(dir, 'mf2.jsonl'), input]);
  t.equal(ok.code, 0, 'under the cap the run completes');
  const help = await kg(['--help']);
  t.match(help.stdout, /\n {2}4 {4}stopped past --max-failures/, 'the exit code is in the table');
});

t.test('an output or dead-letter file that cannot be written is found before the first request', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  for (const [flag, path] of [
    ['-o', '/nonexistent-dir/x.jsonl'],
    ['--dead-letter', '/nonexistent-dir/y.jsonl'],
  ] as const) {
    const r = await kg(['--base-url', sim.url, flag, path, news], { env });
    t.equal(r.code, ExitCode.FATAL, r.stderr);
    t.match(r.stderr, `cannot write the ${flag === '-o' ? 'output' : 'dead-letter'} file ${path}: the directory /nonexistent-dir does not exist`);
    t.equal(sim.stats().requests, 0, `${flag}: nothing was sent`);
  }
  // An existing output is checked without being truncated: a refused run leaves it whole.
  const existing = join(dir, 'keep.jsonl');
  writeFileSync(existing, 'kept\n');
  const r = await kg(['--base-url', sim.url, '-o', existing, '--dead-letter', '/nonexistent-dir/y.jsonl', news], { env });
  t.equal(r.code, ExitCode.FATAL);
  t.equal(readFileSync(existing, 'utf8'), 'kept\n');
});
