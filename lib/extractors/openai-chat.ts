/**
 * The LLM extractor: one chat completion per pack over the openai SDK (OpenAI or any compatible
 * server), structured output by strict JSON schema keyed by per-request document ids. Ids in the
 * answer are only looked up among those sent: an unknown id is discarded and counted, a missing
 * one is left for retry/split to send again. The chat codec is the whole of it: the live
 * transport (live-transport.ts) paces and sends, the cache wraps it (with-cache.ts), and the
 * Batch API sends the same bodies (lib/batch/extractor.ts).
 */
import type OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { ErrorCode, SluiceError } from '../runtime/errors.js';
import { wholeDocuments } from '../llm/cut-answer.js';
import type { Extractor } from '../runtime/extractor.js';
import { AnswerError, parseAnswer } from '../llm/kg-answer.js';
import { responseFormat } from '../llm/kg-answer.js';
import { DEFAULT_ENTITY_TYPES, DEFAULT_RELATION_TYPES, documentBlock, promptOverhead, systemPrompt } from '../llm/kg-prompt.js';
import { openaiConnectionOptionSpecs, type ConnectionOptions } from '../llm/client.js';
import { normaliseName } from '../runtime/names.js';
import { defineOptions } from '../runtime/options.js';
import type { SharedBudget } from '../llm/rate-limiter.js';
import { chunkKey, type ChunkExtraction, type Entity, type PackAnswer, type Relation, type Usage } from '../runtime/records.js';
import type { ResponseCache } from '../llm/response-cache.js';
import type { TokenCounter } from '../llm/tokens.js';
import { answerPriorOptionSpecs, askAgain, askTokens, packAnswerPrior, type AnswerPriorOptions } from '../llm/output-model.js';
import type { ApiCodec } from './dispatch.js';
import { liveExtractor } from './live.js';

export const openaiExtractorOptionSpecs = defineOptions([
  ...openaiConnectionOptionSpecs,
  {
    name: 'max-output-tokens',
    type: 'integer',
    default: 4096,
    min: 16,
    description: 'Most completion tokens a request may ask: packs are formed so their expected answer fits under it, and each request asks about what its answer needs (see --answer-tokens-ratio)',
  },
  { name: 'entity-types', type: 'string', default: DEFAULT_ENTITY_TYPES.join(','), description: 'Entity types the LLM may use, comma-separated' },
  { name: 'relation-types', type: 'string', default: DEFAULT_RELATION_TYPES.join(','), description: 'Relation types the LLM may use, comma-separated' },
  ...answerPriorOptionSpecs,
]);

export interface OpenAIExtractorOptions extends ConnectionOptions {
  model: string;
  /** Read from OPENAI_API_KEY by the pipeline; never logged or written. */
  apiKey?: string;
  maxOutputTokens: number;
  entityTypes: readonly string[];
  relationTypes: readonly string[];
  /** Requests in flight. @default 8 */
  concurrency?: number;
  /** Cap on a server's Retry-After, which pauses every request. */
  maxRetryAfterMs: number;
  counter: TokenCounter;
  /** Inject a client (tests); otherwise one is made from baseUrl/apiKey. */
  client?: OpenAI;
  /** --cache: answers are looked up before a request is sent, and stored once validated. */
  cache?: ResponseCache;
  /** Scale-out: the fleet's rate budget, drawn on before every request besides this process's own. */
  shared?: SharedBudget;
}

