/**
 * Exit codes of every sluice program, in one place: the numbers (ExitCode, from the runtime's
 * errors, which the library exports too), what each means for the pipelines, and how an error
 * maps to one. Each program's --help lists the rows that apply to it.
 */
import { ErrorCode, ExitCode, codeOf } from '../runtime/errors.js';

export { ExitCode } from '../runtime/errors.js';

/** One row of a help's "Exit codes:" table: the code and what it means for that program. */
export type ExitCodeRow = readonly [code: number, meaning: string];

/** The pipelines' codes (kg, embed). */
export const PIPELINE_EXIT_CODES: readonly ExitCodeRow[] = [
  [ExitCode.OK, 'the run completed; bad records were dead-lettered, which is not a failure'],
  [ExitCode.FATAL, 'fatal: unreadable input, unwritable output, or another error that stops the run'],
  [ExitCode.USAGE, 'usage: unknown flag or invalid option value'],
  [ExitCode.COST_CAP, 'stopped at --max-cost: whole lines written so far are kept (and committed with --checkpoint)'],
  [ExitCode.MAX_FAILURES, 'stopped past --max-failures dead-lettered documents: whole lines written so far are kept (and committed with --checkpoint)'],
  [ExitCode.INTERRUPTED, 'interrupted by SIGINT/SIGTERM: whole lines written so far are kept'],
];

/** The code of an error that ends a program: a usage error is 2, anything else is fatal (1). */
export function exitCodeOf(err: unknown): number {
  return codeOf(err) === ErrorCode.USAGE ? ExitCode.USAGE : ExitCode.FATAL;
}

/** The scale-out worker's codes (pipelines/worker.js). */
export const WORKER_EXIT_CODES: readonly ExitCodeRow[] = [
  [ExitCode.OK, 'stopped by SIGINT/SIGTERM after finishing the packs in flight'],
  [ExitCode.FATAL, 'fatal: an error that stops this worker (e.g. its API key refused, Redis not reached within --redis-connect-timeout-ms); its packs go to the other workers'],
  [ExitCode.USAGE, 'usage: unknown flag or invalid option value'],
  [ExitCode.INTERRUPTED, 'a second SIGINT/SIGTERM, or one while connecting to Redis: exited at once; its packs go to the other workers'],
];

/** The simulator's codes (simulator/main.js). */
export const SIMULATOR_EXIT_CODES: readonly ExitCodeRow[] = [
  [ExitCode.OK, 'stopped by SIGINT/SIGTERM after closing its connections'],
  [ExitCode.FATAL, 'fatal: the server could not start (e.g. the port is in use)'],
  [ExitCode.USAGE, 'usage: unknown flag or invalid option value'],
  [ExitCode.INTERRUPTED, 'a second SIGINT/SIGTERM: exited at once'],
];

/** The graph program's codes (pipelines/graph.js): no --max-cost there, and `check` fails with 1. */
export const GRAPH_EXIT_CODES: readonly ExitCodeRow[] = [
  [ExitCode.OK, 'the command completed; bad lines given to add were counted (or dead-lettered), which is not a failure'],
  [ExitCode.FATAL, 'fatal: an unreadable input or graph, an unwritable store, or check found the store not consistent'],
  [ExitCode.USAGE, 'usage: unknown command or flag, or invalid option value'],
  [ExitCode.INTERRUPTED, 'add interrupted by SIGINT/SIGTERM: the documents read so far are committed'],
];
