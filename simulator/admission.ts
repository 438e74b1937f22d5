/**
 * Admission of a request past the rate limits and the fault draw: admitted with the rate-limit
 * headers, refused with OpenAI's 429 (its message, headers and retry hints), or dealt a transport
 * fault (a 5xx, a hang, a reset) that needs no answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { alive, reply, type SimulatorCore } from './core.js';
import type { FaultKind } from './faults.js';
import { errorBody, HttpError, ORGANIZATION } from './http.js';
import { formatDuration, type Admission } from './rate-limit.js';

const SERVER_ERRORS: Record<'500' | '502' | '503', string> = {
  '500': 'The server had an error while processing your request. Sorry about that!',
  '502': 'Bad gateway.',
  '503': 'The engine is currently overloaded, please try again later.',
};

function rateLimitError(model: string, a: Extract<Admission, { ok: false }>): HttpError {
  const scope = a.kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const message =
    a.waitMs === Infinity
      ? `Request too large for ${model} in organization ${ORGANIZATION} on ${scope}: Limit ${a.limit}, Requested ${a.requested}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`
      : `Rate limit reached for ${model} in organization ${ORGANIZATION} on ${scope}: Limit ${a.limit}, Used ${a.used}, Requested ${a.requested}. Please try again in ${formatDuration(a.waitMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`;
  return new HttpError(429, errorBody(message, a.kind, null, 'rate_limit_exceeded'));
}

/** Headers of a 429: the limiter's, plus when to retry (absent when waiting cannot help). */
function retryHeaders(a: Extract<Admission, { ok: false }>): Record<string, string> {
  if (a.waitMs === Infinity) return a.headers;
  const ms = Math.max(1, Math.ceil(a.waitMs));
  return { ...a.headers, 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
}

/** Charges `cost` tokens (and one request) to the limits; throws the 429, with its headers, when over. */
export function admit(core: SimulatorCore, model: string, cost: number): Record<string, string> {
  const a = core.limiter.admit(cost);
  if (!a.ok) throw Object.assign(rateLimitError(model, a), { headers: retryHeaders(a) });
  core.stats.current.admittedTokens += cost;
  return a.headers;
}

/** The faults that need no answer; true when one was applied (the request is then dealt with). */
export async function transportFault(core: SimulatorCore, kind: FaultKind | undefined, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<boolean> {
  switch (kind) {
    case '500':
    case '502':
    case '503':
      core.stats.fault(kind);
      await core.timers.sleep(core.o.latencyMs);
      alive(core);
      reply(core, res, Number(kind), errorBody(SERVER_ERRORS[kind], 'server_error'), headers);
      return true;
    case 'hang': {
      core.stats.fault(kind);
      const socket = req.socket;
      const t = core.timers.after(core.o.hangMs, () => socket.destroy());
      socket.once('close', () => core.timers.cancel(t));
      return true;
    }
    case 'reset':
      core.stats.fault(kind);
      resetSocket(req.socket);
      return true;
    default:
      return false;
  }
}

/** A TCP reset where the platform offers one (ECONNRESET for the client), else a plain close. */
function resetSocket(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
