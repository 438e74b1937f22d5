/**
 * Prices in USD per million tokens, from OpenAI's public price list (standard tier, 2025). Prices
 * change: check them, or pass --price-input / --price-output (e.g. 0 for a local server).
 */
export interface Price {
  input: number;
  output: number;
}

export const PRICES: Readonly<Record<string, Price>> = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
};

/** Exact name first, then a dated snapshot (`gpt-4.1-mini-2025-04-14`) by its base name. */
export function priceOf(model: string, override?: Partial<Price>): Price | undefined {
  const base = PRICES[model] ?? PRICES[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
  if (override?.input !== undefined || override?.output !== undefined) {
    return { input: override.input ?? base?.input ?? 0, output: override.output ?? base?.output ?? 0 };
  }
  return base;
}

export function costUsd(price: Price, promptTokens: number, completionTokens: number): number {
  return (promptTokens * price.input + completionTokens * price.output) / 1e6;
}

/**
 * The Batch API bills half the standard price for input and output tokens (OpenAI's published
 * batch discount, the same for every model in the table). --price-input/--price-output give live
 * prices; batch mode halves them too.
 */
export const BATCH_PRICE_FACTOR = 0.5;

export function batchPrice(p: Price): Price {
  return { input: p.input * BATCH_PRICE_FACTOR, output: p.output * BATCH_PRICE_FACTOR };
}
