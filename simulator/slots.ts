/**
 * The slots model of a self-hosted server (llama.cpp's `-np N`, vLLM's batch): at most N chat or
 * embeddings requests are served at once and the rest wait in FIFO order, their wait part of their
 * latency. Such servers queue what they cannot serve rather than answer 429, so neither does this.
 */
import type { StatsBook } from './stats.js';

/** A served request's hold on its slot: `release` hands it to the next in the queue. */
export type SlotRelease = () => void;

export class Slots {
  private busy = 0;
  private readonly queue: { grant: () => void; dropped: boolean }[] = [];

  /** `size`: requests served at once; undefined = unlimited (no wait, nothing counted). */
  constructor(
    readonly size: number | undefined,
    private readonly stats: StatsBook,
  ) {}

  /**
   * Resolves once the request holds a slot (at once when one is free). `gone` resolves when the
   * client hangs up: a request still queued then leaves the queue (as vLLM and llama.cpp drop a
   * disconnected client's task) and never resolves.
   */
  acquire(gone?: Promise<void>): Promise<SlotRelease> {
    if (this.size === undefined) return Promise.resolve(() => {});
    if (this.busy < this.size && this.queue.length === 0) {
      this.busy++;
      return Promise.resolve(this.releaser());
    }
    return new Promise<SlotRelease>((resolve) => {
      const waiter = { grant: () => resolve(this.releaser()), dropped: false };
      this.queue.push(waiter);
      const s = this.stats.current;
      s.queued++;
      s.maxQueue = Math.max(s.maxQueue, this.waiting());
      void gone?.then(() => {
        waiter.dropped = true;
      });
    });
  }

  /** Requests waiting for a slot now (the dropped ones left out). */
  waiting(): number {
    return this.queue.reduce((n, w) => n + (w.dropped ? 0 : 1), 0);
  }

  private releaser(): SlotRelease {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
      this.next();
    };
  }

  private next(): void {
    while (this.queue.length > 0 && this.busy < this.size!) {
      const w = this.queue.shift()!;
      if (w.dropped) continue;
      this.busy++;
      w.grant();
    }
  }
}
