/**
 * Parser benchmark: `npm run bench` (= `node --expose-gc bin/run-ts.js bench/run-benchmarks.ts`).
 *
 * For transcripts of 1, 10 and 100 MB generated from the bundled example (bench/generate-transcript.ts), it
 * times `parseTranscript(bytes)` (decoding included, since uploads are bytes) beside a bare `text.split('\n')`
 * over the same text in the same process, reports medians, MB/s, the parser/split speed ratio and how the
 * time scales from 1 to 100 MB, and measures the peak RSS of one 100 MB parse in a fresh child process
 * (bench/parse-once.ts). Then the analysis and clustering benchmarks, and last the end-to-end pipeline benchmark
 * (bench/pipeline-benchmark.ts: uploads of 50 KB transcripts through the API, the queue and two workers, each in
 * a child process, on the local PostgreSQL, Redis and an s3rver, beside a raw S3 put + INSERT loop), and the Fleet
 * API benchmark (bench/fleet-api-benchmark.ts: the fleet read endpoints under autocannon on a database of 1 M
 * reports made by bench/generate-fleet.ts, beside `GET /healthz`; that database, `hangsleuth_bench_fleet`, is kept
 * and reused by later runs while its parameters match and it is less than a day old, so only the first run spends
 * the few minutes of generating it).
 * Results go to stdout and to BENCHMARKS.md; goals are marked PASS/FAIL there.
 * Nothing here is a test: speed is never asserted in tests.
 *
 * Options (flags, or the environment for `npm run bench` without `--`):
 *   --sizes 1,10       sizes in MB to run (BENCH_SIZES); default 1,10,100
 *   --seed N           generator seed (BENCH_SEED); default 20417
 *   --write/--no-write write BENCHMARKS.md (default: only when all three default sizes ran)
 *   --no-pipeline      skip the pipeline benchmark (BENCH_PIPELINE=0)
 *   --pipeline-uploads N   measured uploads per worker layout (BENCH_PIPELINE_UPLOADS); default 500
 *   (also BENCH_PIPELINE_CONCURRENCY, BENCH_PIPELINE_LAYOUTS, BENCH_PIPELINE_PROFILE_UPLOADS: see bench/pipeline-benchmark.ts)
 *   --no-fleet         skip the Fleet API benchmark (BENCH_FLEET=0)
 *   --fleet-regenerate generate its database anew even if a matching one is kept (BENCH_FLEET_REGENERATE=1)
 *   (also BENCH_FLEET_DURATION, BENCH_FLEET_CONNECTIONS, BENCH_FLEET_WARMUP, BENCH_FLEET_SINGLE, BENCH_FLEET_MAX_AGE_HOURS,
 *   BENCH_FLEET_API_ENV, BENCH_FLEET_UNCACHED, BENCH_FLEET_REPORTS/_CLUSTERS/_SERVERS/_DAYS/_SEED: see bench/fleet-api-benchmark.ts)
 *   --no-dashboard     skip the dashboard benchmark (BENCH_DASHBOARD=0; bench/dashboard-benchmark.ts: the fleet page's time
 *                      to first screen in headless Chromium on the Fleet API benchmark's 10 k clusters, beside an empty
 *                      page; also BENCH_DASHBOARD_RUNS, BENCH_DASHBOARD_UNCACHED, BENCH_CHROMIUM)
 *   --no-webhooks      skip the webhook delivery benchmark (BENCH_WEBHOOKS=0; bench/webhook-benchmark.ts: deliveries/s
 *                      from one worker to a local receiver with 1,000 subscriptions, beside raw fetch; also
 *                      BENCH_WEBHOOK_ENDPOINTS, BENCH_WEBHOOK_CLUSTERS, BENCH_WEBHOOK_CONCURRENCY, BENCH_WEBHOOK_NODE_ARGS)
 *   --only pipeline,fleet,dashboard,webhooks  run only these service benchmarks (BENCH_ONLY), not the parser, analysis and clustering
 *                      ones; their sections (and Goals rows) of the existing BENCHMARKS.md are replaced in place,
 *                      the rest of it kept (unless --no-write)
 * MB = 1,048,576 bytes throughout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { judge, parseTranscript } from '../services/engine/index.ts';
import { benchmarkClustering, type ClusterBenchmark } from './cluster-benchmark.ts';
import { floorScan } from './floor-scan.ts';
import { generateThreadDump } from './generate-thread-dump.ts';
import { generateTranscriptBytes } from './generate-transcript.ts';
import type { ParseOnceReport } from './parse-once.ts';
import { median } from './support/measure.ts';
import {
  benchmarkPipeline,
  PIPELINE_GOAL_PER_SECOND,
  pipelineGoal,
  pipelineOptionsFromEnv,
  pipelineSection,
  positiveInteger,
  type PipelineBenchmark,
  type PipelineOptions,
} from './pipeline-benchmark.ts';
import { benchmarkWebhooks, WEBHOOK_GOAL_TEXT, WEBHOOK_SECTION_HEADING, webhookGoal, webhookOptionsFromEnv, webhookSection, type WebhookBenchmark, type WebhookOptions } from './webhook-benchmark.ts';
import { benchmarkDashboard, DASHBOARD_GOAL_MS, DASHBOARD_SECTION_HEADING, dashboardGoal, dashboardOptionsFromEnv, dashboardSection, type DashboardBenchmark, type DashboardOptions } from './dashboard-benchmark.ts';
import { benchmarkFleetApi, FLEET_GOAL_P99_MS, FLEET_SECTION_HEADING, fleetGoal, fleetOptionsFromEnv, fleetSection, type FleetApiBenchmark, type FleetApiOptions } from './fleet-api-benchmark.ts';

const MB = 1024 * 1024;
const DEFAULT_SIZES = [1, 10, 100];
const RUNS: Record<number, number> = { 1: 5, 10: 3, 100: 3 };
const GOAL_RATIO = 0.3;
const GOAL_SCALING = 110;
const GOAL_RSS_MB = 512;
const COMMAND = 'npm run bench';
const SCRIPT = 'node --expose-gc bin/run-ts.js bench/run-benchmarks.ts';
const EXAMPLE = 'examples/hung-logon-worker-queue.txt';

const root = fileURLToPath(new URL('..', import.meta.url));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const hasGc = typeof (globalThis as { gc?: () => void }).gc === 'function';

interface SizeResult {
  sizeMb: number;
  bytes: number;
  lines: number;
  threads: number;
  runs: number;
  parseMs: number[];
  splitMs: number[];
  floorMs: number[];
}

interface Options {
  sizes: number[];
  seed: number;
  write: boolean | null;
  /** Run the pipeline benchmark, with these overrides of its defaults; null: skip it. */
  pipeline: Partial<PipelineOptions> | null;
  /** Run the Fleet API benchmark, with these overrides of its defaults; null: skip it. */
  fleet: Partial<FleetApiOptions> | null;
  /** Run the dashboard benchmark, with these overrides of its defaults; null: skip it. */
  dashboard: Partial<DashboardOptions> | null;
  /** Run the webhook delivery benchmark, with these overrides of its defaults; null: skip it. */
  webhooks: Partial<WebhookOptions> | null;
  /** Only these service benchmarks, spliced into the existing BENCHMARKS.md; null: the whole run. */
  only: ServiceBenchmark[] | null;
}

