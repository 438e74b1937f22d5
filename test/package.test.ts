/**
 * The published package works on its own: `npm pack`, the tarball installed into an empty project,
 * then its bin, its library and its type declarations used from there, as a user would.
 */
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jsonLines, ROOT } from './helpers/cli.js';

const exec = promisify(execFile);

// What runs here is npm and an installed copy under node_modules, which coverage leaves out
// anyway: no need for tap's coverage hooks (NODE_OPTIONS) in these children. No real key either.
const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', OPENAI_API_KEY: '' };
delete env.OPENAI_BASE_URL;

interface Packed {
  filename: string;
  files: { path: string }[];
}

function run(command: string, args: string[], cwd: string, stdin?: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

t.test('the packed tarball, installed into an empty project, runs its bin and its library', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-package-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // --ignore-scripts: the tests run after the build; `prepare` would compile again, rewriting the
  // .js files that other test files are running at the same moment.
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env });
  const [info] = JSON.parse(packed.stdout) as Packed[];
  const files = new Set(info!.files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  for (const [name, target] of Object.entries(pkg.bin)) {
    const path = target.replace(/^\.\//, '');
    t.ok(files.has(path), `bin ${name}: ${path} is in the tarball`);
    t.match(readFileSync(join(ROOT, path), 'utf8'), /^#!\/usr\/bin\/env node\n/, `bin ${name} starts with a node shebang`);
  }
  for (const f of ['pipelines/index.js', 'pipelines/index.d.ts', 'lib/extractors/offline-worker.js', 'simulator/openai-sim.js', 'docs/schema/result.schema.json', 'examples/news.jsonl']) {
    t.ok(files.has(f), `${f} is in the tarball`);
  }
  t.same(
    [...files].filter((f) => /^(test|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    [],
    'no tests, no benchmarks, no .ts sources',
  );

  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sluice-package-check', private: true, type: 'module' }));
  // --ignore-scripts: the one install script that matters is better-sqlite3's native build, minutes
  // on two cores where no prebuilt binary can be fetched; nothing below opens an SQLite store.
  // The dependencies come from npm's cache when `npm ci` has filled it, else from the registry.
  const tarball = join(dir, info!.filename);
  await exec('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project, env });

  const news = readFileSync(join(ROOT, 'examples/news.jsonl'));
  const kg = await run('npx', ['--no', 'sluice-kg'], project, news);
  t.equal(kg.code, 0, `npx sluice-kg exits 0 ${kg.stderr}`);
  const lines = jsonLines(kg.stdout);
  t.same(
    lines.map((l) => l.id),
    jsonLines(news.toString('utf8')).map((d) => d.id),
    'one line per example document, in order',
  );
  t.ok(
    lines.every((l) => l.entities.length > 0),
    'every line has entities',
  );

  const script = [
    "import { extractFromTexts } from 'sluice';",
    "import { kg } from 'sluice/pipelines/kg';",
    "import { definePipeline } from 'sluice/lib/runtime/pipeline';",
    "const { results, failures } = await extractFromTexts(['Angela Merkel met Emmanuel Macron in Paris.', 'Satya Nadella leads Microsoft.']);",
    'console.log(JSON.stringify({ names: results.map((r) => r.entities.map((e) => e.name)), failures: failures.length, subpaths: [typeof kg.build, typeof definePipeline] }));',
  ].join('\n');
  // A module file, as a user's program is (`node --input-type=module -e` would be inherited by the
  // offline extractor's worker threads, where it is refused).
  writeFileSync(join(project, 'use.js'), script);
  const lib = await run(process.execPath, ['use.js'], project);
  t.equal(lib.code, 0, `import('sluice') works ${lib.stderr}`);
  const found = JSON.parse(lib.stdout) as { names: string[][]; failures: number; subpaths: string[] };
  t.equal(found.failures, 0, 'no text dead-lettered');
  t.equal(found.names.length, 2, 'a result per text');
  t.ok(found.names[0]!.includes('Angela Merkel') && found.names[0]!.includes('Paris'), 'the first text: its person and place');
  t.ok(found.names[1]!.includes('Microsoft'), 'the second text: its organisation');
  t.same(found.subpaths, ['function', 'function'], 'subpath exports resolve');

  // The declarations resolve through "exports" too (the repo's own TypeScript, NodeNext resolution).
  writeFileSync(join(project, 'check.ts'), "import { extractFromTexts, type Result } from 'sluice';\nconst out: Promise<{ results: (Result | undefined)[] }> = extractFromTexts(['a']);\nvoid out;\n");
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: true, noEmit: true, types: [] }, files: ['check.ts'] }),
  );
  const tsc = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);
  t.equal(tsc.code, 0, `a TypeScript project type-checks against the installed package ${tsc.stdout}`);
});
