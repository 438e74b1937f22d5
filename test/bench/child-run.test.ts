import t from 'tap';
import { childEnv, runChild } from '../../bench/child-run.js';
import { generatedBatches } from '../../bench/doc-batches.js';

// A child that reads stdin to the end, counting lines, holds on a little (so the probe samples a
// few times), then reports the count on stderr and exits with the code it is given.
const reader = (exitCode: number) => `
let lines = 0;
process.stdin.on('data', (c) => { for (const b of c) if (b === 10) lines++; });
process.stdin.on('end', () => setTimeout(() => { process.stderr.write('lines ' + lines); process.exitCode = ${exitCode}; }, 700));
`;

t.test('feeds every document, collects samples with documents attached, and the exit line', async (t) => {
  const run = await runChild({ args: ['-e', reader(0)], input: generatedBatches(2000, 1), probeIntervalMs: 100 });
  t.equal(run.exitCode, 0);
  t.equal(run.docsIn, 2000);
  t.match(run.stderrTail, 'lines 2000');
  t.ok(run.samples.length >= 4, `${run.samples.length} samples`);
  t.ok(run.samples.every((s) => s.afterGc && s.thread === 0 && s.rssMb > 10 && s.heapUsedMb > 0));
  t.equal(run.samples[run.samples.length - 1]!.docs, 2000, 'the last samples come after all input was given');
  t.ok(
    run.samples.every((s, i) => i === 0 || s.t >= run.samples[i - 1]!.t),
    'in time order',
  );
  t.ok(run.peakFromExitLine);
  t.ok(run.peakRssMb >= Math.max(...run.samples.map((s) => s.rssMb)) - 0.1, 'getrusage peak covers every sample');
  t.ok(
    run.samples.every((s, i) => s.peakRssMb !== undefined && s.peakRssMb >= s.rssMb - 0.1 && (i === 0 || s.peakRssMb >= run.samples[i - 1]!.peakRssMb!)),
    'each sample has the peak so far, never falling',
  );
  t.ok(run.cpuSeconds !== null && run.cpuSeconds > 0);
});

t.test('a failing child: its exit code and stderr come back, and feeding stops', async (t) => {
  const run = await runChild({ args: ['-e', 'process.stderr.write("boom"); process.exit(3)'], input: generatedBatches(200_000, 1) });
  t.equal(run.exitCode, 3);
  t.match(run.stderrTail, 'boom');
  t.ok(run.docsIn < 200_000, `stopped after ${run.docsIn} documents`);
});

t.test('a hung child is killed at the timeout', async (t) => {
  const run = await runChild({ args: ['-e', 'setInterval(() => {}, 1000)'], input: generatedBatches(10, 1), timeoutMs: 800 });
  t.ok(run.timedOut);
  t.equal(run.signal, 'SIGKILL');
  t.notOk(run.peakFromExitLine, 'a killed child writes no exit line');
});

t.test('a line on the probe descriptor that is not a sample is reported, not fatal', async (t) => {
  const run = await runChild({ args: ['-e', 'require("fs").writeSync(3, "hello\\n"); setTimeout(() => {}, 400)'], input: [], probeIntervalMs: 100 });
  t.equal(run.exitCode, 0);
  t.match(run.probeError, /not JSON: hello/);
  t.ok(run.samples.length > 0, "the probe's own lines still count");
});

t.test('without forced GC the samples say so', async (t) => {
  const run = await runChild({ args: ['-e', reader(0)], input: generatedBatches(100, 1), probeIntervalMs: 100, forceGc: false });
  t.ok(run.samples.length > 0);
  t.ok(run.samples.every((s) => !s.afterGc));
});

t.test('no API key or base URL reaches a benchmarked child', async (t) => {
  process.env.OPENAI_API_KEY = 'sk-must-not-leak';
  process.env.OPENAI_BASE_URL = 'https://api.openai.com/v1';
  t.teardown(() => {
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
  });
  const env = childEnv({ EXTRA: '1' });
  t.equal(env.OPENAI_API_KEY, undefined);
  t.equal(env.OPENAI_BASE_URL, undefined);
  t.equal(env.EXTRA, '1');
  const run = await runChild({ args: ['-e', 'process.stderr.write(String(process.env.OPENAI_API_KEY) + " " + String(process.env.OPENAI_BASE_URL))'], input: [] });
  t.equal(run.stderrTail, 'undefined undefined');
});
