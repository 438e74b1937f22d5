/**
 * The run's circuit: tells a server that cannot serve anyone (connection refused, DNS, TLS, a 5xx
 * on every request) from a document the server cannot serve. Shared by every pack of a run (on the
 * run context), told of each request's end by retry/split. While no request has succeeded for the
 * window, a failure on the server's side is not the document's: retry/split waits instead of
 * dead-lettering it, and once such failures alone have filled the window the run stops as fatal.
 */
import { ErrorCode, SluiceError } from './errors.js';

/** Failures a window must hold before it trips, so one slow first request cannot stop a run. */
export const CIRCUIT_MIN_FAILURES = 3;

export class Circuit {
  /** When the current run of server-side failures began (no success since), if one is going on. */
  private failingSince: number | undefined;
  private failures = 0;
  private lastSuccessAt: number | undefined;
  /** Set once tripped: every later failure reports the same fatal error. */
  private tripped: SluiceError | undefined;

  constructor(
    /** --fatal-after-ms: how long every request may fail on the server's side before the run stops. */
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A request was answered: the server serves, so what fails now is the document's. */
  success(): void {
    this.lastSuccessAt = this.now();
    this.failingSince = undefined;
    this.failures = 0;
  }

  /**
   * A request failed on the server's side (`err.serverSide`). Returns the fatal error that stops the
   * run when these failures alone have lasted the window; undefined while they have not.
   */
  failure(err: SluiceError): SluiceError | undefined {
    if (this.tripped) return this.tripped;
    const now = this.now();
    this.failingSince ??= now;
    this.failures++;
    if (this.failures >= CIRCUIT_MIN_FAILURES && now - this.failingSince >= this.windowMs) {
      const seconds = ((now - this.failingSince) / 1000).toFixed(1);
      this.tripped = new SluiceError(
        ErrorCode.FATAL,
        `the server cannot be used: every request for ${seconds}s failed (${this.failures} requests), the last with: ${err.message}; check --base-url and that the server is up (--fatal-after-ms sets how long this is waited out)`,
        { cause: err },
      );
    }
    return this.tripped;
  }

  /**
   * True when no request has succeeded within the window: a server-side failure then says nothing
   * about the document, so it is retried (until the circuit trips) instead of dead-lettered.
   */
  serverDown(): boolean {
    return this.lastSuccessAt === undefined || this.now() - this.lastSuccessAt >= this.windowMs;
  }

  /** The fatal error, once tripped. */
  get error(): SluiceError | undefined {
    return this.tripped;
  }
}
