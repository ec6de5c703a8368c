/**
 * Fleet API benchmark: the read endpoints of the fleet (`GET /v1/clusters`, `/v1/clusters/:id`, `/v1/trends`,
 * `/v1/servers/:name/history`) on a database of 1 M reports, beside `GET /healthz` through the same stack.
 *
 * Called by bench/run-benchmarks.ts (`npm run bench`; section "Fleet API at 1 M reports"), or alone (prints that
 * section):
 *   node bin/run-ts.js bench/fleet-api-benchmark.ts [--duration S] [--connections N] [--warmup S] [--single S]
 *                                                    [--api-env 'NAME=value …'] [--uncached 0|1] [--regenerate]
 * Environment (for `npm run bench`): BENCH_FLEET=0 skips it; BENCH_FLEET_DURATION (s, default 10),
 * BENCH_FLEET_CONNECTIONS (32), BENCH_FLEET_WARMUP (s, 2), BENCH_FLEET_SINGLE (s of the one-connection pass, 3;
 * 0: none), BENCH_FLEET_REGENERATE=1, BENCH_FLEET_MAX_AGE_HOURS (24), BENCH_FLEET_REPORTS / _CLUSTERS / _SERVERS /
 * _DAYS / _SEED (the generator's parameters; the goal is only judged at the defaults), BENCH_FLEET_API_ENV (settings
 * for the API process, `NAME=value` separated by spaces, e.g. `FLEET_CACHE_TTL_MS=0` to measure every answer
 * computed), BENCH_FLEET_UNCACHED=0 (no second pass, below), BENCH_PG_ADMIN_URL, BENCH_REDIS_URL.
 *
 * The data: a database of its own, `hangsleuth_bench_fleet` on the local PostgreSQL, migrated with
 * services/db/migrate-database.ts and filled by bench/generate-fleet.ts (a few minutes at 1 M reports). It is
 * KEPT after the run and reused by the next one when its marker table (`bench_fleet_marker`) shows the same
 * generator parameters, it was generated less than BENCH_FLEET_MAX_AGE_HOURS ago (its history ends at its
 * generation time, and the API's windows end at the time of the request: older data would leave the 7-day windows
 * nearly empty and flatter the figures) and the consistency check passes; otherwise it is dropped and generated
 * anew. New migrations are applied to a reused database first. `BENCH_FLEET_REGENERATE=1` (or `--regenerate`)
 * forces a new one; `DROP DATABASE hangsleuth_bench_fleet` frees its disk space (about 7 GB at 1 M reports).
 *
 * The stack: the API as a child process (`node bin/hangsleuth.js api`, HANGSLEUTH_LOG_LEVEL=warn, every other
 * setting at its default, so a PostgreSQL pool of 10) with its embedded S3 (LOCAL_S3_DIR in a temporary folder,
 * LOCAL_S3_PORT free) and the local Redis under a queue prefix of its own; a read-only API key issued for the
 * run (`issueApiKey`) and deleted after it. The load: autocannon's programmatic API in this process, CONNECTIONS
 * keep-alive connections sending the Authorization header, WARMUP seconds of warm-up then DURATION seconds
 * measured per endpoint, one endpoint after the other; then, for reading the figures, a one-connection pass of
 * SINGLE seconds per endpoint (the time of one request with nothing queued before it). CPU per process comes
 * from /proc over each measured window. That pass, with the service's default settings, is the one judged against
 * the goal (p99 < 50 ms for every fleet endpoint). When the service has an answer cache (FLEET_CACHE_TTL_MS), a
 * second pass follows with it off, so that every answer is computed, for information: the same URL requested over
 * and over is the cache's best case, and the second pass is what the queries behind the answers cost.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { issueApiKey } from '../services/auth/api-keys.ts';
import { CONFIG_VARIABLES } from '../services/config/load-config.ts';
import { createDatabase } from '../services/db/create-prisma-client.ts';
import { migrateDatabase } from '../services/db/migrate-database.ts';
import {
  checkFleetConsistency,
  DEFAULT_FLEET_PARAMETERS,
  generateFleet,
  readFleetMarker,
  sameParameters,
  type ConsistencyReport,
  type FleetParameters,
  type GenerationStep,
} from './generate-fleet.ts';
import { adminQuery, cleanEnv, databaseUrl, REDIS_URL, startChild, stopChild, waitForReady, withClient, type Child } from './support/child-processes.ts';
import { CLOCK_TICKS, freePort, machineTicks, processCpuSeconds, progressLog, type Log } from './support/measure.ts';

export const FLEET_GOAL_P99_MS = 50;
export const FLEET_DATABASE = 'hangsleuth_bench_fleet';

export interface FleetApiOptions {
  parameters: FleetParameters;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Seconds of the one-connection pass per endpoint; 0: none. */
  singleSeconds: number;
  regenerate: boolean;
  maxAgeHours: number;
  /** Settings given to the API process beyond the benchmark's own (its configuration variables). */
  apiEnv: Record<string, string>;
  /** Also measure with the API's answer cache off (FLEET_CACHE_TTL_MS=0), for information. */
  uncachedPass: boolean;
}

