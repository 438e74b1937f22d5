/**
 * A real llama.cpp server for a test: Debian's llama-server in the chroot that
 * scripts/llama-server/ensure.sh builds (once per machine), serving the tiny model written there,
 * bound to 127.0.0.1 on a free port. Stopped, with its whole process group, by the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './cli.js';
import { freePort } from '../../bench/redis-server.js';

export interface LlamaEnvironment {
  /** The chroot's directory. */
  root: string;
  /** The model's path inside the chroot. */
  model: string;
}

export interface LlamaServerOptions {
  /** Serve /v1/embeddings (--embeddings, mean pooling); without it the server answers 501 there. */
  embeddings?: boolean;
  /** --ctx-size, shared by the slots. */
  ctxSize?: number;
  /** --parallel: slots, each with ctxSize / parallel of context. */
  parallel?: number;
  /**
   * Return while the server is still loading its model, stopped (SIGSTOP) at that point so it
   * stays there: `resumeOnRequest()` lets it go on once a client has connected, which then gets
   * the real 503 "Loading model".
   */
  holdWhileLoading?: boolean;
}

export interface LlamaServer {
  port: number;
  /** http://127.0.0.1:PORT/v1, for --base-url. */
  baseUrl: string;
  /** What the server wrote to stdout and stderr so far. */
  log(): string;
  /** With holdWhileLoading: waits for a client's connection, resumes the server, waits until it is ready. */
  resumeOnRequest(timeoutMs?: number): Promise<void>;
  /** Stops the server (SIGTERM to its process group, SIGKILL if it lingers). */
  stop(): Promise<void>;
}

const ENSURE = join(ROOT, 'scripts/llama-server/ensure.sh');
/** The chroot is built once per machine (about 2 minutes cold); a warm check takes milliseconds. */
export const ENSURE_TIMEOUT_MS = 20 * 60_000;
const READY_TIMEOUT_MS = 60_000;

let environment: Promise<LlamaEnvironment> | undefined;

/** Builds the chroot and the model if missing (ensure.sh), once per test process. */
export function ensureLlamaEnvironment(): Promise<LlamaEnvironment> {
  environment ??= promisify(execFile)(ENSURE, [], { timeout: ENSURE_TIMEOUT_MS, maxBuffer: 16 << 20 }).then(({ stdout }) => {
    const field = (name: string) => {
      const line = stdout.split('\n').find((l) => l.startsWith(`${name}=`));
      if (!line) throw new Error(`${ENSURE} printed no ${name}= line:\n${stdout}`);
      return line.slice(name.length + 1);
    };
    return { root: field('root'), model: field('model') };
  });
  return environment;
}

export async function startLlamaServer(options: LlamaServerOptions = {}): Promise<LlamaServer> {
  const env = await ensureLlamaEnvironment();
  const port = await freePort();
  const args = [env.root, 'llama-server', '--host', '127.0.0.1', '--port', String(port), '-m', env.model];
  args.push('--ctx-size', String(options.ctxSize ?? 8192), '--parallel', String(options.parallel ?? 2));
  // One thread: on a small, busy machine two spinning threads per server slow each other tenfold.
  args.push('--threads', '1', '--threads-http', '2');
  if (options.embeddings) args.push('--embeddings', '--pooling', 'mean', '--ubatch-size', '2048', '--batch-size', '2048');
  for (let attempt = 1; ; attempt++) {
    const server = launch(port, args);
    try {
      if (!options.holdWhileLoading) {
        await server.until(async () => (await health(port)) === 200, READY_TIMEOUT_MS, 'the server to be ready');
        return server;
      }
      // Listening, and loading: hold it there. The tiny model loads in tens of milliseconds, so
      // the poll can miss the window (a 200 first, or loaded before the stop): then start again.
      let status = 0;
      await server.until(async () => (status = await health(port)) === 503 || status === 200, READY_TIMEOUT_MS, 'the server to start loading', 2);
      if (status === 503) {
        server.hold();
        // What it logged before the stop has reached us by now.
        await new Promise((r) => setTimeout(r, 200));
        if (!/model loaded|listening on/.test(server.log())) return server;
      }
    } catch (err) {
      await server.stop();
      throw err;
    }
    await server.stop();
    if (attempt === HOLD_ATTEMPTS) throw new Error(`llama-server was ready before it could be held while loading, ${HOLD_ATTEMPTS} times`);
  }
}

const HOLD_ATTEMPTS = 5;

/** Starts the server in its own process group, so that stop() reaches everything it started. (chroot execs the server.) */
function launch(port: number, args: string[]): LlamaServer & { hold(): void; until: typeof until } {
  const child = spawn('chroot', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<never>((_, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => reject(new Error(`llama-server exited (${code ?? signal}):\n${output.slice(-2000)}`)));
  });
  exited.catch(() => undefined);
  /** Waits for `check`, failing at once if the server exits. */
  const untilRunning: typeof until = (check, timeoutMs, what, everyMs) => Promise.race([exited, until(check, timeoutMs, what, everyMs)]);
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    log: () => output,
    hold: () => process.kill(child.pid!, 'SIGSTOP'),
    until: untilRunning,
    async resumeOnRequest(timeoutMs = READY_TIMEOUT_MS) {
      await untilRunning(() => clientConnected(port), timeoutMs, 'a client to connect');
      process.kill(child.pid!, 'SIGCONT');
      await untilRunning(async () => (await health(port)) === 200, timeoutMs, 'the server to be ready');
    },
    stop: () => stopGroup(child),
  };
}

/** GET /health on a fresh connection (none left open): its status, or 0 when nothing answers. */
function health(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', agent: false, headers: { connection: 'close' }, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** An established TCP connection to the port, seen from the kernel (the server may be stopped). */
function clientConnected(port: number): boolean {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    // Columns: sl local_address rem_address st ...; st 01 is ESTABLISHED.
    return table.split('\n').some((line) => {
      const [, localAddress, , state] = line.trim().split(/\s+/);
      return state === '01' && localAddress !== undefined && localAddress.endsWith(local);
    });
  });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // already gone
    }
  };
  // A stopped server would not see SIGTERM until continued.
  signal('SIGTERM');
  signal('SIGCONT');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}
