/** pacedRequest: what the observer is told, and no request once the run is stopping. */
import t from 'tap';
import OpenAI from 'openai';
import { pacedRequest, statusOf } from '../lib/llm/request.js';
import { RateLimiter } from '../lib/llm/rate-limiter.js';
import type { RequestStatus, RunObserver } from '../lib/runtime/run-context.js';

function recorder() {
  const events: string[] = [];
  const observer: RunObserver = {
    requestStarted: () => events.push('start'),
    requestEnded: (status: RequestStatus, seconds: number) => {
      events.push(`end ${status}`);
      if (!(seconds >= 0)) events.push(`bad duration ${seconds}`);
    },
  };
  return { events, observer };
}

const answer = (status: number) => async () => ({ data: { ok: true }, response: new Response(null, { status, headers: new Headers() }) });

t.test('the observer sees every request sent, with its status', async (t) => {
  const { events, observer } = recorder();
  const p = () => ({ limiter: new RateLimiter({ rpm: 1000 }), reserve: 10, signal: new AbortController().signal, maxRetryAfterMs: 1000, observer });
  await pacedRequest(p(), answer(200), () => undefined);
  const fail = (err: unknown) => async () => {
    throw err;
  };
  await t.rejects(
    pacedRequest(p(), fail(OpenAI.APIError.generate(503, { error: { message: 'x' } }, undefined, new Headers())), () => undefined),
    { code: 'E_TRANSIENT' },
  );
  await t.rejects(
    pacedRequest(p(), fail(new OpenAI.APIConnectionTimeoutError()), () => undefined),
    { code: 'E_TRANSIENT' },
  );
  await t.rejects(
    pacedRequest(p(), fail(new OpenAI.APIConnectionError({ message: 'reset' })), () => undefined),
    { code: 'E_TRANSIENT' },
  );
  await t.rejects(pacedRequest(p(), fail(new TypeError('odd')), () => undefined));
  t.same(events, ['start', 'end 200', 'start', 'end 503', 'start', 'end timeout', 'start', 'end connection', 'start', 'end error']);
});

t.test('statusOf keeps labels to a fixed set', async (t) => {
  t.equal(statusOf(new OpenAI.APIUserAbortError(), false), 'aborted');
  t.equal(statusOf(new Error('x'), true), 'aborted');
  t.equal(statusOf(OpenAI.APIError.generate(429, { error: { message: 'x' } }, undefined, new Headers()), false), '429');
  t.equal(statusOf({ status: 999 }, false), 'error');
});

t.test('once the run is stopping, a request the budget admits at once is not sent', async (t) => {
  const { events, observer } = recorder();
  const stop = new AbortController();
  stop.abort();
  let sent = 0;
  const send = async () => {
    sent++;
    return answer(200)();
  };
  await t.rejects(
    pacedRequest({ limiter: new RateLimiter({ rpm: 1000, tpm: 100_000 }), reserve: 10, signal: stop.signal, maxRetryAfterMs: 1000, observer }, send, () => undefined),
    { code: 'E_ABORTED' },
  );
  t.equal(sent, 0, 'nothing sent, nothing billed');
  t.same(events, []);
});
