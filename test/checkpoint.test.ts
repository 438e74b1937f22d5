/**
 * Checkpoint and resume: kill -9 at many moments and rerun the same command; the final output and
 * dead letters equal an uninterrupted run's, byte for byte. A checkpoint made with other options
 * or another input is refused; a torn output is refused; a completed run is not redone.
 */
import t from 'tap';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ChildProcess } from 'node:child_process';
import { generateDocs } from '../bench/generate-docs.js';
import { seededRandom } from '../simulator/seeded-random.js';
import { startSimulator } from '../simulator/openai-sim.js';
import { kg, type CliRun } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-checkpoint-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Generated documents with bad records among them, so dead letters are committed mid-run too. */
function corpus(count: number, seed: number): string {
  const lines: string[] = [];
  let i = 0;
  for (const d of generateDocs(count, seed, { medianWords: 80, maxWords: 400 })) {
    lines.push(JSON.stringify(d));
    if (++i % 97 === 0) lines.push('{"id": "broken", "text": ');
    if (i % 211 === 0) lines.push(JSON.stringify({ id: `no-text-${i}` }));
    if (i % 150 === 0) lines.push('   ');
  }
  return `${lines.join('\n')}\n`;
}

const inputPath = join(dir, 'input.jsonl');
writeFileSync(inputPath, corpus(1500, 3));

const OFFLINE = ['--workers', '0', '--quiet'];

async function reference(args: string[], name: string, stdin?: () => NodeJS.ReadableStream) {
  const output = join(dir, `${name}-ref.jsonl`);
  const dead = join(dir, `${name}-ref-dead.jsonl`);
  const r = await kg([...args, '-o', output, '--dead-letter', dead], stdin ? { stdin: stdin() } : {});
  if (r.code !== 0) throw new Error(`reference run failed: ${r.stderr}`);
  return { output: readFileSync(output), dead: readFileSync(dead) };
}

/**
 * Runs the command again and again, each time killing it (SIGKILL) once its output has grown past
 * the next threshold, until a run completes. Returns the number of kills.
 */
