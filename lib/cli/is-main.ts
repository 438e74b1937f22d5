/**
 * isMain: whether a module is the script node was started with, so one file can be both importable
 * (no side effects) and runnable (`node pipelines/kg.js`, or through a bin's symlink).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** True when the module at `url` (its `import.meta.url`) is the script node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // realpath on both sides: npm's bin entries are symlinks to the module.
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}