const SERVICE_BENCHMARKS = ['pipeline', 'fleet', 'dashboard', 'webhooks'] as const;
type ServiceBenchmark = (typeof SERVICE_BENCHMARKS)[number];

function parseOnly(text: string): ServiceBenchmark[] {
  const names = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const unknown = names.filter((name) => !(SERVICE_BENCHMARKS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) throw new Error(`bad --only ${text} (a comma-separated list of: ${SERVICE_BENCHMARKS.join(', ')})`);
  return [...new Set(names)] as ServiceBenchmark[];
}

function parseOptions(argv: string[]): Options {
  let sizesText = process.env['BENCH_SIZES'] ?? '';
  let seedText = process.env['BENCH_SEED'] ?? '20417';
  let write: boolean | null = null;
  let pipeline: Partial<PipelineOptions> | null = process.env['BENCH_PIPELINE'] === '0' ? null : pipelineOptionsFromEnv();
  let fleet: Partial<FleetApiOptions> | null = process.env['BENCH_FLEET'] === '0' ? null : fleetOptionsFromEnv();
  let dashboard: Partial<DashboardOptions> | null = process.env['BENCH_DASHBOARD'] === '0' ? null : dashboardOptionsFromEnv();
  let webhooks: Partial<WebhookOptions> | null = process.env['BENCH_WEBHOOKS'] === '0' ? null : webhookOptionsFromEnv();
  let only: ServiceBenchmark[] | null = process.env['BENCH_ONLY'] ? parseOnly(process.env['BENCH_ONLY']) : null;
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      seed: { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      'no-pipeline': { type: 'boolean' },
      'pipeline-uploads': { type: 'string' },
      'no-fleet': { type: 'boolean' },
      'fleet-regenerate': { type: 'boolean' },
      'no-dashboard': { type: 'boolean' },
      'no-webhooks': { type: 'boolean' },
      only: { type: 'string' },
    },
  });
  if (values.sizes !== undefined) sizesText = values.sizes;
  if (values.seed !== undefined) seedText = values.seed;
  if (values.write) write = true;
  if (values['no-write']) write = false;
  if (values['pipeline-uploads'] !== undefined) pipeline = { ...(pipeline ?? pipelineOptionsFromEnv()), uploads: positiveInteger('--pipeline-uploads', values['pipeline-uploads']) };
  if (values['fleet-regenerate']) fleet = { ...(fleet ?? fleetOptionsFromEnv()), regenerate: true };
  // A --no-… flag wins over the options of the benchmark it skips.
  if (values['no-pipeline']) pipeline = null;
  if (values['no-fleet']) fleet = null;
  if (values['no-dashboard']) dashboard = null;
  if (values['no-webhooks']) webhooks = null;
  if (values.only !== undefined) only = parseOnly(values.only);
  const sizes = sizesText.trim() === '' ? DEFAULT_SIZES : sizesText.split(',').map((part) => Number(part.trim()));
  if (sizes.some((size) => !Number.isFinite(size) || size <= 0)) throw new Error(`bad --sizes ${sizesText}`);
  const seed = Number(seedText);
  if (!Number.isInteger(seed)) throw new Error(`bad --seed ${seedText}`);
  if (only) {
    if (!only.includes('pipeline')) pipeline = null;
    if (!only.includes('fleet')) fleet = null;
    if (!only.includes('dashboard')) dashboard = null;
    if (!only.includes('webhooks')) webhooks = null;
  }
  return { sizes: [...new Set(sizes)].sort((a, b) => a - b), seed, write, pipeline, fleet, dashboard, webhooks, only };
}

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

