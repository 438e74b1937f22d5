/**
 * The packs waiting for their batch line: one waiter per custom_id, answered when its file's
 * outcomes are recorded, rejected when the run stops (its signal) or the batch side fails for good.
 */
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import type { LineOutcome, Outcome } from './outcome.js';

interface Waiter {
  fileSeq: number;
  resolve(o: Outcome): void;
  reject(err: unknown): void;
}

export class BatchWaiters {
  private readonly waiters = new Map<string, Waiter>();
  /** Set once the batch side cannot go on: every waiting pack, and every later one, gets it. */
  fatal: unknown;

  /** Resolves with the outcome of line `customId` of input file `fileSeq`. */
  wait(customId: string, fileSeq: number, signal: AbortSignal): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(customId);
        reject(new SluiceError(ErrorCode.ABORTED, 'stopped while waiting for a batch'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(customId);
      };
      this.waiters.set(customId, {
        fileSeq,
        resolve: (x) => {
          done();
          resolve(x);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
    });
  }

  /** Hands recorded outcomes of file `fileSeq` to the packs waiting for them. */
  answer(fileSeq: number, outcomes: readonly LineOutcome[]): void {
    for (const o of outcomes) {
      const w = this.waiters.get(o.customId);
      if (w && w.fileSeq === fileSeq) w.resolve('answer' in o ? { answer: o.answer } : { error: o.error });
    }
  }

  /** Stops the run: every waiting pack and every later one gets this error. */
  fail(err: unknown): void {
    this.fatal ??= err;
    for (const w of [...this.waiters.values()]) w.reject(this.fatal);
  }
}
