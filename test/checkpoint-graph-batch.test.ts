/**
 * --graph-batch-size is operational: it says how often the graph commits, not what the graph
 * holds, so a checkpointed run resumes under another value, with or without --graph (issue 15, 12a).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDocs } from '../bench/generate-docs.js';
import { kg } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-ckpt-graph-batch-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const input = join(dir, 'input.jsonl');
writeFileSync(input, `${[...generateDocs(40, 5, { medianWords: 40, maxWords: 120 })].map((d) => JSON.stringify(d)).join('\n')}\n`);

/** Marks a finished checkpoint unfinished, so the next run with it resumes. */
function interrupt(checkpoint: string): void {
  const state = JSON.parse(readFileSync(checkpoint, 'utf8'));
  state.complete = false;
  writeFileSync(checkpoint, JSON.stringify(state));
}

for (const withGraph of [false, true]) {
  t.test(`a resume under another --graph-batch-size is accepted (${withGraph ? 'with' : 'without'} --graph)`, async (t) => {
    const name = withGraph ? 'g' : 'n';
    const base = ['--workers', '0', '--quiet', '-o', join(dir, `${name}.jsonl`), '--dead-letter', join(dir, `${name}-dead.jsonl`), '--checkpoint', join(dir, `${name}.ckpt`)];
    if (withGraph) base.push('--graph', join(dir, `${name}.sqlite`));
    const first = await kg([...base, input]);
    t.equal(first.code, 0, first.stderr);
    interrupt(join(dir, `${name}.ckpt`));
    const resumed = await kg([...base, '--graph-batch-size', '7', input]);
    t.equal(resumed.code, 0, resumed.stderr);
    t.notMatch(resumed.stderr, /other options/);
  });
}
