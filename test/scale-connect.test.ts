/**
 * A Redis that is never reached (issue 15, item 7): the coordinator (kg --redis) and the worker
 * wait for it a bounded time, then exit 1 with a message naming the URL without its password; a
 * SIGTERM while they wait ends them at once with 130. (An outage after the first connection is
 * still waited out: test/scale-faults.test.ts.)
 */
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../bench/redis-server.js';
import { runScript, type CliRun } from './helpers/cli.js';

const programs = [
  { name: 'kg (coordinator)', script: 'pipelines/kg.js', args: ['examples/news.jsonl'] },
  { name: 'worker', script: 'pipelines/worker.js', args: [] },
];

/** Runs the program, timing it; `onSpawn` may signal it. */
async function timed(script: string, args: string[], onSpawn?: (child: ChildProcess) => void) {
  const started = Date.now();
  // A program that never gives up is killed, so the test fails on its assertions, not on tap's timeout.
  const r: CliRun = await runScript(script, args, {
    onSpawn: (child) => {
      setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
      onSpawn?.(child);
    },
  });
  return { ...r, ms: Date.now() - started };
}

for (const p of programs) {
  t.test(`${p.name}: a Redis with no listener is given up after --redis-connect-timeout-ms, exit 1, naming the URL`, async (t) => {
    const port = await freePort();
    const url = `redis://fleet:s3cret-pw@127.0.0.1:${port}`;
    const r = await timed(p.script, [...p.args, '--redis', url, '--redis-connect-timeout-ms', '1000']);
    t.equal(r.code, 1, r.stderr);
    t.match(r.stderr, `cannot reach Redis at redis://fleet:***@127.0.0.1:${port} within 1 s (connect ECONNREFUSED 127.0.0.1:${port})`);
    t.notMatch(r.stderr, /s3cret-pw/, 'the password is never printed');
    t.notMatch(r.stderr, /retrying every few seconds/, 'not reported as an outage: it was never reached');
    // 1 s of waiting; the rest is the program's start on a loaded machine.
    t.ok(r.ms < 15_000, `exited ${r.ms} ms after start`);
  });

  t.test(`${p.name}: SIGTERM while waiting for Redis exits at once with 130`, async (t) => {
    const port = await freePort();
    let signalledAt = 0;
    const r = await timed(p.script, [...p.args, '--redis', `redis://127.0.0.1:${port}`], (child) => {
      // Once it says it is waiting (well inside the default 10 s): the program is connecting.
      let said = '';
      child.stderr?.on('data', (d: Buffer) => {
        said += d.toString();
        if (signalledAt === 0 && /does not answer .*; waiting up to 10 s|is unavailable/.test(said)) {
          signalledAt = Date.now();
          child.kill('SIGTERM');
        }
      });
    });
    const afterSignal = Date.now() - signalledAt;
    t.equal(r.code, 130, r.stderr);
    t.ok(signalledAt > 0);
    t.ok(afterSignal < 2000, `exited ${afterSignal} ms after SIGTERM`);
  });
}