export const DEFAULT_FLEET_OPTIONS: FleetApiOptions = {
  parameters: DEFAULT_FLEET_PARAMETERS,
  connections: 32,
  durationSeconds: 10,
  warmupSeconds: 2,
  singleSeconds: 3,
  regenerate: false,
  maxAgeHours: 24,
  apiEnv: {},
  uncachedPass: true,
};

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface EndpointResult {
  name: string;
  path: string;
  /** Is it the same-stack baseline (no database)? */
  baseline: boolean;
  responseBytes: number;
  requests: number;
  /** Answers other than 2xx, connection errors, timeouts. */
  failures: number;
  latency: Latency;
  perSecond: number;
  single: { latency: Latency; perSecond: number } | null;
  /** CPU over the measured window, in cores (1.0 = one core busy throughout); `other`: the machine's busy time beyond these. */
  cpu: { api: number; postgres: number; loadGenerator: number; other: number; machineBusy: number };
}

export interface FleetData {
  database: string;
  parameters: FleetParameters;
  reused: boolean;
  /** Why it was (re)generated, when it was. */
  reason: string | null;
  anchor: Date;
  generatedAt: Date;
  generation: GenerationStep[];
  generationMs: number;
  /** Table sizes, indexes and TOAST included. */
  sizes: { table: string; rows: number; bytes: number }[];
  databaseBytes: number;
  bigCluster: { id: string; reports: number; servers: number };
  smallCluster: { id: string; reports: number; servers: number };
  server: { name: string; reports: number };
}

export interface FleetPass {
  /** Settings of the API process beyond the benchmark's own. */
  apiEnv: Record<string, string>;
  endpoints: EndpointResult[];
  /** Warnings and errors the API logged (the first few). */
  apiWarnings: string[];
}

export interface FleetApiBenchmark {
  options: FleetApiOptions;
  data: FleetData;
  check: ConsistencyReport;
  /** The first is judged against the goal (the service's default settings, plus BENCH_FLEET_API_ENV). */
  passes: FleetPass[];
  cores: number;
  loadAtStart: number[];
  loadAtEnd: number[];
  seconds: number;
}

const defaultLog = progressLog('fleet');

// ---------------------------------------------------------------------------------------------------------------
// The database

/** Why the existing database cannot be reused, or null when it can. */
async function reuseProblem(url: string, options: FleetApiOptions, log: Log): Promise<string | null> {
  const exists = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [FLEET_DATABASE]);
  if (exists[0]!.n === 0) return 'no such database yet';
  if (options.regenerate) return 'regeneration asked for';
  const marker = await withClient(url, readFleetMarker).catch(() => null);
  if (!marker) return 'no generator marker in it';
  if (!sameParameters(marker.parameters, options.parameters)) return `generated with other parameters (${JSON.stringify(marker.parameters)})`;
  const ageHours = (Date.now() - marker.anchor.getTime()) / 3_600_000;
  if (ageHours > options.maxAgeHours) return `generated ${ageHours.toFixed(0)} h ago, more than BENCH_FLEET_MAX_AGE_HOURS=${options.maxAgeHours}`;
  try {
    const migrated = await migrateDatabase(url);
    if (migrated.applied.length > 0) log(`applied new migrations to the kept database: ${migrated.applied.join(', ')}`);
  } catch (error) {
    return `its migrations cannot be brought up to date (${(error as Error).message})`;
  }
  const reports = await withClient(url, async (client) => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM reports')).rows[0]!.n));
  if (reports !== options.parameters.reports) return `${reports} reports in it, not ${options.parameters.reports}`;
  return null;
}

