import t from 'tap';
import OpenAI from 'openai';
import { classifyError, redact } from '../lib/llm/client.js';

const KEY = 'sk-proj-Abc123SECRETdef456';
const h = (o: Record<string, string> = {}) => new Headers(o);

t.test('redacts the key and anything shaped like one', async (t) => {
  t.equal(redact(`bad key ${KEY} here`, KEY), 'bad key *** here');
  t.equal(redact('Incorrect API key provided: sk-abc12********xyz9.'), 'Incorrect API key provided: sk-***.');
});

t.test('maps SDK errors to codes retry/split decides by', async (t) => {
  const gen = (status: number, body: object, headers = h()) => OpenAI.APIError.generate(status, body, undefined, headers);
  t.match(classifyError(gen(429, { error: { message: 'slow down', code: 'rate_limit_exceeded' } }, h({ 'retry-after-ms': '750' })), KEY, false), { code: 'E_TRANSIENT', retryAfterMs: 750 });
  t.match(classifyError(gen(429, { error: { message: 'slow', code: 'rate_limit_exceeded' } }, h({ 'retry-after': '3' })), KEY, false), { code: 'E_TRANSIENT', retryAfterMs: 3000 });
  t.match(classifyError(gen(429, { error: { message: 'no money', code: 'insufficient_quota' } }), KEY, false), { code: 'E_FATAL' });
  t.match(classifyError(gen(503, { error: { message: 'overloaded' } }), KEY, false), { code: 'E_TRANSIENT' });
  t.match(classifyError(gen(400, { error: { message: 'too long', code: 'context_length_exceeded' } }), KEY, false), { code: 'E_SPLIT_REQUIRED' });
  t.match(classifyError(gen(400, { error: { message: 'bad request' } }), KEY, false), { code: 'E_EXTRACT' });
  t.match(classifyError(gen(404, { error: { message: 'model not found' } }), KEY, false), { code: 'E_FATAL', message: /--model/ });
  t.match(classifyError(new OpenAI.APIConnectionTimeoutError(), KEY, false), { code: 'E_TRANSIENT', message: /timed out/ });
  t.match(classifyError(new OpenAI.APIConnectionError({ message: 'Connection error.' }), KEY, false), { code: 'E_TRANSIENT' });
  t.match(classifyError(new Error('whatever'), KEY, true), { code: 'E_ABORTED' });
});

t.test('a refused key is fatal and its message never carries the key', async (t) => {
  for (const status of [401, 403]) {
    const err = classifyError(OpenAI.APIError.generate(status, { error: { message: `Incorrect API key provided: ${KEY}` } }, undefined, h()), KEY, false);
    t.equal(err.code, 'E_FATAL');
    t.notMatch(err.message, 'sk-proj');
    t.notMatch(err.message, 'SECRET');
  }
  const other = classifyError(OpenAI.APIError.generate(500, { error: { message: `echo ${KEY}` } }, undefined, h()), KEY, false);
  t.notMatch(other.message, 'SECRET');
});
