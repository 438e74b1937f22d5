import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

t.test('every file the README and the docs link to exists (charts and results included)', async (t) => {
  const pages = [
    README,
    ...readdirSync(join(dirname(README), 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(dirname(README), 'docs', f)),
  ];
  let links = 0;
  for (const page of pages) {
    const text = readFileSync(page, 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
      links++;
      t.ok(existsSync(resolve(dirname(page), target)), `${relative(dirname(README), page)} links to ${target}`);
    }
  }
  t.ok(links > 10, `${links} links checked`);
});
