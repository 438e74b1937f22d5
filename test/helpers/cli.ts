/** Runs a pipeline script as a child process, the way users do. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runScript(
  script: string,
  args: string[],
  options: { stdin?: string | Buffer | NodeJS.ReadableStream; env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // No real key ever reaches a test child unless the test sets one (pointed at the simulator).
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, OPENAI_API_KEY: '', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the child may stop reading early
    if (options.stdin === undefined) child.stdin.end();
    else if (typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin)) child.stdin.end(options.stdin);
    else options.stdin.pipe(child.stdin);
    options.onSpawn?.(child);
  });
}

export const kg = (args: string[], options?: Parameters<typeof runScript>[2]) => runScript('pipelines/kg.js', args, options);

export function jsonLines(text: string): any[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}
