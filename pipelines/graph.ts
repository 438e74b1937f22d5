#!/usr/bin/env node
/**
 * graph: one merged knowledge graph from per-document results, in an SQLite store.
 *
 *   node pipelines/graph.js add graph.db < out.jsonl            (or FILE arguments; created if absent)
 *   node pipelines/graph.js export graph.db --format neo4j|graphml|tables --out PATH
 *   node pipelines/graph.js stats graph.db
 *   node pipelines/graph.js check graph.db
 *
 * Importing this file has no side effects; running it runs the CLI. Details: docs/graph.md.
 */
import { existsSync, statSync } from 'node:fs';
import { GRAPH_EXIT_CODES } from '../lib/cli/exit-codes.js';
import { helpText } from '../lib/cli/help.js';
import { parseSpecArgs } from '../lib/cli/parse-args.js';
import { cli, ioOf, runProgram, type CliIo, type ProgramIo } from '../lib/cli/program.js';
import { stopOnSignals } from '../lib/cli/signals.js';
import { ExitCode, usageError } from '../lib/runtime/errors.js';
import { checkGraph } from '../lib/graph/check.js';
import { exportGraphml } from '../lib/graph/export-graphml.js';
import { exportNeo4j, type ExportReport } from '../lib/graph/export-neo4j.js';
import { exportTables } from '../lib/graph/export-tables.js';
import { DEFAULT_CACHE_MB } from '../lib/graph/schema.js';
import { formatStats, graphStats } from '../lib/graph/stats.js';
import { GraphStore } from '../lib/graph/store.js';
import { defineOptions, resolveOptions, type OptionSpec, type OptionsOf } from '../lib/runtime/options.js';
import { readOptionSpecs } from '../stages/read.js';
import { runAdd, type AddCliOptions } from './graph-add.js';

export { addToGraph, type AddSummary, type AddHooks } from './graph-add.js';

// Shared by several commands; declared with defineOptions so each command's options type follows from its specs.
const [helpSpec, quietSpec, cacheSpec] = defineOptions([
  { name: 'help', short: 'h', type: 'boolean', default: false, description: 'Show this help' },
  { name: 'quiet', short: 'q', type: 'boolean', default: false, description: 'No summary (bad lines are still counted on stderr)' },
  { name: 'cache-mb', type: 'integer', default: DEFAULT_CACHE_MB, min: 1, description: "SQLite page cache in MiB: the store's share of memory" },
]);

export const addOptionSpecs = defineOptions([
  { name: 'batch-size', type: 'integer', default: 1000, min: 1, description: 'Documents per transaction (larger is faster; memory grows with it)' },
  ...readOptionSpecs,
  { name: 'dead-letter', type: 'string', description: 'Write bad lines as JSONL dead letters to this file; without it stderr shows their count and first reasons' },
  cacheSpec,
  { name: 'progress', type: 'boolean', default: false, description: 'Show progress on stderr even when it is not a terminal' },
  quietSpec,
  helpSpec,
]);

export const exportOptionSpecs = defineOptions([
  {
    name: 'format',
    type: 'string',
    choices: ['neo4j', 'graphml', 'tables'],
    description: 'neo4j (a directory: nodes.csv, relationships.csv, import.sh), graphml (a file) or tables (a directory: GraphRAG-style entities.csv, relationships.csv)',
  },
  { name: 'out', short: 'o', type: 'string', description: 'Where to write: a directory for neo4j and tables (created if absent), a file for graphml' },
  cacheSpec,
  helpSpec,
]);

export const statsOptionSpecs = defineOptions([
  { name: 'top', type: 'integer', default: 10, min: 0, description: 'How many top entities, relation types and relations to list' },
  { name: 'json', type: 'boolean', default: false, description: 'Print the figures as JSON' },
  helpSpec,
]);

export const checkOptionSpecs = defineOptions([helpSpec]);

interface Command {
  summary: string;
  args: string;
  specs: readonly OptionSpec[];
  /** Takes FILE arguments after the graph. */
  files?: boolean;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  add: {
    summary: 'Merge result lines (kg output) into GRAPH, created if absent; re-adding a document id replaces its earlier contribution',
    args: 'GRAPH [FILE...]',
    specs: addOptionSpecs,
    files: true,
  },
  export: { summary: 'Write GRAPH for Neo4j (neo4j-admin import), GraphML tools (networkx, Gephi) or GraphRAG-style tables', args: 'GRAPH --format FORMAT --out PATH', specs: exportOptionSpecs },
  stats: { summary: 'Nodes, edges, merges made, top entities and relations', args: 'GRAPH', specs: statsOptionSpecs },
  check: { summary: 'Verify the store: SQLite integrity and every aggregate against the per-document rows (exit 1 if not consistent)', args: 'GRAPH', specs: checkOptionSpecs },
};

const PROGRAM = 'node pipelines/graph.js';

export function graphHelp(command?: string): string {
  const c = command === undefined ? undefined : COMMANDS[command];
  if (c && command) {
    return helpText({
      usage: `${PROGRAM} ${command} ${c.args} [options]`,
      about: [c.summary + '.', ...(c.files ? ['Reads JSONL, a JSON array, or either gzipped, from the FILEs in order, or from stdin when none is given.'] : [])],
      specs: c.specs,
      exitCodes: GRAPH_EXIT_CODES,
    });
  }
  return helpText({
    usage: `${PROGRAM} <command> GRAPH [options]`,
    about: ['One merged knowledge graph from per-document results (node pipelines/kg.js output), kept in an SQLite file.'],
    sections: [
      ['Commands:', ...Object.entries(COMMANDS).map(([name, cmd]) => `  ${`${name} ${cmd.args}`.padEnd(42)}${cmd.summary}`)],
      [`Options of a command: ${PROGRAM} <command> --help. Store schema, merge rules and export formats: docs/graph.md.`],
    ],
    exitCodes: GRAPH_EXIT_CODES,
  });
}

