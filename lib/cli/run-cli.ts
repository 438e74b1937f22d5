/**
 * runCli: a pipeline (kg, embed) as a command, built on the CLI kit (parse-args, help, signals,
 * exit-codes, program): its flags from the option specs beside the run's own (output, checkpoint,
 * progress, costs), the dry run and --status, progress, the summary and the exit code.
 */
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { ErrorCode, ExitCode, codeOf, messageOf } from '../runtime/errors.js';
import { defineOptions, keyOf, resolveOptions, type OptionSpec, type OptionsOf } from '../runtime/options.js';
import { metricsOptionSpecs, startCliMetrics, type CliMetrics } from './metrics.js';
import { itemsOf, runOf, type PipelineDefinition } from '../runtime/pipeline.js';
import { batchPrice, costUsd, priceOf, type Price } from '../llm/prices.js';
import { PIPELINE_EXIT_CODES } from './exit-codes.js';
import { helpText as renderHelp } from './help.js';
import { parseSpecArgs } from './parse-args.js';
import { ioOf, reportError, type CliIo } from './program.js';
import { Progress } from './progress.js';
import { stopOnSignals } from './signals.js';
import type { Failure, Pack } from '../runtime/records.js';
import { createRunContext, type RunContext } from '../runtime/run-context.js';
import { formatSummary, summarise, type RunSummary, type StopKind } from './summary.js';
import { chunkUnitsOf, overCapWarning, project } from './projection.js';
import { answerPriorOptionSpecs, packAnswerPrior, type AnswerPriorOptions } from '../llm/output-model.js';

export const cliOptionSpecs = defineOptions([
  { name: 'output', short: 'o', type: 'string', description: 'Write results to this file instead of stdout' },
  { name: 'dead-letter', type: 'string', description: 'Write dead letters (bad records, failed documents) as JSONL to this file; without it stderr shows their count and first reasons' },
  {
    name: 'dry-run',
    type: 'boolean',
    default: false,
    description: 'Read, parse, chunk and pack without extracting; print token totals, requests and the estimated cost for --model (completion tokens from the answer prior, with a range)',
  },
  { name: 'progress', type: 'boolean', default: false, description: 'Show progress on stderr even when it is not a terminal' },
  { name: 'quiet', short: 'q', type: 'boolean', default: false, description: 'No progress and no summary (errors and a dead-letter count still show)' },
  {
    name: 'checkpoint',
    type: 'string',
    description:
      'Commit progress to this file (needs --output FILE); rerunning the same command after a crash or a stop resumes where it was committed. With --batch-api it is a directory: the commit file and the batch ledger',
  },
  {
    name: 'max-cost',
    type: 'number',
    min: 0,
    description:
      'Stop cleanly once the estimated cost (USD, from the price table) reaches this cap; with --checkpoint, the same command with a higher cap continues. A projected total over the cap is said on stderr as soon as it is known',
  },
  {
    name: 'max-failures',
    type: 'integer',
    min: 0,
    description:
      'Stop cleanly (exit 4) once more than N documents are dead-lettered over the whole run (earlier sessions of a --checkpoint included); with --checkpoint, the same command with a higher cap continues',
  },
  { name: 'summary', type: 'string', description: 'Also write the run summary as JSON to this file (its status is "finished" or "stopped", with the reason)' },
  {
    name: 'status',
    type: 'boolean',
    default: false,
    description: 'With --batch-api and --checkpoint DIR: show where every batch of the run stands (from the ledger and the provider), then exit; reads no input',
  },
  ...metricsOptionSpecs,
  { name: 'price-input', type: 'number', min: 0, description: 'Override the input price, USD per million tokens (default: the table in lib/llm/prices.ts)' },
  { name: 'price-output', type: 'number', min: 0, description: 'Override the output price, USD per million tokens' },
  { name: 'help', short: 'h', type: 'boolean', default: false, description: 'Show this help' },
]);

/**
 * The dry run's range of completion tokens, as multiples of the prior (lib/llm/output-model.ts): a
 * document's answer against its prior, q10..q90, measured on the simulator's generated corpus. A
 * whole corpus averages far tighter than one document; the range is for a corpus whose answers
 * run shorter or longer than the prior as a whole.
 */
