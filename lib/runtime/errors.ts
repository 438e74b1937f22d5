/**
 * One errors module with stable string codes. Match on `error.code`, not `instanceof`
 * (instanceof breaks across worker threads and duplicated installs).
 */

/** Codes of dead-letter entries: a bad record, the run goes on. */
export const RecordCode = {
  LINE_TOO_LONG: 'LINE_TOO_LONG',
  INVALID_UTF8: 'INVALID_UTF8',
  INVALID_JSON: 'INVALID_JSON',
  INVALID_JSON_ARRAY: 'INVALID_JSON_ARRAY',
  NOT_AN_OBJECT: 'NOT_AN_OBJECT',
  MISSING_TEXT: 'MISSING_TEXT',
  EMPTY_TEXT: 'EMPTY_TEXT',
  TEXT_NOT_STRING: 'TEXT_NOT_STRING',
  INVALID_ID: 'INVALID_ID',
  EXTRACT_FAILED: 'EXTRACT_FAILED',
  UNSERIALISABLE: 'UNSERIALISABLE',
  /** A result line given to the graph whose entities or relations do not follow the result schema. */
  INVALID_RESULT: 'INVALID_RESULT',
} as const;

/** Codes of thrown errors; retry/split decides by these. */
export const ErrorCode = {
  /** Worth retrying as is: rate limit, 5xx, timeout, reset, malformed answer. */
  TRANSIENT: 'E_TRANSIENT',
  /** Retrying the same request cannot help; a smaller request might (context length, truncation). */
  SPLIT_REQUIRED: 'E_SPLIT_REQUIRED',
  /** The answer was cut off (finish_reason "length"): split; a single chunk is retried. */
  TRUNCATED: 'E_TRUNCATED',
  /** The extractor failed on this input deterministically. */
  EXTRACT: 'E_EXTRACT',
  /** Stops the run: revoked key, unwritable output, bad configuration. */
  FATAL: 'E_FATAL',
  /** A bad option or argument (exit code 2). */
  USAGE: 'E_USAGE',
  /** Output could not be written. */
  OUTPUT: 'E_OUTPUT',
  /** The run was stopped (SIGINT/SIGTERM) while this work waited. */
  ABORTED: 'E_ABORTED',
  /** A bug: an invariant did not hold. */
  INTERNAL: 'E_INTERNAL',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class SluiceError extends Error {
  readonly code: string;
  /** Server hint for the next attempt, already clamped by whoever sets it. */
  retryAfterMs?: number;
  /** Tokens the failed attempt was billed for (a malformed answer still costs). */
  usage?: { promptTokens: number; completionTokens: number };
  /**
   * The failure is the server's, not the document's (connection refused or reset, DNS, TLS, a 5xx):
   * the run's circuit (lib/runtime/circuit.ts) counts these to tell a down server from a bad document.
   */
  serverSide?: boolean;
  /** An answer cut off at max_tokens: how many it was cut at, and (below --max-output-tokens) how many to ask again with before splitting. */
  cutAt?: number;
  askTokens?: number;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number; usage?: { promptTokens: number; completionTokens: number }; serverSide?: boolean; cutAt?: number; askTokens?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options?.usage !== undefined) this.usage = options.usage;
    if (options?.serverSide) this.serverSide = true;
    if (options?.cutAt !== undefined) this.cutAt = options.cutAt;
    if (options?.askTokens !== undefined) this.askTokens = options.askTokens;
  }
}

export function usageError(message: string): SluiceError {
  return new SluiceError(ErrorCode.USAGE, message);
}

export function codeOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Process exit codes, documented in --help and the README. */
export const ExitCode = {
  OK: 0,
  FATAL: 1,
  USAGE: 2,
  /** Stopped at --max-cost. */
  COST_CAP: 3,
  /** Stopped past --max-failures dead-lettered documents. */
  MAX_FAILURES: 4,
  INTERRUPTED: 130,
} as const;
