/**
 * retry/split: wraps an extractor. Transient failures retry with exponential backoff and full
 * jitter, honouring (clamped) server hints; a pack that still fails, or cannot succeed at its
 * size, splits in halves down to a single chunk; what fails alone is handed back as failed with
 * its last error. Chunks an answer omitted go again on their own. Fatal errors stop the run.
 * Failures on the server's side (refused, DNS, TLS, 5xx) are told to the run's circuit: while no
 * request succeeds they are waited out rather than dead-lettered, until the circuit stops the run.
 */
import { ErrorCode, SluiceError, codeOf, messageOf } from '../lib/runtime/errors.js';
import type { Extractor } from '../lib/runtime/extractor.js';
import { defineOptions, type OptionsOf } from '../lib/runtime/options.js';
import { chunkKey, type Chunk, type Pack, type PackOutcome, type Usage } from '../lib/runtime/records.js';
import type { RunContext } from '../lib/runtime/run-context.js';
import { backoffMs, sleep } from '../lib/runtime/backoff.js';
import { Circuit } from '../lib/runtime/circuit.js';

/** The backoff formula is the run's one (lib/runtime/backoff.ts), exported here as before. */
export { backoffMs };

export const retryOptionSpecs = defineOptions([
  { name: 'max-retries', operational: true, type: 'integer', default: 3, min: 0, description: 'Retries of a failing request before its pack is split' },
  { name: 'retry-base-ms', operational: true, type: 'integer', default: 2000, min: 0, description: 'Backoff base: retry n waits a random time up to base x 2^n (full jitter)' },
  { name: 'max-retry-after-ms', operational: true, type: 'integer', default: 60000, min: 0, description: 'Cap on a server Retry-After hint and on any single backoff' },
  {
    name: 'fatal-after-ms',
    operational: true,
    type: 'integer',
    min: 0,
    // No `default`: the field stays optional for library callers; FATAL_AFTER_MS applies.
    defaultLabel: '30000',
    description:
      'Stop the run as fatal (exit 1) once every request for this long failed on the server side (connection refused, DNS, TLS, HTTP 5xx); until then such failures are retried, not dead-lettered',
  },
]);

export type RetryOptions = OptionsOf<typeof retryOptionSpecs>;

/** --fatal-after-ms when not given: long enough for a server restart, short of a run's worth of retries. */
export const FATAL_AFTER_MS = 30_000;

export type Decision = 'retry' | 'split' | 'fatal';

/** Replaceable: decides by error code, never by message text. */
export function decide(err: unknown): Decision {
  const code = codeOf(err);
  if (code === ErrorCode.FATAL || code === ErrorCode.OUTPUT || code === ErrorCode.INTERNAL || code === ErrorCode.USAGE || code === ErrorCode.ABORTED) return 'fatal';
  if (code === ErrorCode.TRANSIENT) return 'retry';
  // Split-required, extractor errors and anything unknown: the same request would fail the same way.
  return 'split';
}

export type PackRunner = (pack: Pack) => Promise<PackOutcome>;