export const COMPLETION_RANGE = { low: 0.75, high: 1.3 } as const;

export interface ParsedCommandLine {
  cli: OptionsOf<typeof cliOptionSpecs>;
  options: Record<string, unknown>;
  inputs: string[];
}

/** Splits the flags into the run's own (defaults filled in) and the pipeline's (as given: the run resolves them). */
export function parseCommandLine(pipelineSpecs: readonly OptionSpec[], argv: readonly string[]): ParsedCommandLine {
  const { given, positionals } = parseSpecArgs([...cliOptionSpecs, ...pipelineSpecs], argv);
  const pick = (specs: readonly OptionSpec[], withDefaults: boolean) => {
    const out: Record<string, unknown> = {};
    for (const s of specs) {
      const v = given[keyOf(s.name)];
      if (v !== undefined) out[keyOf(s.name)] = v;
      else if (withDefaults && s.default !== undefined) out[keyOf(s.name)] = s.default;
    }
    return out;
  };
  return { cli: pick(cliOptionSpecs, true) as ParsedCommandLine['cli'], options: pick(pipelineSpecs, false), inputs: positionals };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a command runs a pipeline of whatever options type it declares
type AnyPipeline = PipelineDefinition<any>;

export function helpText(pipeline: AnyPipeline, command: string): string {
  return renderHelp({
    usage: `${command} [options] [FILE...]`,
    about: [pipeline.description, 'Reads JSONL, a JSON array, or either gzipped, from the FILEs in order, or from stdin when none is given.'],
    specs: [...pipeline.options, ...cliOptionSpecs],
    exitCodes: PIPELINE_EXIT_CODES,
  });
}

/** Runs a pipeline as a command; resolves with the exit code. */
export async function runCli(pipeline: AnyPipeline, argv: readonly string[] = process.argv.slice(2), cliIo: CliIo = {}): Promise<number> {
  const io = ioOf(cliIo);
  const stderr = io.stderr;
  const command = `node pipelines/${pipeline.name}.js`;
  let parsed: ParsedCommandLine;
  try {
    parsed = parseCommandLine(pipeline.options, argv);
  } catch (err) {
    return reportError(pipeline.name, err, stderr);
  }
  const { cli, inputs } = parsed;
  if (cli.help) {
    io.stdout.write(`${helpText(pipeline, command)}\n`);
    return ExitCode.OK;
  }
  let options: Record<string, unknown>;
  try {
    options = resolveOptions(pipeline.options, parsed.options);
  } catch (err) {
    stderr.write(`${pipeline.name}: ${messageOf(err)}\n`);
    return ExitCode.USAGE;
  }

  const model = typeof options.model === 'string' ? options.model : undefined;
  const listed = model ? priceOf(model, { input: cli.priceInput, output: cli.priceOutput }) : undefined;
  // What is actually paid: the Batch API bills half (a dry run with --batch-api prices it so too).
  const price = listed && options.batchApi === true ? batchPrice(listed) : listed;
  if (cli.maxCost !== undefined && !price) {
    stderr.write(`${pipeline.name}: --max-cost needs a price for --model ${model ?? '(none)'}: give --price-input and --price-output\n`);
    return ExitCode.USAGE;
  }
  if (cli.checkpoint !== undefined && cli.dryRun) {
    stderr.write(`${pipeline.name}: --dry-run writes nothing to resume: drop --checkpoint\n`);
    return ExitCode.USAGE;
  }

  if (cli.status) {
    if (cli.checkpoint === undefined || !pipeline.status || pipeline.checkpointLayout?.(options) !== 'directory') {
      stderr.write(`${pipeline.name}: --status shows a batch run: give --batch-api and its --checkpoint DIR\n`);
      return ExitCode.USAGE;
    }
    try {
      io.stdout.write(`${await pipeline.status(options, cli.checkpoint)}\n`);
      return ExitCode.OK;
    } catch (err) {
      return reportError(pipeline.name, err, stderr);
    }
  }

  let signalName: string | undefined;
  const stop = stopOnSignals((sig) => {
    signalName ??= sig;
    stderr.write(`\n${pipeline.name}: ${sig}: stopping (finishing in-flight work; press Ctrl-C again to exit at once)\n`);
  });
  const ctx = createRunContext(stop.signal);
  const costOf = () => (price ? costUsd(price, ctx.stats.promptTokens, ctx.stats.completionTokens) : 0);
  const projectionOf = () => project(ctx.stats, { ...(price ? { price } : {}), chunkUnits: generatesText(options) ? chunkUnitsOf(priorOf(options)) : 0 });
  const showProgress = !cli.quiet && (cli.progress || stderr.isTTY === true);
  let costWarning: string | undefined;
  if (cli.maxCost !== undefined) {
    const cap = cli.maxCost;
    // Checked before every request (retries included), so no request starts past the cap; the
    // requests already in flight finish, which is what a cap can overshoot by. A projection over
    // the cap is said once, as soon as it has evidence (even with --quiet: it is about money), and
    // does not stop the run: the cap is the user's.
    ctx.beforeRequest = () => {
      if (costWarning === undefined) {
        costWarning = overCapWarning(projectionOf(), cap);
        // On a terminal the progress line is being rewritten: the warning takes a line of its own.
        if (costWarning !== undefined) stderr.write(`${showProgress && stderr.isTTY === true ? '\n' : ''}${pipeline.name}: ${costWarning}\n`);
      }
      return costOf() >= cap ? 'max-cost' : undefined;
    };
  }
  const progress = showProgress
    ? new Progress(ctx.stats, stderr, {
        label: pipeline.name,
        tty: stderr.isTTY === true,
        projection: projectionOf,
        ...(price ? { cost: costOf } : {}),
        ...(cli.maxCost !== undefined ? { maxCost: cli.maxCost } : {}),
      })
    : undefined;
  progress?.start();

  let exit: number = ExitCode.OK;
  let fatalMessage: string | undefined;
  let dryRunReport: string | undefined;
  let metrics: CliMetrics | undefined;
  let metricsError: string | undefined;
  try {
    metrics = await startCliMetrics(ctx, cli, { price, projection: projectionOf, log: cli.quiet ? undefined : (line) => stderr.write(`${pipeline.name}: ${line}\n`) });
    if (cli.dryRun) dryRunReport = await dryRun(pipeline, inputs, options, ctx, cli.deadLetter, model, price);
    else {
      const maxFailures = cli.maxFailures;
      // Past the cap the run stops as the cost cap does: reading stops, in-flight work settles.
      const onDeadLetter = maxFailures === undefined ? undefined : () => void (ctx.stats.deadLettered > maxFailures && ctx.stop('max-failures'));
      await runOf(pipeline, inputs, options, { context: ctx, output: cli.output, deadLetter: cli.deadLetter, checkpoint: cli.checkpoint, ...(onDeadLetter ? { onDeadLetter } : {}) });
    }
  } catch (err) {
    const code = codeOf(err);
    exit =
      code === ErrorCode.USAGE
        ? ExitCode.USAGE
        : ctx.stopReason === 'max-cost'
          ? ExitCode.COST_CAP
          : ctx.stopReason === 'max-failures'
            ? ExitCode.MAX_FAILURES
            : stop.signal.aborted
              ? ExitCode.INTERRUPTED
              : ExitCode.FATAL;
    if (exit === ExitCode.FATAL) fatalMessage = messageOf(err);
    progress?.stop();
    // A request not sent because the run was stopping is the stop itself, not an error.
    if (code !== ErrorCode.ABORTED || exit === ExitCode.FATAL) stderr.write(`${pipeline.name}: ${code === ErrorCode.USAGE ? '' : 'error: '}${messageOf(err)}\n`);
    if (exit === ExitCode.USAGE) return exit;
  } finally {
    stop.dispose();
    metricsError = await metrics?.finish();
  }
  progress?.stop();
  if (ctx.stopReason === 'max-cost' && exit === ExitCode.OK) exit = ExitCode.COST_CAP;
  if (ctx.stopReason === 'max-failures' && exit === ExitCode.OK) exit = ExitCode.MAX_FAILURES;
  if (stop.signal.aborted && exit === ExitCode.OK) exit = ExitCode.INTERRUPTED;
  if (stop.signal.aborted) process.stdin.destroy();
  if (exit === ExitCode.COST_CAP) {
    stderr.write(
      `${pipeline.name}: stopped at --max-cost $${cli.maxCost}: spent ~$${costOf().toFixed(4)}${cli.checkpoint ? '; the same command with a higher --max-cost continues from the checkpoint' : ''}\n`,
    );
  }
  if (ctx.stats.alreadyComplete) {
    if (!cli.quiet) stderr.write(`${pipeline.name}: checkpoint ${cli.checkpoint} says this run already completed (${ctx.stats.recordsIn.toLocaleString('en-US')} records); nothing to do\n`);
    return exit;
  }

  const stoppedBy = STOP_KINDS[exit];
  const reasons: Record<StopKind, string> = {
    fatal: `fatal error: ${fatalMessage ?? 'the run failed'}`,
    signal: `${signalName ?? 'a signal'} received`,
    'max-cost': `the estimated cost reached --max-cost $${cli.maxCost}`,
    'max-failures': `more than --max-failures ${cli.maxFailures} documents were dead-lettered (${ctx.stats.deadLettered.toLocaleString('en-US')})`,
  };
  const summary = summarise(pipeline.name, ctx.stats, {
    ...(stoppedBy ? { stoppedBy, reason: reasons[stoppedBy] } : {}),
    ...(stoppedBy && cli.checkpoint !== undefined ? { resumeCommand: resumeCommandOf(command, argv) } : {}),
    costUsd: price ? costOf() : null,
    ...(stoppedBy ? { projectedCostUsd: projectionOf()?.costUsd } : {}),
    ...(costWarning !== undefined ? { costWarning } : {}),
    ...(typeof options.answerBaseTokens === 'number' && typeof options.answerTokensRatio === 'number'
      ? { answerPrior: { answerBaseTokens: options.answerBaseTokens, answerTokensRatio: options.answerTokensRatio } }
      : {}),
  });
  if (dryRunReport) io.stdout.write(`${dryRunReport}\n`);
  if (!cli.quiet && !dryRunReport) stderr.write(`${formatSummary(summary)}\n`);
  if (summary.deadLettered > 0 && cli.deadLetter === undefined) stderr.write(deadLetterNotice(summary, ctx.stats.firstFailures));
  if (cli.summary) {
    try {
      writeFileSync(cli.summary, `${JSON.stringify(summary, null, 2)}\n`);
    } catch (err) {
      stderr.write(`${pipeline.name}: error: cannot write --summary ${cli.summary}: ${messageOf(err)}\n`);
      if (exit === ExitCode.OK) exit = ExitCode.FATAL;
    }
  }
  if (metricsError) {
    stderr.write(`${pipeline.name}: error: ${metricsError}\n`);
    if (exit === ExitCode.OK) exit = ExitCode.FATAL;
  }
  return exit;
}

/** How a run that did not finish ended, by its exit code (a dry run or a finished run: none). */
const STOP_KINDS: Partial<Record<number, StopKind>> = {
  [ExitCode.FATAL]: 'fatal',
  [ExitCode.INTERRUPTED]: 'signal',
  [ExitCode.COST_CAP]: 'max-cost',
  [ExitCode.MAX_FAILURES]: 'max-failures',
};

/**
 * The same command line, quoted for a POSIX shell: rerun, it resumes from the checkpoint. Only the
 * arguments are shown (the key is in the environment, never on the line).
 */
export function resumeCommandOf(command: string, argv: readonly string[]): string {
  const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [command, ...argv.map(quote)].join(' ');
}

function deadLetterNotice(summary: RunSummary, first: readonly Failure[]): string {
  const lines = [`${summary.deadLettered.toLocaleString('en-US')} record(s) dead-lettered (write them all with --dead-letter FILE); first:`];
  for (const f of first) lines.push(`  ${f.source}:${f.line}${f.id !== undefined ? ` id=${f.id}` : ''} [${f.stage} ${f.code}] ${f.reason}`);
  return `${lines.join('\n')}\n`;
}

async function dryRun(
  pipeline: AnyPipeline,
  inputs: string[],
  options: Record<string, unknown>,
  ctx: RunContext,
  deadLetter: string | undefined,
  model: string | undefined,
  price: Price | undefined,
): Promise<string> {
  const sink = deadLetter ? pipeline.sink({ deadLetter, output: devNull() }) : undefined;
  const generates = generatesText(options);
  const prior = priorOf(options);
  let promptTokens = 0;
  let completion = 0;
  let requests = 0;
  try {
    for await (const item of itemsOf(pipeline, inputs, options, { context: ctx, dryRun: true })) {
      if (item.kind === 'pack') {
        const pack = item as Pack;
        requests++;
        promptTokens += pack.promptTokens;
        // Each pack's answer with its frame, as the packer expects it.
        if (generates)
          completion += packAnswerPrior(
            pack.chunks.map((c) => c.tokens),
            prior,
          );
      } else if (item.kind === 'failure') {
        await sink?.write(item as Failure);
      }
    }
  } finally {
    await sink?.close();
  }
  const docs = ctx.stats.docsParsed;
  const text = ctx.stats.textTokens;
  completion = Math.round(completion);
  const low = Math.round(completion * COMPLETION_RANGE.low);
  const high = Math.round(completion * COMPLETION_RANGE.high);
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    'dry run: nothing was sent',
    `  documents        ${n(docs)} (dead-lettered ${n(ctx.stats.deadLettered)})`,
    `  requests         ${n(requests)} (${n(ctx.stats.chunks)} chunks, ${requests ? (ctx.stats.packedDocs / requests).toFixed(2) : '0'} documents per request)`,
    `  prompt tokens    ${n(promptTokens)} (document text ${n(text)}, prompt template and delimiters ${n(promptTokens - text)})`,
    generates
      ? `  completion       ~${n(completion)} tokens, likely ${n(low)} to ${n(high)} (prior: ${prior.answerBaseTokens} + ${prior.answerTokensRatio} x each chunk's tokens; range: ${COMPLETION_RANGE.low}-${COMPLETION_RANGE.high} x the prior, where 8 in 10 answers fell on the simulator's corpus)`
      : '  completion       none (embeddings: no text is generated)',
  ];
  if (model && price) {
    const input = costUsd(price, promptTokens, 0);
    const output = costUsd(price, 0, completion);
    const rate = `$${price.input}/$${price.output} per 1M tokens${options.batchApi === true ? ', Batch API rate: half of live' : ''}`;
    const spread = generates ? `, likely $${(input + costUsd(price, 0, low)).toFixed(4)} to $${(input + costUsd(price, 0, high)).toFixed(4)}` : '';
    lines.push(`  estimated cost   $${(input + output).toFixed(4)} for ${model}${spread} (input $${input.toFixed(4)}${generates ? ` + output ~$${output.toFixed(4)}` : ''}; ${rate})`);
  } else if (model) {
    lines.push(`  estimated cost   unknown: no price for ${model} (give --price-input and --price-output)`);
  }
  return lines.join('\n');
}

/** A pipeline whose answers are generated text (kg) has --max-output-tokens; an embedding has none. */
function generatesText(options: Record<string, unknown>): boolean {
  return 'maxOutputTokens' in options;
}

/** The answer prior's options: the pipeline's when it has them, their defaults otherwise. */
function priorOf(options: Record<string, unknown>): AnswerPriorOptions {
  const given: Record<string, unknown> = {};
  for (const key of ['answerBaseTokens', 'answerTokensRatio'] as const) if (typeof options[key] === 'number') given[key] = options[key];
  return resolveOptions(answerPriorOptionSpecs, given);
}

/** A dry run writes no results; only its dead letters go to a file. */
function devNull(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}
