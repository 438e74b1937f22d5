/** Every bench program is on the CLI kit: --help exits 0 with its flags, a bad flag or value exits 2 naming it, no stack. */
import t from 'tap';
import { runScript } from '../helpers/cli.js';

const PROGRAMS: [string, string][] = [
  ['adaptive-concurrency', '--slots'],
  ['ci', '--offline-docs'],
  ['cost-projection', '--max-output-tokens'],
  ['generate-docs', '--median-words'],
  ['generate-results', '--vocabulary'],
  ['graph-build', '--batch-size'],
  ['llm-throughput', '--ms-per-token'],
  ['memory', '--variants'],
  ['scale-out', '--latency-ms'],
  ['slow-tail', '--hang-ms'],
  ['throughput', '--offline-rounds'],
];

for (const [name, flag] of PROGRAMS) {
  t.test(`bench/${name}.js`, async (t) => {
    const help = await runScript(`bench/${name}.js`, ['--help']);
    t.equal(help.code, 0, help.stderr);
    t.match(help.stdout, new RegExp(`^Usage: node bench/${name}\\.js \\[options\\]`));
    t.match(help.stdout, flag, `--help lists ${flag}`);
    t.match(help.stdout, /Exit codes:/);
    const bad = await runScript(`bench/${name}.js`, ['--no-such-flag']);
    t.equal(bad.code, 2);
    t.equal(bad.stderr, `${name}: Unknown option '--no-such-flag' (see node bench/${name}.js --help)\n`);
    t.notMatch(bad.stderr, /ERR_PARSE_ARGS|\n\s+at /, 'no stack');
  });
}

t.test('a bad value is a usage error naming the flag', async (t) => {
  const r = await runScript('bench/generate-docs.js', ['--count', 'many']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^generate-docs: .*--count/);
  const ok = await runScript('bench/generate-docs.js', ['--count', '2', '--seed', '1']);
  t.equal(ok.code, 0);
  t.equal(ok.stdout.trim().split('\n').length, 2, 'typed values still drive the generator');
});