/** Keeps results observable so that nothing measured can be optimised away. */
let sink = 0;

function timeParse(bytes: Uint8Array): { ms: number; lines: number; threads: number } {
  gc();
  const start = performance.now();
  const model = parseTranscript(bytes);
  const ms = performance.now() - start;
  const threads = model.sessions.reduce((sum, session) => sum + session.threads.length, 0);
  sink += model.source.lineCount;
  return { ms, lines: model.source.lineCount, threads };
}

function timeSplit(text: string): number {
  gc();
  const start = performance.now();
  const lines = text.split('\n');
  sink += lines.length;
  return performance.now() - start;
}

function timeFloorScan(bytes: Uint8Array): number {
  gc();
  const start = performance.now();
  const scanned = floorScan(bytes);
  sink += scanned.frames.length;
  return performance.now() - start;
}

function measureSize(example: string, sizeMb: number, seed: number): SizeResult {
  const bytes = generateTranscriptBytes(example, Math.round(sizeMb * MB), seed);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const runs = RUNS[sizeMb] ?? 3;
  const result: SizeResult = { sizeMb, bytes: bytes.byteLength, lines: 0, threads: 0, runs, parseMs: [], splitMs: [], floorMs: [] };
  // Interleaved, so that drift (thermal, other load) hits both sides alike.
  for (let run = 0; run < runs; run++) {
    result.splitMs.push(timeSplit(text));
    result.floorMs.push(timeFloorScan(bytes));
    const parsed = timeParse(bytes);
    result.parseMs.push(parsed.ms);
    result.lines = parsed.lines;
    result.threads = parsed.threads;
  }
  return result;
}

/**
 * The memory child runs compiled JavaScript (`npm run build`), as a deployed worker does: under the tsx loader
 * the same parse would also carry the loader's own memory.
 */
function measureRssInChild(sizeMb: number, seed: number): ParseOnceReport {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const child = spawnSync(process.execPath, ['--expose-gc', 'dist/bench/parse-once.js', String(sizeMb), String(seed)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) {
    throw new Error(`bench/parse-once.ts ${sizeMb} ${seed} failed (${child.status ?? child.signal}): ${child.stderr}`);
  }
  const lastLine = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(lastLine) as ParseOnceReport;
}

function engineRevision(): string {
  return revisionOf(['services/engine']);
}

/** The commit, and the files under `paths` that differ from it. */
function revisionOf(paths: string[]): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', ...paths], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .map((line) => line.slice(3).trim())
      .filter((path) => path !== '');
    return dirty.length === 0 ? commit : `${commit} + uncommitted changes in ${dirty.join(', ')}`;
  } catch {
    return 'unknown (no git)';
  }
}

const fixed = (value: number, digits: number): string => value.toFixed(digits);
const mib = (bytes: number): string => `${fixed(bytes / MB, 0)} MB`;
const verdict = (pass: boolean | null): string => (pass === null ? 'not measured' : pass ? '**PASS**' : '**FAIL**');

interface AnalysisRow {
  input: string;
  threads: number;
  parseMs: number;
  analyzeMs: number;
  verdict: string;
}

/** Parse, then analysis alone (`judge`), each the median of a few runs, on the same input. */
function measureAnalysis(input: string, bytes: Uint8Array, runs: number): AnalysisRow {
  const parses: number[] = [];
  const analyses: number[] = [];
  let threads = 0;
  let verdictKind = '';
  judge(parseTranscript(bytes)); // untimed warm-up of both stages on this input
  for (let i = 0; i < runs; i++) {
    gc();
    let start = performance.now();
    const model = parseTranscript(bytes);
    parses.push(performance.now() - start);
    gc();
    start = performance.now();
    const verdict = judge(model);
    analyses.push(performance.now() - start);
    threads = model.sessions.reduce((sum, session) => sum + session.threads.length, 0);
    verdictKind = `${verdict.verdict} (${verdict.findings.length} findings)`;
  }
  return { input, threads, parseMs: median(parses), analyzeMs: median(analyses), verdict: verdictKind };
}

