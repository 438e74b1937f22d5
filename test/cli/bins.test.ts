/** Every package.json bin is runnable as installed: a shebang on its first line, and --help exits 0 listing the exit codes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ROOT, runScript } from '../helpers/cli.js';

const bins = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;

t.test('the bins: sluice-kg, sluice-embed, sluice-graph, sluice-worker, sluice-sim', async (t) => {
  t.same(Object.keys(bins).sort(), ['sluice-embed', 'sluice-graph', 'sluice-kg', 'sluice-sim', 'sluice-worker']);
  for (const [name, file] of Object.entries(bins)) {
    t.equal(readFileSync(join(ROOT, file), 'utf8').split('\n', 1)[0], '#!/usr/bin/env node', `${name} (${file}) starts with a shebang`);
    const help = await runScript(file, ['--help']);
    t.equal(help.code, 0, `${name} --help exits 0`);
    t.match(help.stdout, /^Usage: /, `${name} --help starts with its usage`);
    t.match(help.stdout, /\nExit codes:\n {2}0 /, `${name} --help lists its exit codes`);
  }
});
