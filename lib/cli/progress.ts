/**
 * Progress on stderr: records done, the share of the input's bytes read and the estimated total
 * when the input size is known, rate, tokens/s, ETA and the projected total cost (projection.ts).
 * Rewrites one line on a TTY, fitted to the terminal's width (a wrapped line cannot be rewritten:
 * each update would add a line); prints a line every few seconds otherwise.
 */
import type { RunStats } from '../runtime/run-context.js';
import type { Projection } from './projection.js';

export interface ProgressOptions {
  label: string;
  tty: boolean;
  /** @default 250 on a TTY, 2000 otherwise */
  intervalMs?: number;
  /** The running cost in USD (LLM pipelines with a known price), and the cap when there is one. */
  cost?: () => number;
  maxCost?: number;
  /** The run's projection (lib/cli/projection.ts): the projected total cost and the ETA, once known. */
  projection?: () => Projection | undefined;
}

/** One field of the line; the lower its rank, the sooner it is dropped when the line does not fit. */
interface Field {
  text: string;
  rank: number;
}

const SEPARATOR = '  ';

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastLength = 0;

  constructor(
    private readonly stats: RunStats,
    private readonly out: NodeJS.WritableStream & { columns?: number },
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

  /** The line, fitted to `width` columns when given (the least important fields dropped first). */
  line(width?: number): string {
    return fit(this.fields(), width);
  }

  private fields(): Field[] {
    const s = this.stats;
    const seconds = Math.max(0.001, (Date.now() - s.startedAt) / 1000);
    const done = s.resultsOut + s.deadLettered;
    // A resumed run's committed records were done by earlier sessions: not part of this one's rate.
    const rate = (done - (s.resumedAt ?? 0)) / seconds;
    const fields: Field[] = [{ text: `${this.options.label} ${done.toLocaleString('en-US')} docs`, rank: 100 }];
    const projection = this.options.projection?.();
    if (s.totalBytes) {
      // The share is of bytes read, not of documents done: reading runs ahead of the LLM work.
      const fraction = Math.min(1, s.bytesRead / s.totalBytes);
      const total = fraction > 0 ? Math.max(done, Math.round(s.recordsIn / fraction)) : 0;
      fields.push({ text: `${(fraction * 100).toFixed(1)}% of input bytes read`, rank: 80 });
      fields.push({ text: `~${total.toLocaleString('en-US')} docs in all`, rank: 40 });
      // The projection's ETA once it has evidence (documents settled, not records read); until then the documents written.
      const eta = projection?.etaSeconds ?? (rate > 0 && total > done ? (total - done) / rate : undefined);
      if (eta !== undefined && eta > 0) fields.push({ text: `ETA ${duration(eta)}`, rank: 60 });
    }
    fields.push({ text: `${Math.round(rate).toLocaleString('en-US')} docs/s`, rank: 30 });
    fields.push({ text: `${compact(s.textTokens / seconds)} tok/s`, rank: 10 });
    if (s.deadLettered) fields.push({ text: `dead-lettered ${s.deadLettered.toLocaleString('en-US')}`, rank: 70 });
    if (s.retries) fields.push({ text: `retries ${s.retries}`, rank: 20 });
    // Batch mode: what the provider's request_counts say of the batches in progress.
    if (s.batchesInProgress) {
      const counts = `${s.batchRequestsDone.toLocaleString('en-US')}/${s.batchRequestsTotal.toLocaleString('en-US')} requests done`;
      fields.push({ text: `batches ${s.batchesInProgress} in progress (${counts})`, rank: 50 });
    }
    if (this.options.cost && s.requests > 0) {
      fields.push({ text: `$${this.options.cost().toFixed(4)}${this.options.maxCost !== undefined ? ` of $${this.options.maxCost}` : ''}`, rank: 90 });
      if (projection?.costUsd !== undefined) fields.push({ text: `~$${projection.costUsd.toFixed(4)} projected`, rank: 85 });
    }
    return fields;
  }

  /** The terminal's width less one: writing into the last column wraps on some terminals. */
  private width(): number | undefined {
    const columns = this.out.columns;
    return this.options.tty && typeof columns === 'number' && columns > 1 ? columns - 1 : undefined;
  }

  private render(): void {
    const width = this.width();
    const text = this.line(width);
    if (this.options.tty) {
      // Blanks over the rest of the previous line, never past the width (the terminal may have narrowed).
      const pad = Math.max(0, Math.min(this.lastLength, width ?? Infinity) - text.length);
      this.out.write(`\r${text}${' '.repeat(pad)}`);
      this.lastLength = text.length;
    } else {
      this.out.write(`${text}\n`);
    }
  }
}

/** Joins the fields in their order, dropping the lowest-ranked until the line fits; the first is cut if it alone is too long. */
function fit(fields: readonly Field[], width: number | undefined): string {
  const kept = [...fields];
  const joined = () => kept.map((f) => f.text).join(SEPARATOR);
  if (width === undefined) return joined();
  while (kept.length > 1 && joined().length > width) {
    let lowest = 1;
    for (let i = 2; i < kept.length; i++) if (kept[i]!.rank < kept[lowest]!.rank) lowest = i;
    kept.splice(lowest, 1);
  }
  return joined().slice(0, width);
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
