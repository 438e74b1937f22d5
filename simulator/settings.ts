/** The simulator's options as given in code (SimulatorOptions) and as checked, with defaults (Settings). */
import { FAULT_KINDS, isFaultKind, type FaultKind } from './faults.js';

export interface SimulatorOptions {
  /** 0 = ephemeral (default 0); the server always binds 127.0.0.1. */
  port?: number;
  /** Fixed cost per request, ms (default 0). */
  latencyMs?: number;
  /** Per output (completion) token, ms (default 0). */
  msPerToken?: number;
  /** Requests per minute (default: no limit). */
  rpm?: number;
  /** Tokens per minute, counting prompt tokens + max_tokens (or the expected completion) (default: no limit). */
  tpm?: number;
  /** Prompt tokens above this get 400 context_length_exceeded (default 128000). */
  contextTokens?: number;
  /** 0..1: probability that a request gets a fault (default 0). */
  faultRate?: number;
  /** The mix faults are drawn from (default: all kinds). */
  faults?: FaultKind[];
  /** Seed of the fault draws (default 1). */
  seed?: number;
  /** How long a "hang" fault stalls before closing the socket, ms (default 120000). */
  hangMs?: number;
  /** Batch API: time from creating a batch until it completes, ms (default 1000). */
  batchLatencyMs?: number;
  /** Batch API: share 0..1 of a batch's lines that go to its error file as server errors (default 0). */
  batchFaultRate?: number;
  /** Batch API: expire every batch once this share 0..1 of its lines is done (default: never). */
  batchExpire?: number;
  /** Batch API: enqueued-token limit (in-progress batches together); a batch over it fails with token_limit_exceeded (default: none). */
  batchMaxTokens?: number;
  /** Batch API: time a Files or Batches call takes, after its effect and before the reply, ms (default 0). */
  batchApiLatencyMs?: number;
  /** Chat and embeddings requests served at once (llama.cpp's -np, vLLM's batch); the rest wait in FIFO order (default: unlimited). */
  slots?: number;
}

export interface Settings {
  port: number;
  latencyMs: number;
  msPerToken: number;
  rpm?: number;
  tpm?: number;
  contextTokens: number;
  faultRate: number;
  faults: FaultKind[];
  seed: number;
  hangMs: number;
  batchLatencyMs: number;
  batchFaultRate: number;
  batchExpire?: number;
  batchMaxTokens?: number;
  batchApiLatencyMs: number;
  slots?: number;
}

/** The defaults of the options that have one (the command line's --port is 8089 instead). */
export const SIMULATOR_DEFAULTS = {
  port: 0,
  latencyMs: 0,
  msPerToken: 0,
  contextTokens: 128_000,
  faultRate: 0,
  seed: 1,
  hangMs: 120_000,
  batchLatencyMs: 1000,
  batchFaultRate: 0,
  batchApiLatencyMs: 0,
} as const;

function check(name: string, value: number | undefined, fallback: number, test: (v: number) => boolean, what: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new RangeError(`simulator option ${name} must be ${what} (got ${String(value)})`);
  return v;
}

/** Checks `o` and fills in the defaults; throws a RangeError naming the option. */
export function settings(o: SimulatorOptions): Settings {
  const nonNegative = (v: number) => v >= 0;
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  const faults = o.faults ?? [...FAULT_KINDS];
  for (const f of faults) if (!isFaultKind(f)) throw new RangeError(`simulator option faults: unknown kind ${JSON.stringify(f)} (kinds: ${FAULT_KINDS.join(', ')})`);
  if (faults.length === 0) throw new RangeError('simulator option faults must name at least one kind');
  const s: Settings = {
    port: check('port', o.port, SIMULATOR_DEFAULTS.port, (v) => Number.isInteger(v) && v >= 0 && v <= 65535, 'an integer 0..65535'),
    latencyMs: check('latencyMs', o.latencyMs, SIMULATOR_DEFAULTS.latencyMs, nonNegative, '>= 0'),
    msPerToken: check('msPerToken', o.msPerToken, SIMULATOR_DEFAULTS.msPerToken, nonNegative, '>= 0'),
    contextTokens: check('contextTokens', o.contextTokens, SIMULATOR_DEFAULTS.contextTokens, positiveInt, 'a positive integer'),
    faultRate: check('faultRate', o.faultRate, SIMULATOR_DEFAULTS.faultRate, (v) => v >= 0 && v <= 1, 'between 0 and 1'),
    faults,
    seed: check('seed', o.seed, SIMULATOR_DEFAULTS.seed, Number.isInteger, 'an integer'),
    hangMs: check('hangMs', o.hangMs, SIMULATOR_DEFAULTS.hangMs, nonNegative, '>= 0'),
    batchLatencyMs: check('batchLatencyMs', o.batchLatencyMs, SIMULATOR_DEFAULTS.batchLatencyMs, nonNegative, '>= 0'),
    batchFaultRate: check('batchFaultRate', o.batchFaultRate, SIMULATOR_DEFAULTS.batchFaultRate, (v) => v >= 0 && v <= 1, 'between 0 and 1'),
    batchApiLatencyMs: check('batchApiLatencyMs', o.batchApiLatencyMs, SIMULATOR_DEFAULTS.batchApiLatencyMs, nonNegative, '>= 0'),
  };
  if (o.batchExpire !== undefined) s.batchExpire = check('batchExpire', o.batchExpire, 0, (v) => v >= 0 && v <= 1, 'between 0 and 1');
  if (o.batchMaxTokens !== undefined) s.batchMaxTokens = check('batchMaxTokens', o.batchMaxTokens, 0, positiveInt, 'a positive integer');
  if (o.slots !== undefined) s.slots = check('slots', o.slots, 0, positiveInt, 'a positive integer');
  if (o.rpm !== undefined) s.rpm = check('rpm', o.rpm, 0, (v) => v > 0, '> 0');
  if (o.tpm !== undefined) s.tpm = check('tpm', o.tpm, 0, (v) => v > 0, '> 0');
  return s;
}
