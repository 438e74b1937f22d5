/**
 * The two-signal stop every sluice program has: the first SIGINT or SIGTERM asks the program to
 * stop (it aborts its run's signal and lets in-flight work settle: whole lines, the checkpoint, packs
 * in flight); a second one exits at once with ExitCode.INTERRUPTED, for when settling takes too long.
 */
import { ExitCode } from './exit-codes.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface SignalStop {
  /** Aborted by the first signal. */
  signal: AbortSignal;
  /** Removes the handlers: from then on a signal has node's default effect again. */
  dispose(): void;
}

/**
 * Installs the handlers until `dispose()`. `onFirst` says what stopping means to the program (a line
 * on stderr, closing a server); `exit` is process.exit except in tests.
 */
export function stopOnSignals(onFirst: (signal: NodeJS.Signals) => void, exit: (code: number) => void = (code) => process.exit(code)): SignalStop {
  const controller = new AbortController();
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return exit(ExitCode.INTERRUPTED);
    stopping = true;
    // The program says it is stopping before the abort sets the run's own messages going.
    onFirst(sig);
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
    },
  };
}
