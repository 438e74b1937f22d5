/**
 * A batch line's outcome as the ledger keeps it (the response body of a 200, or an error as
 * `{code, message}` JSON) and the reading of the provider's output and error file lines into it.
 */
import OpenAI from 'openai';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { classifyError } from '../llm/client.js';

export type Outcome = { answer: string } | { error: string };

/** One line's outcome, named by its custom_id. */
export type LineOutcome = { customId: string } & Outcome;

/** An error kept in the ledger, thrown again as the SluiceError it was. */
export function storedError(text: string): SluiceError {
  const { code, message } = JSON.parse(text) as { code: string; message: string };
  return new SluiceError(code, message);
}

/**
 * One output or error file line as the ledger keeps it: the response body of a 200, or the error
 * (a non-200 answer classified as a live one would be; a line never run, e.g. batch_expired, is
 * transient). Undefined for a line that is not one (counted as missing when the batch is done).
 */
export function lineOutcome(line: string, batchId: string, apiKey: string | undefined): LineOutcome | undefined {
  let v: { custom_id?: unknown; response?: { status_code?: unknown; body?: unknown } | null; error?: { code?: unknown; message?: unknown } | null };
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof v.custom_id !== 'string') return undefined;
  const customId = v.custom_id;
  const where = `batch ${batchId} custom_id ${customId}`;
  const status = v.response?.status_code;
  if (v.response && status === 200) return { customId, answer: JSON.stringify(v.response.body ?? null) };
  if (v.response && typeof status === 'number') {
    const e = classifyError(OpenAI.APIError.generate(status, v.response.body as object | undefined, undefined, new Headers()), apiKey, false);
    return { customId, error: JSON.stringify({ code: e.code, message: `${where}: ${e.message}` }) };
  }
  const code = typeof v.error?.code === 'string' ? v.error.code : 'error';
  const message = typeof v.error?.message === 'string' ? v.error.message.slice(0, 500) : 'no answer';
  return { customId, error: JSON.stringify({ code: ErrorCode.TRANSIENT, message: `${where}: ${code}: ${message}` }) };
}
