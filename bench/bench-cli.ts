/**
 * The bench programs' command line, on the CLI kit like every sluice program: flags from option
 * specs (typed values, --help from the same specs, a usage error that names the flag with exit 2
 * and no stack). The benchmarks run as scripts with top-level await, so help and usage errors end
 * the process here rather than returning an exit code up a call chain.
 */
import { writeSync } from 'node:fs';
import { helpText } from '../lib/cli/help.js';
import { parseSpecArgs } from '../lib/cli/parse-args.js';
import { reportError } from '../lib/cli/program.js';
import { ExitCode } from '../lib/runtime/errors.js';
import { defineOptions, resolveOptions, type OptionSpec, type OptionsOf } from '../lib/runtime/options.js';

/** Every bench program's --help flag. */
export const [benchHelpSpec] = defineOptions([{ name: 'help', short: 'h', type: 'boolean', default: false, description: 'Show this help' }]);

/** A bench program's codes: the run's verdict, or a usage error. */
export const BENCH_EXIT_CODES = [
  [ExitCode.OK, 'the benchmark ran (and its checks, if any, passed)'],
  [ExitCode.FATAL, 'a check failed or the benchmark could not run'],
  [ExitCode.USAGE, 'usage: unknown flag or invalid option value'],
] as const;

export interface BenchProgram<L extends readonly OptionSpec[]> {
  /** The script, e.g. `bench/ci.js`. */
  script: string;
  about: readonly string[];
  specs: L;
}

/**
 * Parses the command line by the program's specs (its --help added): prints the help and exits 0
 * on --help, reports a usage error and exits 2 on a bad flag; returns the resolved options otherwise.
 */
export function benchArgs<const L extends readonly OptionSpec[]>(p: BenchProgram<L>, argv: readonly string[] = process.argv.slice(2)): OptionsOf<L> {
  const specs = [...p.specs, benchHelpSpec];
  const name = p.script.replace(/^.*\//, '').replace(/\.js$/, '');
  try {
    const { given } = parseSpecArgs(specs, argv, { positionals: false, hint: `see node ${p.script} --help` });
    const options = resolveOptions<OptionsOf<L> & { help: boolean }>(specs, given);
    if (options.help) {
      // Written synchronously: the process exits right after.
      writeSync(1, `${helpText({ usage: `node ${p.script} [options]`, about: p.about, specs, exitCodes: BENCH_EXIT_CODES })}\n`);
      process.exit(ExitCode.OK);
    }
    delete (options as { help?: boolean }).help;
    return options;
  } catch (err) {
    // stderr is synchronous for files and pipes on Linux: the message is out before the exit.
    process.exit(reportError(name, err, process.stderr));
  }
}

/** The simulator's latency model as a bench's flags (--latency-ms, --ms-per-token), with the bench's own defaults. */
export function latencySpecs(latencyMs: number, msPerToken: number) {
  return defineOptions([
    { name: 'latency-ms', type: 'number', default: latencyMs, min: 0, description: "The simulator's fixed latency per request, ms" },
    { name: 'ms-per-token', type: 'number', default: msPerToken, min: 0, description: "The simulator's latency per completion token, ms" },
  ]);
}
