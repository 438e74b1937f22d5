/**
 * An OpenAI-compatible HTTP simulator (node:http, 127.0.0.1 only) for tests and benchmarks: chat
 * completions that answer the knowledge-graph prompt with the offline extractor's findings per
 * document, deterministic embeddings, a latency model, rate limits with OpenAI's headers, context
 * length errors and seeded fault injection. No test ever needs a real API.
 *
 * This is the simulator's entry from code (`startSimulator`); its command line is main.ts
 * (`node simulator/main.js`, the sluice-sim bin). What the folder holds: README.md; docs/simulator.md.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExtractionCache, loadExtractor } from './answer.js';
import { BatchStore } from './batch.js';
import { batchHooks } from './batch-lines.js';
import { chatRoute } from './chat-route.js';
import type { SimulatorCore } from './core.js';
import { embeddingsRoute } from './embeddings-route.js';
import { FaultDrawer } from './faults.js';
import { RateLimiter } from './rate-limit.js';
import { router } from './router.js';
import { settings, type SimulatorOptions } from './settings.js';
import { Slots } from './slots.js';
import { StatsBook, type SimulatorStats } from './stats.js';
import { Timers } from './timers.js';
import { acquireTokenTools } from './tokens.js';

export { FAULT_KINDS, type FaultKind } from './faults.js';
export { formatDuration } from './rate-limit.js';
export type { SimulatorOptions } from './settings.js';
export type { SimulatorStats } from './stats.js';
export { acquireTokenTools } from './tokens.js';

const HOST = '127.0.0.1';

export interface Simulator {
  /** Base URL for the openai client, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  stats(): SimulatorStats;
  /** Zeroes the statistics (rate-limit buckets and the fault sequence carry on). */
  reset(): void;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const o = settings(options);
  const extractor = loadExtractor();
  // o200k_base (recent and unknown models) loads before listening: no request waits for it.
  const tokens = acquireTokenTools(['o200k_base']);
  let cache: ExtractionCache;
  try {
    cache = new ExtractionCache(await extractor);
  } catch (err) {
    tokens.release();
    throw err;
  }
  const stats = new StatsBook();
  const core: SimulatorCore = {
    o,
    tokens,
    cache,
    limiter: new RateLimiter({ ...(o.rpm !== undefined && { rpm: o.rpm }), ...(o.tpm !== undefined && { tpm: o.tpm }) }),
    drawer: new FaultDrawer(o.faultRate, o.faults, o.seed),
    stats,
    timers: new Timers(),
    slots: new Slots(o.slots, stats),
    closed: false,
  };
  const batches = new BatchStore(
    { latencyMs: o.batchLatencyMs, faultRate: o.batchFaultRate, expireAt: o.batchExpire, maxTokens: o.batchMaxTokens, apiLatencyMs: o.batchApiLatencyMs, seed: o.seed },
    batchHooks(core),
  );
  const handle = router(core, { chat: chatRoute(core), embeddings: embeddingsRoute(core), batches });

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    tokens.release();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}/v1`,
    port,
    stats: () => core.stats.snapshot(),
    reset: () => {
      core.stats.reset();
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        core.closed = true;
        core.timers.clear();
        batches.close();
        server.close(() => {
          tokens.release();
          cache.clear();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
