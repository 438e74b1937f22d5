/**
 * The CLI kit (lib/cli/): parse errors name the flag, --help lists every spec with its default and
 * the exit codes, the error convention maps errors to exit codes, and the two-signal stop.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { ExitCode, PIPELINE_EXIT_CODES, SIMULATOR_EXIT_CODES, WORKER_EXIT_CODES } from '../../lib/cli/exit-codes.js';
import { helpText } from '../../lib/cli/help.js';
import { parseSpecArgs } from '../../lib/cli/parse-args.js';
import { reportError, runProgram, type ProgramIo } from '../../lib/cli/program.js';
import { stopOnSignals } from '../../lib/cli/signals.js';
import { ErrorCode, SluiceError, usageError } from '../../lib/runtime/errors.js';
import type { OptionSpec } from '../../lib/runtime/options.js';
import { runWorker, workerOptionSpecs } from '../../pipelines/worker.js';
import { parseSimulatorArgs, runSimulatorCli, simulatorOptionSpecs } from '../../simulator/main.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const specs: readonly OptionSpec[] = [
  { name: 'max-docs', type: 'integer', default: 16, min: 1, description: 'Documents per pack' },
  { name: 'format', type: 'string', choices: ['a', 'b'], description: 'Which format' },
  { name: 'workers', type: 'integer', defaultLabel: 'CPU count', description: 'Threads' },
  { name: 'quiet', short: 'q', type: 'boolean', default: false, description: 'Say less' },
];

function capture(): { io: ProgramIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (add(String(chunk)), cb()) });
  return { io: { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) }, out: () => out, err: () => err };
}

t.test('parse errors are usage errors that name the flag', async (t) => {
  t.throws(() => parseSpecArgs(specs, ['--no-such-flag']), { code: ErrorCode.USAGE, message: /'--no-such-flag'.*\(see --help\)$/ });
  t.throws(() => parseSpecArgs(specs, ['--max-docs', 'many']), { code: ErrorCode.USAGE, message: '--max-docs must be an integer, got "many" (string)' });
  t.throws(() => parseSpecArgs(specs, ['--max-docs', '0']), { code: ErrorCode.USAGE, message: '--max-docs must be >= 1, got 0' });
  t.throws(() => parseSpecArgs(specs, ['--format', 'c']), { code: ErrorCode.USAGE, message: '--format must be one of a, b, got "c"' });
  t.throws(() => parseSpecArgs(specs, ['--max-docs']), { code: ErrorCode.USAGE, message: /--max-docs/ }, 'a missing value');
  t.throws(() => parseSpecArgs(specs, ['extra'], { positionals: false }), { code: ErrorCode.USAGE, message: /'extra'/ });
  t.throws(() => parseSpecArgs(specs, ['--nope'], { prefix: 'add: ', hint: 'see prog add --help' }), { message: /^add: .*'--nope'.*\(see prog add --help\)$/ });
});

t.test('parsing gives the flags given, by camelCase key, coerced; defaults are left to resolveOptions', async (t) => {
  t.same(parseSpecArgs(specs, ['a.jsonl', '--max-docs', '4', '-q', 'b.jsonl']), { given: { maxDocs: 4, quiet: true }, positionals: ['a.jsonl', 'b.jsonl'] });
  t.same(parseSpecArgs(specs, []), { given: {}, positionals: [] });
});

t.test('help lists every spec with its default and choices, then the exit codes', async (t) => {
  const text = helpText({ usage: 'prog [options]', about: ['Does a thing.'], specs, exitCodes: PIPELINE_EXIT_CODES });
  t.match(text, /^Usage: prog \[options\]\n\nDoes a thing\.\n\nOptions:\n/);
  for (const s of specs) t.match(text, `--${s.name}`, `lists --${s.name}`);
  t.match(text, '--max-docs <n>');
  t.match(text, 'Documents per pack [default: 16]');
  t.match(text, 'Which format (a|b)');
  t.match(text, 'Threads [default: CPU count]');
  t.match(text, '-q, --quiet');
  t.notMatch(text, 'Say less [default', "a boolean's default (off) is not shown");
  t.match(text, /\n\nExit codes:\n {2}0 {4}the run completed.*\n {2}1 .*\n {2}2 .*\n {2}3 .*\n {2}4 .*\n {2}130 {2}interrupted/);
});

t.test("the worker's and the simulator's --help list every flag and their exit codes", async (t) => {
  for (const [name, run, list, codes] of [
    ['worker', runWorker, workerOptionSpecs, WORKER_EXIT_CODES],
    ['simulator', runSimulatorCli, simulatorOptionSpecs, SIMULATOR_EXIT_CODES],
  ] as const) {
    const c = capture();
    t.equal(await run(['--help'], c.io), ExitCode.OK);
    for (const s of list) t.match(c.out(), `--${s.name}`, `${name} --help lists --${s.name}`);
    for (const [code] of codes) t.match(c.out(), new RegExp(`\\n  ${code} +\\S`), `${name} --help explains exit ${code}`);
    t.equal(c.err(), '');
  }
});

t.test("the simulator's flags: numbers, the fault mix, and bad values named", async (t) => {
  t.same(parseSimulatorArgs(['--rpm', '50', '--faults', '500, hang,omit', '--seed', '7']), {
    port: 8089,
    latencyMs: 0,
    msPerToken: 0,
    contextTokens: 128_000,
    faultRate: 0,
    seed: 7,
    hangMs: 120_000,
    batchLatencyMs: 1000,
    batchFaultRate: 0,
    batchApiLatencyMs: 0,
    rpm: 50,
    faults: ['500', 'hang', 'omit'],
  });
  t.equal(parseSimulatorArgs(['-h']), 'help');
  t.throws(() => parseSimulatorArgs(['--faults', 'nope']), { code: ErrorCode.USAGE, message: /--faults: unknown kind "nope"/ });
  t.throws(() => parseSimulatorArgs(['--latency-ms', 'slow']), { code: ErrorCode.USAGE, message: /--latency-ms must be a number, got "slow"/ });
  const c = capture();
  t.equal(await runSimulatorCli(['--port', '70000'], c.io), ExitCode.USAGE, 'a value out of range is a usage error');
  t.equal(c.err(), 'openai-sim: simulator option port must be an integer 0..65535 (got 70000)\n');
});

t.test('errors end a program as usage (2) or fatal (1), named by the program', async (t) => {
  const c = capture();
  t.equal(reportError('prog', usageError('--x is wrong'), c.io.stderr), ExitCode.USAGE);
  t.equal(reportError('prog', new SluiceError(ErrorCode.FATAL, 'disk full'), c.io.stderr), ExitCode.FATAL);
  t.equal(reportError('prog', new Error('boom'), c.io.stderr), ExitCode.FATAL);
  t.equal(c.err(), 'prog: --x is wrong\nprog: error: disk full\nprog: error: boom\n');
  t.equal(await runProgram('prog', c.io, () => 7), 7, "a program's own exit code passes through");
});

t.test('the first signal stops, the second exits at once (in process)', async (t) => {
  const exits: number[] = [];
  const seen: string[] = [];
  const handlers = () => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
  const before = handlers();
  const stop = stopOnSignals(
    (sig) => seen.push(sig),
    (code) => exits.push(code),
  );
  t.teardown(() => stop.dispose());
  process.emit('SIGTERM', 'SIGTERM');
  t.same(seen, ['SIGTERM']);
  t.ok(stop.signal.aborted, 'the first signal aborts the run');
  t.same(exits, [], 'and does not exit');
  process.emit('SIGINT', 'SIGINT');
  t.same(exits, [ExitCode.INTERRUPTED], 'the second exits with 130');
  t.same(seen, ['SIGTERM'], 'without stopping again');
  stop.dispose();
  t.equal(handlers(), before, 'dispose removes the handlers');
});

t.test('a second signal exits a real process at once with 130, while the first is still settling', async (t) => {
  // The first signal's stop never finishes here: only the second signal can end the process.
  const script = `import { stopOnSignals } from './lib/cli/signals.js';
stopOnSignals(() => process.stdout.write('stopping\\n'));
setInterval(() => undefined, 1000);
process.stdout.write('ready\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const saw = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.includes(`${line}\n`)) resolve();
        else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`exited before "${line}": ${out}`));
        else setTimeout(check, 20);
      };
      check();
    });
  await saw('ready');
  child.kill('SIGINT');
  await saw('stopping');
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  const sent = Date.now();
  child.kill('SIGTERM');
  t.same(await exited, [ExitCode.INTERRUPTED, null], 'exit code 130, not killed by the signal');
  t.ok(Date.now() - sent < 5000, 'at once');
});