export function withRetrySplit(extractor: Extractor, options: RetryOptions, ctx: RunContext, decideFn: (err: unknown) => Decision = decide): PackRunner {
  // One circuit per run, whichever stage asks first: a down server fails every pack alike.
  const circuit = (ctx.circuit ??= new Circuit(options.fatalAfterMs ?? FATAL_AFTER_MS));
  // The offline extractor sends no request: its attempts are not requests (the summary shows none).
  const local = extractor.name === 'offline';
  if (local) ctx.stats.offline = true;
  return async (pack) => {
    const outcome: PackOutcome = { kind: 'outcome', pack, extractions: new Map(), failed: new Map(), usage: { promptTokens: 0, completionTokens: 0 } };
    // Every attempt's tokens count, failed ones included: they were billed.
    // Whether a request was sent for this pack, and what its requests were billed (the projection's evidence).
    let sent = false;
    const packBilled = { promptTokens: 0, completionTokens: 0 };
    const bill = (usage: Usage) => {
      addTo(packBilled, usage);
      addTo(outcome.usage, usage);
      ctx.stats.promptTokens += usage.promptTokens;
      ctx.stats.completionTokens += usage.completionTokens;
    };
    // An answer from --cache was paid for by an earlier run: its tokens stay in the documents' usage
    // (a rerun writes the same output) but are counted apart from what this run was billed.
    const reuse = (usage: Usage) => {
      addTo(outcome.usage, usage);
      ctx.stats.cachedPromptTokens += usage.promptTokens;
      ctx.stats.cachedCompletionTokens += usage.completionTokens;
    };

    const attempt = async (chunks: Chunk[]): Promise<void> => {
      const sub = chunks === pack.chunks ? pack : subPack(pack, chunks);
      // After an answer cut off below the cap: the max_tokens to ask again with.
      let ask: number | undefined;
      for (let retry = 0; ; retry++) {
        let err: unknown;
        const halt = ctx.beforeRequest?.();
        if (halt) ctx.stop(halt);
        if (ctx.signal.aborted) throw new SluiceError(ErrorCode.ABORTED, 'not sent: the run is stopping');
        // Set once this attempt has its answer: what throws after that comes from the recursion below.
        let answered = false;
        try {
          const answer = await extractor.extract(ask !== undefined ? { ...sub, askTokens: ask } : sub, ctx.signal, ctx);
          answered = true;
          if (answer.cached) reuse(answer.usage);
          else {
            if (!local) ctx.stats.requests++;
            sent = true;
            bill(answer.usage);
            circuit.success();
          }
          ctx.stats.inventedIds += answer.inventedIds ?? 0;
          // How well the prior fits: whole answers against what it expected (the summary's hint).
          if (answer.expectedTokens !== undefined && !answer.cached) {
            ctx.stats.answersMeasured++;
            ctx.stats.answerTokensMeasured += answer.usage.completionTokens;
            ctx.stats.expectedTokensMeasured += answer.expectedTokens;
          }
          // A cut answer's whole documents: the rest are missing, and asked again below.
          if (answer.cut) {
            ctx.stats.cutOffs++;
            if (answer.cut === 'cap') ctx.stats.cutOffsAtCap++;
          }
          const missing = chunks.filter((c) => !answer.chunks.has(chunkKey(c)));
          for (const c of chunks) {
            const ex = answer.chunks.get(chunkKey(c));
            if (ex) outcome.extractions.set(chunkKey(c), ex);
          }
          if (missing.length === 0) return;
          if (missing.length < chunks.length) return await attempt(missing);
          err = new SluiceError(ErrorCode.TRANSIENT, 'the answer covered none of the documents sent');
        } catch (e) {
          err = e;
          if (!answered) {
            const billed = (e as SluiceError).usage;
            // A failure --cache remembered (a cut-off answer of an earlier run) was not sent: its
            // tokens are reused, as a cached answer's are.
            if ((e as { cached?: boolean }).cached === true) {
              if (billed) reuse(billed);
            } else {
              if (!local) ctx.stats.requests++;
              sent = true;
              if (billed) bill(billed);
            }
          }
        }
        let serverDown = false;
        if ((err as SluiceError).serverSide === true && !ctx.signal.aborted) {
          const fatal = circuit.failure(err as SluiceError);
          if (fatal) {
            // The packs in flight are abandoned, not dead-lettered: the run stops, resumable.
            ctx.stop('fatal');
            throw fatal;
          }
          serverDown = circuit.serverDown();
        }
        const decision = decideFn(err);
        if (decision === 'fatal' || ctx.signal.aborted) throw err;
        const cutOff = codeOf(err) === ErrorCode.TRUNCATED;
        if (cutOff) {
          ctx.stats.cutOffs++;
          const cut = err as SluiceError;
          // Cut below the cap: the same documents again with more room, at once (the server is
          // fine), without spending a retry; the pack splits only once the cap itself is too little.
          if (asksAgain(cut, ask)) {
            ask = cut.askTokens;
            retry--;
            continue;
          }
          ctx.stats.cutOffsAtCap++;
          // A lone document retried asks as much again.
          if (cut.cutAt !== undefined) ask = cut.cutAt;
        }
        if (serverDown) {
          // No request has been answered for the circuit's window: the failure is the server's, so
          // the pack neither spends its retries nor splits; it waits and tries again as it is.
          ctx.stats.retries++;
          await sleep(backoffMs(Math.min(retry, options.maxRetries), options, (err as SluiceError).retryAfterMs), ctx.signal).catch(() => {
            throw new SluiceError(ErrorCode.ABORTED, 'stopped while waiting to retry');
          });
          retry = Math.min(retry + 1, options.maxRetries) - 1;
          continue;
        }
        // A truncated answer for a single chunk cannot be split further; it may come out whole next time.
        const retryAlone = decision === 'split' && chunks.length === 1 && codeOf(err) === ErrorCode.TRUNCATED;
        if ((decision === 'retry' || retryAlone) && retry < options.maxRetries) {
          ctx.stats.retries++;
          // Nothing was sent for a failure --cache remembered: no server to spare, no wait.
          const wait = (err as { cached?: boolean }).cached === true ? 0 : backoffMs(retry, options, (err as SluiceError).retryAfterMs);
          await sleep(wait, ctx.signal).catch(() => {
            throw new SluiceError(ErrorCode.ABORTED, 'stopped while waiting to retry');
          });
          continue;
        }
        if (chunks.length > 1) {
          ctx.stats.splits++;
          if (cutOff) ctx.stats.splitsCutOff++;
          const half = Math.ceil(chunks.length / 2);
          // One half after the other: the pack keeps its single slot of the concurrency window.
          await attempt(chunks.slice(0, half));
          await attempt(chunks.slice(half));
          return;
        }
        const only = chunks[0]!;
        outcome.failed.set(chunkKey(only), { code: codeOf(err) ?? ErrorCode.EXTRACT, reason: messageOf(err) });
        return;
      }
    };

    await attempt(pack.chunks);
    settle(ctx, pack, sent, packBilled);
    return outcome;
  };
}