function analysisSection(rows: AnalysisRow[]): string[] {
  const lines = ['## Analysis (wait-for graph, root blockers, verdict)', ''];
  lines.push('Parse: `parseTranscript(bytes)`; analysis: `judge(model)` on its result, timed apart, medians of the runs.', '');
  lines.push('| Input | Threads | Parse (ms) | Analysis (ms) | Analysis ÷ parse | Verdict |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const row of rows) {
    lines.push(`| ${row.input} | ${row.threads.toLocaleString('en-US')} | ${fixed(row.parseMs, 1)} | ${fixed(row.analyzeMs, 1)} | ${fixed(row.analyzeMs / row.parseMs, 2)} | ${row.verdict} |`);
  }
  const row = (size: number) => rows.find((candidate) => candidate.input === `generated ${size} MB`);
  lines.push('');
  // Linearity is judged from 10 MB to 100 MB: at 1 MB both times are a few milliseconds of fixed cost and JIT.
  for (const [from, to, judged] of [[1, 100, false], [10, 100, true]] as const) {
    const small = row(from);
    const large = row(to);
    if (!small || !large) continue;
    const analysisGrowth = large.analyzeMs / small.analyzeMs;
    const parseGrowth = large.parseMs / small.parseMs;
    const ratio = analysisGrowth / parseGrowth;
    lines.push(
      `- Growth from ${from} MB to ${to} MB: analysis ×${fixed(analysisGrowth, 1)}, parse ×${fixed(parseGrowth, 1)}; ` +
        `analysis growth ÷ parse growth = **${fixed(ratio, 2)}**${judged ? ` (goal ≤ 1.5: ${ratio <= 1.5 ? '**PASS**' : '**FAIL**'})` : ' (for information)'}.`,
    );
  }
  lines.push('');
  return lines;
}

interface RunContext {
  totalSeconds: number;
  loadAtStart: number[];
  revisionAtStart: string;
  /** What the pipeline benchmark ran: the commit and any uncommitted change to the service's code. */
  serviceRevision: string;
}

function clusterSection(result: ClusterBenchmark): string[] {
  const perSecond = (ms: number) => Math.round(result.findings / (ms / 1000)).toLocaleString('en-US');
  return [
    '## Clustering',
    '',
    `${result.findings.toLocaleString('en-US')} generated findings over ${result.rootCauses.toLocaleString('en-US')} root causes (three near-duplicate signatures each), assigned`,
    'one by one to fleet clusters (`ClusterIndex.assign`), beside a plain `Map` insert of the same signature hashes in the same run.',
    '',
    '| | Time (ms) | Findings/s | Heap kept (MB) |',
    '|---|---:|---:|---:|',
    `| \`ClusterIndex.assign\` | ${fixed(result.assignMs, 0)} | ${perSecond(result.assignMs)} | ${fixed(result.assignHeapMb, 1)} |`,
    `| \`Map.set\` (baseline) | ${fixed(result.mapMs, 0)} | ${perSecond(result.mapMs)} | ${fixed(result.mapHeapMb, 1)} |`,
    '',
    `Clusters formed: ${result.clusters.toLocaleString('en-US')} (one per root cause expected: ${result.clusters === result.rootCauses ? 'yes' : 'no'}).`,
    '',
  ];
}

