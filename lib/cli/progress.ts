/**
 * Progress on stderr: records done, percent and estimated total when the input size is known,
 * rate, tokens/s and ETA. Rewrites one line on a TTY; prints a line every few seconds otherwise.
 */
import type { RunStats } from '../runtime/run-context.js';

export interface ProgressOptions {
  label: string;
  tty: boolean;
  /** @default 250 on a TTY, 2000 otherwise */
  intervalMs?: number;
  /** The running cost in USD (LLM pipelines with a known price), and the cap when there is one. */
  cost?: () => number;
  maxCost?: number;
}

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastLength = 0;

  constructor(
    private readonly stats: RunStats,
    private readonly out: NodeJS.WritableStream,
    private readonly options: ProgressOptions,
  ) {}

  start(): void {
    const every = this.options.intervalMs ?? (this.options.tty ? 250 : 2000);
    this.timer = setInterval(() => this.render(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.render();
    if (this.options.tty) this.out.write('\n');
  }

  line(): string {
    const s = this.stats;
    const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
    const done = s.resultsOut + s.deadLettered;
    // A resumed run's committed records were done by earlier sessions: not part of this one's rate.
    const rate = (done - (s.resumedAt ?? 0)) / seconds;
    const parts = [`${this.options.label} ${done.toLocaleString('en-US')} docs`];
    if (s.totalBytes) {
      const fraction = Math.min(1, s.bytesRead / s.totalBytes);
      const total = fraction > 0 ? Math.max(done, Math.round(s.recordsIn / fraction)) : 0;
      parts.push(`${(fraction * 100).toFixed(1)}% of ~${total.toLocaleString('en-US')}`);
      if (rate > 0 && total > done) parts.push(`ETA ${duration((total - done) / rate)}`);
    }
    parts.push(`${Math.round(rate).toLocaleString('en-US')} docs/s`);
    parts.push(`${compact(s.textTokens / seconds)} tok/s`);
    if (s.deadLettered) parts.push(`dead-lettered ${s.deadLettered.toLocaleString('en-US')}`);
    if (s.retries) parts.push(`retries ${s.retries}`);
    // Batch mode: what the provider's request_counts say of the batches in progress.
    if (s.batchesInProgress) parts.push(`batches ${s.batchesInProgress} in progress (${s.batchRequestsDone.toLocaleString('en-US')}/${s.batchRequestsTotal.toLocaleString('en-US')} requests done)`);
    if (this.options.cost && s.requests > 0) parts.push(`$${this.options.cost().toFixed(4)}${this.options.maxCost !== undefined ? ` of $${this.options.maxCost}` : ''}`);
    return parts.join('  ');
  }

  private render(): void {
    const text = this.line();
    if (this.options.tty) {
      this.out.write(`\r${text}${' '.repeat(Math.max(0, this.lastLength - text.length))}`);
      this.lastLength = text.length;
    } else {
      this.out.write(`${text}\n`);
    }
  }
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

function compact(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return String(Math.round(x));
}
