/**
 * Runs one program in a child process under the memory probe (bench/memory-probe.ts), feeds it
 * documents on stdin with backpressure, and collects the probe's samples, each placed at the
 * number of documents the child had been given when it arrived. The child's stdout is discarded
 * (results are checked through --summary files); its stderr tail is kept for error messages.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { InputBatch } from './doc-batches.js';
import { LineBuffer, mb, parseProbeLine, toMemorySample, type MemorySample, type ProbeSample } from './probe-samples.js';

const PROBE = new URL('./memory-probe.js', import.meta.url).href;
const STDERR_KEPT = 4096;

export interface ChildSpec {
  /** The script and its arguments; node's probe flags are put in front. */
  args: readonly string[];
  input: Iterable<InputBatch>;
  probeIntervalMs?: number;
  /** Force a full GC before each sample (heap-used after GC); off for throughput runs. @default true */
  forceGc?: boolean;
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** The child is killed (SIGKILL) after this long. */
  timeoutMs?: number;
  onSample?: (s: MemorySample) => void;
}

export interface ChildRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallSeconds: number;
  docsIn: number;
  /** The main thread's periodic samples, in order (the final exit sample excluded). */
  samples: MemorySample[];
  /** Worker threads' samples (their own heaps), by thread id. */
  workerSamples: Map<number, MemorySample[]>;
  /** getrusage peak from the probe's exit line; the largest sample when the child died without one. */
  peakRssMb: number;
  peakFromExitLine: boolean;
  /** CPU time of the child, all threads, seconds (from the probe's exit line). */
  cpuSeconds: number | null;
  stderrTail: string;
  timedOut: boolean;
  /** The first probe line that could not be parsed (the run's figures are then suspect). */
  probeError?: string;
}

/** The environment of a benchmarked child: no API key or base URL can leak in (127.0.0.1 only). */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  return env;
}

export async function runChild(spec: ChildSpec): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, ...spec.args], {
    stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    env: childEnv({ ...spec.env, SLUICE_PROBE_FD: '3', SLUICE_PROBE_INTERVAL_MS: String(spec.probeIntervalMs ?? 250), SLUICE_PROBE_GC: spec.forceGc === false ? '0' : '1' }),
  });
  let docsIn = 0;
  const samples: MemorySample[] = [];
  const workerSamples = new Map<number, MemorySample[]>();
  let exitLine: { maxRss: number; cpuMs: number } | undefined;
  let maxSampled = 0;
  let stderr = '';
  let timedOut = false;
  let probeError: string | undefined;
  const timer = spec.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, spec.timeoutMs)
    : undefined;

  const probe = child.stdio[3] as Readable;
  const lines = new LineBuffer();
  probe.setEncoding('utf8');
  probe.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) {
      let s: ProbeSample;
      try {
        s = parseProbeLine(line);
      } catch (err) {
        probeError ??= (err as Error).message;
        continue;
      }
      maxSampled = Math.max(maxSampled, s.rss);
      if (s.final) {
        exitLine = { maxRss: s.maxRss!, cpuMs: s.cpuMs! };
        continue;
      }
      const sample = toMemorySample(s, docsIn);
      if (s.thread !== 0) {
        const list = workerSamples.get(s.thread) ?? [];
        list.push(sample);
        workerSamples.set(s.thread, list);
        continue;
      }
      samples.push(sample);
      spec.onSample?.(sample);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });

  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  await feed(child.stdin!, spec.input, (n) => {
    docsIn += n;
  });
  const [exitCode, signal] = await closed;
  if (timer) clearTimeout(timer);
  return {
    exitCode,
    signal,
    wallSeconds: (performance.now() - started) / 1000,
    docsIn,
    samples,
    workerSamples,
    peakRssMb: mb(exitLine?.maxRss ?? maxSampled),
    peakFromExitLine: exitLine !== undefined,
    cpuSeconds: exitLine ? exitLine.cpuMs / 1000 : null,
    stderrTail: stderr,
    timedOut,
    ...(probeError !== undefined ? { probeError } : {}),
  };
}

/** Writes the batches, waiting for the child to drain its stdin; stops quietly if the child goes away. */
async function feed(stdin: Writable, input: Iterable<InputBatch>, counted: (docs: number) => void): Promise<void> {
  // Plain listeners, not events.once: once() rejects on 'error', and EPIPE here is expected.
  let gone = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    gone = true;
    wake?.();
  };
  stdin.on('error', stop); // EPIPE: the child exited early; its exit code tells why
  stdin.on('close', stop);
  stdin.on('drain', () => wake?.());
  for (const batch of input) {
    if (gone) return;
    const ok = stdin.write(batch.bytes);
    counted(batch.docs);
    if (!ok && !gone) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  }
  if (!gone) stdin.end();
}
