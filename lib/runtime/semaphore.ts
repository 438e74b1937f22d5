/** A FIFO counting semaphore: at most `size` holders; waiters are served in arrival order. */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot straight to the longest waiter, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}