/** The benchmark's database, reused when it can be, generated otherwise; checked for consistency either way. */
export async function prepareFleetData(options: FleetApiOptions, log: Log): Promise<{ data: FleetData; check: ConsistencyReport }> {
  const url = databaseUrl(FLEET_DATABASE);
  let reason = await reuseProblem(url, options, log);
  for (let attempt = 0; ; attempt++) {
    if (reason !== null) {
      log(`generating ${FLEET_DATABASE} (${reason}): ${options.parameters.reports.toLocaleString('en-US')} reports, ${options.parameters.clusters.toLocaleString('en-US')} clusters, ${options.parameters.servers.toLocaleString('en-US')} servers over ${options.parameters.days} days …`);
      await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(FLEET_DATABASE)} WITH (FORCE)`);
      await migrateDatabase(url);
      await generateFleet(url, options.parameters, { log: (line) => log(`generate: ${line}`) });
    } else {
      log(`reusing ${FLEET_DATABASE} (same parameters, generated within ${options.maxAgeHours} h)`);
    }
    const result = await withClient(url, async (client) => {
      const marker = (await readFleetMarker(client))!;
      const check = await checkFleetConsistency(client, marker.tenantId);
      return { marker, check };
    });
    if (result.check.problems.length > 0) {
      const summary = `${result.check.problems.length} consistency problems, e.g. ${result.check.problems[0]}`;
      if (reason === null && attempt === 0) {
        reason = `the kept database failed the consistency check (${summary})`;
        continue;
      }
      throw new Error(`the generated fleet is inconsistent: ${summary}`);
    }
    log(`consistency check: ${result.check.clustersChecked} clusters, ${result.check.bucketsChecked} buckets, OK in ${result.check.ms.toFixed(0)} ms`);
    const data = await withClient(url, async (client) => describeData(client, result.marker, reason));
    return { data, check: result.check };
  }
}

async function describeData(client: pg.Client, marker: NonNullable<Awaited<ReturnType<typeof readFleetMarker>>>, reason: string | null): Promise<FleetData> {
  const tenant = marker.tenantId;
  const one = async <T extends pg.QueryResultRow>(sql: string): Promise<T> => {
    const { rows } = await client.query<T>(sql, [tenant]);
    if (!rows[0]) throw new Error(`no row for: ${sql}`);
    return rows[0];
  };
  const big = await one<{ id: string; reports: number; servers: number }>(
    `SELECT id::text, report_count AS reports, server_count AS servers FROM clusters WHERE tenant_id = $1::uuid AND merged_into_id IS NULL ORDER BY report_count DESC, id LIMIT 1`,
  );
  // A small cluster still alive (so that its series has points): a dozen reports or so.
  const small = await one<{ id: string; reports: number; servers: number }>(
    `SELECT id::text, report_count AS reports, server_count AS servers FROM clusters
      WHERE tenant_id = $1::uuid AND merged_into_id IS NULL AND report_count BETWEEN 5 AND 30
      ORDER BY (last_seen_at > now() - interval '14 days') DESC, abs(report_count - 12), id LIMIT 1`,
  );
  const server = await one<{ name: string; reports: number }>(`SELECT name, report_count AS reports FROM servers WHERE tenant_id = $1::uuid ORDER BY report_count DESC, name LIMIT 1`);
  const { rows: tables } = await client.query<{ table: string; bytes: string }>(
    `SELECT c.relname AS table, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
      WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.relname NOT LIKE '\\_%' AND c.relname <> 'bench_fleet_marker'
      ORDER BY pg_total_relation_size(c.oid) DESC`,
  );
  const sizes: { table: string; rows: string; bytes: string }[] = [];
  for (const table of tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(table.table)}`);
    sizes.push({ ...table, rows: rows[0]!.n });
  }
  const databaseBytes = Number((await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]!.bytes);
  return {
    database: FLEET_DATABASE,
    parameters: marker.parameters,
    reused: reason === null,
    reason,
    anchor: marker.anchor,
    generatedAt: marker.generatedAt,
    generation: marker.steps,
    generationMs: marker.totalMs,
    sizes: sizes.map((row) => ({ table: row.table, rows: Number(row.rows), bytes: Number(row.bytes) })),
    databaseBytes,
    bigCluster: big,
    smallCluster: small,
    server,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The API process

// ---------------------------------------------------------------------------------------------------------------
// CPU accounting (/proc)




interface CpuSnapshot {
  api: number;
  postgres: Map<number, number>;
  self: number;
  machine: { busy: number; total: number };
  at: number;
}

async function cpuSnapshot(apiPid: number, monitor: pg.Client): Promise<CpuSnapshot> {
  const { rows } = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [FLEET_DATABASE]);
  return {
    api: processCpuSeconds(apiPid) ?? 0,
    postgres: new Map(rows.map((row) => [row.pid, processCpuSeconds(row.pid) ?? 0])),
    self: processCpuSeconds(process.pid) ?? 0,
    machine: machineTicks(),
    at: performance.now(),
  };
}

