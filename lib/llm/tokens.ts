/**
 * Token counting, the hot spot of the flow. gpt-tokenizer (pure JS, ~10x tiktoken's WASM here)
 * counts on the hot path; tests compare its counts with tiktoken, the reference.
 */

export type EncodingName = 'o200k_base' | 'cl100k_base';

export interface TokenCounter {
  readonly encoding: EncodingName;
  count(text: string): number;
}

/** Models of the GPT-4 / GPT-3.5 / embedding-3 generation use cl100k; newer ones o200k. */
const CL100K_PREFIXES = ['gpt-4-', 'gpt-4', 'gpt-3.5', 'text-embedding-3', 'text-embedding-ada'];
const O200K_PREFIXES = ['gpt-4o', 'gpt-4.1', 'gpt-4.5', 'gpt-5', 'o1', 'o3', 'o4', 'chatgpt-4o', 'gpt-oss'];

export function encodingForModel(model: string): EncodingName {
  const m = model.toLowerCase().replace(/^.*\//, '');
  if (O200K_PREFIXES.some((p) => m.startsWith(p))) return 'o200k_base';
  if (CL100K_PREFIXES.some((p) => m.startsWith(p))) return 'cl100k_base';
  // Unknown (local) models: o200k is the current OpenAI encoding and a fair estimate elsewhere.
  return 'o200k_base';
}

const loaded = new Map<EncodingName, Promise<TokenCounter>>();

/** Special tokens in user text are counted as ordinary text, as the API does for message content. */
const NO_SPECIAL = { disallowedSpecial: new Set<string>() };

export function loadTokenCounter(encoding: EncodingName): Promise<TokenCounter> {
  let p = loaded.get(encoding);
  if (!p) {
    // Loaded on demand: each encoding's ranks take a noticeable moment to parse.
    p = (encoding === 'cl100k_base' ? import('gpt-tokenizer/encoding/cl100k_base') : import('gpt-tokenizer/encoding/o200k_base')).then((m) => ({
      encoding,
      count: (text: string) => m.countTokens(text, NO_SPECIAL),
    }));
    loaded.set(encoding, p);
  }
  return p;
}

export function tokenCounterForModel(model: string): Promise<TokenCounter> {
  return loadTokenCounter(encodingForModel(model));
}
