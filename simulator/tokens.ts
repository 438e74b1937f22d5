/**
 * Token counting for the OpenAI simulator with tiktoken, the reference tokenizer. Encoders are WASM
 * objects: one per encoding per process, shared by every simulator in the process and freed when
 * the last one closes.
 */
import { get_encoding, get_encoding_name_for_model, type Tiktoken, type TiktokenEncoding, type TiktokenModel } from 'tiktoken';

const encoders = new Map<TiktokenEncoding, Tiktoken>();
let holders = 0;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The model's encoding as tiktoken knows it; o200k_base for models it does not know (local ones). */
export function encodingNameForModel(model: string): TiktokenEncoding {
  try {
    return get_encoding_name_for_model(model as TiktokenModel);
  } catch {
    return 'o200k_base';
  }
}

function encoder(model: string): Tiktoken {
  const name = encodingNameForModel(model);
  let e = encoders.get(name);
  if (!e) encoders.set(name, (e = get_encoding(name)));
  return e;
}

export interface TokenTools {
  /** Tokens of `text` for `model`; special-token strings count as ordinary text, as the API does for content. */
  count(model: string, text: string): number;
  /** The text of the first `max` tokens of `text` (a strict prefix when `max` is below its token count). */
  prefix(model: string, text: string, max: number): string;
  /** Gives this holder's share back; the encoders are freed when nobody holds them. Idempotent. */
  release(): void;
}

/**
 * A share of the process's encoders. `preload` loads those encodings now (a few hundred ms for
 * o200k_base, blocking) so that no request pays for it. A process that starts and closes many
 * simulators one after another (a test file) can hold a share of its own for its whole run, so the
 * encoders are not freed and reloaded between simulators.
 */
export function acquireTokenTools(preload: readonly TiktokenEncoding[] = []): TokenTools {
  holders++;
  for (const name of preload) if (!encoders.has(name)) encoders.set(name, get_encoding(name));
  let released = false;
  const live = (model: string): Tiktoken => {
    if (released) throw new Error('token tools used after release');
    return encoder(model);
  };
  return {
    count: (model, text) => (text === '' ? 0 : live(model).encode_ordinary(text).length),
    prefix: (model, text, max) => {
      const e = live(model);
      const tokens = e.encode_ordinary(text);
      if (tokens.length <= max) return text;
      return utf8.decode(e.decode(tokens.subarray(0, Math.max(0, max))));
    },
    release: () => {
      if (released) return;
      released = true;
      if (--holders > 0) return;
      for (const e of encoders.values()) e.free();
      encoders.clear();
    },
  };
}
