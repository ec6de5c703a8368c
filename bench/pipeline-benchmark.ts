/**
 * End-to-end pipeline benchmark: uploads of ~50 KB transcripts, from `POST /v1/reports` to the report analysed,
 * on this machine's PostgreSQL and Redis, beside a raw "S3 PutObject + one PostgreSQL INSERT" loop over the same
 * bodies in the same run (the floor cost of storing an upload without the service).
 *
 * Called by bench/run-benchmarks.ts (`npm run bench`), or alone (prints its section of BENCHMARKS.md):
 *   node bin/run-ts.js bench/pipeline-benchmark.ts [--uploads N] [--concurrency N] [--warmup N] [--layouts 2x1,1x2]
 *                                                   [--profile-uploads N]
 * Environment (for `npm run bench`): BENCH_PIPELINE_UPLOADS, BENCH_PIPELINE_CONCURRENCY, BENCH_PIPELINE_LAYOUTS,
 * BENCH_PIPELINE_PROFILE_UPLOADS (0: no profiled pass), BENCH_PIPELINE_NODE_ARGS (extra node flags for the API and
 * workers), BENCH_PG_ADMIN_URL, BENCH_REDIS_URL. The defaults (500 uploads per layout, two layouts, a profiled pass of
 * 100) keep it to about two minutes on a 2-core machine.
 *
 * Setup, all torn down afterwards, every service in a child process of its own so that the load generator (this
 * process) shares an event loop with none of them:
 * - s3rver on a free port, serving a temporary folder;
 * - a database of its own per worker layout (created and migrated by services/db/migrate-database.ts, dropped
 *   after) and a queue prefix of its own on Redis (obliterated after); the baseline's scratch table in a database of
 *   its own too;
 * - the API: `node bin/hangsleuth.js api`; the workers: `node bin/hangsleuth.js worker`, PROCESSES of them, each
 *   with ANALYSIS_CONCURRENCY=CONCURRENCY (a layout `2x1` is two processes analysing one report at a time each);
 *   HANGSLEUTH_LOG_LEVEL=warn, every other setting at its default;
 * - one tenant and API key, created directly in the database (`issueApiKey`).
 *
 * Bodies: bench/generate-transcript.ts at 50 KiB from the bundled example, one seed per upload, so every body is a
 * distinct transcript (content dedupe keeps them all) of the example's shape (the same root cause on every
 * server, as a fleet-wide incident); server names cycle over SERVERS names. A warm-up of a few uploads, analysed
 * before the measured ones start, lets the JIT, the pools and the cluster row settle.
 *
 * Timing: the 202 time is this process's clock when the answer arrived; "analysed" is the report's `finished_at`,
 * written by the worker (same machine, same clock) in the transaction that marks it analysed. The stages come from
 * the report's own timestamps (received_at, queued_at, started_at, finished_at) and the analysis' duration_ms.
 * CPU time per process comes from /proc (the API, each worker with its engine threads, s3rver, the PostgreSQL
 * backends of the run's database and the server's background writers, the Redis server, this process) between the
 * first measured upload and the last analysis; the machine's busy time beyond those is other work on the machine.
 * The profiled pass (first layout again, API and workers under `node --cpu-prof`) charges each sample of their
 * main threads and engine threads to a package, over its measured window.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { issueApiKey } from '../services/auth/api-keys.ts';
import { createDatabase } from '../services/db/create-prisma-client.ts';
import { migrateDatabase } from '../services/db/migrate-database.ts';
import { ANALYSIS_QUEUE } from '../services/queue/analysis-queue.ts';
import { generateTranscriptBytes } from './generate-transcript.ts';
import { adminQuery, cleanEnv, databaseUrl, REDIS_URL, REPOSITORY_ROOT, startChild, startS3rver, stopChild, waitUntil, type Child } from './support/child-processes.ts';
import { CLOCK_TICKS, bounded, freePort, machineTicks, processCpuSeconds, percentiles, progressLog, type Log, type Percentiles } from './support/measure.ts';

export const PIPELINE_GOAL_PER_SECOND = 200;
const KIB = 1024;
const EXAMPLE = 'examples/hung-logon-worker-queue.txt';
const root = REPOSITORY_ROOT;

export interface WorkerLayout {
  /** Worker processes (`hangsleuth worker`). */
  processes: number;
  /** ANALYSIS_CONCURRENCY of each. */
  concurrency: number;
}

export interface PipelineOptions {
  /** Measured uploads per layout (and operations of the baseline). */
  uploads: number;
  /** Requests in flight from the load generator. */
  concurrency: number;
  /** Distinct server names the uploads cycle over. */
  servers: number;
  /** Uploads analysed before the measured ones, per layout (and baseline operations before the timed ones). */
  warmup: number;
  bodyBytes: number;
  seed: number;
  /** The first is the one judged against the goal; the others are for information. */
  layouts: WorkerLayout[];
  /** How long to wait for the last analysis after the last upload. */
  drainTimeoutMs: number;
  /**
   * Uploads of an extra pass, first layout, with the API and workers under `--cpu-prof`: where their CPU goes, by
   * package (its rates are not reported: the profiler slows them). 0: no such pass.
   */
  profileUploads: number;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  uploads: 500,
  concurrency: 32,
  servers: 100,
  warmup: 32,
  bodyBytes: 50 * KIB,
  seed: 20417,
  layouts: [
    { processes: 2, concurrency: 1 },
    { processes: 1, concurrency: 2 },
  ],
  drainTimeoutMs: 180_000,
  profileUploads: 100,
};

export interface StageTiming {
  stage: string;
  /** What happens in it. */
  covers: string;
  ms: Percentiles;
}

export interface CpuUse {
  component: string;
  seconds: number;
}

export interface LayoutResult {
  layout: WorkerLayout;
  uploads: number;
  /** Answers other than 202 (with the first few reasons). */
  rejected: number;
  rejections: string[];
  /** Reports that ended `failed`, or were not analysed in time. */
  notAnalysed: number;
  notAnalysedReasons: string[];
  /** Warnings and errors the service processes logged during the whole layout (warm-up included). */
  logLines: number;
  logSample: string[];
  /** First upload sent → last 202 received. */
  acceptSeconds: number;
  /** First upload sent → last report analysed. */
  wallSeconds: number;
  acceptedPerSecond: number;
  analysedPerSecond: number;
  /** Time from the 202 arriving at the client to the report's finished_at. */
  acceptedToAnalysed: Percentiles;
  /** Client-side time of one upload request (sent → 202). */
  request: Percentiles;
  stages: StageTiming[];
  cpu: CpuUse[];
  /** Share of the machine's CPU time (all cores) that was busy over the measured window. */
  machineBusy: number;
  cpuWindowSeconds: number;
}