function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): EndpointResult['cpu'] {
  const seconds = (end.at - start.at) / 1000;
  let postgres = 0;
  for (const [pid, value] of end.postgres) postgres += Math.max(0, value - (start.postgres.get(pid) ?? 0));
  const total = end.machine.total - start.machine.total;
  const api = (end.api - start.api) / seconds;
  const loadGenerator = (end.self - start.self) / seconds;
  const busyCores = (end.machine.busy - start.machine.busy) / CLOCK_TICKS / seconds;
  return {
    api,
    postgres: postgres / seconds,
    loadGenerator,
    other: Math.max(0, busyCores - api - postgres / seconds - loadGenerator),
    machineBusy: total > 0 ? (end.machine.busy - start.machine.busy) / total : NaN,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Load

interface Target {
  name: string;
  path: string;
  baseline: boolean;
  /** Checks one answer before measuring. */
  validate(body: any): string | null;
}

function targets(data: FleetData): Target[] {
  const list = (body: any) => (Array.isArray(body?.items) && body.items.length > 0 ? null : 'no items');
  const detail = (body: any) =>
    Array.isArray(body?.series?.points) && body.series.points.length > 0 && body.representative?.finding ? null : 'no series or no representative chain';
  const trends = (body: any) => (Array.isArray(body?.clusters) && body.clusters.length > 0 && Array.isArray(body?.totals) ? null : 'no clusters in the trends');
  return [
    { name: 'Baseline: `GET /healthz`', path: '/healthz', baseline: true, validate: (body) => (body?.status === 'ok' ? null : 'not ok') },
    { name: 'Clusters, default sort (servers)', path: '/v1/clusters', baseline: false, validate: list },
    { name: 'Clusters by growth over 7 days', path: '/v1/clusters?sort=growth&window=7d', baseline: false, validate: list },
    {
      name: `Cluster detail, big (${plural(data.bigCluster.reports, 'report')}, ${plural(data.bigCluster.servers, 'server')})`,
      path: `/v1/clusters/${data.bigCluster.id}`,
      baseline: false,
      validate: detail,
    },
    {
      name: `Cluster detail, small (${plural(data.smallCluster.reports, 'report')}, ${plural(data.smallCluster.servers, 'server')})`,
      path: `/v1/clusters/${data.smallCluster.id}`,
      baseline: false,
      validate: detail,
    },
    { name: 'Trends, 7 days by day', path: '/v1/trends?window=7d', baseline: false, validate: trends },
    { name: 'Trends, 7 days by hour', path: '/v1/trends?window=7d&bucket=1h', baseline: false, validate: trends },
    {
      name: `Server history (the busiest server: ${plural(data.server.reports, 'report')}, first page of 50)`,
      path: `/v1/servers/${encodeURIComponent(data.server.name)}/history`,
      baseline: false,
      validate: list,
    },
  ];
}

function latencyOf(result: autocannon.Result): Latency {
  return { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean };
}

async function load(url: string, key: string, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections, duration: seconds, headers: { authorization: `Bearer ${key}` } });
}

const failuresOf = (result: autocannon.Result): number => result.non2xx + result.errors + result.timeouts;

// ---------------------------------------------------------------------------------------------------------------
// Entry point

/** The setting that turns the API's fleet answer cache off, when this version of the service has one. */
const FLEET_CACHE_SETTING = 'FLEET_CACHE_TTL_MS';

export async function benchmarkFleetApi(overrides: Partial<FleetApiOptions> = {}, log: Log = defaultLog): Promise<FleetApiBenchmark> {
  const options: FleetApiOptions = { ...DEFAULT_FLEET_OPTIONS, ...overrides };
  const started = performance.now();
  const loadAtStart = os.loadavg();
  const { data, check } = await prepareFleetData(options, log);
  const url = databaseUrl(FLEET_DATABASE);

  const db = createDatabase({ url, poolSize: 1 });
  let key: { id: string; key: string };
  try {
    const marker = await withClient(url, async (client) => (await readFleetMarker(client))!);
    key = await issueApiKey(db, marker.tenantId, 'fleet-api-benchmark', ['read']);
  } finally {
    await db.$disconnect();
  }
  try {
    const passes: FleetPass[] = [await measurePass(options, data, key.key, options.apiEnv, log)];
    // With an answer cache on, the judged pass mostly measures cache hits: a second pass shows what computing
    // every answer costs (queries included), for information.
    const cacheSetting = FLEET_CACHE_SETTING in CONFIG_VARIABLES && !(FLEET_CACHE_SETTING in options.apiEnv);
    if (options.uncachedPass && cacheSetting) {
      passes.push(await measurePass(options, data, key.key, { ...options.apiEnv, [FLEET_CACHE_SETTING]: '0' }, log));
    }
    return { options, data, check, passes, cores: os.cpus().length, loadAtStart, loadAtEnd: os.loadavg(), seconds: (performance.now() - started) / 1000 };
  } finally {
    await withClient(url, (client) => client.query('DELETE FROM api_keys WHERE id = $1', [key.id])).catch(() => undefined);
  }
}

