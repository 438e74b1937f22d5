/**
 * What the routes of one simulator share: its settings, token counting, the extraction cache, the
 * rate limiter and fault drawer, its counters and timers, the slots model, and the closed flag that stops handlers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtractionCache } from './answer.js';
import type { FaultDrawer } from './faults.js';
import { sendBytes, sendJson } from './http.js';
import type { RateLimiter } from './rate-limit.js';
import type { Settings } from './settings.js';
import type { Slots } from './slots.js';
import type { StatsBook } from './stats.js';
import type { Timers } from './timers.js';
import type { TokenTools } from './tokens.js';

export interface SimulatorCore {
  readonly o: Settings;
  readonly tokens: TokenTools;
  readonly cache: ExtractionCache;
  readonly limiter: RateLimiter;
  readonly drawer: FaultDrawer;
  readonly stats: StatsBook;
  readonly timers: Timers;
  /** The slots model: requests served at once, the rest queued. */
  readonly slots: Slots;
  /** Set by close: handlers stop at their next `alive()`. */
  closed: boolean;
}

/** Stops a closed simulator's handler at its next await. */
export function alive(core: SimulatorCore): void {
  if (core.closed) throw new Error('simulator closed');
}

/** Resolves when the client hangs up (or the reply is done): a queued request then leaves the queue. */
export function hungUp(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** Sends a reply and counts it by status. */
export function reply(core: SimulatorCore, res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  core.stats.replied(status);
  // File contents (batch output) go as they are, not as JSON.
  if (Buffer.isBuffer(body)) sendBytes(res, status, body, headers);
  else sendJson(res, status, body, headers);
}

/** A route: a parsed JSON body in, a reply (or a transport fault) out. `common`: the headers every reply carries. */
export type Route = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, common: Record<string, string>) => Promise<void>;
