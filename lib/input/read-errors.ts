/**
 * Why an input cannot be read, in words that name it: Node's own messages (`EISDIR: illegal
 * operation on a directory, read`, zlib's `unexpected end of file`) name neither the file nor what
 * to do. Every error that stops reading an input goes through here, with how far it was read.
 */
import { ErrorCode, SluiceError, messageOf } from '../runtime/errors.js';

/** How far an input was read when it failed: its bytes as stored, and for gzip the bytes inflated. */
export interface ReadPosition {
  bytes: number;
  inflated?: number;
}

const n = (x: number) => x.toLocaleString('en-US');

function codeOfError(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The cause in words, for the errors a user can act on; Node's message otherwise. */
function causeOf(name: string, err: unknown, at: ReadPosition | undefined): string {
  switch (codeOfError(err)) {
    case 'EISDIR':
      return `is a directory: give the files in it (e.g. ${name.replace(/\/+$/, '')}/*.jsonl), not the directory`;
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    // zlib: the compressed stream stopped before its end marker.
    case 'Z_BUF_ERROR':
      return `gzip stream ends early after ${n(at?.bytes ?? 0)} bytes${at?.inflated !== undefined ? ` (${n(at.inflated)} bytes inflated)` : ''}: the ${name === 'stdin' ? 'stream' : 'file'} is truncated`;
    case 'Z_DATA_ERROR':
      return `gzip data is corrupt after ${n(at?.bytes ?? 0)} bytes (${messageOf(err)})`;
    default:
      return at && at.bytes > 0 ? `${messageOf(err)} (after ${n(at.bytes)} bytes)` : messageOf(err);
  }
}

/** An input that could not be read (fatal): told apart so that the line reader can add its line. */
export class InputReadError extends SluiceError {
  constructor(message: string, cause: unknown) {
    super(ErrorCode.FATAL, message, { cause });
  }
}

/** A fatal error naming the input, the cause and, where it helps, how far it was read. Already ours: passed on. */
export function inputError(name: string, err: unknown, at?: ReadPosition): SluiceError {
  if (err instanceof SluiceError) return err;
  return new InputReadError(`cannot read input ${name}: ${causeOf(name, err, at)}`, err);
}

/** An input given as a path that is a directory (found by stat, before anything is read). */
export function directoryError(name: string): SluiceError {
  return inputError(name, Object.assign(new Error(`${name} is a directory`), { code: 'EISDIR' }));
}

/** A read error with the last line read added (the line reader knows it, the byte readers do not). */
export function withLine(err: unknown, line: number): unknown {
  if (!(err instanceof InputReadError)) return err;
  return new InputReadError(`${err.message}; ${line > 0 ? `the last whole line read was line ${n(line)}` : 'no whole line was read'}`, err.cause);
}
