/**
 * What a run's extractor opened (a response cache, a batch ledger, worker threads), closed as one:
 * last opened first, each once, every one attempted even when another fails. Building registers
 * each thing as it opens it, so a build that fails half way closes what it had opened.
 */
export class Closers {
  private readonly stack: (() => unknown)[] = [];
  private closing: Promise<void> | undefined;

  /** Registers `thing` (just opened) to be closed by `close`; hands it back. */
  add<T>(thing: T, close: (thing: T) => unknown): T {
    this.stack.push(() => close(thing));
    return thing;
  }

  /** Closes everything registered, once (a second call waits for the first); throws the first error. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let first: { error: unknown } | undefined;
      for (const close of this.stack.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          first ??= { error };
        }
      }
      if (first) throw first.error;
    })();
    return this.closing;
  }
}