export interface BaselineResult {
  operations: number;
  seconds: number;
  perSecond: number;
  putMs: Percentiles;
  insertMs: Percentiles;
  cpu: CpuUse[];
  machineBusy: number;
}

export interface ProfileSummary {
  layout: WorkerLayout;
  uploads: number;
  /** Columns: the API's main thread, the workers' main threads, the engine threads. */
  columns: string[];
  /** CPU-ms per upload in each column, by what the time was spent in. */
  rows: { category: string; msPerUpload: number[] }[];
}

export interface PipelineBenchmark {
  options: PipelineOptions;
  bodies: { min: number; max: number; mean: number };
  cores: number;
  baseline: BaselineResult;
  layouts: LayoutResult[];
  profile: ProfileSummary | null;
}

const defaultLog = progressLog('pipeline');

// ---------------------------------------------------------------------------------------------------------------
// Measurement helpers

const now = (): number => performance.timeOrigin + performance.now();
/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profiles, in every process of the machine. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);






interface CpuComponent {
  component: string;
  pids(): number[] | Promise<number[]>;
}

interface CpuSnapshot {
  perComponent: Map<string, Map<number, number>>;
  machine: { busy: number; total: number };
  at: number;
}

async function cpuSnapshot(components: CpuComponent[]): Promise<CpuSnapshot> {
  const pidLists = await Promise.all(components.map(async (component) => component.pids()));
  const perComponent = new Map<string, Map<number, number>>();
  for (const [index, component] of components.entries()) {
    const perPid = new Map<number, number>();
    for (const pid of pidLists[index]!) {
      const seconds = processCpuSeconds(pid);
      if (seconds !== null) perPid.set(pid, seconds);
    }
    perComponent.set(component.component, perPid);
  }
  return { perComponent, machine: machineTicks(), at: now() };
}

export const OTHER_PROCESSES = 'other processes on the machine';
const POSTGRES = 'PostgreSQL (this database\'s backends, background writers)';
const LOAD_GENERATOR = 'load generator (this process)';

/**
 * CPU used per component between two snapshots, per process: one that appeared meanwhile counts from zero, one
 * that ended meanwhile is lost (the pools keep their connections, so none should). The machine's busy time not
 * accounted for by the components is reported as OTHER_PROCESSES.
 */
function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): { cpu: CpuUse[]; machineBusy: number; seconds: number } {
  const cpu: CpuUse[] = [];
  for (const [component, after] of end.perComponent) {
    const before = start.perComponent.get(component) ?? new Map<number, number>();
    let seconds = 0;
    for (const [pid, value] of after) seconds += Math.max(0, value - (before.get(pid) ?? 0));
    cpu.push({ component, seconds });
  }
  const total = end.machine.total - start.machine.total;
  const busySeconds = (end.machine.busy - start.machine.busy) / CLOCK_TICKS;
  const ours = cpu.reduce((sum, use) => sum + use.seconds, 0);
  if (total > 0) cpu.push({ component: OTHER_PROCESSES, seconds: Math.max(0, busySeconds - ours) });
  return { cpu, machineBusy: total > 0 ? (end.machine.busy - start.machine.busy) / total : NaN, seconds: (end.at - start.at) / 1000 };
}

/**
 * The PostgreSQL processes that work for `database`: its backends (but the benchmark's own `client`) and the
 * server's background processes (WAL writer, checkpointer, …), not the backends of other databases.
 */
async function postgresPids(client: pg.Client | pg.Pool, database: string): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE (datname = $1 OR datname IS NULL) AND pid <> pg_backend_pid()', [database]);
  return rows.map((row) => row.pid);
}

/** The pid of the Redis server (INFO server), so that other Redis servers on the machine are not counted. */
async function redisPid(redis: Redis): Promise<number[]> {
  const info = await redis.info('server');
  const match = /process_id:(\d+)/.exec(info);
  return match ? [Number(match[1])] : [];
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

// ---------------------------------------------------------------------------------------------------------------
// Inputs

interface Body {
  bytes: Uint8Array;
  server: string;
}

function makeBodies(options: PipelineOptions, count: number): Body[] {
  const example = readFileSync(join(root, EXAMPLE), 'utf8');
  const bodies: Body[] = [];
  for (let i = 0; i < count; i++) {
    bodies.push({
      bytes: generateTranscriptBytes(example, options.bodyBytes, options.seed + 1 + i),
      server: `srv-${String(i % options.servers).padStart(3, '0')}`,
    });
  }
  const distinct = new Set(bodies.map((body) => createHash('sha256').update(body.bytes).digest('hex')));
  if (distinct.size !== bodies.length) throw new Error(`only ${distinct.size} of ${bodies.length} generated bodies are distinct`);
  return bodies;
}

// ---------------------------------------------------------------------------------------------------------------
// The baseline: S3 PutObject + one INSERT per body, no service.

async function runBaseline(options: PipelineOptions, bodies: Body[], s3rver: { endpoint: string; child: Child }, log: Log): Promise<BaselineResult> {
  const endpoint = s3rver.endpoint;
  const name = `hangsleuth_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, maxAttempts: 1 });
  // The API's own pool size (DATABASE_POOL_SIZE's default).
  const pool = new pg.Pool({ connectionString: databaseUrl(name), max: 10 });
  // An idle connection's error (the server closing it) is reported by the query that needs it, not by a crash; the
  // forced drop of the database at the end closes the connections the pool is still letting go of.
  let dropping = false;
  pool.on('error', (error) => {
    if (!dropping) log(`baseline: an idle PostgreSQL connection failed: ${error.message}`);
  });
  try {
    const bucket = 'bench-baseline';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await pool.query(`CREATE TABLE uploads (
      id uuid PRIMARY KEY, server text NOT NULL, content_sha256 text NOT NULL, byte_size bigint NOT NULL,
      object_key text NOT NULL, received_at timestamptz(3) NOT NULL)`);
    const putMs: number[] = [];
    const insertMs: number[] = [];
    const store = async (body: Body, timed: boolean) => {
      const id = randomUUID();
      const key = `transcripts/baseline/${id}`;
      const sha256 = createHash('sha256').update(body.bytes).digest('hex');
      let start = performance.now();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body.bytes, ContentType: 'text/plain' }));
      const put = performance.now() - start;
      start = performance.now();
      await pool.query('INSERT INTO uploads (id, server, content_sha256, byte_size, object_key, received_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        id,
        body.server,
        sha256,
        body.bytes.byteLength,
        key,
        new Date(),
      ]);
      if (timed) {
        putMs.push(put);
        insertMs.push(performance.now() - start);
      }
    };
    const warm = bodies.slice(0, options.warmup);
    const measured = bodies.slice(options.warmup, options.warmup + options.uploads);
    await bounded(warm.length, options.concurrency, (index) => store(warm[index]!, false));
    log(`baseline: ${measured.length} × (PutObject + INSERT), ${options.concurrency} in flight …`);
    const cpuComponents: CpuComponent[] = [
      { component: 's3rver', pids: () => [s3rver.child.process.pid!] },
      { component: POSTGRES, pids: () => postgresPids(pool, name) },
      { component: LOAD_GENERATOR, pids: () => [process.pid] },
    ];
    const cpuStart = await cpuSnapshot(cpuComponents);
    const started = performance.now();
    await bounded(measured.length, options.concurrency, (index) => store(measured[index]!, true));
    const seconds = (performance.now() - started) / 1000;
    const usage = cpuBetween(cpuStart, await cpuSnapshot(cpuComponents));
    const [{ count }] = (await pool.query<{ count: string }>('SELECT count(*) FROM uploads')).rows as [{ count: string }];
    if (Number(count) !== warm.length + measured.length) throw new Error(`baseline: ${count} rows, expected ${warm.length + measured.length}`);
    return { operations: measured.length, seconds, perSecond: measured.length / seconds, putMs: percentiles(putMs), insertMs: percentiles(insertMs), cpu: usage.cpu, machineBusy: usage.machineBusy };
  } finally {
    s3.destroy();
    await pool.end();
    dropping = true;
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The service

interface Sent {
  startedAt: number;
  acceptedAt: number;
  status: number;
  id: string | null;
  error: string | null;
}

interface ReportRow {
  id: string;
  status: string;
  error: string | null;
  received_at: Date;
  queued_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
}

async function sendUpload(apiUrl: string, key: string, body: Body): Promise<Sent> {
  const startedAt = now();
  try {
    const response = await fetch(`${apiUrl}/v1/reports?server=${encodeURIComponent(body.server)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: body.bytes,
    });
    const text = await response.text();
    const acceptedAt = now();
    let id: string | null = null;
    try {
      id = (JSON.parse(text) as { id?: string }).id ?? null;
    } catch {
      // not JSON: kept as the error below
    }
    return { startedAt, acceptedAt, status: response.status, id, error: response.status === 202 ? null : `${response.status} ${text.slice(0, 200)}` };
  } catch (error) {
    return { startedAt, acceptedAt: now(), status: 0, id: null, error: (error as Error).message };
  }
}

