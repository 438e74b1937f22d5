import t from 'tap';
import { readFileSync } from 'node:fs';
import { README, withTable } from '../scripts/readme-options.js';

t.test('the README options table matches the option specs (run: node scripts/readme-options.js --write)', async (t) => {
  const readme = readFileSync(README, 'utf8');
  t.equal(readme, withTable(readme));
});

t.test('the README shows the install-and-run and the test commands', async (t) => {
  const readme = readFileSync(README, 'utf8');
  t.match(readme, 'npm ci && node pipelines/kg.js < examples/news.jsonl > out.jsonl');
  t.match(readme, '\nnpm test');
});
