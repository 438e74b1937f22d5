/**
 * The run summary on stderr and in --summary: a stopped run (fatal, signal, --max-cost,
 * --max-failures) says it stopped, why, what it did not reach and the command that resumes; an
 * offline run shows no requests; a resumed run tells this session's work from the whole run's.
 * The CLI as a child process; the LLM runs against the simulator on 127.0.0.1.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../simulator/openai-sim.js';
import { ROOT, kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-summary-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const env = { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };
const news = join(ROOT, 'examples/news.jsonl');

/** Documents enough that a run is still going when it is stopped. */
const big = join(dir, 'big.jsonl');
writeFileSync(
  big,
  Array.from({ length: 60_000 }, (_v, i) => JSON.stringify({ id: `d${i}`, text: `Ada Lovelace met Charles Babbage in London in ${1800 + (i % 200)}. Document ${i}.` })).join('\n') + '\n',
);

const summaryOf = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

t.test('an offline run shows packs and chunks, no requests, retries, splits or cost', async (t) => {
  const r = await kg(['--workers', '0', '--model', 'gpt-4.1-mini', news], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /kg: done in /);
  t.match(r.stderr, /\n {2}work {7}25 chunks in \d+ packs \([\d.]+ docs\/pack\)\n/);
  t.notMatch(r.stderr, /requests|retries|splits|cost/);
});

t.test('a fatal stop says it stopped, why, what it did not reach, and that rerunning starts over', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const file = join(dir, 'fatal.json');
  const r = await kg(['--base-url', `http://127.0.0.1:${port}/v1`, '--fatal-after-ms', '300', '--retry-base-ms', '10', '--summary', file, news], { env });
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, /kg: stopped by a fatal error after [\d.]+s/);
  t.notMatch(r.stderr, /kg: done/);
  t.notMatch(r.stderr, /WARNING/, 'a stopped run is not checked as a finished one');
  t.match(r.stderr, /\n {2}not done {3}25 documents read but not finished; all of the input was read\n/);
  t.match(r.stderr, /resume {5}no --checkpoint: rerunning starts over/);
  const s = summaryOf(file);
  t.match(s, { status: 'stopped', stoppedBy: 'fatal', docsNotFinished: 25, resumeCommand: null });
  t.match(s.reason, /^fatal error: the server cannot be used/);
});

t.test('a signal stop with --checkpoint names the signal, what was not read, and the command that resumes', async (t) => {
  const file = join(dir, 'signal.json');
  const args = ['--workers', '0', '--progress', '-o', join(dir, 'signal.jsonl'), '--checkpoint', join(dir, 'signal.ckpt'), '--summary', file, big];
  let sent = false;
  const r = await kg(args, {
    env,
    onSpawn: (child) =>
      child.stderr!.on('data', () => {
        // Once progress shows, the run is under way: stop it.
        if (!sent) {
          sent = true;
          setTimeout(() => child.kill('SIGTERM'), 200);
        }
      }),
  });
  t.equal(r.code, 130, r.stderr);
  t.match(r.stderr, /kg: interrupted: stopped by a signal after /);
  t.match(r.stderr, /\n {2}stopped {4}SIGTERM received\n/);
  t.match(r.stderr, /\n {2}not done {3}[\d,]+ documents read but not finished; [\d,]+ of [\d,]+ input bytes were not read\n/);
  t.match(r.stderr, `  resume     node pipelines/kg.js ${args.join(' ')}\n`);
  t.match(summaryOf(file), { status: 'stopped', stoppedBy: 'signal', reason: 'SIGTERM received' });
});

t.test('--max-cost: stopped at the cap, resumable; the resumed run tells this session from the whole run', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.close());
  const file = join(dir, 'cost.json');
  const common = ['--base-url', sim.url, '--max-docs', '2', '--concurrency', '1', '-o', join(dir, 'cost.jsonl'), '--checkpoint', join(dir, 'cost.ckpt'), '--summary', file, news];
  const capped = await kg([...common, '--max-cost', '0.0005'], { env });
  t.equal(capped.code, 3, capped.stderr);
  t.match(capped.stderr, /kg: stopped at the cost cap \(--max-cost\) after /);
  t.match(capped.stderr, /stopped {4}the estimated cost reached --max-cost \$0\.0005/);
  t.match(capped.stderr, `  resume     node pipelines/kg.js ${[...common, '--max-cost', '0.0005'].join(' ')}\n`);
  const first = summaryOf(file);
  t.match(first, { status: 'stopped', stoppedBy: 'max-cost' });
  t.ok(first.requests > 0 && first.requests < 13, `${first.requests} requests before the cap`);

  const resumed = await kg([...common, '--max-cost', '1'], { env });
  t.equal(resumed.code, 0, resumed.stderr);
  const s = summaryOf(file);
  t.match(s, { status: 'finished', reason: null });
  t.equal(s.sessionRequests, s.requests - first.requests, "this session's requests are the whole run's less the first session's");
  t.match(resumed.stderr, `  work       this session: ${s.chunks} chunks in ${s.packs} packs (${s.docsPerPack} docs/pack), ${s.sessionRequests} requests, `);
  t.match(resumed.stderr, `; whole run: ${s.requests} requests, `);
});

t.test('--max-failures: the summary says the run stopped past its cap', async (t) => {
  const input = join(dir, 'bad.jsonl');
  writeFileSync(input, `${Array.from({ length: 30 }, (_v, i) => (i % 2 ? '{"broken": ' : JSON.stringify({ id: `d${i}`, text: 'Ada Lovelace.' }))).join('\n')}\n`);
  const file = join(dir, 'mf.json');
  const r = await kg(['--workers', '0', '--max-failures', '2', '--max-docs', '1', '--concurrency', '1', '--summary', file, '-o', join(dir, 'mf.jsonl'), input], { env });
  t.equal(r.code, 4, r.stderr);
  t.match(r.stderr, /kg: stopped past --max-failures after /);
  t.match(r.stderr, /resume {5}no --checkpoint: rerunning starts over/);
  t.match(summaryOf(file), { status: 'stopped', stoppedBy: 'max-failures' });
});
