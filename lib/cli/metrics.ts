/**
 * Prometheus metrics of a run, with prom-client in a Registry of its own (a library user's
 * registries, the global one included, are left alone). Counters are read from the run's RunStats
 * when scraped; what counters cannot carry (request durations, pack sizes, requests in flight and
 * by status) comes through the run's observer (lib/runtime/run-context.ts). `--metrics-port` serves them on
 * 127.0.0.1 while the run lasts; `--metrics-file` writes the final exposition however the run ends.
 * Labels take values from small fixed sets only: never ids, paths or messages.
 */
import { accessSync, constants, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode, RecordCode, SluiceError, codeOf, messageOf } from '../runtime/errors.js';
import { defineOptions, type OptionsOf } from '../runtime/options.js';
import { costUsd, type Price } from '../llm/prices.js';
import type { RunContext, RunObserver, RunStats } from '../runtime/run-context.js';

export const metricsOptionSpecs = defineOptions([
  {
    name: 'metrics-port',
    type: 'integer',
    min: 0,
    max: 65535,
    description: 'Serve Prometheus metrics at http://127.0.0.1:PORT/metrics while the run lasts (0: a free port; the address is printed on stderr)',
  },
  { name: 'metrics-file', type: 'string', description: 'Write the final Prometheus metrics (text format) to this file when the run ends, also when it is interrupted or fails' },
]);

/** The resolved values of metricsOptionSpecs. */
export type MetricsCliOptions = OptionsOf<typeof metricsOptionSpecs>;

export const METRICS_PREFIX = 'sluice_';
/** The only address the metrics server binds. */
export const METRICS_HOST = '127.0.0.1';
/** Seconds: LLM requests take from a fraction of a second to minutes. */
export const REQUEST_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
/** Documents per pack: --max-docs (kg) and --batch-size (embed) go up to 2048. */
export const PACK_DOCUMENTS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
/** Dead-letter reasons are the stable record codes; anything else counts as "other". */
const DEAD_LETTER_REASONS: readonly string[] = Object.values(RecordCode);

export interface RunMetricsOptions {
  /** Prices sluice_cost_usd_total (billed tokens only); without a price the metric is absent. */
  price?: Price;
  /** The process metrics of prom-client (CPU, memory, event loop lag, GC), prefixed too. @default true */
  defaultMetrics?: boolean;
}

export interface RunMetrics {
  readonly registry: Registry;
  /** Attach to the run before it starts: `ctx.observer = metrics.observer`. */
  readonly observer: RunObserver;
}

/** Every sluice_ metric of one run, in a new Registry. */
export function createRunMetrics(stats: RunStats, o: RunMetricsOptions = {}): RunMetrics {
  const registry = new Registry();
  const registers = [registry];
  const name = (n: string) => `${METRICS_PREFIX}${n}`;

  const fromStats = (n: string, help: string, read: () => number) =>
    new Counter({
      name: name(n),
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  // Label values are fixed by each caller's record keys: bounded.
  const byKind = (n: string, help: string, read: () => Record<string, number>, label = 'kind') =>
    new Counter({
      name: name(n),
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [kind, value] of Object.entries(read())) this.inc({ [label]: kind }, value);
      },
    });

  fromStats('records_in_total', 'Input records read (documents in)', () => stats.recordsIn);
  fromStats('records_out_total', 'Results written (documents out)', () => stats.resultsOut);
  new Counter({
    name: name('dead_letter_total'),
    help: 'Records dead-lettered, by reason (the stable dead-letter code)',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, number>(DEAD_LETTER_REASONS.map((r) => [r, 0]));
      for (const [code, n] of stats.deadLetterByCode) {
        const reason = counts.has(code) ? code : 'other';
        counts.set(reason, (counts.get(reason) ?? 0) + n);
      }
      for (const [reason, n] of counts) this.inc({ reason }, n);
    },
  });
  fromStats('retries_total', 'Retries of failed requests', () => stats.retries);
  fromStats('splits_total', 'Packs split in halves after failing or being too large', () => stats.splits);
  byKind(
    'answers_cut_off_total',
    'Answers cut off at max_tokens, by where: "sized" (below --max-output-tokens: asked again with more) or "cap" (at --max-output-tokens: the pack splits)',
    () => ({ sized: stats.cutOffs - stats.cutOffsAtCap, cap: stats.cutOffsAtCap }),
    'at',
  );
  byKind(
    'split_causes_total',
    'Pack splits by cause: "cut-off" (the answer did not fit --max-output-tokens) or "failure" (failed attempts, too large, an incomplete answer)',
    () => ({
      'cut-off': stats.splitsCutOff,
      failure: Math.max(0, stats.splits - (stats.restoredWork?.splits ?? 0) - stats.splitsCutOff),
    }),
    'cause',
  );
  byKind('tokens_total', 'Tokens billed this run (failed attempts included), by kind', () => ({ prompt: stats.promptTokens, completion: stats.completionTokens }));
  byKind('cached_tokens_total', 'Tokens of the answers served from --cache (not billed this run), by kind', () => ({ prompt: stats.cachedPromptTokens, completion: stats.cachedCompletionTokens }));
  fromStats('cache_hits_total', 'Requests answered from --cache (not sent)', () => stats.cacheHits);
  fromStats('cache_misses_total', 'Requests looked up in --cache and not found (sent)', () => stats.cacheMisses);
  const price = o.price;
  if (price)
    fromStats('cost_usd_total', 'Estimated cost of the billed tokens in USD (price of --model, or --price-input/--price-output)', () => costUsd(price, stats.promptTokens, stats.completionTokens));

  const requests = new Counter({
    name: name('requests_total'),
    help: 'Requests sent to the API, by HTTP status, or timeout/connection/aborted/error when there was none',
    labelNames: ['status'] as const,
    registers,
  });
  const duration = new Histogram({ name: name('request_duration_seconds'), help: 'Time from sending a request to its answer or error', buckets: REQUEST_DURATION_BUCKETS, registers });
  const inFlight = new Gauge({ name: name('in_flight_requests'), help: 'Requests sent and not yet answered', registers });
  const packDocuments = new Histogram({ name: name('pack_documents'), help: 'Documents per pack formed by token-pack', buckets: PACK_DOCUMENTS_BUCKETS, registers });

  if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });

  const observer: RunObserver = {
    requestStarted: () => inFlight.inc(),
    requestEnded: (status, seconds) => {
      inFlight.dec();
      requests.inc({ status });
      duration.observe(seconds);
    },
    packFormed: (documents) => packDocuments.observe(documents),
  };
  return { registry, observer };
}