async function runLayout(
  options: PipelineOptions,
  layout: WorkerLayout,
  bodies: Body[],
  s3: { endpoint: string; child: Child },
  log: Log,
  pass: { uploads: number; profileDirectory?: string } = { uploads: options.uploads },
): Promise<LayoutResult & { pids: { api: number; workers: number[] }; windowMicros: [number, number] }> {
  const databaseName = `hangsleuth_bench_${randomBytes(5).toString('hex')}`;
  const url = databaseUrl(databaseName);
  const prefix = `hsbench-${randomBytes(5).toString('hex')}`;
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const children: Child[] = [];
  const client = new pg.Client({ connectionString: url });
  let clientConnected = false;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  const queue = new Queue(ANALYSIS_QUEUE, { connection: redis, prefix });
  queue.on('error', () => undefined);
  try {
    await migrateDatabase(url);
    const db = createDatabase({ url, poolSize: 2 });
    let key: string;
    let tenantId: string;
    try {
      const tenant = await db.tenant.create({ data: { name: 'pipeline-benchmark' } });
      tenantId = tenant.id;
      key = (await issueApiKey(db, tenant.id, 'pipeline-benchmark', ['upload', 'read'])).key;
    } finally {
      await db.$disconnect();
    }
    await client.connect();
    clientConnected = true;

    const env = (extra: Record<string, string>) =>
      cleanEnv({
        DATABASE_URL: url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: 'hangsleuth-bench',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        HANGSLEUTH_HOST: '127.0.0.1',
        HANGSLEUTH_PORT: String(apiPort),
        HANGSLEUTH_LOG_LEVEL: 'warn',
        // Several workers on one machine: each picks a free metrics port instead of fighting for the default.
        WORKER_METRICS_PORT: '0',
        ...extra,
      });
    // For profiling a run, e.g. BENCH_PIPELINE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (API and workers only).
    const nodeArgs = (process.env['BENCH_PIPELINE_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
    if (pass.profileDirectory) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${pass.profileDirectory}`);
    const api = startChild('api', [...nodeArgs, 'bin/hangsleuth.js', 'api'], env({}));
    children.push(api);
    const workers: Child[] = [];
    for (let i = 0; i < layout.processes; i++) {
      const worker = startChild(`worker ${i + 1}`, [...nodeArgs, 'bin/hangsleuth.js', 'worker'], env({ ANALYSIS_CONCURRENCY: String(layout.concurrency) }));
      workers.push(worker);
      children.push(worker);
    }
    await waitUntil('the API', async () => (await fetch(`${apiUrl}/readyz`)).status === 200, 60_000, children);
    await waitUntil(`${layout.processes} worker process(es) on the queue`, async () => (await queue.getWorkersCount()) >= layout.processes, 60_000, children);
    log(`${label(layout)}: services up; ${options.warmup} warm-up uploads …`);

    const countDone = async (ids: string[]) => {
      const { rows } = await client.query<{ done: string }>(`SELECT count(*) AS done FROM reports WHERE id = ANY($1::uuid[]) AND status IN ('analysed', 'failed')`, [ids]);
      return Number(rows[0]!.done);
    };

    // Warm-up: uploads analysed (by every engine thread, with any luck) before the measured ones start.
    const warm = bodies.slice(0, options.warmup);
    const warmSent: Sent[] = [];
    await bounded(warm.length, options.concurrency, async (index) => {
      warmSent.push(await sendUpload(apiUrl, key, warm[index]!));
    });
    const warmFailed = warmSent.filter((sent) => sent.status !== 202);
    if (warmFailed.length > 0) throw new Error(`warm-up: ${warmFailed.length} uploads not accepted, e.g. ${warmFailed[0]!.error}`);
    const warmIds = warmSent.map((sent) => sent.id!);
    await waitUntil('the warm-up analyses', async () => (await countDone(warmIds)) === warmIds.length, 120_000, children);

    const components: CpuComponent[] = [
      { component: API, pids: () => [api.process.pid!] },
      { component: layout.processes === 1 ? 'worker process (with its engine threads)' : `${layout.processes} worker processes (with their engine threads)`, pids: () => workers.map((worker) => worker.process.pid!) },
      { component: 's3rver', pids: () => [s3.child.process.pid!] },
      { component: POSTGRES, pids: () => postgresPids(client, databaseName) },
      { component: 'Redis', pids: () => redisPid(redis) },
      { component: LOAD_GENERATOR, pids: () => [process.pid] },
    ];

    const measured = bodies.slice(options.warmup, options.warmup + pass.uploads);
    log(`${label(layout)}${pass.profileDirectory ? ' under --cpu-prof' : ''}: ${measured.length} uploads, ${options.concurrency} in flight …`);
    const cpuStart = await cpuSnapshot(components);
    const sent: Sent[] = new Array<Sent>(measured.length);
    const windowStart = monotonicMicros();
    const firstStart = now();
    await bounded(measured.length, options.concurrency, async (index) => {
      sent[index] = await sendUpload(apiUrl, key, measured[index]!);
    });
    const lastAccepted = Math.max(...sent.map((entry) => entry.acceptedAt));
    const accepted = sent.filter((entry) => entry.status === 202 && entry.id !== null);
    const ids = accepted.map((entry) => entry.id!);
    log(`${label(layout)}: accepted ${accepted.length} in ${((lastAccepted - firstStart) / 1000).toFixed(1)} s; waiting for the analyses …`);
    let timedOut = false;
    try {
      await waitUntil('the analyses', async () => (await countDone(ids)) === ids.length, options.drainTimeoutMs, children);
    } catch (error) {
      if (!/timed out/.test((error as Error).message)) throw error;
      timedOut = true;
    }
    const usage = cpuBetween(cpuStart, await cpuSnapshot(components));
    const windowEnd = monotonicMicros();

    const { rows } = await client.query<ReportRow>(
      `SELECT r.id, r.status::text AS status, r.error, r.received_at, r.queued_at, r.started_at, r.finished_at, a.duration_ms
         FROM reports r LEFT JOIN analyses a ON a.report_id = r.id WHERE r.id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const analysed = rows.filter((row) => row.status === 'analysed' && row.finished_at !== null);
    const notAnalysedRows = rows.filter((row) => row.status !== 'analysed');
    const lastFinished = Math.max(...analysed.map((row) => row.finished_at!.getTime()));
    const acceptedToAnalysed: number[] = [];
    const stageValues: Record<string, number[]> = { upload: [], record: [], answer: [], wait: [], job: [], engine: [] };
    for (const entry of accepted) {
      const row = byId.get(entry.id!);
      if (!row || row.status !== 'analysed' || !row.finished_at) continue;
      acceptedToAnalysed.push(row.finished_at.getTime() - entry.acceptedAt);
      const received = row.received_at.getTime();
      stageValues['upload']!.push(received - entry.startedAt);
      if (row.queued_at) {
        stageValues['record']!.push(row.queued_at.getTime() - received);
        stageValues['answer']!.push(entry.acceptedAt - row.queued_at.getTime());
        if (row.started_at) stageValues['wait']!.push(row.started_at.getTime() - row.queued_at.getTime());
      }
      if (row.started_at) stageValues['job']!.push(row.finished_at.getTime() - row.started_at.getTime());
      if (row.duration_ms !== null) stageValues['engine']!.push(row.duration_ms);
    }
    const rejections = sent.filter((entry) => entry.status !== 202 || entry.id === null);
    const serviceLines = children.filter((child) => child !== s3.child);
    return {
      pids: { api: api.process.pid!, workers: workers.map((worker) => worker.process.pid!) },
      windowMicros: [windowStart, windowEnd],
      layout,
      uploads: measured.length,
      rejected: rejections.length,
      rejections: [...new Set(rejections.map((entry) => entry.error ?? 'no report id in the answer'))].slice(0, 5),
      notAnalysed: notAnalysedRows.length + (ids.length - rows.length),
      notAnalysedReasons: [
        ...(timedOut ? [`not all analysed ${options.drainTimeoutMs / 1000} s after the last upload`] : []),
        ...new Set(notAnalysedRows.map((row) => `${row.status}${row.error ? `: ${row.error.slice(0, 200)}` : ''}`)),
      ].slice(0, 5),
      logLines: serviceLines.reduce((sum, child) => sum + child.warningCount, 0),
      logSample: serviceLines.flatMap((child) => child.warnings.map((line) => `${child.name}: ${line}`)).slice(0, 6),
      acceptSeconds: (lastAccepted - firstStart) / 1000,
      wallSeconds: (lastFinished - firstStart) / 1000,
      acceptedPerSecond: accepted.length / ((lastAccepted - firstStart) / 1000),
      analysedPerSecond: analysed.length / ((lastFinished - firstStart) / 1000),
      acceptedToAnalysed: percentiles(acceptedToAnalysed),
      request: percentiles(accepted.map((entry) => entry.acceptedAt - entry.startedAt)),
      stages: [
        { stage: 'upload → received_at', covers: 'HTTP request, API key check, body streamed to S3, dedupe lookup', ms: percentiles(stageValues['upload']!) },
        { stage: 'received_at → queued_at', covers: 'report transaction (server upsert, report insert), queue add, status update', ms: percentiles(stageValues['record']!) },
        { stage: 'queued_at → 202 at the client', covers: 'report read back, answer', ms: percentiles(stageValues['answer']!) },
        { stage: 'queued_at → started_at', covers: 'waiting in the queue for a free worker', ms: percentiles(stageValues['wait']!) },
        { stage: 'started_at → finished_at', covers: 'the job: claim, S3 read, engine thread, record transaction', ms: percentiles(stageValues['job']!) },
        { stage: '… of which the engine thread', covers: 'analyses.duration_ms: parse, judge, sign', ms: percentiles(stageValues['engine']!) },
      ],
      cpu: usage.cpu,
      machineBusy: usage.machineBusy,
      cpuWindowSeconds: usage.seconds,
    };
  } finally {
    log(`${label(layout)}: stopping`);
    await Promise.all(children.map((child) => stopChild(child)));
    log(`${label(layout)}: stopped`);
    if (clientConnected) await client.end().catch(() => undefined);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    redis.disconnect();
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`).catch((error: unknown) => log(`could not drop ${databaseName}: ${(error as Error).message}`));
  }
}

export function label(layout: WorkerLayout): string {
  return `${layout.processes} worker process${layout.processes === 1 ? '' : 'es'} × concurrency ${layout.concurrency}`;
}

// ---------------------------------------------------------------------------------------------------------------
// CPU profiles (the profiled pass)

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const NODE_ONLY = 'Node.js only (HTTP server, timers, streams, …)';
const PRISMA = 'Prisma client runtime';
const PG_DRIVER = 'PostgreSQL driver (@prisma/adapter-pg, pg)';
const AWS_SDK = 'AWS SDK (client-s3, lib-storage)';
const ENGINE = 'the engine (services/engine)';
const OWN_CODE = "the service's own code (services/, workers/)";
const ROOT_URL = pathToFileURL(root).href;

/** What a sample is charged to: the innermost frame from a package or from this repo (Node's internals and native code count for their caller). */
const PROFILE_CATEGORIES: [RegExp, string][] = [
  [/\/node_modules\/(@prisma\/client|@prisma\/client-runtime-utils|@prisma\/debug|\.prisma)\/|\/services\/db\/generated\//, PRISMA],
  [/\/node_modules\/(@prisma\/adapter-pg|@prisma\/driver-adapter-utils|pg|pg-protocol|pg-pool|pg-types|pg-connection-string|postgres-[a-z]+)\//, PG_DRIVER],
  [/\/node_modules\/(@aws-sdk|@smithy|@aws-crypto|fast-xml-parser|strnum)\//, AWS_SDK],
  [/\/node_modules\/(bullmq|ioredis|@ioredis|msgpackr|cron-parser|redis-parser|cluster-key-slot|denque)\//, 'BullMQ, ioredis'],
  [/\/node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|secure-json-parse|fast-querystring|fast-uri|toad-cache|process-warning|abstract-logging|busboy|streamsearch)\//, 'Fastify'],
  [/\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|on-exit-leak-free|fast-redact|@pinojs\/redact|quick-format-unescaped|atomic-sleep|safe-stable-stringify)\//, 'pino'],
  [/\/node_modules\/zod\//, 'zod'],
  [/\/node_modules\/piscina\//, 'piscina (engine thread pool)'],
  [/\/node_modules\/(tsx|esbuild|get-tsconfig)\//, 'tsx loader'],
  [/\/services\/engine\//, ENGINE],
];
const GC = 'garbage collection';

function categoryOfUrl(url: string): string | null {
  if (url === '' || url.startsWith('node:')) return null;
  for (const [pattern, category] of PROFILE_CATEGORIES) if (pattern.test(url)) return category;
  return url.startsWith(ROOT_URL) && !url.includes('/node_modules/') ? OWN_CODE : 'other packages';
}

/** CPU-ms per category of one profile, over the samples between `from` and `to` (µs, CLOCK_MONOTONIC). */
function profileCategories(profile: CpuProfile, from: number, to: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOfNode = new Map<number, string | null>();
  const categoryOf = (id: number): string | null => {
    if (categoryOfNode.has(id)) return categoryOfNode.get(id)!;
    const frame = byId.get(id)!.callFrame;
    let category: string | null;
    // piscina's idle engine threads block in Atomics.wait inside atomicsWaitLoop: waiting, not working.
    if (frame.functionName === '(idle)' || frame.functionName === 'atomicsWaitLoop') category = null;
    else if (frame.functionName === '(garbage collector)') category = GC;
    else if (frame.functionName === '(program)' || frame.functionName === '(root)') category = NODE_ONLY;
    else {
      category = categoryOfUrl(frame.url);
      if (category === null) {
        const up = parent.get(id);
        category = up === undefined || byId.get(up)!.callFrame.functionName === '(root)' ? NODE_ONLY : categoryOf(up);
      }
    }
    categoryOfNode.set(id, category);
    return category;
  };
  const totals = new Map<string, number>();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    if (time < from || time > to) continue;
    const category = categoryOf(profile.samples[i]!);
    if (category !== null) totals.set(category, (totals.get(category) ?? 0) + span / 1000);
  }
  return totals;
}

/**
 * Reads the profiles Node wrote at exit (`CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile`): the API's main
 * thread, the workers' main threads, and the engine threads (the worker threads that ran the engine; the others,
 * such as tsx's loader thread, are idle and left out).
 */
function summariseProfiles(directory: string, layout: WorkerLayout, uploads: number, pids: { api: number; workers: number[] }, [from, to]: [number, number]): ProfileSummary | null {
  const columns = ['API process, main thread', layout.processes === 1 ? 'worker process, main thread' : 'worker processes, main threads', 'engine threads'];
  const sums = columns.map(() => new Map<string, number>());
  let files = 0;
  for (const file of readdirSync(directory)) {
    const match = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(file);
    if (!match) continue;
    const pid = Number(match[1]);
    const thread = Number(match[2]);
    const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as CpuProfile;
    const totals = profileCategories(profile, from, to);
    let column: number;
    if (pid === pids.api && thread === 0) column = 0;
    else if (pids.workers.includes(pid) && thread === 0) column = 1;
    else if (pids.workers.includes(pid) && totals.has(ENGINE)) column = 2;
    else continue;
    files++;
    for (const [category, value] of totals) sums[column]!.set(category, (sums[column]!.get(category) ?? 0) + value);
  }
  if (files === 0) return null;
  const categories = [...new Set(sums.flatMap((sum) => [...sum.keys()]))];
  const total = (category: string) => sums.reduce((all, sum) => all + (sum.get(category) ?? 0), 0);
  categories.sort((a, b) => total(b) - total(a));
  return { layout, uploads, columns, rows: categories.map((category) => ({ category, msPerUpload: sums.map((sum) => (sum.get(category) ?? 0) / uploads) })) };
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

export async function benchmarkPipeline(overrides: Partial<PipelineOptions> = {}, log: Log = defaultLog): Promise<PipelineBenchmark> {
  const options: PipelineOptions = { ...DEFAULT_PIPELINE_OPTIONS, ...overrides };
  if (options.layouts.length === 0) throw new Error('no worker layout to measure');
  const needed = options.warmup + Math.max(options.uploads, options.profileUploads);
  log(`generating ${needed} distinct ${options.bodyBytes / KIB} KiB transcripts …`);
  const bodies = makeBodies(options, needed);
  const sizes = bodies.map((body) => body.bytes.byteLength);
  const folder = await mkdtemp(join(os.tmpdir(), 'hangsleuth-bench-s3-'));
  let s3: { child: Child; endpoint: string } | null = null;
  try {
    s3 = await startS3rver(folder);
    const baseline = await runBaseline(options, bodies, s3, log);
    log(`baseline: ${baseline.perSecond.toFixed(0)} ops/s`);
    const layouts: LayoutResult[] = [];
    for (const layout of options.layouts) {
      const { pids: _pids, windowMicros: _window, ...result } = await runLayout(options, layout, bodies, s3, log);
      log(`${label(layout)}: ${result.acceptedPerSecond.toFixed(0)} accepted/s, ${result.analysedPerSecond.toFixed(0)} analysed/s, p50/p99 202→analysed ${result.acceptedToAnalysed.p50.toFixed(0)}/${result.acceptedToAnalysed.p99.toFixed(0)} ms`);
      layouts.push(result);
    }
    let profile: ProfileSummary | null = null;
    if (options.profileUploads > 0) {
      const directory = await mkdtemp(join(os.tmpdir(), 'hangsleuth-bench-prof-'));
      try {
        const profiled = await runLayout(options, options.layouts[0]!, bodies, s3, log, { uploads: options.profileUploads, profileDirectory: directory });
        profile = summariseProfiles(directory, profiled.layout, profiled.uploads, profiled.pids, profiled.windowMicros);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    }
    return {
      profile,
      options,
      bodies: { min: Math.min(...sizes), max: Math.max(...sizes), mean: sizes.reduce((sum, size) => sum + size, 0) / sizes.length },
      cores: os.cpus().length,
      baseline,
      layouts,
    };
  } finally {
    if (s3) await stopChild(s3.child);
    await rm(folder, { recursive: true, force: true });
  }
}

/** BENCH_PIPELINE_UPLOADS, BENCH_PIPELINE_CONCURRENCY, BENCH_PIPELINE_LAYOUTS (`2x1,1x2`): overrides of the defaults. */
export function pipelineOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<PipelineOptions> {
  const options: Partial<PipelineOptions> = {};
  if (env['BENCH_PIPELINE_UPLOADS']) options.uploads = positiveInteger('BENCH_PIPELINE_UPLOADS', env['BENCH_PIPELINE_UPLOADS']);
  if (env['BENCH_PIPELINE_CONCURRENCY']) options.concurrency = positiveInteger('BENCH_PIPELINE_CONCURRENCY', env['BENCH_PIPELINE_CONCURRENCY']);
  if (env['BENCH_PIPELINE_LAYOUTS']) options.layouts = parseLayouts(env['BENCH_PIPELINE_LAYOUTS']);
  if (env['BENCH_PIPELINE_PROFILE_UPLOADS'] !== undefined && env['BENCH_PIPELINE_PROFILE_UPLOADS'] !== '') {
    options.profileUploads = env['BENCH_PIPELINE_PROFILE_UPLOADS'] === '0' ? 0 : positiveInteger('BENCH_PIPELINE_PROFILE_UPLOADS', env['BENCH_PIPELINE_PROFILE_UPLOADS']);
  }
  return options;
}

export function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not ${text}`);
  return value;
}

/** `2x1,1x2` → two processes at concurrency 1, then one process at concurrency 2. */
export function parseLayouts(text: string): WorkerLayout[] {
  return text.split(',').map((part) => {
    const match = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/.exec(part);
    if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) throw new Error(`bad worker layout "${part}" (write PROCESSESxCONCURRENCY, e.g. 2x1)`);
    return { processes: Number(match[1]), concurrency: Number(match[2]) };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const ms = (value: number): string => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(1)) : '—');
const count = (value: number): string => value.toLocaleString('en-US');

/** The goal is judged on the first layout (two worker processes by default): analysed/s end to end, no failure. */
export function pipelineGoal(result: PipelineBenchmark | null): { measured: string; pass: boolean | null } {
  const judged = result?.layouts[0];
  if (!result || !judged) return { measured: '—', pass: null };
  const failures = judged.rejected + judged.notAnalysed;
  return {
    measured: `${fixed(judged.analysedPerSecond, 0)} analysed/s (${label(judged.layout)})${failures > 0 ? `, ${count(failures)} failures` : ''}`,
    pass: failures === 0 && judged.analysedPerSecond >= PIPELINE_GOAL_PER_SECOND,
  };
}

/** The "Pipeline: upload to analysed" section of BENCHMARKS.md. */
export function pipelineSection(result: PipelineBenchmark | null, machine: string, revision: string | null = null): string[] {
  const lines = ['## Pipeline: upload to analysed', ''];
  if (!result) {
    lines.push('Not measured (`--no-pipeline`).', '');
    return lines;
  }
  const { options, baseline } = result;
  lines.push(
    `${count(options.uploads)} measured uploads per worker layout (BENCH_PIPELINE_UPLOADS) of distinct transcripts of ${fixed(result.bodies.mean / KIB, 1)} KiB on average (${count(result.bodies.min)}–${count(result.bodies.max)} bytes;`,
    `bench/generate-transcript.ts from \`${EXAMPLE}\`, one seed per upload, so the same root cause on every server),`,
    `over ${options.servers} server names, sent as raw \`text/plain\` \`POST /v1/reports\` over HTTP keep-alive with ${options.concurrency} requests in flight from`,
    `the benchmark process, on ${machine}. Every service runs in a child process of its own: the API`,
    '(`node bin/hangsleuth.js api`), the workers (`node bin/hangsleuth.js worker`, layouts below), s3rver on a free port over a',
    'temporary folder; PostgreSQL and Redis are the machine\'s, with a database (migrated, dropped after) and a queue prefix of',
    `the run's own. HANGSLEUTH_LOG_LEVEL=warn, every other setting at its default${revision ? `; the service's code: ${revision}` : ''}. ${options.warmup} warm-up uploads are analysed`,
    'before the measured ones start. "Analysed" is the report\'s `finished_at`, set in the transaction that marks it analysed;',
    '"202" is the benchmark\'s clock when the answer arrived (same machine clock). Rates: uploads ÷ (first upload sent → last',
    '202) and uploads ÷ (first upload sent → last `finished_at`).',
    '',
    `Baseline, same run, same bodies, same ${options.concurrency} in flight, same s3rver and PostgreSQL: \`PutObject\` of the body`,
    '(@aws-sdk/client-s3), then one `INSERT` of a row (id, server, SHA-256, size, key, time) into a scratch table (pg, a pool of',
    '10 as the API has), with nothing else: the floor cost of storing an upload without the service.',
    '',
  );
  lines.push('| | Uploads | Failures | Accepted (202)/s | Analysed/s end to end | Analysed/s ÷ baseline | 202 → analysed p50 (ms) | p99 (ms) | Upload request p50 (ms) | p99 (ms) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [index, layout] of result.layouts.entries()) {
    const failures = layout.rejected + layout.notAnalysed;
    lines.push(
      `| ${index === 0 ? '**' : ''}${label(layout.layout)}${index === 0 ? '**' : ''} | ${count(layout.uploads)} | ${count(failures)} | ${fixed(layout.acceptedPerSecond, 0)} | ` +
        `${index === 0 ? '**' : ''}${fixed(layout.analysedPerSecond, 0)}${index === 0 ? '**' : ''} | ${fixed(layout.analysedPerSecond / baseline.perSecond, 2)} | ` +
        `${ms(layout.acceptedToAnalysed.p50)} | ${ms(layout.acceptedToAnalysed.p99)} | ${ms(layout.request.p50)} | ${ms(layout.request.p99)} |`,
    );
  }
  lines.push(
    `| Baseline: \`PutObject\` + \`INSERT\` | ${count(baseline.operations)} | 0 | ${fixed(baseline.perSecond, 0)} ops/s | — | 1.00 | — | — | ` +
      `${ms(baseline.putMs.p50 + baseline.insertMs.p50)} (put ${ms(baseline.putMs.p50)}, insert ${ms(baseline.insertMs.p50)}) | ${ms(baseline.putMs.p99 + baseline.insertMs.p99)} |`,
  );
  lines.push('');
  for (const layout of result.layouts) {
    const problems = [...layout.rejections.map((reason) => `rejected: ${reason}`), ...layout.notAnalysedReasons.map((reason) => `not analysed: ${reason}`)];
    if (problems.length > 0) lines.push(`Failures with ${label(layout.layout)}: ${problems.map((problem) => `\`${problem.replace(/`/g, "'")}\``).join('; ')}.`, '');
    if (layout.logLines > 0) lines.push(`Service processes logged ${count(layout.logLines)} warning/error lines with ${label(layout.layout)}, e.g. \`${(layout.logSample[0] ?? '').slice(0, 200).replace(/`/g, "'")}\`.`, '');
  }

  lines.push('### Where the time goes', '');
  lines.push('Per report, from its own timestamps (milliseconds; p50 / p99 over the measured uploads):', '');
  lines.push(`| Stage | What it covers | ${result.layouts.map((layout) => `${layout.layout.processes}×${layout.layout.concurrency}: p50 / p99`).join(' | ')} |`);
  lines.push(`|---|---|${result.layouts.map(() => '---:').join('|')}|`);
  for (const [index, stage] of result.layouts[0]!.stages.entries()) {
    lines.push(`| ${stage.stage} | ${stage.covers} | ${result.layouts.map((layout) => `${ms(layout.stages[index]!.ms.p50)} / ${ms(layout.stages[index]!.ms.p99)}`).join(' | ')} |`);
  }
  lines.push('');
  lines.push(
    `CPU time per upload by process, from /proc, over the measured window (first upload sent → last report analysed; the machine has ${result.cores} cores,`,
    `so ${result.cores} CPU-seconds per second at most). "Other processes" is the machine's busy time that none of the listed processes used: other work on the machine.`,
    '',
  );
  lines.push(`| Process | ${result.layouts.map((layout) => `${layout.layout.processes}×${layout.layout.concurrency}: CPU ms per upload`).join(' | ')} | Baseline: CPU ms per op |`);
  lines.push(`|---|${result.layouts.map(() => '---:').join('|')}|---:|`);
  const row = (name: string, pick: (uses: CpuUse[]) => number, bold = false) => {
    const cell = (uses: CpuUse[], operations: number) => {
      const value = (pick(uses) * 1000) / operations;
      return Number.isFinite(value) && value > 0 ? (bold ? `**${ms(value)}**` : ms(value)) : '—';
    };
    lines.push(`| ${bold ? `**${name}**` : name} | ${result.layouts.map((layout) => cell(layout.cpu, layout.uploads)).join(' | ')} | ${cell(baseline.cpu, baseline.operations)} |`);
  };
  const named = (uses: CpuUse[], test: (component: string) => boolean) => uses.filter((use) => test(use.component)).reduce((sum, use) => sum + use.seconds, 0);
  row('API process', (uses) => named(uses, (component) => component === API));
  row('worker process(es), engine threads included', (uses) => named(uses, isWorker));
  row('s3rver', (uses) => named(uses, (component) => component === 's3rver'));
  row(POSTGRES, (uses) => named(uses, (component) => component === POSTGRES));
  row('Redis', (uses) => named(uses, (component) => component === 'Redis'));
  row('service total (all of the above)', (uses) => serviceSeconds(uses), true);
  row(LOAD_GENERATOR, (uses) => named(uses, (component) => component === LOAD_GENERATOR));
  row(OTHER_PROCESSES, (uses) => named(uses, (component) => component === OTHER_PROCESSES));
  lines.push(
    `| machine busy over the window | ${result.layouts.map((layout) => `${fixed(100 * layout.machineBusy, 0)} % of ${fixed(layout.cpuWindowSeconds, 1)} s`).join(' | ')} | ${fixed(100 * baseline.machineBusy, 0)} % of ${fixed(baseline.seconds, 1)} s |`,
  );
  lines.push('');
  if (result.profile) {
    const { profile } = result;
    lines.push(
      `CPU profile (\`--cpu-prof\`) of the API and the workers in an extra pass of ${count(profile.uploads)} uploads with ${label(profile.layout)} (its rates are`,
      'not reported: the profiler slows the processes down), over its measured window, in CPU-ms per upload. A sample counts for the innermost',
      'package (or the repo\'s own code) on its stack, so the time Node.js spends writing a socket for pg counts for the PostgreSQL driver; an',
      'idle or waiting thread counts for nothing.',
      '',
    );
    lines.push(`| Spent in | ${profile.columns.join(' | ')} |`);
    lines.push(`|---|${profile.columns.map(() => '---:').join('|')}|`);
    for (const row of profile.rows) {
      if (row.msPerUpload.every((value) => value < 0.05)) continue;
      lines.push(`| ${row.category} | ${row.msPerUpload.map((value) => (value < 0.05 ? '—' : ms(value))).join(' | ')} |`);
    }
    const totals = profile.columns.map((_, column) => profile.rows.reduce((sum, row) => sum + row.msPerUpload[column]!, 0));
    lines.push(`| **total** | ${totals.map((value) => `**${ms(value)}**`).join(' | ')} |`);
    lines.push('');
  }
  lines.push(...whereTheTimeGoes(result), '');

  const goal = pipelineGoal(result);
  lines.push(
    `- Goal ≥ ${PIPELINE_GOAL_PER_SECOND} uploads/s analysed end to end (50 KB, 2 workers), no failure: ${goal.measured} → ${goal.pass === null ? 'not measured' : goal.pass ? '**PASS**' : '**FAIL**'}.`,
    '',
  );
  return lines;
}

