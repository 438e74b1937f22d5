/**
 * The merged graph at scale: `node pipelines/graph.js add` fed by a generator of result lines with
 * many repeated entities (bench/generate-results.ts, seeded, produced on the fly and never stored),
 * in a child process whose peak RSS is sampled from /proc. For each size: documents/s, entity rows
 * merged per second, final nodes and edges, peak RSS (flat from 100K to 1M documents is the claim),
 * then a GraphML export of the result with its own peak RSS. The baseline, in the same run, merges
 * the same lines into JavaScript Maps (the graph held in the heap, as in-memory tools do) and
 * reports its peak RSS.
 *
 *   npm run build && node bench/graph-build.js [--sizes 100000,1000000] [--seed 1] [--vocabulary 100000]
 *     [--batch-size 1000] [--no-baseline] [--no-export]
 *
 * Writes bench/results/graph-build.json. Linux only (peak RSS is VmHWM from /proc/PID/status).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isMain } from '../lib/cli/is-main.js';
import { benchArgs } from './bench-cli.js';
import { contributionOf } from '../lib/graph/contribution.js';
import { generateResults, generatedResultsJsonl } from './generate-results.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const GRAPH_CLI = here('../pipelines/graph.js');
const RESULTS = here('./results/graph-build.json');
const SAMPLE_MS = 200;

interface Params {
  seed: number;
  vocabulary: number;
  skew: number;
  batchSize: number;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // exited
  }
}

/** Samples a child's peak RSS until it exits (VmHWM only grows, so the last reading is the peak so far). */
function watch(child: ChildProcess, onSample?: () => void): Promise<{ code: number | null; peakKb: number; seconds: number }> {
  const started = performance.now();
  let peakKb = 0;
  const timer = setInterval(() => {
    const hwm = statusKb(child.pid!, 'VmHWM');
    if (hwm !== undefined) peakKb = Math.max(peakKb, hwm);
    onSample?.();
  }, SAMPLE_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, peakKb, seconds: (performance.now() - started) / 1000 });
    });
  });
}

function documentsIn(db: string): number {
  try {
    const c = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return c.prepare('SELECT count(*) FROM documents').pluck().get() as number;
    } finally {
      c.close();
    }
  } catch {
    return 0;
  }
}

async function buildOnce(count: number, p: Params, dir: string) {
  const db = join(dir, `graph-${count}.db`);
  const child = spawn(process.execPath, [GRAPH_CLI, 'add', db, '-q', '--batch-size', String(p.batchSize)], { stdio: ['pipe', 'inherit', 'inherit'] });
  const feed = generatedResultsJsonl(count, p.seed, { vocabulary: p.vocabulary, skew: p.skew });
  feed.pipe(child.stdin!);
  // RSS against progress, a few points per run: flat means it does not climb with documents.
  const curve: [documents: number, rssMb: number][] = [];
  let lastCurve = 0;
  const run = await watch(child, () => {
    const now = performance.now();
    if (now - lastCurve < Math.max(2000, count / 50)) return;
    lastCurve = now;
    const rss = statusKb(child.pid!, 'VmRSS');
    if (rss !== undefined) curve.push([documentsIn(db), Math.round(rss / 102.4) / 10]);
  });
  if (run.code !== 0) throw new Error(`graph add exited with ${run.code}`);
  const c = new Database(db, { readonly: true });
  const figures = c
    .prepare(
      'SELECT (SELECT count(*) FROM documents) AS documents, (SELECT count(*) FROM nodes) AS nodes, (SELECT count(*) FROM edges) AS edges, (SELECT count(*) FROM mentions) AS entityRows, (SELECT count(*) FROM aliases) AS surfaceForms',
    )
    .get() as Record<string, number>;
  c.close();
  return { db, run, curve, figures, dbMb: Math.round(statSync(db).size / 1024 / 102.4) / 10 };
}

