/** Checks of request body fields shared by the chat and embeddings routes, with the API's 400 messages. */
import { invalidRequest } from './http.js';

export function requireModel(body: Record<string, unknown>): string {
  if (typeof body.model !== 'string' || body.model === '') throw invalidRequest('you must provide a model parameter', 'model');
  return body.model;
}

export function positiveIntOrUndefined(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidRequest(`Invalid '${param}': expected an integer >= 1.`, param, 'invalid_value');
  return value;
}