const API = 'API process';
const isWorker = (component: string): boolean => component.includes('worker process');
/** CPU seconds of the service's own processes: API, workers, s3rver, PostgreSQL, Redis (not the client, not other work). */
function serviceSeconds(uses: CpuUse[]): number {
  return uses.filter((use) => use.component !== LOAD_GENERATOR && use.component !== OTHER_PROCESSES).reduce((sum, use) => sum + use.seconds, 0);
}

/** A few factual sentences read off the figures (judged layout first). */
function whereTheTimeGoes(result: PipelineBenchmark): string[] {
  const judged = result.layouts[0]!;
  const { baseline } = result;
  const stage = (index: number) => judged.stages[index]!.ms;
  const service = serviceSeconds(judged.cpu);
  const servicePerUpload = (service * 1000) / judged.uploads;
  const other = judged.cpu.find((use) => use.component === OTHER_PROCESSES)?.seconds ?? 0;
  const ranked = judged.cpu.filter((use) => use.component !== LOAD_GENERATOR && use.component !== OTHER_PROCESSES).sort((a, b) => b.seconds - a.seconds);
  const perUploadMs = (use: CpuUse) => (use.seconds * 1000) / judged.uploads;
  const budget = (1000 * result.cores) / PIPELINE_GOAL_PER_SECOND;
  const sentences: string[] = [];
  sentences.push(
    `With ${label(judged.layout)}, uploads were accepted at ${fixed(judged.acceptedPerSecond, 0)}/s and analysed at ${fixed(judged.analysedPerSecond, 0)}/s` +
      (judged.acceptedPerSecond > judged.analysedPerSecond * 1.2
        ? `: the API outpaces the workers, a backlog builds in the queue, and the 202 → analysed latency is mostly that queue (queued → started p50 ${ms(stage(3).p50)} ms), not work.`
        : ` (queued → started p50 ${ms(stage(3).p50)} ms).`) +
      ` One job takes ${ms(stage(4).p50)} ms at the median (started → finished), of which ${ms(stage(5).p50)} ms in the engine thread.`,
  );
  sentences.push(
    `The service's processes spent ${ms(servicePerUpload)} CPU-ms per upload: ` +
      ranked.map((use) => `${use.component} ${ms(perUploadMs(use))} (${fixed((100 * use.seconds) / service, 0)} %)`).join(', ') +
      `. ${result.cores} cores given wholly to the service would carry at most about ${fixed((1000 * result.cores) / servicePerUpload, 0)} uploads/s at that cost;` +
      ` ${PIPELINE_GOAL_PER_SECOND}/s on ${result.cores} cores leaves ${ms(budget)} CPU-ms per upload for everything, PostgreSQL, S3 and the client included.`,
  );
  if (result.layouts.length > 1) {
    sentences.push(
      `Per layout: ` +
        result.layouts.map((layout) => `${layout.layout.processes}×${layout.layout.concurrency} ${ms((serviceSeconds(layout.cpu) * 1000) / layout.uploads)} CPU-ms per upload, ${fixed(layout.analysedPerSecond, 0)} analysed/s`).join('; ') +
        '.',
    );
  }
  if (result.profile && result.profile.rows.length > 0) {
    const { profile } = result;
    const columnTotal = (column: number) => profile.rows.reduce((sum, row) => sum + row.msPerUpload[column]!, 0);
    const cell = (category: string, column: number) => profile.rows.find((row) => row.category === category)?.msPerUpload[column] ?? 0;
    const dataAccess = (column: number) => cell(PRISMA, column) + cell(PG_DRIVER, column);
    sentences.push(
      `In the profiled pass, PostgreSQL access through Prisma (its runtime and the pg driver under it) took ${ms(dataAccess(0))} of the API's ${ms(columnTotal(0))} CPU-ms per upload` +
        ` and ${ms(dataAccess(1))} of the workers' ${ms(columnTotal(1))}; the AWS SDK ${ms(cell(AWS_SDK, 0))} and ${ms(cell(AWS_SDK, 1))}; the engine itself ${ms(columnTotal(2))} in its threads.`,
    );
  }
  sentences.push(
    `Without the service, the baseline stored ${fixed(baseline.perSecond, 0)} uploads/s at ${ms((serviceSeconds(baseline.cpu) * 1000) / baseline.operations)} CPU-ms each (s3rver and PostgreSQL)` +
      ` plus ${ms(((baseline.cpu.find((use) => use.component === LOAD_GENERATOR)?.seconds ?? 0) * 1000) / baseline.operations)} in the client` +
      (baseline.perSecond < PIPELINE_GOAL_PER_SECOND ? `: on this machine, storing an upload with nothing else already falls short of ${PIPELINE_GOAL_PER_SECOND}/s.` : '.'),
  );
  sentences.push(
    `The machine was ${fixed(100 * judged.machineBusy, 0)} % busy over the window` +
      (other > 0.05 * judged.cpuWindowSeconds * result.cores
        ? `, and other work on it took ${fixed((100 * other) / (judged.cpuWindowSeconds * result.cores), 0)} % of its CPU, so the rates are lower than on an idle machine (the CPU-ms per upload much less so).`
        : '.') +
      (judged.machineBusy < 0.85
        ? ' The CPU was not saturated, so the rate is bounded by latency, not CPU: a worker runs its jobs one after the other, each a chain of round trips (claim, S3 read, engine, record transaction), and more jobs in flight per worker would raise it.'
        : ' The CPU was saturated: the rate is bounded by the CPU cost per upload, and only a lower cost per upload raises it on this machine.'),
  );
  return [sentences.join(' ')];
}

