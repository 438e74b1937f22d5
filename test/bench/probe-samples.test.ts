import t from 'tap';
import { LineBuffer, downsample, parseProbeLine, toMemorySample } from '../../bench/probe-samples.js';

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ thread: 0, t: 250, rss: 100 * 1024 * 1024, heapUsed: 30 * 1024 * 1024, heapTotal: 40 * 1024 * 1024, external: 1024, afterGc: true, ...fields });

t.test('a periodic probe line parses; MB and documents are attached for the chart', async (t) => {
  const s = parseProbeLine(line({}));
  t.same(s, { thread: 0, t: 250, rss: 104857600, heapUsed: 31457280, heapTotal: 41943040, external: 1024, afterGc: true });
  t.same(toMemorySample(s, 1234), { thread: 0, t: 250, docs: 1234, rssMb: 100, heapUsedMb: 30, afterGc: true });
  t.equal(parseProbeLine(line({ thread: 3 })).thread, 3);
});

t.test('the exit line carries the peak RSS and the CPU time, and must have both', async (t) => {
  const s = parseProbeLine(line({ final: true, maxRss: 2e8, cpuMs: 5300 }));
  t.equal(s.final, true);
  t.equal(s.maxRss, 2e8);
  t.equal(s.cpuMs, 5300);
  t.throws(() => parseProbeLine(line({ final: true, cpuMs: 1 })), /maxRss/);
  t.throws(() => parseProbeLine(line({ final: true, maxRss: 2e8 })), /cpuMs/);
});

t.test('a periodic line may carry the peak so far; the chart sample keeps it in MB', async (t) => {
  const s = parseProbeLine(line({ maxRss: 150 * 1024 * 1024 }));
  t.equal(s.maxRss, 157286400);
  t.notOk(s.final);
  t.equal(toMemorySample(s, 10).peakRssMb, 150);
  t.notOk('peakRssMb' in toMemorySample(parseProbeLine(line({})), 10), 'a worker line has none');
  t.throws(() => parseProbeLine(line({ maxRss: 0 })), /maxRss must be a positive number/);
});

t.test('malformed lines are refused with the reason', async (t) => {
  t.throws(() => parseProbeLine('{"thread":0,"t":1,'), /not JSON/);
  t.throws(() => parseProbeLine('[1,2]'), /not an object/);
  t.throws(() => parseProbeLine(line({ rss: -1 })), /rss must be a non-negative number/);
  t.throws(() => parseProbeLine(line({ heapUsed: '3' })), /heapUsed/);
  t.throws(() => parseProbeLine(line({ afterGc: 'yes' })), /afterGc/);
  t.throws(() => parseProbeLine(line({ thread: 1.5 })), /thread/);
  t.throws(() => parseProbeLine(line({ thread: undefined })), /thread/);
});

t.test('LineBuffer joins lines split across chunks and keeps a partial tail', async (t) => {
  const b = new LineBuffer();
  t.same(b.push('{"a":1}\n{"b"'), ['{"a":1}']);
  t.same(b.push(':2}\n\n{"c":3}\n'), ['{"b":2}', '{"c":3}']);
  t.same(b.push('{"d"'), []);
  t.equal(b.end(), '{"d"');
  t.equal(b.end(), '');
});

t.test('downsample keeps the first and the last, evenly spread, never more than asked', async (t) => {
  const xs = Array.from({ length: 1001 }, (_, i) => i);
  const d = downsample(xs, 11);
  t.same(d, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  t.same(downsample([1, 2, 3], 10), [1, 2, 3]);
  t.equal(downsample(xs, 400).length, 400);
  t.equal(downsample(xs, 400).at(-1), 1000);
});