export function splitTypes(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reasoning models take no temperature and want max_completion_tokens. */
function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model.replace(/^.*\//, ''));
}

export type ChatCodecOptions = Pick<OpenAIExtractorOptions, 'model' | 'maxOutputTokens' | 'entityTypes' | 'relationTypes' | 'counter' | 'baseUrl'> & {
  /** The expected answer per chunk (--answer-base-tokens, --answer-tokens-ratio); their defaults when absent. */
  answerPrior?: AnswerPriorOptions;
};

/** The prior's defaults, for callers that give none. */
const DEFAULT_ANSWER_PRIOR: AnswerPriorOptions = { answerBaseTokens: answerPriorOptionSpecs[0].default, answerTokensRatio: answerPriorOptionSpecs[1].default };

/** The chat request of a pack (ids D1..Dn, strict JSON schema) and the validation of its answer. */
export function chatCodec(o: ChatCodecOptions): ApiCodec {
  const system = systemPrompt(o.entityTypes, o.relationTypes);
  const format = responseFormat(o.entityTypes, o.relationTypes);
  const overhead = promptOverhead(o.counter, o.entityTypes, o.relationTypes);
  const reasoning = isReasoningModel(o.model);
  const prior = o.answerPrior ?? DEFAULT_ANSWER_PRIOR;
  const maxTokensField = (n: number) => (reasoning ? { max_completion_tokens: n } : { temperature: 0, ...(o.baseUrl ? { max_tokens: n } : { max_completion_tokens: n }) });

  /**
   * The answer's documents mapped back to the chunks sent (an AnswerError becomes a transient
   * error). `complete`: every document sent, once, and nothing else; `clean`: nothing but documents
   * sent, once each (a cut answer's whole documents are clean, not complete).
   */
  const interpret = (content: string | null, usage: Usage, sent: Map<string, string>): { answer: PackAnswer; complete: boolean; clean: boolean } => {
    let parsed;
    try {
      parsed = parseAnswer(content, o.entityTypes, o.relationTypes);
    } catch (err) {
      if (err instanceof AnswerError) throw new SluiceError(ErrorCode.TRANSIENT, `invalid answer: ${err.message}`, { usage });
      throw err;
    }
    const chunks = new Map<string, ChunkExtraction>();
    let inventedIds = 0;
    for (const doc of parsed.documents) {
      const key = sent.get(doc.id);
      if (key === undefined || chunks.has(key)) {
        if (key === undefined) inventedIds++;
        continue;
      }
      chunks.set(key, toExtraction(doc.entities, doc.relations));
    }
    // Only an answer with every document sent, once, and nothing else is kept: one that named
    // none of them would be served again to its own retry (same request, same key), and a rerun
    // should get a new chance at a whole answer rather than the defect replayed.
    const clean = inventedIds === 0 && parsed.documents.length === chunks.size;
    const complete = clean && chunks.size === sent.size;
    return { answer: { chunks, usage, inventedIds }, complete, clean };
  };
  /** A cut answer's whole documents, when there is at least one and nothing else (else undefined: the cut is an error). */
  const interpretCut = (whole: string, usage: Usage, sent: Map<string, string>) => {
    try {
      const read = interpret(whole, usage, sent);
      return read.clean && read.answer.chunks.size > 0 ? read : undefined;
    } catch {
      return undefined;
    }
  };

  return {
    url: '/v1/chat/completions',
    name: 'openai',
    templateTokens: overhead.templateTokens,
    perChunkTokens: overhead.perChunkTokens,
    outputTokens: o.maxOutputTokens,
    send: (client, body, signal, timeoutMs) =>
      client.chat.completions.create(body as ChatCompletionCreateParamsNonStreaming, { signal, ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}) }).withResponse(),
    answerTokens: (data) => {
      const n = (data as Partial<ChatCompletion> | null)?.usage?.completion_tokens;
      return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
    },
    // The limit was charged at admission with the prompt (counted exactly, as reserved) plus
    // max_tokens: the reservation stands. (usage.prompt_tokens need not equal that charge, and
    // refunding the difference let us drift ahead of the server.)
    billed: () => undefined,
    request(pack, options) {
      const expected = packAnswerPrior(
        pack.chunks.map((c) => c.tokens),
        prior,
      );
      const maxTokens = Math.min(o.maxOutputTokens, options?.outputTokens ?? pack.askTokens ?? askTokens(expected, o.maxOutputTokens, pack.chunks.length));
      // Short per-request ids: cheap in tokens, and two chunks of one document stay distinct.
      const sent = new Map<string, string>();
      const user = pack.chunks
        .map((c, i) => {
          const id = `D${i + 1}`;
          sent.set(id, chunkKey(c));
          return documentBlock(id, c.text);
        })
        .join('');
      const body: ChatCompletionCreateParamsNonStreaming = {
        model: o.model,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
        response_format: format,
        ...maxTokensField(maxTokens),
      };
      const checked = (data: unknown) => {
        const d = data as Partial<ChatCompletion> | null;
        const usage = { promptTokens: d?.usage?.prompt_tokens ?? 0, completionTokens: d?.usage?.completion_tokens ?? 0 };
        const choice = Array.isArray(d?.choices) ? d.choices[0] : undefined;
        if (!choice || typeof choice !== 'object' || !choice.message) throw new SluiceError(ErrorCode.TRANSIENT, 'answer has no choices', { usage });
        if (choice.finish_reason === 'length') {
          // The documents written whole before the cut are kept; only the rest are asked again.
          const whole = typeof choice.message.content === 'string' ? wholeDocuments(choice.message.content) : undefined;
          const kept = whole !== undefined ? interpretCut(whole, usage, sent) : undefined;
          if (kept) return { content: whole!, ...kept, answer: { ...kept.answer, cut: maxTokens < o.maxOutputTokens ? ('sized' as const) : ('cap' as const) } };
          const more = askAgain(maxTokens, o.maxOutputTokens);
          throw new SluiceError(ErrorCode.TRUNCATED, `answer cut off at max_tokens ${maxTokens} (finish_reason "length")`, {
            usage,
            cutAt: maxTokens,
            ...(more !== undefined ? { askTokens: more } : {}),
          });
        }
        if (choice.message.refusal) throw new SluiceError(ErrorCode.EXTRACT, `the model refused: ${String(choice.message.refusal).slice(0, 200)}`, { usage });
        const read = interpret(choice.message.content, usage, sent);
        // A whole answer against its prior: the run's measure of how well the prior fits.
        return { content: choice.message.content, ...read, answer: { ...read.answer, expectedTokens: expected } };
      };
      // The last answer read, so that storing it does not parse it again.
      let last: { data: unknown; result: ReturnType<typeof checked> } | undefined;
      return {
        body,
        outputTokens: maxTokens,
        askAfterCut: (cutAt) => askAgain(cutAt, o.maxOutputTokens),
        // Counted exactly (the packer's figure allows for ids): a short count risks a 429.
        promptTokens: overhead.templateTokens + o.counter.count(user),
        read: (data) => {
          last = { data, result: checked(data) };
          return last.result.answer;
        },
        readStored: (stored) => {
          const { content, usage, cut } = storedAnswer(stored);
          if (cut) {
            const read = interpretCut(content, usage, sent);
            return read ? { ...read.answer, cut } : undefined;
          }
          const { answer, complete } = interpret(content, usage, sent);
          return complete ? answer : undefined;
        },
        toStore: (data) => {
          const { content, answer, complete, clean } = last && last.data === data ? last.result : checked(data);
          // A cut answer's whole documents are kept too (marked cut): a rerun asks only the rest, as this run did.
          if (answer.cut) return clean ? JSON.stringify({ content, usage: answer.usage, cut: answer.cut } satisfies StoredAnswer) : undefined;
          return complete ? JSON.stringify({ content, usage: answer.usage } satisfies StoredAnswer) : undefined;
        },
      };
    },
  };
}