/** CPU model, cores and memory of this machine, as the report's header and the pipeline section print it. */
function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${fixed(os.totalmem() / 1024 ** 3, 1)} GiB RAM`;
}

function report(
  options: Options,
  results: SizeResult[],
  rss: ParseOnceReport | null,
  run: RunContext,
  analysis: AnalysisRow[] = [],
  clustering: ClusterBenchmark | null = null,
  pipeline: PipelineBenchmark | null = null,
  fleet: FleetApiBenchmark | null = null,
  dashboard: DashboardBenchmark | null = null,
  webhooks: WebhookBenchmark | null = null,
): string {
  const lines: string[] = [];
  lines.push('# Benchmarks', '');
  lines.push('Written by `npm run bench` (bench/run-benchmarks.ts); re-run it rather than editing this file.', '');
  lines.push(`- Date: ${new Date().toISOString()}`);
  lines.push(`- Machine: ${machineDescription()}`);
  lines.push(`- Node ${process.version}, ${os.platform()} ${os.release()} ${os.arch()}`);
  const extra = [
    ...Object.keys(process.env)
      .filter((name) => name === 'BENCH_SIZES' || name === 'BENCH_SEED' || name.startsWith('BENCH_PIPELINE') || name.startsWith('BENCH_FLEET') || name.startsWith('BENCH_DASHBOARD') || name === 'BENCH_CHROMIUM' || name.startsWith('BENCH_WEBHOOK'))
      .sort()
      .filter((name) => process.env[name])
      .map((name) => `${name}=${process.env[name]}`),
    ...process.argv.slice(2),
  ];
  lines.push(`- Command: \`${COMMAND}\` (\`${SCRIPT}\`${extra.length > 0 ? `, with \`${extra.join(' ')}\`` : ''})`);
  const revisionAtEnd = engineRevision();
  lines.push(
    run.revisionAtStart === revisionAtEnd
      ? `- Engine revision: ${revisionAtEnd}`
      : `- Engine revision: ${run.revisionAtStart} at the start, ${revisionAtEnd} at the end (the engine changed during the run)`,
  );
  lines.push(`- Wall time of the whole run: ${fixed(run.totalSeconds, 0)} s${hasGc ? '' : ' (WARNING: no --expose-gc, so no GC between runs)'}`);
  const load = (values: number[]): string => values.map((value) => fixed(value, 2)).join(' / ');
  lines.push(`- Load average (1/5/15 min) at start: ${load(run.loadAtStart)}; at end: ${load(os.loadavg())} (other work on the machine slows both sides)`);
  lines.push('');
  lines.push('## Input', '');
  lines.push(
    `Generated by bench/generate-transcript.ts from \`${EXAMPLE}\` with seed ${options.seed}: the example's preamble once, then its`,
    'command blocks repeated (prose and annotations kept) with every address, client id and tick count re-randomised per',
    'repetition, so each repetition brings new threads, processes, IRPs and messages. MB = 1,048,576 bytes.',
    '',
  );
  lines.push('## Parser throughput against a bare `split(\'\\n\')`', '');
  lines.push(
    'Parser: `parseTranscript(bytes)` on the UTF-8 bytes, decoding included. Baseline: `text.split(\'\\n\')` over the same',
    'text, already decoded, in the same process and run, interleaved with the parser runs. A full GC before every timed run;',
    'medians of the runs shown. Speed ratio = parser MB/s ÷ split MB/s.',
    '',
    'Floor scan (bench/floor-scan.ts), in the same runs: the least any line reader must do, with no model built: decode the',
    'bytes, visit every line, and cut module, function and offset out of each line naming a symbol. Its ratio to the split',
    'is the most any parser of this text can reach; the parser does all of it and reads every line into entities as well.',
    '',
  );
  lines.push('| Size | Bytes | Lines | Threads found | Runs | Parser median (ms) | Parser MB/s | split median (ms) | split MB/s | Speed ratio | Floor scan median (ms) | Floor scan ratio |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const result of results) {
    const parseMs = median(result.parseMs);
    const splitMs = median(result.splitMs);
    const parseSpeed = mbPerSecond(result.bytes, parseMs);
    const splitSpeed = mbPerSecond(result.bytes, splitMs);
    lines.push(
      `| ${result.sizeMb} MB | ${result.bytes.toLocaleString('en-US')} | ${result.lines.toLocaleString('en-US')} | ${result.threads.toLocaleString('en-US')} | ${result.runs} | ` +
        `${fixed(parseMs, 1)} | ${fixed(parseSpeed, 2)} | ${fixed(splitMs, 1)} | ${fixed(splitSpeed, 1)} | ${fixed(parseSpeed / splitSpeed, 3)} | ` +
        `${fixed(median(result.floorMs), 1)} | ${fixed(splitMs / median(result.floorMs), 3)} |`,
    );
  }
  lines.push('');
  lines.push('All runs (ms):', '');
  for (const result of results) {
    const runsOf = (values: number[]): string => values.map((ms) => fixed(ms, 1)).join(', ');
    lines.push(`- ${result.sizeMb} MB: parser ${runsOf(result.parseMs)}; split ${runsOf(result.splitMs)}; floor scan ${runsOf(result.floorMs)}`);
  }
  lines.push('');

  const small = results.find((result) => result.sizeMb === 1);
  const large = results.find((result) => result.sizeMb === 100);
  let scaling: number | null = null;
  lines.push('## Scaling', '');
  if (small && large) {
    scaling = median(large.parseMs) / median(small.parseMs);
    lines.push(
      `time(100 MB) / time(1 MB) = ${fixed(median(large.parseMs), 1)} ms / ${fixed(median(small.parseMs), 1)} ms = **${fixed(scaling, 1)}** ` +
        `(the inputs differ ${fixed(large.bytes / small.bytes, 1)}× in size; linear would be about that).`,
    );
  } else {
    lines.push('Not measured (needs the 1 MB and the 100 MB sizes).');
  }
  lines.push('');

  lines.push('## Peak memory', '');
  if (rss) {
    lines.push(
      `One parse of the ${rss.sizeMb} MB input (${rss.bytes.toLocaleString('en-US')} bytes) alone, in a fresh child process`,
      `(\`npm run build && node --expose-gc dist/bench/parse-once.js ${rss.sizeMb} ${rss.seed}\`, compiled JavaScript as deployed):`,
      'the child generates its input as UTF-8 bytes straight into one buffer, runs a full GC, then parses. Peak RSS is the',
      'child\'s `process.resourceUsage().maxRSS`, so it includes Node and the input bytes; the RSS before the parse shows that share.',
      '',
    );
    lines.push('| Measure | RSS |');
    lines.push('|---|---:|');
    lines.push(`| Before the parse: Node + input bytes held (after GC) | ${mib(rss.rssBeforeParse)} |`);
    lines.push(`| Peak before the parse (generating the input) | ${mib(rss.maxRssBeforeParse)} |`);
    lines.push(`| **Peak over the whole child, the parse included** | **${mib(rss.peakRss)}** |`);
    lines.push(`| Growth of the peak during the parse (peak − RSS before) | ${mib(rss.peakRss - rss.rssBeforeParse)} |`);
    lines.push(`| After the parse, model still referenced | ${mib(rss.rssAfterParse)} (V8 heap in use: ${mib(rss.heapUsedAfterParse)}) |`);
    lines.push('');
    lines.push(`Parse time in the child: ${fixed(rss.parseMs, 0)} ms; ${rss.lines.toLocaleString('en-US')} lines, ${rss.threads.toLocaleString('en-US')} threads.`, '');
  } else {
    lines.push('Not measured.', '');
  }

  if (analysis.length > 0) lines.push(...analysisSection(analysis));
  if (clustering) lines.push(...clusterSection(clustering));
  lines.push(...pipelineSection(pipeline, machineDescription(), pipeline ? run.serviceRevision : null));
  lines.push(...fleetSection(fleet, { machine: machineDescription(), command: commandDescription(), revision: run.serviceRevision }));
  lines.push(...dashboardSection(dashboard, { machine: machineDescription(), command: commandDescription(), revision: run.serviceRevision }));
  lines.push(...webhookSection(webhooks, { machine: machineDescription(), command: commandDescription(), revision: run.serviceRevision }));

  lines.push('## Goals', '');
  lines.push('| Goal | Measured | Result |');
  lines.push('|---|---|---|');
  const ratios = results.map((result) => ({
    size: result.sizeMb,
    ratio: median(result.splitMs) / median(result.parseMs),
    floorRatio: median(result.splitMs) / median(result.floorMs),
  }));
  const worst = ratios.length > 0 ? Math.min(...ratios.map((entry) => entry.ratio)) : null;
  const ratioText = ratios.map((entry) => `${entry.size} MB: ${fixed(entry.ratio, 3)}× (floor scan ${fixed(entry.floorRatio, 3)}×)`).join(', ');
  lines.push(
    `| Parser speed ≥ ${GOAL_RATIO}× the bare split's, at every size | ${ratioText || '—'} | ` +
      `${verdict(worst === null ? null : worst >= GOAL_RATIO)} |`,
  );
  lines.push(`| time(100 MB) / time(1 MB) ≤ ${GOAL_SCALING} | ${scaling === null ? '—' : fixed(scaling, 1)} | ${verdict(scaling === null ? null : scaling <= GOAL_SCALING)} |`);
  const rssForGoal = rss && rss.sizeMb === 100 ? rss.peakRss : null;
  lines.push(
    `| Peak RSS for the 100 MB parse < ${GOAL_RSS_MB} MB | ${rssForGoal === null ? '—' : mib(rssForGoal)} | ${verdict(rssForGoal === null ? null : rssForGoal < GOAL_RSS_MB * MB)} |`,
  );
  lines.push(pipelineGoalRow(pipeline));
  lines.push(fleetGoalRow(fleet));
  lines.push(dashboardGoalRow(dashboard));
  lines.push(webhookGoalRow(webhooks));
  lines.push('');
  return lines.join('\n');
}

