#!/usr/bin/env node
/**
 * kg: entities and relations per document, one JSONL line each.
 *
 *   node pipelines/kg.js < corpus.jsonl > graph.jsonl
 *   node pipelines/kg.js corpus-a.jsonl corpus-b.json.gz -o graph.jsonl --dead-letter bad.jsonl
 *
 * Importing this file has no side effects; running it runs the CLI.
 */
import { cli } from '../lib/cli/program.js';
import { runCli } from '../lib/cli/run-cli.js';
import { usageError } from '../lib/runtime/errors.js';
import type { Extractor } from '../lib/runtime/extractor.js';
import { promptOverhead } from '../lib/llm/kg-prompt.js';
import { defineOptions, mergeSpecs, type OptionsOf } from '../lib/runtime/options.js';
import { CHECKPOINT_FILE, definePipeline } from '../lib/runtime/pipeline.js';
import { pipe } from '../lib/runtime/stage.js';
import { batchStatus } from '../lib/batch/status.js';
import { tokenCounterForModel } from '../lib/llm/tokens.js';
import { chunk, chunkOptionSpecs } from '../stages/chunk.js';
import { extract, extractOptionSpecs } from '../stages/extract.js';
import { mergeChunks } from '../stages/merge-chunks.js';
import { offlineExtractorOptionSpecs } from '../lib/extractors/offline.js';
import { chatCodec, openaiExtractorOptionSpecs, splitTypes } from '../lib/extractors/openai-chat.js';
import { wireExtractor, type RunExtras } from '../lib/extractors/wire.js';
import { parse, parseOptionSpecs } from '../stages/parse.js';
import { read, readOptionSpecs, type InputSpec } from '../stages/read.js';
import { retryOptionSpecs } from '../stages/retry-split.js';
import { jsonlSink } from '../stages/sink.js';
import { tokenPack, tokenPackOptionSpecs } from '../stages/token-pack.js';
import { createClient } from '../lib/llm/client.js';
import { batchOptionSpecs, windowOf } from '../lib/batch/extractor.js';
import { cacheOptionSpecs } from '../lib/llm/response-cache.js';
import { GraphStore } from '../lib/graph/store.js';
import { graphSink, graphSinkOptionSpecs } from '../stages/graph-sink.js';
import { openCoordinator } from '../lib/scale/coordinator.js';
import { redisOptionSpecs } from '../lib/scale/redis.js';

const extractorChoiceSpecs = defineOptions([
  {
    name: 'extractor',
    type: 'string',
    default: 'auto',
    choices: ['auto', 'offline', 'openai'],
    description: 'Which extractor runs: offline (local NER, no API) or openai (an LLM through the openai SDK); auto picks openai when OPENAI_API_KEY or --base-url is set, offline otherwise',
  },
]);

export const kgOptionSpecs = mergeSpecs(
  readOptionSpecs,
  parseOptionSpecs,
  chunkOptionSpecs,
  tokenPackOptionSpecs,
  extractorChoiceSpecs,
  offlineExtractorOptionSpecs,
  openaiExtractorOptionSpecs,
  extractOptionSpecs,
  retryOptionSpecs,
  cacheOptionSpecs,
  graphSinkOptionSpecs,
  batchOptionSpecs,
  redisOptionSpecs,
);

/** The resolved options of a kg run: every one of kgOptionSpecs. */
export type KgOptions = OptionsOf<typeof kgOptionSpecs>;

/** The LLM when a key or a server is given (or asked for), the offline extractor otherwise. */
function extractorKind(o: KgOptions): 'offline' | 'openai' {
  // The Batch API is the LLM's.
  if (o.batchApi && o.extractor === 'auto') return 'openai';
  return o.extractor === 'auto' ? (process.env.OPENAI_API_KEY || o.baseUrl ? 'openai' : 'offline') : o.extractor;
}

/** The extractor a run of these options uses (and one close for all it opened); a scale-out worker builds it from the run's options. */
export async function kgExtractor(o: KgOptions, extras: RunExtras = {}): Promise<Extractor> {
  const kind = extractorKind(o);
  return wireExtractor({
    pipeline: 'kg',
    options: o,
    ...(kind === 'offline' ? { offline: { workers: o.workers } } : {}),
    codec: async () =>
      chatCodec({
        model: o.model,
        maxOutputTokens: o.maxOutputTokens,
        entityTypes: splitTypes(o.entityTypes),
        relationTypes: splitTypes(o.relationTypes),
        counter: await tokenCounterForModel(o.model),
        baseUrl: o.baseUrl,
        answerPrior: o,
      }),
    noServer: () => usageError(`${o.batchApi ? '--batch-api' : '--extractor openai'} needs OPENAI_API_KEY in the environment, or --base-url for an OpenAI-compatible server`),
    extras,
  });
}