/** The chat codec over the live transport (and the cache, when given). */
export function openaiExtractor(o: OpenAIExtractorOptions): Extractor {
  return liveExtractor(chatCodec(o), o);
}

/** What the cache keeps of a chat answer: its content (validated again when served), its usage, and whether it was cut (its whole documents only). */
interface StoredAnswer {
  content: string | null;
  usage: Usage;
  cut?: 'sized' | 'cap';
}

function storedAnswer(text: string): StoredAnswer & { content: string } {
  const v = JSON.parse(text) as Partial<StoredAnswer>;
  const u = v.usage;
  if (typeof v.content !== 'string' || !u || !Number.isInteger(u.promptTokens) || !Number.isInteger(u.completionTokens)) throw new Error('not a stored answer');
  if (v.cut !== undefined && v.cut !== 'sized' && v.cut !== 'cap') throw new Error('not a stored answer');
  return { content: v.content, usage: { promptTokens: u.promptTokens, completionTokens: u.completionTokens }, ...(v.cut ? { cut: v.cut } : {}) };
}

/** Entities de-duplicated; relations kept only between entities the answer listed for that document. */
function toExtraction(entities: { name: string; type: string; mentions: number }[], relations: { source: string; target: string; type: string }[]): ChunkExtraction {
  const norm = normaliseName;
  const byKey = new Map<string, Entity>();
  const names = new Map<string, string>();
  for (const e of entities) {
    const key = `${e.type}\u0000${norm(e.name)}`;
    const seen = byKey.get(key);
    if (seen) seen.mentions += e.mentions;
    else byKey.set(key, { name: e.name, type: e.type, mentions: e.mentions });
    if (!names.has(norm(e.name))) names.set(norm(e.name), e.name);
  }
  const rels = new Map<string, Relation>();
  for (const r of relations) {
    const source = names.get(norm(r.source));
    const target = names.get(norm(r.target));
    if (source === undefined || target === undefined || source === target) continue;
    const key = `${norm(source)}\u0000${norm(target)}\u0000${r.type}`;
    const seen = rels.get(key);
    if (seen) seen.count++;
    else rels.set(key, { source, target, type: r.type, count: 1 });
  }
  return { entities: [...byKey.values()], relations: [...rels.values()] };
}
