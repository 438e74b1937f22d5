/**
 * Memory probe, preloaded into a benchmarked child process:
 *
 *   SLUICE_PROBE_FD=3 node --expose-gc --import ./bench/memory-probe.js pipelines/kg.js ...
 *
 * Every SLUICE_PROBE_INTERVAL_MS (default 250) it forces a full GC (unless SLUICE_PROBE_GC=0, for
 * throughput runs) and writes one JSON line (`ProbeSample`, bytes) to the file descriptor
 * SLUICE_PROBE_FD. Worker threads started from a file inherit `--import`, so piscina's workers run
 * it too and report their own heap (`thread` > 0) every SLUICE_PROBE_WORKER_INTERVAL_MS (default
 * 1000: a full GC of a worker holding the NER lexicons takes ~50 ms, which at 250 ms cost the
 * offline run over three times its CPU); RSS is per process, the same from any thread.
 * At exit the main thread writes a last line with the process's peak RSS (getrusage), which no
 * sample can miss, and its CPU time (all threads), which a busy machine disturbs less than wall
 * time. Every main-thread line also carries the peak RSS so far (getrusage's high-water mark): the
 * peak at any point of the run, not just at its end. Bench code only: the product knows nothing of it. Parsed by bench/probe-samples.ts.
 */
import { writeSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

const fd = Number(process.env.SLUICE_PROBE_FD);
const intervalMs = isMainThread ? Number(process.env.SLUICE_PROBE_INTERVAL_MS ?? 250) : Number(process.env.SLUICE_PROBE_WORKER_INTERVAL_MS ?? 1000);
if (Number.isInteger(fd) && fd > 2) {
  const started = performance.now();
  const forceGc = process.env.SLUICE_PROBE_GC === '0' ? undefined : (globalThis as { gc?: () => void }).gc;
  const write = (fields: Record<string, unknown>): void => {
    try {
      // One write per line: lines from several threads never interleave within a line (< PIPE_BUF).
      writeSync(fd, `${JSON.stringify(fields)}\n`);
    } catch {
      // The parent went away: nobody is listening, and the run must not fail because of us.
    }
  };
  const sample = (): Record<string, unknown> => {
    forceGc?.();
    const m = process.memoryUsage();
    const fields: Record<string, unknown> = {
      thread: threadId,
      t: Math.round(performance.now() - started),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      afterGc: forceGc !== undefined,
    };
    if (isMainThread) fields.maxRss = process.resourceUsage().maxRSS * 1024;
    return fields;
  };
  // Unref'd: the probe must never keep a finished run (or an idle worker) alive.
  setInterval(() => write(sample()), intervalMs).unref();
  if (isMainThread) {
    process.on('exit', () => {
      const usage = process.resourceUsage();
      write({ ...sample(), final: true, maxRss: usage.maxRSS * 1024, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) });
    });
  }
}
