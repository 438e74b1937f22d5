/**
 * The eager approach, kept only as the memory benchmark's point of comparison: every line of stdin
 * is read into an array first (as the seeds' `list(...)` loader did), then the kg pipeline runs
 * over that array. Memory grows with the input; never use this for real work.
 *
 *   node bench/eager-kg.js [kg flags: --dry-run, --extractor, --summary FILE, ...] < docs.jsonl
 */
import { writeFileSync } from 'node:fs';
import { isMain } from '../lib/cli/is-main.js';
import { parseCommandLine } from '../lib/cli/run-cli.js';
import { items } from '../lib/runtime/pipeline.js';
import { createRunContext } from '../lib/runtime/run-context.js';
import { summarise } from '../lib/cli/summary.js';
import { kg } from '../pipelines/kg.js';

/** All of `input`'s lines, held. */
export async function readAllLines(input: AsyncIterable<string>): Promise<string[]> {
  const lines: string[] = [];
  let rest = '';
  for await (const chunk of input) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(p);
  }
  if (rest.trim() !== '') lines.push(rest);
  return lines;
}

async function main(): Promise<void> {
  const { cli, options } = parseCommandLine(kg.options, process.argv.slice(2));
  process.stdin.setEncoding('utf8');
  const lines = await readAllLines(process.stdin as AsyncIterable<string>);
  const ctx = createRunContext();
  // Results are pulled and dropped: what is measured is the memory of holding the input.
  for await (const _item of items(kg, [{ name: 'stdin', values: lines }], options, { context: ctx, dryRun: cli.dryRun })) {
    /* drained */
  }
  const summary = summarise('kg-eager', ctx.stats);
  if (cli.summary) writeFileSync(cli.summary, `${JSON.stringify(summary, null, 2)}\n`);
  if (!cli.quiet) process.stderr.write(`kg-eager: ${summary.docsIn} documents, peak RSS ${summary.peakRssMb} MB\n`);
}

if (isMain(import.meta.url)) await main();