/**
 * `node bin/hangsleuth.js api` on the benchmark's database with `apiEnv` beyond the benchmark's own settings, its
 * embedded S3 in a temporary folder, ready to answer; `stop` ends it and removes the folder.
 */
export async function startFleetApi(benchmark: string, apiEnv: Record<string, string>): Promise<{ api: Child; url: string; stop(): Promise<void> }> {
  const folder = await mkdtemp(join(os.tmpdir(), `hangsleuth-bench-${benchmark}-s3-`));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = startChild(
    'api',
    ['bin/hangsleuth.js', 'api'],
    cleanEnv({
      DATABASE_URL: databaseUrl(FLEET_DATABASE),
      REDIS_URL,
      QUEUE_PREFIX: `hsbench-${benchmark}-${randomBytes(4).toString('hex')}`,
      HANGSLEUTH_HOST: '127.0.0.1',
      HANGSLEUTH_PORT: String(port),
      LOCAL_S3_DIR: folder,
      LOCAL_S3_PORT: String(await freePort()),
      HANGSLEUTH_LOG_LEVEL: 'warn',
      ...apiEnv,
    }),
  );
  const stop = async () => {
    await stopChild(api);
    await rm(folder, { recursive: true, force: true });
  };
  try {
    await waitForReady(url, api, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { api, url, stop };
}

/** One API process with `apiEnv`, every endpoint measured in turn. */
async function measurePass(options: FleetApiOptions, data: FleetData, key: string, apiEnv: Record<string, string>, log: Log): Promise<FleetPass> {
  const url = databaseUrl(FLEET_DATABASE);
  const label = Object.keys(apiEnv).length > 0 ? Object.entries(apiEnv).map(([name, value]) => `${name}=${value}`).join(' ') : 'default settings';
  const { api, url: apiUrl, stop } = await startFleetApi('fleet', apiEnv);
  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  try {
    const endpoints: EndpointResult[] = [];
    for (const target of targets(data)) {
      const response = await fetch(`${apiUrl}${target.path}`, { headers: { authorization: `Bearer ${key}` } });
      const text = await response.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        // reported below
      }
      const problem = response.status !== 200 ? `status ${response.status}: ${text.slice(0, 300)}` : target.validate(body);
      if (problem) throw new Error(`GET ${target.path}: ${problem}`);

      log(`${label}: ${target.path}: ${options.warmupSeconds} s warm-up, ${options.durationSeconds} s at ${options.connections} connections …`);
      await load(`${apiUrl}${target.path}`, key, options.connections, options.warmupSeconds);
      const before = await cpuSnapshot(api.process.pid!, monitor);
      const measured = await load(`${apiUrl}${target.path}`, key, options.connections, options.durationSeconds);
      const cpu = cpuBetween(before, await cpuSnapshot(api.process.pid!, monitor));
      endpoints.push({
        name: target.name,
        path: target.path,
        baseline: target.baseline,
        responseBytes: Buffer.byteLength(text),
        requests: measured.requests.total,
        failures: failuresOf(measured),
        latency: latencyOf(measured),
        perSecond: measured.requests.average,
        single: null,
        cpu,
      });
      log(`${label}: ${target.path}: p50 ${measured.latency.p50} ms, p99 ${measured.latency.p99} ms, ${measured.requests.average.toFixed(0)} req/s${failuresOf(measured) > 0 ? `, ${failuresOf(measured)} failures` : ''}`);
    }
    if (options.singleSeconds > 0) {
      for (const [index, target] of targets(data).entries()) {
        log(`${label}: ${target.path}: ${options.singleSeconds} s at 1 connection …`);
        const single = await load(`${apiUrl}${target.path}`, key, 1, options.singleSeconds);
        endpoints[index]!.single = { latency: latencyOf(single), perSecond: single.requests.average };
        endpoints[index]!.failures += failuresOf(single);
      }
    }
    if (api.warnings.length > 0) log(`${label}: the API logged warnings, e.g. ${api.warnings[0]}`);
    return { apiEnv, endpoints, apiWarnings: api.warnings };
  } finally {
    await stop();
    await monitor.end();
  }
}

function positiveNumber(name: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, not ${text}`);
  return value;
}

/** `NAME=value NAME=value` → the API process's extra settings (configuration variables only). */
export function parseApiEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const part of text.split(/\s+/).filter((item) => item !== '')) {
    const at = part.indexOf('=');
    const name = at > 0 ? part.slice(0, at) : '';
    if (!(name in CONFIG_VARIABLES)) throw new Error(`BENCH_FLEET_API_ENV: ${part} is not NAME=value with NAME one of the service's settings`);
    env[name] = part.slice(at + 1);
  }
  return env;
}