export interface MetricsServer {
  /** http://127.0.0.1:PORT/metrics */
  readonly url: string;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Serves `GET /metrics` on 127.0.0.1 only (port 0: a free one). */
export async function serveMetrics(registry: Registry, port: number): Promise<MetricsServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found: the metrics are at GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`cannot collect the metrics: ${messageOf(err)}\n`);
      },
    );
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, METRICS_HOST, () => {
      server.off('error', fail);
      done();
    });
  }).catch((err: unknown) => {
    throw new SluiceError(ErrorCode.FATAL, `cannot serve --metrics-port on ${METRICS_HOST}:${port}: ${codeOf(err) ?? messageOf(err)}`);
  });
  // The run's own work keeps the process alive; the server alone must not.
  server.unref();
  const address = server.address() as AddressInfo;
  return {
    url: `http://${METRICS_HOST}:${address.port}/metrics`,
    address,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        // A scraper's keep-alive connection would hold the close until it times out.
        server.closeAllConnections();
      }),
  };
}

/**
 * Writes the registry's exposition to `file` whole: a temporary file beside it, then a rename, so
 * a reader (node_exporter's textfile collector) never sees half of it.
 */
export async function writeMetricsFile(registry: Registry, file: string): Promise<void> {
  const text = await registry.metrics();
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new SluiceError(ErrorCode.OUTPUT, `cannot write --metrics-file ${file}: ${messageOf(err)}`);
  }
}

/** The metrics of a CLI run (runCli). */
export interface CliMetrics {
  /** Stops the server and writes --metrics-file; resolves with what went wrong, if anything. */
  finish(): Promise<string | undefined>;
}

/**
 * For runCli: when --metrics-port or --metrics-file is given, creates the run's metrics, attaches
 * their observer to `ctx` and starts the server (`log` is told its address). Throws a fatal error
 * before the run when the port cannot be bound or the file's directory is not writable.
 */
export async function startCliMetrics(ctx: RunContext, o: MetricsCliOptions, env: { price?: Price; log?: (line: string) => void } = {}): Promise<CliMetrics | undefined> {
  if (o.metricsPort === undefined && o.metricsFile === undefined) return undefined;
  const file = o.metricsFile;
  if (file !== undefined) {
    // Found out now, not after a long run.
    try {
      accessSync(dirname(resolve(file)), constants.W_OK);
    } catch (err) {
      throw new SluiceError(ErrorCode.FATAL, `cannot write --metrics-file ${file}: ${messageOf(err)}`);
    }
  }
  const metrics = createRunMetrics(ctx.stats, { price: env.price });
  ctx.observer = metrics.observer;
  const server = o.metricsPort !== undefined ? await serveMetrics(metrics.registry, o.metricsPort) : undefined;
  if (server) env.log?.(`metrics at ${server.url}`);
  return {
    async finish() {
      await server?.close();
      if (file === undefined) return undefined;
      try {
        await writeMetricsFile(metrics.registry, file);
        return undefined;
      } catch (err) {
        return messageOf(err);
      }
    },
  };
}