/** A cut-off answer to ask again with more max_tokens than `asked` (undefined: the request's own size). */
function asksAgain(err: unknown, asked: number | undefined): boolean {
  const more = (err as SluiceError).askTokens;
  return codeOf(err) === ErrorCode.TRUNCATED && more !== undefined && more > (asked ?? 0);
}

function addTo(total: Usage, usage: Usage): void {
  total.promptTokens += usage.promptTokens;
  total.completionTokens += usage.completionTokens;
}

/** A pack's work has ended: its documents (a chunk is its share of one), chunks and tokens, and, if it sent requests, what they were billed. */
function settle(ctx: RunContext, pack: Pack, sent: boolean, billed: { promptTokens: number; completionTokens: number }): void {
  const s = ctx.stats;
  for (const c of pack.chunks) s.settledDocs += 1 / Math.max(1, c.count);
  s.settledChunks += pack.chunks.length;
  s.settledTextTokens += pack.tokens;
  if (!sent) return;
  s.billedChunks += pack.chunks.length;
  s.billedTextTokens += pack.tokens;
  s.billedPromptTokens += billed.promptTokens;
  s.billedCompletionTokens += billed.completionTokens;
}

/** Part of a pack after a split: same template cost, fewer chunks. */
function subPack(pack: Pack, chunks: Chunk[]): Pack {
  const tokens = chunks.reduce((s, c) => s + c.tokens, 0);
  const overhead = pack.promptTokens - pack.tokens;
  const perChunk = pack.chunks.length ? overhead / pack.chunks.length : 0;
  return { kind: 'pack', id: `${pack.id}/${chunkKey(chunks[0]!)}`, chunks, tokens, promptTokens: Math.round(tokens + overhead - perChunk * (pack.chunks.length - chunks.length)) };
}