/** BENCH_FLEET_* overrides of the defaults (see the header). */
export function fleetOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<FleetApiOptions> {
  const options: Partial<FleetApiOptions> = {};
  const set = (name: string, apply: (text: string) => void) => {
    const text = env[name];
    if (text !== undefined && text !== '') apply(text);
  };
  set('BENCH_FLEET_DURATION', (text) => (options.durationSeconds = positiveNumber('BENCH_FLEET_DURATION', text)));
  set('BENCH_FLEET_CONNECTIONS', (text) => (options.connections = Math.round(positiveNumber('BENCH_FLEET_CONNECTIONS', text))));
  set('BENCH_FLEET_WARMUP', (text) => (options.warmupSeconds = positiveNumber('BENCH_FLEET_WARMUP', text, true)));
  set('BENCH_FLEET_SINGLE', (text) => (options.singleSeconds = positiveNumber('BENCH_FLEET_SINGLE', text, true)));
  set('BENCH_FLEET_REGENERATE', (text) => (options.regenerate = text !== '0'));
  set('BENCH_FLEET_API_ENV', (text) => (options.apiEnv = parseApiEnv(text)));
  set('BENCH_FLEET_UNCACHED', (text) => (options.uncachedPass = text !== '0'));
  set('BENCH_FLEET_MAX_AGE_HOURS', (text) => (options.maxAgeHours = positiveNumber('BENCH_FLEET_MAX_AGE_HOURS', text)));
  const parameters = { ...DEFAULT_FLEET_PARAMETERS };
  let changed = false;
  for (const name of ['reports', 'clusters', 'servers', 'days', 'seed'] as const) {
    set(`BENCH_FLEET_${name.toUpperCase()}`, (text) => {
      parameters[name] = Math.round(positiveNumber(`BENCH_FLEET_${name.toUpperCase()}`, text, name === 'seed'));
      changed = true;
    });
  }
  if (changed) options.parameters = parameters;
  return options;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

/** autocannon records whole milliseconds. */
const ms = (value: number): string => (!Number.isFinite(value) ? '—' : value < 1 ? '< 1' : value.toFixed(0));
const plural = (value: number, word: string): string => `${value.toLocaleString('en-US')} ${word}${value === 1 ? '' : 's'}`;
const passes = (endpoint: EndpointResult): boolean => endpoint.requests > 0 && endpoint.failures === 0 && endpoint.latency.p99 < FLEET_GOAL_P99_MS;
const count = (value: number): string => value.toLocaleString('en-US');
const gib = (bytes: number): string => (bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`);

const settingsOf = (pass: FleetPass): string => Object.entries(pass.apiEnv).map(([name, value]) => `${name}=${value}`).join(', ');

/** The goal: p99 < 50 ms for every fleet endpoint (not the baseline) of the first pass, judged at the default data sizes only. */
export function fleetGoal(result: FleetApiBenchmark | null): { measured: string; pass: boolean | null } {
  const judged = result?.passes[0];
  if (!result || !judged) return { measured: '—', pass: null };
  const measured = judged.endpoints.filter((endpoint) => !endpoint.baseline);
  const worst = measured.reduce((a, b) => (b.latency.p99 > a.latency.p99 ? b : a));
  const failing = measured.filter((endpoint) => !passes(endpoint));
  const atDefaults = sameParameters(result.data.parameters, DEFAULT_FLEET_PARAMETERS);
  const text =
    `worst p99 ${ms(worst.latency.p99)} ms (\`${worst.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, ':id')}\`); ${measured.length - failing.length} of ${measured.length} endpoints under ${FLEET_GOAL_P99_MS} ms` +
    (atDefaults ? '' : ' (not at the default 1 M reports: not judged)');
  return { measured: text, pass: atDefaults ? failing.length === 0 : null };
}

export const FLEET_SECTION_HEADING = '## Fleet API at 1 M reports';

function endpointTable(pass: FleetPass, judged: boolean): string[] {
  const lines = [
    `| Endpoint | Request | Response (bytes) | Requests | Failures | p50 (ms) | p99 (ms) | max (ms) | Requests/s | 1 connection p50 (ms) | CPU cores: API / PostgreSQL / autocannon / other | p99 < ${FLEET_GOAL_P99_MS} ms |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const endpoint of pass.endpoints) {
    const verdict = endpoint.baseline ? '(baseline)' : !judged ? (passes(endpoint) ? 'yes' : 'no') : passes(endpoint) ? '**PASS**' : '**FAIL**';
    lines.push(
      `| ${endpoint.name} | \`GET ${endpoint.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, (id) => `${id.slice(0, 8)}…`)}\` | ${count(endpoint.responseBytes)} | ${count(endpoint.requests)} | ${count(endpoint.failures)} | ` +
        `${ms(endpoint.latency.p50)} | ${ms(endpoint.latency.p99)} | ${ms(endpoint.latency.max)} | ${count(Math.round(endpoint.perSecond))} | ${endpoint.single ? ms(endpoint.single.latency.p50) : '—'} | ` +
        `${endpoint.cpu.api.toFixed(2)} / ${endpoint.cpu.postgres.toFixed(2)} / ${endpoint.cpu.loadGenerator.toFixed(2)} / ${endpoint.cpu.other.toFixed(2)} | ${verdict} |`,
    );
  }
  lines.push('');
  if (pass.apiWarnings.length > 0) lines.push(`The API logged warnings or errors, e.g. \`${pass.apiWarnings[0]!.slice(0, 300).replace(/`/g, "'")}\`.`, '');
  return lines;
}

