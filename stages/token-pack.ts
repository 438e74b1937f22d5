/**
 * token-pack: chunks into packs (one request each) under a prompt-token budget that includes the
 * prompt template, a cap on documents per pack and, for an LLM that answers in kind, the answer's
 * expected size: a pack closes before its expected answer (lib/llm/output-model.ts's fixed prior,
 * never what a run has seen) passes a share of --max-output-tokens. Greedy in input order, so the
 * same input and options always give the same packs. Failures pass straight through.
 */
import _ from 'highland';
import { usageError } from '../lib/runtime/errors.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import type { Chunk, Failure, Pack } from '../lib/runtime/records.js';
import type { StageTransform } from '../lib/runtime/stage.js';
import { ANSWER_FRAME_TOKENS, answerPrior, PACK_ANSWER_SHARE, type AnswerPriorOptions } from '../lib/llm/output-model.js';

export const tokenPackOptionSpecs = defineOptions([
  { name: 'token-budget', type: 'integer', default: 8192, min: 64, description: 'Prompt tokens per request, prompt template included' },
  { name: 'max-docs', type: 'integer', default: 10, min: 1, description: 'Most documents (or chunks of documents) in one request' },
]);

export type TokenPackOptions = OptionsOf<typeof tokenPackOptionSpecs> & {
  /** Tokens of the prompt template around the documents (system prompt, instructions). */
  templateTokens?: number;
  /** Tokens each chunk adds beyond its text (its delimiter and id). */
  perChunkTokens?: number;
  /** The answer a pack must fit (chat extraction): its expected size per chunk, and the cap it must stay under. */
  answer?: { prior: AnswerPriorOptions; maxOutputTokens: number };
};

export function tokenPack(options: TokenPackOptions): StageTransform<(Chunk | Failure)[], Pack | Failure> {
  return (input, ctx) => {
    const packer = new Packer(options);
    return input.consume<Pack | Failure>((err, batch, push, next) => {
      if (err) {
        push(err);
        next();
      } else if (_.isNil(batch)) {
        for (const p of packer.flush()) emit(p);
        push(null, _.nil);
      } else {
        for (const item of batch) {
          if (item.kind === 'failure') {
            if (packer.empty) ctx.input?.positions.cut(item.seq);
            push(null, item);
          } else {
            const packs = packer.add(item);
            // A pack closed at a document boundary: everything before this document is in packs
            // (or failed) and packing restarts with it, so a resume just before it packs the same.
            if (packs.length > 0 && item.index === 0) ctx.input?.positions.cut(item.doc.seq - 1);
            for (const p of packs) emit(p);
          }
        }
        next();
      }
      function emit(p: Pack): void {
        const docs = new Set(p.chunks.map((c) => c.doc.seq)).size;
        ctx.stats.packs++;
        ctx.stats.packedDocs += docs;
        ctx.observer?.packFormed?.(docs);
        push(null, p);
      }
    });
  };
}

/** The pure core. */
export class Packer {
  private chunks: Chunk[] = [];
  private tokens = 0;
  private docs = new Set<number>();
  private answerTokens = ANSWER_FRAME_TOKENS;
  private readonly room: number;
  private readonly perChunk: number;
  /** Expected answer tokens a pack may reach (Infinity: no answer to fit). */
  private readonly answerRoom: number;

  constructor(private readonly options: TokenPackOptions) {
    this.perChunk = options.perChunkTokens ?? 0;
    this.room = options.tokenBudget - (options.templateTokens ?? 0);
    this.answerRoom = options.answer ? options.answer.maxOutputTokens * PACK_ANSWER_SHARE : Infinity;
    if (this.room <= this.perChunk) {
      throw usageError(`--token-budget (${options.tokenBudget}) leaves no room for documents after the prompt template (${options.templateTokens ?? 0} tokens)`);
    }
  }

  get empty(): boolean {
    return this.chunks.length === 0;
  }

  /** Largest chunk that fits a pack on its own. */
  get maxChunkTokens(): number {
    return this.room - this.perChunk;
  }

  add(chunk: Chunk): Pack[] {
    const cost = chunk.tokens + this.perChunk;
    const answer = this.options.answer ? answerPrior(chunk.tokens, this.options.answer.prior) : 0;
    const newDoc = !this.docs.has(chunk.doc.seq);
    const out: Pack[] = [];
    if (this.chunks.length > 0 && (this.tokens + cost > this.room || this.answerTokens + answer > this.answerRoom || (newDoc && this.docs.size >= this.options.maxDocs))) {
      out.push(this.take());
    }
    // A chunk over the room alone still goes, alone: retry/split will refuse it with a reason (and
    // one whose answer is expected over the cap is asked the cap: it may come out shorter).
    this.chunks.push(chunk);
    this.tokens += cost;
    this.answerTokens += answer;
    this.docs.add(chunk.doc.seq);
    return out;
  }

  flush(): Pack[] {
    return this.chunks.length > 0 ? [this.take()] : [];
  }

  private take(): Pack {
    const chunks = this.chunks;
    const first = chunks[0]!;
    const tokens = chunks.reduce((s, c) => s + c.tokens, 0);
    const promptTokens = tokens + chunks.length * this.perChunk + (this.options.templateTokens ?? 0);
    const pack: Pack = { kind: 'pack', id: packId(first), chunks, tokens, promptTokens };
    this.chunks = [];
    this.tokens = 0;
    this.answerTokens = ANSWER_FRAME_TOKENS;
    this.docs = new Set();
    return pack;
  }
}

export function packId(first: Pick<Chunk, 'doc' | 'index'>): string {
  return `p${first.doc.seq}.${first.index}`;
}