const PIPELINE_GOAL_ROW = `| End to end ≥ ${PIPELINE_GOAL_PER_SECOND} uploads/s analysed (50 KB transcripts, 2 workers), no failure |`;
const FLEET_GOAL_ROW = `| Fleet API at 1 M reports: p99 < ${FLEET_GOAL_P99_MS} ms for each endpoint (32 connections) |`;

function pipelineGoalRow(pipeline: PipelineBenchmark | null): string {
  const result = pipelineGoal(pipeline);
  return `${PIPELINE_GOAL_ROW} ${result.measured} | ${verdict(result.pass)} |`;
}

const WEBHOOK_GOAL_ROW = '| Webhooks: deliveries/s to a local receiver with 1 k subscriptions, beside raw `fetch` |';

function webhookGoalRow(webhooks: WebhookBenchmark | null): string {
  return `${WEBHOOK_GOAL_ROW} ${webhookGoal(webhooks).measured} | ${webhooks ? WEBHOOK_GOAL_TEXT : 'not measured'} |`;
}

const DASHBOARD_GOAL_ROW = `| Dashboard: the fleet page's first screen < ${DASHBOARD_GOAL_MS / 1000} s with 10 k clusters (headless Chromium, slowest cold navigation) |`;

function dashboardGoalRow(dashboard: DashboardBenchmark | null): string {
  const result = dashboardGoal(dashboard);
  return `${DASHBOARD_GOAL_ROW} ${result.measured} | ${verdict(result.pass)} |`;
}

