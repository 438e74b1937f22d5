/**
 * A program's entry and its error convention. A runnable module ends with
 * `await cli(import.meta.url, (argv) => runX(argv))`: run when it is the script node started (also
 * through a bin's symlink), nothing when imported. `runProgram` reports what a program's main throws
 * as every sluice program does: `name: message` and exit 2 for a usage error, `name: error: message`
 * and exit 1 for anything else.
 */
import { ErrorCode, codeOf, messageOf } from '../runtime/errors.js';
import { exitCodeOf } from './exit-codes.js';
import { isMain } from './is-main.js';

/** Where a program writes; tests pass their own streams. */
export interface CliIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

export type ProgramIo = Required<CliIo>;

export function ioOf(io: CliIo = {}): ProgramIo {
  return { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr };
}

/** Writes `err` as the program `name` reports an error that ends it; returns the exit code. */
export function reportError(name: string, err: unknown, stderr: NodeJS.WritableStream): number {
  stderr.write(`${name}: ${codeOf(err) === ErrorCode.USAGE ? '' : 'error: '}${messageOf(err)}\n`);
  return exitCodeOf(err);
}

/** Runs `main`, reporting what it throws; resolves with the exit code. */
export async function runProgram(name: string, io: ProgramIo, main: (io: ProgramIo) => number | Promise<number>): Promise<number> {
  try {
    return await main(io);
  } catch (err) {
    return reportError(name, err, io.stderr);
  }
}

/** Runs `main` with the command line when the module at `url` is the script node started, and sets the exit code. */
export async function cli(url: string, main: (argv: readonly string[]) => Promise<number>): Promise<void> {
  if (isMain(url)) process.exitCode = await main(process.argv.slice(2));
}
