/**
 * The throughput benchmark's baseline: a dry run's work written by hand as one loop, the least a
 * program can do for it. Splits stdin into lines, JSON.parses each, counts the text's tokens with
 * the pipeline's own counter (gpt-tokenizer, o200k_base for the default model, special tokens
 * counted as text, as lib/llm/tokens.ts does), and JSON.stringifies `{id, tokens}` per document to
 * stdout. No chunking, packing, line numbers or dead letters: that is the framework's share.
 *
 *   node bench/hand-loop.js < docs.jsonl > /dev/null
 */
import { once } from 'node:events';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

const NO_SPECIAL = { disallowedSpecial: new Set<string>() };
const FLUSH_LINES = 1000;

let rest = '';
let out: string[] = [];
let docs = 0;
let tokens = 0;

async function flush(): Promise<void> {
  if (out.length === 0) return;
  const ok = process.stdout.write(`${out.join('\n')}\n`);
  out = [];
  if (!ok) await once(process.stdout, 'drain');
}

function handle(line: string): void {
  if (line === '') return;
  const doc = JSON.parse(line) as { id: string; text: string };
  const n = countTokens(doc.text, NO_SPECIAL);
  docs++;
  tokens += n;
  out.push(JSON.stringify({ id: doc.id, tokens: n }));
}

process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin as AsyncIterable<string>) {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) handle(line);
  if (out.length >= FLUSH_LINES) await flush();
}
handle(rest);
await flush();
process.stderr.write(`hand-loop: ${docs} documents, ${tokens} tokens\n`);
