/** The simulator's timers (latency sleeps, hang faults), kept so that closing it cancels every one. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  /** Resolves after `ms` (at once for 0); never, once cleared (the handler is abandoned). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0) return resolve();
      this.after(ms, resolve);
    });
  }

  after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    this.pending.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.pending.delete(t);
  }

  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}