function fleetGoalRow(fleet: FleetApiBenchmark | null): string {
  const result = fleetGoal(fleet);
  return `${FLEET_GOAL_ROW} ${result.measured} | ${verdict(result.pass)} |`;
}

/** How this run was started, as the report prints it. */
function commandDescription(): string {
  const extra = [
    ...Object.keys(process.env)
      .filter((name) => name === 'BENCH_SIZES' || name === 'BENCH_SEED' || name === 'BENCH_ONLY' || name.startsWith('BENCH_PIPELINE') || name.startsWith('BENCH_FLEET') || name.startsWith('BENCH_DASHBOARD') || name === 'BENCH_CHROMIUM' || name.startsWith('BENCH_WEBHOOK'))
      .sort()
      .filter((name) => process.env[name])
      .map((name) => `${name}=${process.env[name]}`),
    ...process.argv.slice(2),
  ];
  return `\`${COMMAND}\` (\`${SCRIPT}\`${extra.length > 0 ? `, with \`${extra.join(' ')}\`` : ''})`;
}

/**
 * Replaces the section under `heading` (up to the next `## ` heading) of an existing BENCHMARKS.md, or inserts it
 * before `## Goals`; and the Goals row that starts with `rowPrefix`, or appends it to that table.
 */
function spliceSection(markdown: string, heading: string, section: string[], rowPrefix: string, row: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  const goals = lines.indexOf('## Goals');
  if (start >= 0) {
    let end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
    if (end < 0) end = lines.length;
    lines.splice(start, end - start, ...section);
  } else if (goals >= 0) {
    lines.splice(goals, 0, ...section);
  } else {
    lines.push('', ...section);
  }
  const goalsAt = lines.indexOf('## Goals');
  const existing = lines.findIndex((line) => line.startsWith(rowPrefix));
  if (existing >= 0) {
    lines[existing] = row;
  } else if (goalsAt >= 0) {
    let index = goalsAt + 1;
    while (index < lines.length && lines[index]!.trim() === '') index++;
    while (index < lines.length && lines[index]!.startsWith('|')) index++;
    lines.splice(index, 0, row);
  } else {
    lines.push('', '## Goals', '', '| Goal | Measured | Result |', '|---|---|---|', row, '');
  }
  return lines.join('\n');
}

