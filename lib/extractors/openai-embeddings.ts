/**
 * The embedding extractor: one `/v1/embeddings` request per pack over the openai SDK (OpenAI or any
 * compatible server), one input per chunk. The answer is untrusted: it must hold exactly one vector
 * per input sent, each `index` naming a distinct input (order is never trusted), every vector of
 * finite numbers and of the run's width (`--dimensions`, or the width of the first answer). A bad
 * answer is transient: retry/split sends the request again. The embeddings codec is the whole of
 * it: the live transport (live-transport.ts) paces and sends, the cache wraps it (with-cache.ts),
 * and the Batch API sends the same bodies (lib/batch/extractor.ts).
 */
import type OpenAI from 'openai';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import type { Extractor } from '../runtime/extractor.js';
import { openaiConnectionOptionSpecs, type ConnectionOptions } from '../llm/client.js';
import { defineOptions, overriding, type OptionsOf } from '../runtime/options.js';
import type { SharedBudget } from '../llm/rate-limiter.js';
import { chunkKey, type ChunkExtraction, type Pack, type PackAnswer, type Usage } from '../runtime/records.js';
import type { ResponseCache } from '../llm/response-cache.js';
import type { ApiCodec } from './dispatch.js';
import { DEFAULT_LIVE_CONCURRENCY, liveExtractor } from './live.js';

export const openaiEmbedderOptionSpecs = defineOptions([
  // The connection options are shared with the chat extractor (copies where the wording differs).
  ...overriding(openaiConnectionOptionSpecs, {
    tpm: { description: 'Client-side budget of tokens per minute (input tokens, as the API counts them for embeddings)' },
  }),
  { name: 'dimensions', type: 'integer', min: 1, description: "Ask for shorter vectors (text-embedding-3 models, and servers that support it); default: the model's full width" },
  {
    name: 'encoding-format',
    type: 'string',
    default: 'base64',
    choices: ['base64', 'float'],
    description: 'How vectors travel over the wire: base64 (compact) or float (for servers without base64); the output is the same',
  },
]);

/** How vectors travel over the wire: the choices of --encoding-format. */
export type EncodingFormat = OptionsOf<typeof openaiEmbedderOptionSpecs>['encodingFormat'];

export interface OpenAIEmbedderOptions extends ConnectionOptions {
  model: string;
  /** Read from OPENAI_API_KEY by the pipeline; never logged or written. */
  apiKey?: string;
  /** Vector width to ask for; undefined = the model's own. */
  dimensions?: number;
  /** @default 'base64' */
  encodingFormat?: EncodingFormat;
  /** Requests in flight. @default 8 */
  concurrency?: number;
  /** Cap on a server's Retry-After, which pauses every request. @default 60000 */
  maxRetryAfterMs?: number;
  /** Inputs per request the server takes; a larger pack is split. @default 2048 (OpenAI's limit) */
  maxInputs?: number;
  /** A rate budget kept with other processes (scale-out: the fleet's, in Redis), drawn on besides rpm/tpm. */
  shared?: SharedBudget;
  /** Inject a client (tests); otherwise one is made from baseUrl/apiKey. */
  client?: OpenAI;
  /** --cache: answers are looked up before a request is sent, and stored once validated. */
  cache?: ResponseCache;
}

