/**
 * The OpenAI simulator (simulator/main.js) in a child process of its own, on 127.0.0.1 and a free
 * port, so its CPU and memory stay out of the benchmarked pipeline's figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { childEnv } from './child-run.js';

const SIM = fileURLToPath(new URL('../simulator/main.js', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface SimulatorProcess {
  url: string;
  stop(): Promise<void>;
}

/** `args`: simulator flags (latency, limits); the port is always picked free. */
export async function startSimulatorProcess(args: readonly string[] = []): Promise<SimulatorProcess> {
  const child = spawn(process.execPath, [SIM, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    stderr = (stderr + c).slice(-2048);
  });
  const url = await firstLine(child, START_TIMEOUT_MS).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`the simulator did not start: ${err.message}\n${stderr}`);
  });
  if (!/^http:\/\/127\.0\.0\.1:\d+\/v1$/.test(url)) {
    child.kill('SIGKILL');
    throw new Error(`the simulator printed ${JSON.stringify(url)}, not a 127.0.0.1 URL`);
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no URL within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      text += c;
      const nl = text.indexOf('\n');
      if (nl !== -1) {
        clearTimeout(timer);
        resolve(text.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  });
}
