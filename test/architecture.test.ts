/**
 * The layout the docs describe is the layout the code has: every room has a README header whose
 * `May import:` line lists the rooms it may use, every relative import keeps to it, the rooms form no
 * cycle, and lib/ keeps its loose files few (docs/architecture.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_LOOSE_LIB_FILES = 8;

/** `lib/llm/client.ts` -> `lib/llm`; `stages/read.ts` -> `stages`; `lib/x.ts` -> `lib`. */
function roomOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'lib' && parts.length > 2) return `lib/${parts[1]}`;
  return parts[0]!;
}

function sources(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { cwd: ROOT, encoding: 'utf8' });
  return listed.split('\n').filter((f) => f && !f.endsWith('.d.ts') && existsSync(join(ROOT, f)) && f.includes('/'));
}

/** Relative import specifiers of a source file, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\(\s*|new URL\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = relative(ROOT, resolve(ROOT, dirname(file), m[1]!)).replace(/\.js$/, '.ts');
    // Data files (README.md, fixtures) and the repository root are read, not imported.
    if (target.endsWith('.ts')) out.push(target);
  }
  return out;
}

/** The rooms a README's `May import:` line allows (a parenthesised remark means none). */
function allowedBy(readme: string): string[] | undefined {
  const line = readFileSync(readme, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('May import:'));
  if (line === undefined) return undefined;
  const list = line.slice('May import:'.length).trim();
  if (list.startsWith('(')) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const files = sources();
const rooms = [...new Set(files.map(roomOf))].filter((r) => r !== 'lib').sort();

t.test('every room has a README header with a May import line', async (t) => {
  for (const room of rooms) {
    const readme = join(ROOT, room, 'README.md');
    t.ok(existsSync(readme), `${room}/README.md exists`);
    if (existsSync(readme)) t.ok(allowedBy(readme), `${room}/README.md has a "May import:" line`);
  }
  t.ok(existsSync(join(ROOT, 'lib', 'README.md')), 'lib/README.md indexes the rooms');
});

t.test("every relative import keeps to its room's May import line", async (t) => {
  const allowed = new Map(rooms.map((r) => [r, new Set(existsSync(join(ROOT, r, 'README.md')) ? (allowedBy(join(ROOT, r, 'README.md')) ?? []) : [])]));
  const stray: string[] = [];
  for (const file of files) {
    const from = roomOf(file);
    for (const target of importsOf(file)) {
      const to = roomOf(target);
      if (to === from) continue;
      if (!allowed.get(from)?.has(to)) stray.push(`${file} imports ${target} (${from} -> ${to})`);
    }
  }
  t.same(stray, [], 'no import outside the allowed rooms');
});

t.test('the rooms form no cycle', async (t) => {
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    for (const target of importsOf(file)) {
      const [a, b] = [roomOf(file), roomOf(target)];
      if (a !== b) (edges.get(a) ?? edges.set(a, new Set()).get(a)!).add(b);
    }
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (room: string, path: string[]): void => {
    if (state.get(room) === 'done') return;
    if (state.get(room) === 'open') {
      cycles.push([...path.slice(path.indexOf(room)), room].join(' -> '));
      return;
    }
    state.set(room, 'open');
    for (const next of edges.get(room) ?? []) visit(next, [...path, room]);
    state.set(room, 'done');
  };
  for (const room of edges.keys()) visit(room, []);
  t.same(cycles, [], 'no cycle between rooms');
});

t.test('lib/ keeps at most a few loose files', async (t) => {
  const loose = files.filter((f) => roomOf(f) === 'lib');
  t.ok(loose.length <= MAX_LOOSE_LIB_FILES, `${loose.length} loose .ts files at the top of lib/ (at most ${MAX_LOOSE_LIB_FILES}): ${loose.join(', ')}`);
});

t.test('lib/ner is sealed: only its entry point is imported from the code', async (t) => {
  const inside: string[] = [];
  for (const file of files) {
    // Its own files, and its unit tests, may see inside.
    if (roomOf(file) === 'lib/ner' || roomOf(file) === 'test') continue;
    for (const target of importsOf(file)) if (roomOf(target) === 'lib/ner' && target !== 'lib/ner/index.ts') inside.push(`${file} imports ${target}`);
  }
  t.same(inside, [], 'nothing reaches past lib/ner/index.ts');
});

t.test("docs/architecture.md's table says what each room's README says it may import", async (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  let rows = 0;
  for (const m of doc.matchAll(/^\| `((?:lib\/[a-z]+|stages)\/)` \| [^|]+ \| ([^|]+) \|$/gm)) {
    rows++;
    const room = m[1]!.replace(/\/$/, '');
    const column = m[2]!.trim();
    const said =
      column === 'nothing in lib/'
        ? []
        : column
            .split(',')
            .map((s) => s.trim())
            .map((s) => (s === 'stages' ? s : `lib/${s}`));
    t.same(said.sort(), (allowedBy(join(ROOT, room, 'README.md')) ?? []).sort(), `${room}: the table and its README agree`);
  }
  t.ok(rows >= 9, `${rows} rows compared`);
});
