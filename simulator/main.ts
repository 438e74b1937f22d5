#!/usr/bin/env node
/**
 * The simulator's command line (the sluice-sim bin), on the CLI kit like every sluice program:
 *
 *   node simulator/main.js --port 8089 --latency-ms 200 --rpm 500 --tpm 200000 --fault-rate 0.1
 *
 * Prints its base URL on stdout once listening; the first SIGINT/SIGTERM closes it (exit 0), a
 * second exits at once. See docs/simulator.md.
 */
import { SIMULATOR_EXIT_CODES } from '../lib/cli/exit-codes.js';
import { helpText } from '../lib/cli/help.js';
import { parseSpecArgs } from '../lib/cli/parse-args.js';
import { cli, ioOf, runProgram, type CliIo } from '../lib/cli/program.js';
import { stopOnSignals } from '../lib/cli/signals.js';
import { ExitCode, usageError } from '../lib/runtime/errors.js';
import { resolveOptions, type OptionSpec } from '../lib/runtime/options.js';
import { FAULT_KINDS, isFaultKind, type FaultKind } from './faults.js';
import { startSimulator, type SimulatorOptions } from './openai-sim.js';
import { SIMULATOR_DEFAULTS as D } from './settings.js';

/** The flags, by the names of SimulatorOptions; value ranges are checked by startSimulator, as in code. */
export const simulatorOptionSpecs: readonly OptionSpec[] = [
  { name: 'port', type: 'integer', default: 8089, description: 'Port to listen on (0 picks a free one)' },
  { name: 'latency-ms', type: 'number', default: D.latencyMs, description: 'Fixed latency per request, ms' },
  { name: 'ms-per-token', type: 'number', default: D.msPerToken, description: 'Extra latency per completion token, ms' },
  { name: 'rpm', type: 'number', defaultLabel: 'none', description: 'Requests per minute limit' },
  { name: 'tpm', type: 'number', defaultLabel: 'none', description: 'Tokens per minute limit (prompt + max_tokens)' },
  { name: 'context-tokens', type: 'integer', default: D.contextTokens, description: 'Largest prompt in tokens' },
  { name: 'fault-rate', type: 'number', default: D.faultRate, description: 'Probability 0..1 that a request gets a fault' },
  { name: 'faults', type: 'string', defaultLabel: 'all', description: `Comma-separated mix the faults are drawn from: ${FAULT_KINDS.join(',')}` },
  { name: 'seed', type: 'integer', default: D.seed, description: 'Seed of the fault draws' },
  { name: 'hang-ms', type: 'number', default: D.hangMs, description: 'How long a "hang" fault stalls before closing the socket, ms' },
  { name: 'slots', type: 'integer', defaultLabel: 'unlimited', description: 'Chat/embeddings requests served at once (llama.cpp -np, vLLM); the rest queue in FIFO order' },
  { name: 'batch-latency-ms', type: 'number', default: D.batchLatencyMs, description: 'Batch API: time from create until a batch completes, ms' },
  { name: 'batch-fault-rate', type: 'number', default: D.batchFaultRate, description: 'Batch API: share 0..1 of lines that go to the error file' },
  { name: 'batch-expire', type: 'number', defaultLabel: 'never', description: 'Batch API: batches expire with this share 0..1 of lines done' },
  { name: 'batch-max-tokens', type: 'integer', defaultLabel: 'none', description: 'Batch API: enqueued-token limit; a batch over it fails token_limit_exceeded' },
  { name: 'batch-api-latency-ms', type: 'number', default: D.batchApiLatencyMs, description: 'Batch API: time a Files/Batches call takes (after its effect), ms' },
  { name: 'help', short: 'h', type: 'boolean', default: false, description: 'Show this help' },
];

export function simulatorHelp(): string {
  return helpText({
    usage: 'node simulator/main.js [options]',
    about: [
      'An OpenAI-compatible simulator on 127.0.0.1 (chat completions, embeddings, files and batches, /stats).',
      'Prints its base URL (http://127.0.0.1:PORT/v1) on stdout once listening; SIGINT/SIGTERM stop it.',
    ],
    specs: simulatorOptionSpecs,
    exitCodes: SIMULATOR_EXIT_CODES,
  });
}

/** Parses the command line into simulator options; throws a usage error naming the flag. */
export function parseSimulatorArgs(argv: readonly string[]): SimulatorOptions | 'help' {
  const { given } = parseSpecArgs(simulatorOptionSpecs, argv, { positionals: false });
  const { help, faults, ...numbers } = resolveOptions<Omit<SimulatorOptions, 'faults'> & { help: boolean; faults?: string }>(simulatorOptionSpecs, given);
  if (help) return 'help';
  if (faults === undefined) return numbers;
  const kinds = faults
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const k of kinds) if (!isFaultKind(k)) throw usageError(`--faults: unknown kind ${JSON.stringify(k)} (kinds: ${FAULT_KINDS.join(', ')})`);
  return { ...numbers, faults: kinds as FaultKind[] };
}

/** Runs the simulator until a signal stops it; resolves with the exit code. */
export async function runSimulatorCli(argv: readonly string[] = process.argv.slice(2), cliIo: CliIo = {}): Promise<number> {
  return runProgram('openai-sim', ioOf(cliIo), async (io) => {
    const opts = parseSimulatorArgs(argv);
    if (opts === 'help') {
      io.stdout.write(`${simulatorHelp()}\n`);
      return ExitCode.OK;
    }
    // An option out of range is the user's to fix, as a bad flag is.
    const sim = await startSimulator(opts).catch((err: unknown) => {
      throw err instanceof RangeError ? usageError(err.message) : err;
    });
    // Handlers first: whoever reads the URL may signal at once and still gets a clean stop.
    const stopped = new Promise<void>((resolve) => {
      stopOnSignals((signal) => {
        io.stderr.write(`openai-sim: ${signal}, stopping; stats ${JSON.stringify(sim.stats())}\n`);
        void sim.close().then(resolve);
      });
    });
    io.stdout.write(`${sim.url}\n`);
    io.stderr.write(`openai-sim: listening on ${sim.url} (GET ${sim.url.replace(/\/v1$/, '')}/stats for statistics)\n`);
    await stopped;
    return ExitCode.OK;
  });
}

await cli(import.meta.url, runSimulatorCli);
