/**
 * Scale-out's shared rate limit: three worker processes against a simulator with a tokens-per-minute
 * limit, the coordinator's --tpm kept in Redis for the whole fleet.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../bench/openai-sim.js';
import { kg } from './helpers/cli.js';
import { startRedis } from './helpers/redis.js';
import { corpus, startWorker } from './helpers/scale.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-scale-rate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the fleet shares one --tpm: 3 workers against a rate-limited server get at most 1% of 429s', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  // A minute's budget covers about two thirds of the run: the rest goes at the limit's pace.
  const tpm = 100_000;
  const sim = await startSimulator({ latencyMs: 100, tpm });
  t.teardown(() => sim.close());
  const input = join(dir, 'tpm.jsonl');
  writeFileSync(input, corpus(200, 10));
  const workers = await Promise.all([1, 2, 3].map(() => startWorker(redis.url, ['--concurrency', '4'])));
  const output = join(dir, 'tpm-out.jsonl');
  const started = Date.now();
  const r = await kg(['--quiet', '--extractor', 'openai', '--base-url', sim.url, '--redis', redis.url, '--tpm', String(tpm), '--max-output-tokens', '1024', '--max-docs', '2', input, '-o', output, '--dead-letter', join(dir, 'tpm-dead.jsonl')]);
  const seconds = (Date.now() - started) / 1000;
  t.equal(r.code, 0, r.stderr);
  const stats = sim.stats();
  t.ok(stats.rateLimited <= stats.requests * 0.01, `${stats.rateLimited} of ${stats.requests} requests answered 429`);
  // Past the first minute's full bucket, the fleet ran at the limit, not three times it.
  const minutes = seconds / 60;
  t.ok(stats.admittedTokens <= tpm * (1 + minutes) * 1.05, `${stats.admittedTokens} tokens admitted in ${seconds.toFixed(1)} s`);
  t.equal(jsonCount(output), 200, 'every document answered');
  const served = await Promise.all(workers.map((w) => w.stop()));
  for (const s of served) t.match(s.stderr, /stopped after [1-9]\d* pack/, 'each worker took part');
});

function jsonCount(path: string): number {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
}
