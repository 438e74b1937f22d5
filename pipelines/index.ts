/** The sluice library: stages, pipelines and the ways to run them. */
export * from '../lib/runtime/records.js';
export { SluiceError, ErrorCode, RecordCode, ExitCode } from '../lib/runtime/errors.js';
export type { Extractor } from '../lib/runtime/extractor.js';
export {
  definePipeline,
  run,
  results,
  onBatch,
  items,
  type PipelineDefinition,
  type PipelineParts,
  type FlowItem,
  type Sink,
  type SinkTarget,
  type RunControl,
  type BatchControl,
} from '../lib/runtime/pipeline.js';
export { createRunContext, RunStats, type RunContext } from '../lib/runtime/run-context.js';
export { summarise, formatSummary, type RunSummary } from '../lib/cli/summary.js';
export { runCli } from '../lib/cli/run-cli.js';
export { tokenCounterForModel, encodingForModel, type TokenCounter } from '../lib/llm/tokens.js';
export { defineOptions, type OptionSpec, type OptionsOf } from '../lib/runtime/options.js';
export { pipe, iterate, type StageTransform, type Stream, type Source, type Outlet } from '../lib/runtime/stage.js';
export { read, type InputSpec } from '../stages/read.js';
export { parse, recordParser } from '../stages/parse.js';
export { chunk, chunkDocument } from '../stages/chunk.js';
export { tokenPack, Packer } from '../stages/token-pack.js';
export { extract } from '../stages/extract.js';
export { withRetrySplit, decide, backoffMs } from '../stages/retry-split.js';
export { offlineExtractor } from '../lib/extractors/offline.js';
export { mergeChunks, mergeExtractions } from '../stages/merge-chunks.js';
export { jsonlSink, serialiseResult, serialiseFailure } from '../stages/sink.js';
export { kg } from './kg.js';
export { extractFromTexts } from './texts.js';
export { embed } from './embed.js';
export { openaiExtractor } from '../lib/extractors/openai-chat.js';
export { openaiEmbedder } from '../lib/extractors/openai-embeddings.js';
export { mergeEmbeddings, serialiseEmbedding } from '../stages/merge-embeddings.js';
export { mergeByDocument } from '../lib/runtime/merge-docs.js';
export { ResponseCache, requestKey } from '../lib/llm/response-cache.js';
export { createRunMetrics, serveMetrics, writeMetricsFile, type RunMetrics } from '../lib/cli/metrics.js';
export type { RunObserver } from '../lib/runtime/run-context.js';
export { GraphStore, type AddReport } from '../lib/graph/store.js';
export { mergeKey, nodeId, edgeId } from '../lib/graph/merge-key.js';
export { contributionOf, type Contribution } from '../lib/graph/contribution.js';
export { graphDocumentOf, type GraphDocument } from '../lib/graph/graph-input.js';
export { exportNeo4j } from '../lib/graph/export-neo4j.js';
export { exportGraphml } from '../lib/graph/export-graphml.js';
export { exportTables } from '../lib/graph/export-tables.js';
export { graphStats } from '../lib/graph/stats.js';
export { checkGraph } from '../lib/graph/check.js';
export { graphSink } from '../stages/graph-sink.js';
export { addToGraph } from './graph-add.js';