/** The "Fleet API at 1 M reports" section of BENCHMARKS.md, with its own date, machine, command and revision. */
export function fleetSection(result: FleetApiBenchmark | null, context: { machine: string; command: string; revision: string | null }): string[] {
  const lines = [FLEET_SECTION_HEADING, ''];
  if (!result || !result.passes[0]) {
    lines.push('Not measured (`--no-fleet` or BENCH_FLEET=0).', '');
    return lines;
  }
  const { options, data } = result;
  const judged = result.passes[0];
  const p = data.parameters;
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  lines.push(
    `- Run: ${new Date().toISOString()}, ${context.command}, ${result.seconds.toFixed(0)} s; machine: ${context.machine}; load average (1/5/15 min) ${load(result.loadAtStart)} at start, ${load(result.loadAtEnd)} at end`,
    `- Service code: ${context.revision ?? 'unknown'}`,
    '',
    `Data: one tenant with ${count(p.reports)} reports (all analysed: one analysis with the real verdict of the bundled example, one finding) over ${count(p.clusters)} clusters and ${count(p.servers)} servers over ${p.days} days`,
    `(bench/generate-fleet.ts, seed ${p.seed}: a few big clusters and a long tail, some only recent; signatures, cluster_servers, hourly and daily rollups and server rows derived from the findings),`,
    `in the database \`${data.database}\` (${gib(data.databaseBytes)}), ` +
      (data.reused
        ? `kept from an earlier run: generated ${data.generatedAt.toISOString()} in ${(data.generationMs / 1000).toFixed(0)} s, history up to ${data.anchor.toISOString()}.`
        : `generated by this run in ${(data.generationMs / 1000).toFixed(0)} s (${data.reason}), history up to ${data.anchor.toISOString()}.`) +
      ` Consistency check before measuring (${result.check.clustersChecked} clusters, ${result.check.bucketsChecked} rollup buckets): OK.`,
    `The database is kept for the next run, which reuses it when its parameters match and it is less than ${options.maxAgeHours} h old (BENCH_FLEET_MAX_AGE_HOURS; BENCH_FLEET_REGENERATE=1 forces a new one).`,
    '',
    `Stack: the API as a child process (\`node bin/hangsleuth.js api\`: Fastify, Prisma over its pool of PostgreSQL connections, HANGSLEUTH_LOG_LEVEL=warn${settingsOf(judged) ? `, ${settingsOf(judged)} (BENCH_FLEET_API_ENV)` : ''}, every other setting at`,
    `its default) on the machine's PostgreSQL and Redis; a read-only API key sent as \`Authorization: Bearer\`. Load: autocannon (programmatic API) in the benchmark process,`,
    `on the same ${result.cores} cores, ${options.connections} keep-alive connections, ${options.warmupSeconds} s of warm-up then ${options.durationSeconds} s measured per endpoint, each endpoint its one URL over and over. Baseline, same run and stack: \`GET /healthz\``,
    `(Fastify alone, no database). "1 connection p50": a pass of ${options.singleSeconds} s with one connection, the time of one request with nothing queued before it.`,
    `CPU: cores used over the measured window by the API process, the database's PostgreSQL backends, the load generator, and other processes on the machine (of ${result.cores}).`,
    'Latencies are whole milliseconds (autocannon\'s resolution); "Requests" counts answers received within the measured window.',
    '',
  );
  lines.push(...endpointTable(judged, true));
  for (const extra of result.passes.slice(1)) {
    lines.push(
      `The same with ${settingsOf(extra)}: the API's answer cache off, so that every answer is computed (its queries included), for information (not judged):`,
      '',
      ...endpointTable(extra, false),
    );
  }
  const measured = judged.endpoints.filter((endpoint) => !endpoint.baseline);
  const baseline = judged.endpoints.find((endpoint) => endpoint.baseline);
  const all = result.passes.flatMap((pass) => pass.endpoints);
  const other = all.reduce((sum, endpoint) => sum + endpoint.cpu.other, 0) / Math.max(1, all.length);
  const needed = options.connections / (FLEET_GOAL_P99_MS / 1000);
  lines.push(
    `With ${options.connections} connections each waiting for its answer before sending again, the mean latency is ${options.connections} ÷ throughput (Little's law), so a p99 under ${FLEET_GOAL_P99_MS} ms` +
      ` needs at least ${count(Math.round(needed))} answers/s from an endpoint` +
      (baseline ? `; \`/healthz\` through the same stack gave ${count(Math.round(baseline.perSecond))}/s, the fleet endpoints ${count(Math.round(Math.min(...measured.map((endpoint) => endpoint.perSecond))))}–${count(Math.round(Math.max(...measured.map((endpoint) => endpoint.perSecond))))}/s.` : '.') +
      ` Other work on the machine took ${other.toFixed(2)} of its ${result.cores} cores on average over the measured windows` +
      (other > 0.25 * result.cores ? ', so these rates are lower, and the latencies higher, than on an idle machine.' : '.'),
    '',
  );
  lines.push(
    `Generation steps (${data.reused ? `of the kept database, ${data.generatedAt.toISOString()}` : 'this run'}; one transaction, then VACUUM ANALYZE), seconds: ` +
      data.generation.map((step) => `${step.step} ${(step.ms / 1000).toFixed(1)}`).join('; ') +
      '.',
    '',
    `Table sizes (indexes and TOAST included): ${data.sizes.filter((table) => table.bytes > 1024 * 1024).map((table) => `${table.table} ${count(table.rows)} rows, ${gib(table.bytes)}`).join('; ')}.`,
    '',
  );
  const goal = fleetGoal(result);
  lines.push(`- Goal p99 < ${FLEET_GOAL_P99_MS} ms for each fleet endpoint at ${count(p.reports)} reports, ${options.connections} connections: ${goal.measured} → ${goal.pass === null ? 'not judged' : goal.pass ? '**PASS**' : '**FAIL**'}.`, '');
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// Standalone: node bin/run-ts.js bench/fleet-api-benchmark.ts [--duration S] [--connections N] [--warmup S] [--single S] [--api-env 'NAME=value …'] [--regenerate]

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const overrides = fleetOptionsFromEnv();
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      single: { type: 'string' },
      'api-env': { type: 'string' },
      uncached: { type: 'string' },
      regenerate: { type: 'boolean' },
    },
  });
  if (values.regenerate) overrides.regenerate = true;
  if (values.duration !== undefined) overrides.durationSeconds = positiveNumber('--duration', values.duration);
  if (values.connections !== undefined) overrides.connections = Math.round(positiveNumber('--connections', values.connections));
  if (values.warmup !== undefined) overrides.warmupSeconds = positiveNumber('--warmup', values.warmup, true);
  if (values.single !== undefined) overrides.singleSeconds = positiveNumber('--single', values.single, true);
  if (values['api-env'] !== undefined) overrides.apiEnv = parseApiEnv(values['api-env']);
  if (values.uncached !== undefined) overrides.uncachedPass = values.uncached !== '0';
  const cpus = os.cpus();
  const result = await benchmarkFleetApi(overrides);
  const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM`;
  process.stdout.write(`${fleetSection(result, { machine, command: `\`node bin/run-ts.js bench/fleet-api-benchmark.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''}\``, revision: null }).join('\n')}\n`);
}
