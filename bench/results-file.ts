/**
 * Where benchmark runs leave their figures: bench/results/<name>.json (figures, machine, Node
 * version, date) and, beside it, bench/results/<name>.svg.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export interface Machine {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  cpusAllowed: string;
  memoryMb: number;
}

export function machine(): Machine {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    cpusAllowed: cpusAllowed(),
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
  };
}

function cpusAllowed(): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Writes `<name>.json` (and `<name>.svg` when given); returns the paths written. */
export function writeResults(name: string, figures: Record<string, unknown>, svg?: string): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${RESULTS_DIR}${name}.json`;
  writeFileSync(json, `${JSON.stringify({ name, date: new Date().toISOString(), machine: machine(), ...figures }, null, 2)}\n`);
  const written = [json];
  if (svg !== undefined) {
    const path = `${RESULTS_DIR}${name}.svg`;
    writeFileSync(path, svg);
    written.push(path);
  }
  return written;
}