async function exportOnce(db: string, dir: string) {
  const out = join(dir, 'graph.graphml');
  const child = spawn(process.execPath, [GRAPH_CLI, 'export', db, '--format', 'graphml', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const run = await watch(child);
  if (run.code !== 0) throw new Error(`graph export exited with ${run.code}`);
  const fileMb = Math.round(statSync(out).size / 1024 / 102.4) / 10;
  rmSync(out);
  return { format: 'graphml', seconds: round(run.seconds, 1), peakRssMb: mb(run.peakKb), fileMb };
}

/** Child mode: the same lines merged in JavaScript Maps; prints its peak RSS as JSON. */
function baselineChild(count: number, p: Params): void {
  const started = performance.now();
  const nodes = new Map<string, { aliases: Map<string, number>; docs: string[]; mentions: number }>();
  const edges = new Map<string, { weight: number; docs: string[] }>();
  for (const line of generateResults(count, p.seed, { vocabulary: p.vocabulary, skew: p.skew })) {
    const c = contributionOf(JSON.parse(JSON.stringify(line)));
    for (const n of c.nodes) {
      let node = nodes.get(n.key);
      if (!node) nodes.set(n.key, (node = { aliases: new Map(), docs: [], mentions: 0 }));
      node.mentions += n.mentions;
      node.docs.push(c.docId);
      for (const f of n.forms) node.aliases.set(f.surface, (node.aliases.get(f.surface) ?? 0) + f.count);
    }
    for (const e of c.edges) {
      let edge = edges.get(e.id);
      if (!edge) edges.set(e.id, (edge = { weight: 0, docs: [] }));
      edge.weight += e.weight;
      edge.docs.push(c.docId);
    }
  }
  process.stdout.write(`${JSON.stringify({ nodes: nodes.size, edges: edges.size, seconds: (performance.now() - started) / 1000, peakRssKb: process.resourceUsage().maxRSS })}\n`);
}

async function baseline(count: number, p: Params) {
  const child = spawn(
    process.execPath,
    [here('./graph-build.js'), '--baseline-child', '--count', String(count), '--seed', String(p.seed), '--vocabulary', String(p.vocabulary), '--skew', String(p.skew)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const run = await watch(child);
  if (run.code !== 0) return { error: `exited with ${run.code} (out of memory?)`, peakRssMb: mb(run.peakKb) };
  const r = JSON.parse(out) as { nodes: number; edges: number; seconds: number; peakRssKb: number };
  return { nodes: r.nodes, edges: r.edges, seconds: round(r.seconds, 1), peakRssMb: mb(Math.max(r.peakRssKb, run.peakKb)) };
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
const mb = (kb: number) => round(kb / 1024, 1);

function cpusAllowed(): string {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const values = benchArgs({
    script: 'bench/graph-build.js',
    about: ['The merged graph at scale: graph add fed by generated result lines, peak RSS sampled, a GraphML export, and an in-heap baseline.'],
    specs: [
      { name: 'sizes', type: 'string', default: '100000,1000000', description: 'Document counts to run, comma-separated' },
      { name: 'seed', type: 'integer', default: 1, description: 'Seed of the generated result lines' },
      { name: 'vocabulary', type: 'integer', default: 100000, min: 1, description: 'Distinct entities drawn from' },
      { name: 'skew', type: 'number', default: 1.1, min: 0, description: 'Zipf-like skew of the entity draws' },
      { name: 'batch-size', type: 'integer', default: 1000, min: 1, description: 'graph add --batch-size' },
      { name: 'no-baseline', type: 'boolean', default: false, description: 'Skip the in-heap baseline' },
      { name: 'no-export', type: 'boolean', default: false, description: 'Skip the GraphML export' },
      { name: 'baseline-child', type: 'boolean', default: false, description: 'Internal: run as the baseline child process (with --count)' },
      { name: 'count', type: 'integer', min: 0, description: 'Internal: documents of the baseline child' },
    ],
  });
  const p: Params = { seed: values.seed, vocabulary: values.vocabulary, skew: values.skew, batchSize: values.batchSize };
  if (values.baselineChild) return baselineChild(values.count ?? 0, p);

  const sizes = values.sizes.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`--sizes: positive integers, comma-separated (got ${values.sizes})`);
  const dir = mkdtempSync(join(os.tmpdir(), 'sluice-graph-bench-'));
  const loadAtStart = os.loadavg().map((x) => round(x, 2));
  const runs: Record<string, unknown>[] = [];
  try {
    for (const count of sizes) {
      console.log(`graph add: ${count.toLocaleString('en-US')} documents ...`);
      const b = await buildOnce(count, p, dir);
      const f = b.figures;
      const row: Record<string, unknown> = {
        documents: f.documents,
        wallSeconds: round(b.run.seconds, 1),
        docsPerSecond: Math.round(f.documents! / b.run.seconds),
        entityRows: f.entityRows,
        entityRowsPerSecond: Math.round(f.entityRows! / b.run.seconds),
        nodes: f.nodes,
        edges: f.edges,
        surfaceForms: f.surfaceForms,
        peakRssMb: mb(b.run.peakKb),
        rssByDocuments: b.curve,
        storeMb: b.dbMb,
      };
      console.log(
        `  ${row.wallSeconds} s, ${row.docsPerSecond} docs/s, ${row.entityRowsPerSecond} entity rows/s, ${f.nodes} nodes, ${f.edges} edges, peak RSS ${row.peakRssMb} MB, store ${b.dbMb} MB`,
      );
      if (!values.noExport) {
        row.export = await exportOnce(b.db, dir);
        console.log(`  export graphml: ${JSON.stringify(row.export)}`);
      }
      rmSync(b.db, { force: true });
      if (!values.noBaseline) {
        row.baselineInMemory = await baseline(count, p);
        console.log(`  baseline (in-memory Maps): ${JSON.stringify(row.baselineInMemory)}`);
      }
      runs.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const peaks = runs.map((r) => r.peakRssMb as number);
  const result = {
    name: 'graph-build',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    cpusAllowed: cpusAllowed(),
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    loadAverageAtStart: loadAtStart,
    note: 'shared machine: wall times include contention from other processes (see loadAverageAtStart)',
    generator: { seed: p.seed, vocabulary: p.vocabulary, zipfSkew: p.skew, entitiesPerDocument: '3-12 (repeats folded)', variantsPerEntity: 5 },
    batchSize: p.batchSize,
    runs,
    peakRssRatioLargestToSmallest: peaks.length > 1 ? round(peaks[peaks.length - 1]! / peaks[0]!, 2) : null,
  };
  mkdirSync(here('./results'), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
}

if (isMain(import.meta.url)) await main();
