/** Scale-out test helpers: a corpus with bad records, and worker processes. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDocs } from '../../bench/generate-docs.js';
import { kg, runScript, type CliRun } from './cli.js';

/** Generated documents with a few bad records, so dead letters cross the coordinator too. */
export function corpus(count: number, seed: number): string {
  const lines: string[] = [];
  let i = 0;
  for (const d of generateDocs(count, seed, { medianWords: 80, maxWords: 400 })) {
    lines.push(JSON.stringify(d));
    if (++i % 97 === 0) lines.push('{"id": "broken", "text": ');
    if (i % 61 === 0) lines.push(JSON.stringify({ id: `no-text-${i}` }));
  }
  return `${lines.join('\n')}\n`;
}

export interface Worker {
  child: ChildProcess;
  done: Promise<CliRun>;
  /** SIGTERM: finishes its packs in flight and exits. */
  stop(): Promise<CliRun>;
}

export function startWorker(redisUrl: string, args: string[] = []): Promise<Worker> {
  return new Promise((resolve) => {
    let child!: ChildProcess;
    const done = runScript('pipelines/worker.js', ['--redis', redisUrl, ...args], { onSpawn: (c) => (child = c) });
    resolve({
      child,
      done,
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return done;
      },
    });
  });
}

/** A local (single-process) kg run of `args`, writing `<name>-ref*.jsonl` in `dir`: what a scaled-out run must equal. */
export async function localReference(dir: string, args: string[], name: string): Promise<{ output: Buffer; dead: Buffer }> {
  const output = join(dir, `${name}-ref.jsonl`);
  const dead = join(dir, `${name}-ref-dead.jsonl`);
  const r = await kg([...args, '-o', output, '--dead-letter', dead]);
  if (r.code !== 0) throw new Error(`reference run failed: ${r.stderr}`);
  return { output: readFileSync(output), dead: readFileSync(dead) };
}

/** The flags every coordinator run of these tests shares: the LLM on the simulator, through this Redis. */
export function coordinatorArgs(simUrl: string, redisUrl: string): string[] {
  return ['--extractor', 'openai', '--base-url', simUrl, '--redis', redisUrl];
}
