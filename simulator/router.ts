/**
 * The request router: GET /stats and POST /stats/reset (not counted as requests), the Batch API's
 * Files and Batches paths, the chat and embeddings routes, a 404 for anything else, a 401 for a
 * revoked key, and every error turned into an OpenAI error reply with the rate-limit headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBatchPath, type BatchStore } from './batch.js';
import { alive, reply, type Route, type SimulatorCore } from './core.js';
import { errorBody, HttpError, ORGANIZATION, parseJsonObject, readBody, requestId, sendJson } from './http.js';

const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** An API key that the simulator treats as revoked (to exercise fatal 401 handling). */
const REVOKED_KEY = /^Bearer\s+sk-revoked/i;

function revokedKey(): HttpError {
  return new HttpError(401, errorBody('Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', null, 'invalid_api_key'));
}

export interface Routes {
  chat: Route;
  embeddings: Route;
  batches: BatchStore;
}

export function router(core: SimulatorCore, routes: Routes): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/stats' && req.method === 'GET') return sendJson(res, 200, core.stats.snapshot());
    if (path === '/stats/reset' && req.method === 'POST') {
      req.resume();
      return sendJson(res, 200, core.stats.reset());
    }
    core.stats.current.requests++;
    const v1 = path.startsWith('/v1/');
    const id = `req_${requestId()}`;
    const common = { 'x-request-id': id, 'openai-organization': ORGANIZATION, 'openai-version': '2020-10-01' };
    try {
      if (isBatchPath(path)) {
        if (REVOKED_KEY.test(req.headers.authorization ?? '')) {
          req.resume();
          throw revokedKey();
        }
        const answer = await routes.batches.handle(req, path);
        alive(core);
        return reply(core, res, answer.status, answer.body, { ...common, ...(answer.headers ?? {}) });
      }
      const endpoint = req.method !== 'POST' ? undefined : path === '/v1/chat/completions' ? routes.chat : path === '/v1/embeddings' ? routes.embeddings : undefined;
      if (!endpoint) {
        req.resume();
        throw new HttpError(404, errorBody(`Invalid URL (${req.method ?? 'GET'} ${path})`, 'invalid_request_error'));
      }
      if (REVOKED_KEY.test(req.headers.authorization ?? '')) {
        req.resume();
        throw revokedKey();
      }
      const body = parseJsonObject(await readBody(req, MAX_BODY_BYTES));
      alive(core);
      await endpoint(req, res, body, common);
    } catch (err) {
      if (core.closed) return;
      const headers = { ...common, ...(v1 ? core.limiter.headers() : {}), ...((err as { headers?: Record<string, string> }).headers ?? {}) };
      if (err instanceof HttpError) reply(core, res, err.status, err.body, headers);
      else reply(core, res, 500, errorBody(`Simulator error: ${(err as Error).message}`, 'server_error'), headers);
    }
  };
}