interface Parsed {
  command: string;
  graph: string;
  inputs: string[];
  options: Record<string, unknown>;
  help: boolean;
}

export function parseGraphCommandLine(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (command === undefined) throw usageError(`a command is required: ${Object.keys(COMMANDS).join(', ')} (see --help)`);
  if (command === '--help' || command === '-h') return { command: '', graph: '', inputs: [], options: {}, help: true };
  const spec = COMMANDS[command];
  if (!spec) throw usageError(`unknown command ${JSON.stringify(command)}: expected ${Object.keys(COMMANDS).join(', ')} (see --help)`);
  const { given, positionals } = parseSpecArgs(spec.specs, rest, { prefix: `${command}: `, hint: `see ${PROGRAM} ${command} --help` });
  const { help, ...values } = given;
  if (help === true) return { command, graph: '', inputs: [], options: {}, help: true };
  const options = resolveOptions<Record<string, unknown>>(
    spec.specs.filter((s) => s.name !== 'help'),
    values,
  );
  const [graph, ...inputs] = positionals;
  if (graph === undefined) throw usageError(`${command}: the graph file is required: ${PROGRAM} ${command} ${spec.args}`);
  if (!spec.files && inputs.length > 0) throw usageError(`${command}: unexpected argument ${JSON.stringify(inputs[0])}: ${PROGRAM} ${command} ${spec.args}`);
  return { command, graph, inputs, options, help: false };
}

async function runExport(p: Parsed, io: ProgramIo): Promise<number> {
  const o = p.options as Omit<OptionsOf<typeof exportOptionSpecs>, 'help'>;
  if (o.format === undefined) throw usageError('export: --format is required (neo4j, graphml or tables)');
  if (o.out === undefined) throw usageError(`export: --out is required (${o.format === 'graphml' ? 'a file' : 'a directory'})`);
  const isDir = existsSync(o.out) && statSync(o.out).isDirectory();
  if (o.format === 'graphml' && isDir) throw usageError(`export: --out ${o.out} is a directory; graphml writes one file`);
  if (o.format !== 'graphml' && existsSync(o.out) && !isDir) throw usageError(`export: --out ${o.out} is a file; ${o.format} writes a directory`);
  const store = GraphStore.open(p.graph, { readonly: true, cacheMb: o.cacheMb });
  let report: ExportReport;
  try {
    report = o.format === 'neo4j' ? await exportNeo4j(store, o.out) : o.format === 'graphml' ? await exportGraphml(store, o.out) : await exportTables(store, o.out);
  } finally {
    store.close();
  }
  const n = (x: number) => x.toLocaleString('en-US');
  io.stdout.write(`exported ${n(report.nodes)} nodes and ${n(report.edges)} edges: ${report.files.join(', ')}\n`);
  if (report.next) io.stdout.write(`import with: ${report.next}\n`);
  return ExitCode.OK;
}

function runStats(p: Parsed, io: ProgramIo): number {
  const o = p.options as Omit<OptionsOf<typeof statsOptionSpecs>, 'help'>;
  const store = GraphStore.open(p.graph, { readonly: true });
  try {
    const s = graphStats(store, o.top);
    io.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStats(s, p.graph)}\n`);
  } finally {
    store.close();
  }
  return ExitCode.OK;
}

function runCheck(p: Parsed, io: ProgramIo): number {
  const store = GraphStore.open(p.graph, { readonly: true });
  try {
    const problems = checkGraph(store);
    if (problems.length === 0) {
      io.stdout.write(`${p.graph}: consistent\n`);
      return ExitCode.OK;
    }
    io.stdout.write(`${p.graph}: NOT consistent\n${problems.map((x) => `  ${x}`).join('\n')}\n`);
    return ExitCode.FATAL;
  } finally {
    store.close();
  }
}

/** Runs the graph command line; resolves with the exit code. */
export async function runGraphCli(argv: readonly string[] = process.argv.slice(2), cliIo: CliIo = {}): Promise<number> {
  return runProgram('graph', ioOf(cliIo), async (io) => {
    const parsed = parseGraphCommandLine(argv);
    if (parsed.help) {
      io.stdout.write(`${graphHelp(parsed.command || undefined)}\n`);
      return ExitCode.OK;
    }
    const stop = stopOnSignals((sig) => io.stderr.write(`\ngraph: ${sig}: stopping (committing what was read; press Ctrl-C again to exit at once)\n`));
    try {
      switch (parsed.command) {
        case 'add':
          return await runAdd(parsed.graph, parsed.inputs, parsed.options as Omit<OptionsOf<typeof addOptionSpecs>, 'help'> satisfies AddCliOptions, io, stop.signal);
        case 'export':
          return await runExport(parsed, io);
        case 'stats':
          return runStats(parsed, io);
        default:
          return runCheck(parsed, io);
      }
    } finally {
      stop.dispose();
      if (stop.signal.aborted) process.stdin.destroy();
    }
  });
}

await cli(import.meta.url, runGraphCli);