async function killChain(
  args: string[],
  files: { output: string; dead: string; checkpoint: string },
  thresholds: number[],
  stdin?: () => NodeJS.ReadableStream,
): Promise<{ kills: number; last: CliRun }> {
  let kills = 0;
  for (let session = 0; session < thresholds.length + 5; session++) {
    const threshold = thresholds[session];
    let timer: NodeJS.Timeout | undefined;
    const onSpawn = (child: ChildProcess) => {
      if (threshold === undefined) return;
      timer = setInterval(() => {
        const size = existsSync(files.output) ? statSync(files.output).size : 0;
        if (size >= threshold) {
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      }, 5);
    };
    const r = await kg([...args, '-o', files.output, '--dead-letter', files.dead, '--checkpoint', files.checkpoint], { onSpawn, ...(stdin ? { stdin: stdin() } : {}) });
    clearInterval(timer);
    if (r.signal === 'SIGKILL') {
      kills++;
      continue;
    }
    return { kills, last: r };
  }
  throw new Error('the run never completed');
}

function thresholdsFor(size: number, count: number, seed: number): number[] {
  const rnd = seededRandom(seed);
  // 0 kills it before anything is written; the rest spread over the run, in increasing order.
  return [0, ...Array.from({ length: count - 1 }, () => Math.floor(rnd() * size))].sort((a, b) => a - b);
}

t.test('kill -9 at many moments (file input): the resumed output equals an uninterrupted run', async (t) => {
  const ref = await reference([...OFFLINE, inputPath], 'file');
  const files = { output: join(dir, 'file-out.jsonl'), dead: join(dir, 'file-dead.jsonl'), checkpoint: join(dir, 'file.ckpt') };
  const { kills, last } = await killChain([...OFFLINE, inputPath], files, thresholdsFor(ref.output.length, 7, 11));
  t.equal(last.code, 0, last.stderr);
  t.ok(kills >= 5, `killed ${kills} times`);
  t.ok(readFileSync(files.output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(files.dead).equals(ref.dead), 'dead letters byte for byte');
  const state = JSON.parse(readFileSync(files.checkpoint, 'utf8'));
  t.equal(state.complete, true);
  t.equal(state.output.bytes, ref.output.length);
  t.equal(state.counters.records, state.counters.resultsOut + state.counters.deadLettered, 'records = results + dead letters');

  const again = await kg(['--workers', '0', inputPath, '-o', files.output, '--dead-letter', files.dead, '--checkpoint', files.checkpoint]);
  t.equal(again.code, 0);
  t.match(again.stderr, /already completed/);
  t.ok(readFileSync(files.output).equals(ref.output), 'a completed run is not redone');
});

t.test('kill -9 with gzipped stdin: committed input is skipped by reading past it', async (t) => {
  const gz = join(dir, 'input.jsonl.gz');
  writeFileSync(gz, gzipSync(readFileSync(inputPath)));
  const stdin = () => createReadStream(gz);
  const ref = await reference(OFFLINE, 'gz', stdin);
  const files = { output: join(dir, 'gz-out.jsonl'), dead: join(dir, 'gz-dead.jsonl'), checkpoint: join(dir, 'gz.ckpt') };
  const { kills, last } = await killChain(OFFLINE, files, thresholdsFor(ref.output.length, 4, 12), stdin);
  t.equal(last.code, 0, last.stderr);
  t.ok(kills >= 3, `killed ${kills} times`);
  t.ok(readFileSync(files.output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(files.dead).equals(ref.dead), 'dead letters byte for byte');
});

t.test('kill -9 on the LLM path (simulator): resumed output equals an uninterrupted run, committed packs are not asked again', async (t) => {
  const sim = await startSimulator({ latencyMs: 60 });
  t.teardown(() => sim.close());
  const small = join(dir, 'llm-input.jsonl');
  writeFileSync(small, corpus(300, 4));
  const args = ['--quiet', '--base-url', sim.url, '--concurrency', '2', small];
  const ref = await reference(args, 'llm');
  const uninterrupted = sim.stats().requests;
  sim.reset();
  const files = { output: join(dir, 'llm-out.jsonl'), dead: join(dir, 'llm-dead.jsonl'), checkpoint: join(dir, 'llm.ckpt') };
  const { kills, last } = await killChain(args, files, thresholdsFor(ref.output.length, 4, 13));
  t.equal(last.code, 0, last.stderr);
  t.ok(kills >= 3, `killed ${kills} times`);
  t.ok(readFileSync(files.output).equals(ref.output), 'output byte for byte');
  t.ok(readFileSync(files.dead).equals(ref.dead), 'dead letters byte for byte');
  const requests = sim.stats().requests;
  // Only work after the last commit is asked again, not the whole run once per session.
  t.ok(requests < uninterrupted * (kills + 1) * 0.75, `${requests} requests over ${kills + 1} sessions, ${uninterrupted} uninterrupted`);
});

t.test('a checkpoint is refused for other options, another input, or a torn output', async (t) => {
  const files = { output: join(dir, 'refuse-out.jsonl'), dead: join(dir, 'refuse-dead.jsonl'), checkpoint: join(dir, 'refuse.ckpt') };
  const base = [...OFFLINE, '-o', files.output, '--dead-letter', files.dead, '--checkpoint', files.checkpoint];
  const first = await kg([...base, inputPath]);
  t.equal(first.code, 0, first.stderr);
  // Make it look interrupted half-way, so a rerun would resume.
  const state = JSON.parse(readFileSync(files.checkpoint, 'utf8'));
  state.complete = false;
  writeFileSync(files.checkpoint, JSON.stringify(state));
  const before = readFileSync(files.output);

  const otherOptions = await kg([...base, '--max-docs', '5', inputPath]);
  t.equal(otherOptions.code, 2);
  t.match(otherOptions.stderr, /other options: --max-docs was 10, now 5/);

  const other = join(dir, 'other-input.jsonl');
  writeFileSync(other, corpus(50, 99));
  const otherInput = await kg([...base, other]);
  t.equal(otherInput.code, 2);
  t.match(otherInput.stderr, /another input 1/);
  t.ok(readFileSync(files.output).equals(before), 'a refused run leaves the output alone');

  // Operational flags (speed, limits) may change between sessions.
  const ok = await kg([...base, '--reorder-window', '3', inputPath]);
  t.equal(ok.code, 0, ok.stderr);

  state.complete = false;
  writeFileSync(files.checkpoint, JSON.stringify(state));
  truncateSync(files.output, 100);
  const torn = await kg([...base, inputPath]);
  t.equal(torn.code, 1);
  t.match(torn.stderr, /holds \d+ committed bytes, but it has 100/);

  writeFileSync(files.checkpoint, '{"version": 1, "pipel');
  const garbled = await kg([...base, inputPath]);
  t.equal(garbled.code, 1);
  t.match(garbled.stderr, /cannot be read.*delete it to start over/);

  const noOutput = await kg([...OFFLINE, '--checkpoint', join(dir, 'x.ckpt'), inputPath]);
  t.equal(noOutput.code, 2);
  t.match(noOutput.stderr, /--checkpoint needs --output FILE/);
  const unordered = await kg([...OFFLINE, '--unordered', '-o', join(dir, 'u.jsonl'), '--checkpoint', join(dir, 'u.ckpt'), inputPath]);
  t.equal(unordered.code, 2);
  t.match(unordered.stderr, /ordered output/);
});

t.test('--max-cost stops cleanly, and the same command with a higher cap continues to the same output', async (t) => {
  const sim = await startSimulator({ latencyMs: 5 });
  t.teardown(() => sim.close());
  const small = join(dir, 'cost-input.jsonl');
  writeFileSync(small, corpus(200, 5));
  // Priced as gpt-4.1-mini; a run over 200 documents costs about a cent.
  const args = ['--quiet', '--base-url', sim.url, '--concurrency', '2', '--max-docs', '5', small];
  const ref = await reference(args, 'cost');
  sim.reset();
  const files = { output: join(dir, 'cost-out.jsonl'), dead: join(dir, 'cost-dead.jsonl'), checkpoint: join(dir, 'cost.ckpt') };
  const summaryFile = join(dir, 'cost-summary.json');
  const common = [...args, '-o', files.output, '--dead-letter', files.dead, '--checkpoint', files.checkpoint, '--summary', summaryFile];

  const capped = await kg([...common, '--max-cost', '0.002']);
  t.equal(capped.code, 3, capped.stderr);
  t.match(capped.stderr, /stopped at --max-cost \$0\.002/);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  t.equal(summary.stoppedBy, 'max-cost');
  t.ok(summary.costUsd >= 0.002, `spent ${summary.costUsd}`);
  // Requests in flight when the cap was reached finish: at most --concurrency of them past it.
  t.ok(summary.costUsd < 0.002 + 2 * 0.0015, `overshoot bounded: ${summary.costUsd}`);
  const partial = readFileSync(files.output);
  t.ok(partial.length > 0 && partial.length < ref.output.length, 'part of the output is committed');
  t.ok(ref.output.subarray(0, partial.length).equals(partial), 'and it is the head of the full output');

  const same = await kg([...common, '--max-cost', '0.002']);
  t.equal(same.code, 3, 'the same cap stops again at once');
  t.ok(readFileSync(files.output).equals(partial), 'without sending more');

  const raised = await kg([...common, '--max-cost', '1']);
  t.equal(raised.code, 0, raised.stderr);
  t.ok(readFileSync(files.output).equals(ref.output), 'output byte for byte after raising the cap');
  t.ok(readFileSync(files.dead).equals(ref.dead), 'dead letters byte for byte');
  const final = JSON.parse(readFileSync(summaryFile, 'utf8'));
  t.equal(final.docsIn, final.docsOut + final.deadLettered, JSON.stringify(final));
  t.ok(final.session >= 2, 'the summary says the run was resumed');
});