/** Requests in flight when not told otherwise. */
export const DEFAULT_EMBED_CONCURRENCY = DEFAULT_LIVE_CONCURRENCY;
/** OpenAI's limit on inputs in one embeddings request. */
export const MAX_INPUTS_PER_REQUEST = 2048;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** Widest vector accepted from a server (OpenAI's widest is 3072): a size cap on an untrusted answer. */
export const MAX_VECTOR_WIDTH = 65_536;

/** A defect of the answer (not of the request). */
class AnswerError extends Error {}

/** Every vector of the answer has one width, but not the one expected. */
class WidthMismatch extends AnswerError {
  constructor(
    readonly answered: number,
    readonly expected: number,
  ) {
    super(`vectors have ${answered} dimensions, expected ${expected}`);
  }
}

export type EmbeddingsCodecOptions = Pick<OpenAIEmbedderOptions, 'model' | 'dimensions' | 'encodingFormat' | 'maxInputs'>;

/** The embeddings request of a pack and the validation of its answer: shared by live and batch mode. */
export function embeddingsCodec(o: EmbeddingsCodecOptions): ApiCodec {
  const maxInputs = o.maxInputs ?? MAX_INPUTS_PER_REQUEST;
  const encodingFormat = o.encodingFormat ?? 'base64';
  // Every vector of a run has one width: the one asked for, or the first one answered.
  let width = o.dimensions;

  /** The vectors of an answer (fresh or stored), or an AnswerError. */
  const interpret = (answer: unknown, pack: Pack): PackAnswer => {
    const vectors = vectorsOf(answer, pack.chunks.length, width);
    width ??= vectors[0]!.length;
    const chunks = new Map<string, ChunkExtraction>();
    pack.chunks.forEach((c, i) => chunks.set(chunkKey(c), { entities: [], relations: [], embedding: vectors[i]! }));
    return { chunks, usage: usageOf(answer) ?? { promptTokens: 0, completionTokens: 0 } };
  };

  return {
    url: '/v1/embeddings',
    name: 'openai-embeddings',
    templateTokens: 0,
    perChunkTokens: 0,
    // Embeddings have no output tokens: a request costs its input.
    outputTokens: 0,
    send: (client, body, signal) => client.embeddings.create(body as EmbeddingCreateParams, { signal }).withResponse(),
    billed: (answer) => usageOf(answer)?.promptTokens,
    request(pack) {
      if (pack.chunks.length > maxInputs) {
        throw new SluiceError(ErrorCode.SPLIT_REQUIRED, `${pack.chunks.length} inputs in one request; the server takes at most ${maxInputs}`);
      }
      const body: EmbeddingCreateParams = {
        model: o.model,
        input: pack.chunks.map((c) => c.text),
        // Always explicit: the SDK then hands back the answer as sent, and we decode it ourselves.
        encoding_format: encodingFormat,
        ...(o.dimensions !== undefined ? { dimensions: o.dimensions } : {}),
      };
      return {
        body,
        promptTokens: pack.promptTokens,
        outputTokens: 0,
        read(data) {
          try {
            return interpret(data, pack);
          } catch (err) {
            if (err instanceof WidthMismatch && o.dimensions !== undefined) {
              // The server ignores --dimensions: every request would be refused the same way, and billed.
              throw new SluiceError(ErrorCode.FATAL, `the server answered ${err.answered}-dimension vectors, not the ${o.dimensions} asked for with --dimensions (does ${o.model} support it?)`);
            }
            const usage = usageOf(data);
            if (err instanceof AnswerError) throw new SluiceError(ErrorCode.TRANSIENT, `invalid embeddings answer: ${err.message}`, usage ? { usage } : undefined);
            throw err;
          }
        },
        readStored: (stored) => interpret(JSON.parse(stored), pack),
        // What is stored is what was validated: the vectors as the server sent them (decoded again,
        // identically, when served) and the usage.
        toStore: (data) => {
          const d = data as { data: { index: number; embedding: unknown }[]; usage: unknown };
          return JSON.stringify({ data: d.data.map((x) => ({ index: x.index, embedding: x.embedding })), usage: d.usage });
        },
      };
    },
  };
}

/** The embeddings codec over the live transport (and the cache, when given). */
export function openaiEmbedder(o: OpenAIEmbedderOptions): Extractor {
  return liveExtractor(embeddingsCodec(o), { ...o, maxRetryAfterMs: o.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS });
}

/** The tokens billed, when the server says (some local servers do not). */
function usageOf(answer: unknown): Usage | undefined {
  const usage = isObject(answer) ? answer.usage : undefined;
  if (!isObject(usage)) return undefined;
  const prompt = usage.prompt_tokens;
  return typeof prompt === 'number' && Number.isInteger(prompt) && prompt >= 0 ? { promptTokens: prompt, completionTokens: 0 } : undefined;
}

/**
 * The vectors of an answer in the order of the inputs sent, or an AnswerError: one item per input,
 * each `index` an integer naming a distinct input, each vector finite numbers of one width
 * (`width` when already known).
 */
export function vectorsOf(answer: unknown, inputs: number, width: number | undefined): number[][] {
  const data = isObject(answer) ? answer.data : undefined;
  if (!Array.isArray(data)) throw new AnswerError('no "data" list');
  if (data.length !== inputs) throw new AnswerError(`${data.length} vectors for ${inputs} inputs`);
  if (inputs === 0) return [];
  const out: (number[] | undefined)[] = new Array(inputs);
  for (const [position, item] of data.entries()) {
    if (!isObject(item)) throw new AnswerError(`data[${position}] is not an object`);
    const index = item.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= inputs) {
      throw new AnswerError(`data[${position}].index ${JSON.stringify(index)?.slice(0, 40)} names no input sent`);
    }
    if (out[index] !== undefined) throw new AnswerError(`input ${index} answered twice`);
    out[index] = decodeVector(item.embedding, position);
  }
  // n distinct indices in [0, n): every input has its vector.
  const vectors = out as number[][];
  const first = vectors[0]!.length;
  const odd = vectors.findIndex((v) => v.length !== first);
  if (odd !== -1) throw new AnswerError(`vectors of ${first} and ${vectors[odd]!.length} dimensions in one answer`);
  if (width !== undefined && first !== width) throw new WidthMismatch(first, width);
  return vectors;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A vector as a JSON list of numbers or as base64 little-endian float32 (whatever the server chose to send). */
function decodeVector(raw: unknown, position: number): number[] {
  let vector: number[];
  if (typeof raw === 'string') {
    if (raw.length % 4 !== 0 || !BASE64.test(raw)) throw new AnswerError(`data[${position}].embedding is not base64`);
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length % 4 !== 0) throw new AnswerError(`data[${position}].embedding is ${bytes.length} bytes, not whole float32 values`);
    if (bytes.length / 4 > MAX_VECTOR_WIDTH) throw new AnswerError(`data[${position}].embedding is wider than ${MAX_VECTOR_WIDTH}`);
    vector = new Array<number>(bytes.length / 4);
    for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  } else if (Array.isArray(raw)) {
    if (raw.length > MAX_VECTOR_WIDTH) throw new AnswerError(`data[${position}].embedding is wider than ${MAX_VECTOR_WIDTH}`);
    vector = raw as number[];
  } else {
    throw new AnswerError(`data[${position}].embedding is neither a list nor base64`);
  }
  if (vector.length === 0) throw new AnswerError(`data[${position}].embedding is empty`);
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new AnswerError(`data[${position}].embedding[${i}] is not a finite number`);
  }
  return vector;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