/** `--only pipeline,fleet`: those benchmarks alone, their sections spliced into the existing BENCHMARKS.md. */
async function runServiceBenchmarksOnly(options: Options, only: ServiceBenchmark[]): Promise<void> {
  const serviceRevision = revisionOf(['services', 'workers', 'prisma', 'bin']);
  const path = `${root}BENCHMARKS.md`;
  let markdown = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  if (only.includes('pipeline') && options.pipeline) {
    process.stderr.write('bench: pipeline (API, queue, workers, PostgreSQL, Redis, s3rver) …\n');
    const pipeline = await benchmarkPipeline(options.pipeline);
    const section = pipelineSection(pipeline, machineDescription(), serviceRevision);
    const heading = section[0]!;
    section.splice(2, 0, `- Run: ${new Date().toISOString()}, ${commandDescription()} (this section only; the header above describes the last full run)`, '');
    process.stdout.write(`${section.join('\n')}\n`);
    markdown = spliceSection(markdown, heading, section, PIPELINE_GOAL_ROW, pipelineGoalRow(pipeline));
  }
  if (only.includes('fleet') && options.fleet) {
    process.stderr.write('bench: Fleet API (1 M reports; API, PostgreSQL, autocannon) …\n');
    const fleet = await benchmarkFleetApi(options.fleet);
    const section = fleetSection(fleet, { machine: machineDescription(), command: `${commandDescription()} (this section only; the header above describes the last full run)`, revision: serviceRevision });
    process.stdout.write(`${section.join('\n')}\n`);
    markdown = spliceSection(markdown, FLEET_SECTION_HEADING, section, FLEET_GOAL_ROW, fleetGoalRow(fleet));
  }
  if (only.includes('dashboard') && options.dashboard) {
    process.stderr.write('bench: dashboard (headless Chromium, the fleet page at 10 k clusters) …\n');
    const dashboard = await benchmarkDashboard(options.dashboard);
    const section = dashboardSection(dashboard, { machine: machineDescription(), command: `${commandDescription()} (this section only; the header above describes the last full run)`, revision: serviceRevision });
    process.stdout.write(`${section.join('\n')}\n`);
    markdown = spliceSection(markdown, DASHBOARD_SECTION_HEADING, section, DASHBOARD_GOAL_ROW, dashboardGoalRow(dashboard));
  }
  if (only.includes('webhooks') && options.webhooks) {
    process.stderr.write('bench: webhooks (one worker, 1,000 subscriptions, local receiver; PostgreSQL, Redis) …\n');
    const webhooks = await benchmarkWebhooks(options.webhooks);
    const section = webhookSection(webhooks, { machine: machineDescription(), command: `${commandDescription()} (this section only; the header above describes the last full run)`, revision: serviceRevision });
    process.stdout.write(`${section.join('\n')}\n`);
    markdown = spliceSection(markdown, WEBHOOK_SECTION_HEADING, section, WEBHOOK_GOAL_ROW, webhookGoalRow(webhooks));
  }
  if (options.write ?? true) {
    writeFileSync(path, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
    process.stderr.write(`bench: updated the ${only.join(' and ')} section(s) of BENCHMARKS.md\n`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.only) {
    await runServiceBenchmarksOnly(options, options.only);
    return;
  }
  const started = performance.now();
  const loadAtStart = os.loadavg();
  const revisionAtStart = engineRevision();
  const example = readFileSync(`${root}${EXAMPLE}`, 'utf8');
  if (!hasGc) console.error('warning: run with node --expose-gc (npm run bench does) for a GC before every timed run');

  // Warm-up, untimed: lets the JIT compile the parser and split before anything is measured.
  {
    const bytes = generateTranscriptBytes(example, MB, options.seed + 1);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    for (let i = 0; i < 6; i++) {
      timeParse(bytes);
      timeSplit(text);
    }
  }

  const results: SizeResult[] = [];
  for (const sizeMb of options.sizes) {
    process.stderr.write(`bench: ${sizeMb} MB …\n`);
    results.push(measureSize(example, sizeMb, options.seed));
    gc();
  }
  const largest = options.sizes[options.sizes.length - 1]!;
  process.stderr.write(`bench: peak RSS of one ${largest} MB parse in a child process …\n`);
  const rss = measureRssInChild(largest, options.seed);

  process.stderr.write('bench: analysis …\n');
  const analysis: AnalysisRow[] = [];
  const seedFile = `${root}../shared/seeds/000_7ae1898a557dba99.txt`;
  if (existsSync(seedFile)) analysis.push(measureAnalysis('the seed case', readFileSync(seedFile), 5));
  analysis.push(measureAnalysis('the bundled example', readFileSync(`${root}${EXAMPLE}`), 5));
  for (const sizeMb of options.sizes) {
    analysis.push(measureAnalysis(`generated ${sizeMb} MB`, generateTranscriptBytes(example, sizeMb * MB, options.seed), sizeMb >= 100 ? 3 : 7));
    gc();
  }
  if (options.sizes.includes(100)) {
    const dump = Buffer.from(generateThreadDump(100_000), 'utf8');
    analysis.push(measureAnalysis(`\`!process 0 7\` of 100,000 threads (${fixed(dump.byteLength / MB, 0)} MB)`, dump, 2));
  }

  process.stderr.write('bench: clustering …\n');
  const clustering = benchmarkClustering(1_000_000, 10_000, options.seed, gc);

  let pipeline: PipelineBenchmark | null = null;
  const serviceRevision = revisionOf(['services', 'workers', 'prisma', 'bin']);
  if (options.pipeline) {
    process.stderr.write('bench: pipeline (API, queue, workers, PostgreSQL, Redis, s3rver) …\n');
    pipeline = await benchmarkPipeline(options.pipeline);
  }
  let fleet: FleetApiBenchmark | null = null;
  if (options.fleet) {
    process.stderr.write('bench: Fleet API (1 M reports; API, PostgreSQL, autocannon) …\n');
    fleet = await benchmarkFleetApi(options.fleet);
  }
  let dashboard: DashboardBenchmark | null = null;
  if (options.dashboard) {
    process.stderr.write('bench: dashboard (headless Chromium, the fleet page at 10 k clusters) …\n');
    dashboard = await benchmarkDashboard(options.dashboard);
  }
  let webhooks: WebhookBenchmark | null = null;
  if (options.webhooks) {
    process.stderr.write('bench: webhooks (one worker, 1,000 subscriptions, local receiver; PostgreSQL, Redis) …\n');
    webhooks = await benchmarkWebhooks(options.webhooks);
  }

  const run = { totalSeconds: (performance.now() - started) / 1000, loadAtStart, revisionAtStart, serviceRevision };
  const markdown = report(options, results, rss, run, analysis, clustering, pipeline, fleet, dashboard, webhooks);
  process.stdout.write(`${markdown}\n`);
  const fullRun = DEFAULT_SIZES.every((size) => options.sizes.includes(size));
  if (options.write ?? fullRun) {
    writeFileSync(`${root}BENCHMARKS.md`, markdown);
    process.stderr.write('bench: wrote BENCHMARKS.md\n');
  } else {
    process.stderr.write('bench: BENCHMARKS.md not written (not all of 1, 10 and 100 MB ran; pass --write to write anyway)\n');
  }
  if (sink === 0) process.stderr.write('bench: nothing parsed?\n');
}

await main();