/** Packing as the extractor's prompt needs, without building it (a dry run, a coordinator). */
async function overheadOf(o: KgOptions): Promise<{ templateTokens: number; perChunkTokens: number }> {
  if (extractorKind(o) === 'offline') return { templateTokens: 0, perChunkTokens: 0 };
  return promptOverhead(await tokenCounterForModel(o.model), splitTypes(o.entityTypes), splitTypes(o.relationTypes));
}

function checkFits(o: KgOptions, overhead: { templateTokens: number; perChunkTokens: number }): void {
  if (o.chunkTokens + overhead.perChunkTokens > o.tokenBudget - overhead.templateTokens) {
    throw usageError(`--chunk-tokens (${o.chunkTokens}) does not fit --token-budget (${o.tokenBudget}) with the prompt template (${overhead.templateTokens} tokens)`);
  }
}

/** Read, parse, chunk and pack for a prompt of this overhead: the same wherever the packs are extracted. */
function packed(o: KgOptions, inputs: readonly unknown[], overhead: { templateTokens: number; perChunkTokens: number }) {
  return pipe(
    read(inputs as InputSpec[], o),
    parse(o),
    chunk(o),
    tokenPack({
      tokenBudget: o.tokenBudget,
      maxDocs: o.maxDocs,
      templateTokens: overhead.templateTokens,
      perChunkTokens: overhead.perChunkTokens,
      // The LLM answers in kind, so its packs fit their answers; the offline extractor has no cap.
      ...(extractorKind(o) === 'openai' ? { answer: { prior: o, maxOutputTokens: o.maxOutputTokens } } : {}),
    }),
  );
}

/** --redis: read, parse, chunk and pack here; extract on the workers (docs/scale-out.md). */
async function coordinate(o: KgOptions, redis: string, inputs: readonly unknown[], output: string | undefined) {
  if (o.batchApi) throw usageError('--redis and --batch-api do not go together: the Batch API needs no workers');
  const overhead = await overheadOf(o);
  checkFits(o, overhead);
  const coordinator = await openCoordinator({
    pipeline: 'kg',
    specs: kgOptionSpecs,
    options: { ...o, redis },
    identity: { extractor: extractorKind(o) },
    output,
    log: (line) => process.stderr.write(`kg: ${line}\n`),
  });
  return {
    flow: pipe(
      packed(o, inputs, overhead),
      extract({ runner: coordinator.runner, retry: o, concurrency: coordinator.highWater, unordered: o.unordered, reorderWindow: o.reorderWindow }),
      mergeChunks({ unordered: o.unordered }),
    ),
    close: (finished: boolean) => coordinator.close(finished),
  };
}

export const kg = definePipeline<KgOptions>({
  name: 'kg',
  description: 'Extract entities (people, organisations, places, ...) and their relations from every document; one JSONL line per document.',
  options: kgOptionSpecs,
  async build(o, inputs, mode) {
    if (o.redis !== undefined && !mode.dryRun) return coordinate(o, o.redis, inputs, mode.output);
    const extractor = mode.dryRun ? undefined : await kgExtractor(o, mode.stateDir !== undefined ? { stateDir: mode.stateDir } : {});
    // A dry run prices the LLM requests, so it packs as the LLM prompt would.
    const overhead = extractor ?? promptOverhead(await tokenCounterForModel(o.model), splitTypes(o.entityTypes), splitTypes(o.relationTypes));
    try {
      checkFits(o, overhead);
    } catch (err) {
      await extractor?.close();
      throw err;
    }
    let graph: GraphStore | undefined;
    try {
      graph = extractor && o.graph ? GraphStore.open(o.graph, { create: true }) : undefined;
    } catch (err) {
      await extractor?.close();
      throw err;
    }
    const packs = packed(o, inputs, overhead);
    const extracted = extractor && pipe(packs, extract({ extractor, retry: o, ...windowOf(o), unordered: o.unordered }), mergeChunks({ unordered: o.unordered }));
    return {
      // A dry run ends at the packs; with --graph every result is added to the store on its way out.
      flow: !extracted ? packs : graph ? pipe(extracted, graphSink(graph, { batchSize: o.graphBatchSize })) : extracted,
      close: async () => {
        graph?.close();
        await extractor?.close();
      },
    };
  },
  sink: (target) => jsonlSink(target),
  // "auto" resolves by the environment: a resumed run must not switch from the LLM to offline.
  identity: (o) => ({ extractor: extractorKind(o) }),
  // Batch mode keeps its ledger beside the commit file.
  checkpointLayout: (o) => (o.batchApi ? 'directory' : 'file'),
  status: (o, dir) =>
    batchStatus(dir, CHECKPOINT_FILE, createClient({ baseUrl: o.baseUrl, apiKey: process.env.OPENAI_API_KEY || undefined, timeoutMs: o.timeoutMs }), process.env.OPENAI_API_KEY || undefined),
});

export default kg;

await cli(import.meta.url, (argv) => runCli(kg, argv));
