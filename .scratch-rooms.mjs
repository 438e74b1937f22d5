import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
const files = execSync('git ls-files "*.ts"', { encoding: 'utf8' }).trim().split('\n');
const room = (f) => {
  const p = f.split('/');
  if (p[0] === 'lib' && p.length > 2) return 'lib/' + p[1];
  if (p[0] === 'lib') return 'lib(top)';
  return p[0];
};
const edges = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  for (const m of src.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const t = relative('.', resolve(dirname(f), m[1]));
    const a = room(f),
      b = room(t);
    if (a === b) continue;
    const k = a + ' -> ' + b;
    edges.set(k, (edges.get(k) ?? []).concat(f + ' → ' + t));
  }
}
for (const [k, v] of [...edges].sort()) console.log(k, v.length, process.argv[2] ? v.slice(0, 3).join(', ') : '');