// ---------------------------------------------------------------------------------------------------------------
// Standalone: node bin/run-ts.js bench/pipeline-benchmark.ts [--uploads N] [--concurrency N] [--layouts 2x1,1x2]

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const overrides = pipelineOptionsFromEnv();
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: { uploads: { type: 'string' }, concurrency: { type: 'string' }, warmup: { type: 'string' }, layouts: { type: 'string' }, 'profile-uploads': { type: 'string' } },
  });
  if (values.uploads !== undefined) overrides.uploads = positiveInteger('--uploads', values.uploads);
  if (values.concurrency !== undefined) overrides.concurrency = positiveInteger('--concurrency', values.concurrency);
  if (values.warmup !== undefined) overrides.warmup = positiveInteger('--warmup', values.warmup);
  if (values.layouts !== undefined) overrides.layouts = parseLayouts(values.layouts);
  const profileUploads = values['profile-uploads'];
  if (profileUploads !== undefined) overrides.profileUploads = profileUploads === '0' ? 0 : positiveInteger('--profile-uploads', profileUploads);
  const cpus = os.cpus();
  const started = performance.now();
  const result = await benchmarkPipeline(overrides);
  const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores`;
  process.stdout.write(`${[`<!-- ${new Date().toISOString()}, ${((performance.now() - started) / 1000).toFixed(0)} s, node bin/run-ts.js bench/pipeline-benchmark.ts ${argv.join(' ')} -->`, '', ...pipelineSection(result, machine)].join('\n')}\n`);
  if (process.env['BENCH_PIPELINE_JSON']) process.stderr.write(`${JSON.stringify(result)}\n`);
}
