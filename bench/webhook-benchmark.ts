/**
 * Webhook delivery benchmark: deliveries per second from one worker process (`node bin/hangsleuth.js worker`, whose
 * webhook worker sends WEBHOOK_CONCURRENCY deliveries at once) to a local receiver with 1,000 subscriptions, beside
 * raw `fetch` (Node's global fetch, keep-alive) POSTing the same signed bodies to the same receiver with the same
 * concurrency in the same run, and beside the worker's own sender (`createDeliverySender`: one long-lived keep-alive
 * undici Agent, as the worker process holds) called in a loop without the database or the queue, which splits the
 * gap between the two into HTTP and the rest.
 *
 * Called by bench/run-benchmarks.ts (`npm run bench`; `--only webhooks` for this section alone), or alone (prints
 * its section of BENCHMARKS.md):
 *   node bin/run-ts.js bench/webhook-benchmark.ts [--endpoints N] [--clusters N] [--concurrency 32,128]
 * Environment: BENCH_WEBHOOK_ENDPOINTS (1000), BENCH_WEBHOOK_CLUSTERS (5), BENCH_WEBHOOK_CONCURRENCY (32,128: one
 * pass per value, the first reported first), BENCH_WEBHOOK_NODE_ARGS (extra node flags for the worker, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_PG_ADMIN_URL, BENCH_REDIS_URL.
 *
 * Setup, all torn down afterwards, each service in a child process of its own so that the load generator (this
 * process) shares an event loop with none of them:
 * - the receiver: node:http on 127.0.0.1 (inline below), answering 200 as soon as a request's body has arrived,
 *   counting requests, distinct `webhook-id` headers and TCP connections; read and reset over IPC between phases;
 * - s3rver on a temporary folder (the worker needs an object store to start; no transcript is stored);
 * - per pass, a database of its own (created and migrated by services/db/migrate-database.ts, dropped after) and a
 *   queue prefix of its own (obliterated after);
 * - one tenant, one server and ENDPOINTS webhook endpoints (kind generic, events ['cluster.created'], secrets from
 *   `generateSecret()`, each its own path on the receiver), inserted with Prisma;
 * - CLUSTERS new clusters, each planned by `planReportEvents` in a transaction of its own as the analysis worker
 *   does (one `cluster.created` message per endpoint): ENDPOINTS × CLUSTERS pending messages;
 * - the worker: `node bin/hangsleuth.js worker` with WEBHOOK_CONCURRENCY = the pass's concurrency,
 *   WEBHOOK_ALLOWED_HOSTS=127.0.0.1/32, HANGSLEUTH_LOG_LEVEL=warn, WORKER_METRICS_PORT=0, RECONCILE_GRACE_MS at its
 *   maximum (so its reconciler leaves the pending messages to the benchmark's own enqueue), every other setting at
 *   its default (DATABASE_POOL_SIZE 10 among them).
 *
 * Per pass: the two baselines (raw fetch, then the worker's sender), each over the same number of requests with the bodies
 * the worker will send (`renderWebhookBody` of the stored events, signed per request with `signMessage` and the
 * endpoint's secret), after an untimed warm-up. Then the worker starts, and its first work is one more new cluster,
 * planned and enqueued right after its commit as the analysis worker does: the latency a new root cause takes to reach
 * all its subscribers (`created_at`, the planning transaction's start, to `delivered_at`). Then, once PostgreSQL's
 * statistics have settled, the burst: all message ids enqueued at once (`enqueueDeliveries`) and the rate measured as
 * messages reaching status `delivered` over wall-clock time (PostgreSQL polled; the end is the last `delivered_at`).
 * The receiver's counts check that every message arrived exactly once; PostgreSQL's statistics (pg_stat_database,
 * pg_stat_user_tables, read after the worker stopped so that its connections have reported) give the database work
 * per delivery, /proc the CPU time per process.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../services/config/load-config.ts';
import { createDatabase } from '../services/db/create-prisma-client.ts';
import { migrateDatabase } from '../services/db/migrate-database.ts';
import { createWebhookQueue, enqueueDeliveries, type WebhookQueue } from '../services/queue/analysis-queue.ts';
import { planReportEvents, type StoredClusterEvent } from '../services/webhooks/plan-cluster-events.ts';
import { renderWebhookBody } from '../services/webhooks/render-webhook-body.ts';
import type { WebhookSender } from '../services/webhooks/send-webhook.ts';
import { generateSecret, signMessage } from '../services/webhooks/sign-message.ts';
import { createDeliverySender } from '../workers/webhooks/delivery-sender.ts';
import { adminQuery, alive, cleanEnv, databaseUrl, portOf, REDIS_URL, REPOSITORY_ROOT, startChild, startS3rver, stopChild, waitUntil, type Child } from './support/child-processes.ts';
import { CLOCK_TICKS, bounded, machineTicks, processCpuSeconds, percentiles, progressLog, type Log, type Percentiles } from './support/measure.ts';

export const WEBHOOK_SECTION_HEADING = '## Webhooks: deliveries per second';
export const WEBHOOK_GOAL_TEXT = 'no numeric goal in the issue; the figure is the delivery rate relative to raw fetch';
const PUBLIC_URL = 'https://hangsleuth.example.com';
/** WEBHOOK_ALLOWED_HOSTS of the worker and of its sender in the baseline (which also runs with WEBHOOK_TIMEOUT_MS's default). */
const ALLOWLIST = ['127.0.0.1/32'];
const root = REPOSITORY_ROOT;

export interface WebhookOptions {
  /** Webhook endpoints of the tenant, all on the receiver. */
  endpoints: number;
  /** New clusters planned per pass: endpoints × clusters messages measured. */
  clusters: number;
  /** WEBHOOK_CONCURRENCY of each pass (and the in-flight requests of its baselines); the first is reported first. */
  concurrencies: number[];
  /** Requests of each baseline before its timed ones. */
  warmup: number;
  /** How long to wait for the last delivery after the enqueue. */
  drainTimeoutMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  endpoints: 1000,
  clusters: 5,
  concurrencies: [32, 128],
  warmup: 300,
  drainTimeoutMs: 300_000,
};

export interface ReceiverCounts {
  requests: number;
  /** Distinct `webhook-id` headers. */
  distinct: number;
  /** Requests whose `webhook-id` had been seen before. */
  duplicates: number;
  /** Requests without a `webhook-id`. */
  missing: number;
  bytes: number;
  /** TCP connections accepted. */
  connections: number;
}

export interface BaselineResult {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
  failures: number;
  latencyMs: Percentiles;
  receiver: ReceiverCounts;
}

export interface CpuUse {
  component: string;
  seconds: number;
}

export interface DatabaseWork {
  /** Transactions committed in the pass's database (a statement outside a transaction is one), the benchmark's own polling taken out. */
  commits: number;
  attemptsInserted: number;
  messagesUpdated: number;
  endpointsUpdated: number;
  /** WAL bytes written meanwhile (the whole server, pg_stat_wal). */
  walBytes: number | null;
}

export interface PassResult {
  concurrency: number;
  messages: number;
  /** Planning: `planReportEvents` transactions, messages per second. */
  planSeconds: number;
  enqueueMs: number;
  delivered: number;
  failed: number;
  /** Enqueue start → last delivered_at. */
  seconds: number;
  perSecond: number;
  /** Between the 10th and the 90th percentile of delivered_at (start-up and tail left out). */
  steadyPerSecond: number;
  /** Enqueue start → delivered_at: for a burst, mostly the wait behind the earlier messages. */
  enqueueToDelivered: Percentiles;
  /** One attempt's HTTP exchange as the sender timed it (webhook_attempts.latency_ms). */
  httpMs: Percentiles;
  /** webhook_attempts.attempted_at → delivered_at: sign, send, log the attempt. */
  attemptToDeliveredMs: Percentiles;
  receiver: ReceiverCounts;
  database: DatabaseWork;
  cpu: CpuUse[];
  machineBusy: number;
  cpuWindowSeconds: number;
  /** The machine's 1-minute load average before and after the burst. */
  loadAverage: [number, number];
  /** Warnings and errors the worker logged, and the first few. */
  logLines: number;
  logSample: string[];
  rawFetch: BaselineResult;
  sender: BaselineResult;
  /** One more cluster planned with the worker idle (before the burst), enqueued after its commit: created_at → delivered_at. */
  newCluster: { messages: number; delivered: number; planMs: number; firstMs: number; latency: Percentiles; lastMs: number; receiver: ReceiverCounts } | null;
}

export interface WebhookBenchmark {
  options: WebhookOptions;
  cores: number;
  bodyBytes: { min: number; max: number; mean: number };
  passes: PassResult[];
}

const defaultLog = progressLog('webhooks');

// ---------------------------------------------------------------------------------------------------------------
// Measurement helpers

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));






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
  const perComponent = new Map<string, Map<number, number>>();
  for (const component of components) {
    const perPid = new Map<number, number>();
    for (const pid of await component.pids()) {
      const seconds = processCpuSeconds(pid);
      if (seconds !== null) perPid.set(pid, seconds);
    }
    perComponent.set(component.component, perPid);
  }
  return { perComponent, machine: machineTicks(), at: now() };
}

const OTHER_PROCESSES = 'other processes on the machine';
const POSTGRES = "PostgreSQL (this database's backends, background writers)";
const LOAD_GENERATOR = 'load generator (this process: polling PostgreSQL)';
const WORKER = 'worker process';

function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): { cpu: CpuUse[]; machineBusy: number; seconds: number } {
  const cpu: CpuUse[] = [];
  for (const [component, after] of end.perComponent) {
    const before = start.perComponent.get(component) ?? new Map<number, number>();
    let seconds = 0;
    for (const [pid, value] of after) seconds += Math.max(0, value - (before.get(pid) ?? 0));
    cpu.push({ component, seconds });
  }
  const total = end.machine.total - start.machine.total;
  const ours = cpu.reduce((sum, use) => sum + use.seconds, 0);
  if (total > 0) cpu.push({ component: OTHER_PROCESSES, seconds: Math.max(0, (end.machine.busy - start.machine.busy) / CLOCK_TICKS - ours) });
  return { cpu, machineBusy: total > 0 ? (end.machine.busy - start.machine.busy) / total : NaN, seconds: (end.at - start.at) / 1000 };
}

async function postgresPids(client: pg.Client, database: string): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE (datname = $1 OR datname IS NULL) AND pid <> pg_backend_pid()', [database]);
  return rows.map((row) => row.pid);
}

async function redisPid(redis: Redis): Promise<number[]> {
  const match = /process_id:(\d+)/.exec(await redis.info('server'));
  return match ? [Number(match[1])] : [];
}

interface DatabaseCounters {
  commits: number;
  attemptsInserted: number;
  messagesUpdated: number;
  endpointsUpdated: number;
  wal: number | null;
}

/**
 * Cumulative counters of this database. Backends report their statistics at most once a second, and an idle one
 * only after 10 s (PGSTAT_IDLE_INTERVAL) or when it exits: read them once the worker is stopped.
 */
async function databaseCounters(client: pg.Client, database: string): Promise<DatabaseCounters> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ commits: string }>('SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = $1', [database]);
  const { rows: tables } = await client.query<{ relname: string; inserted: string; updated: string }>(
    "SELECT relname, n_tup_ins AS inserted, n_tup_upd AS updated FROM pg_stat_user_tables WHERE relname IN ('webhook_messages', 'webhook_endpoints', 'webhook_attempts')",
  );
  const table = (name: string) => tables.find((row) => row.relname === name);
  let wal: number | null = null;
  try {
    wal = Number((await client.query<{ bytes: string }>('SELECT wal_bytes AS bytes FROM pg_stat_wal')).rows[0]!.bytes);
  } catch {
    // pg_stat_wal is PostgreSQL 14+
  }
  return {
    commits: Number(rows[0]!.commits),
    attemptsInserted: Number(table('webhook_attempts')?.inserted ?? 0),
    messagesUpdated: Number(table('webhook_messages')?.updated ?? 0),
    endpointsUpdated: Number(table('webhook_endpoints')?.updated ?? 0),
    wal,
  };
}

function databaseWork(before: DatabaseCounters, after: DatabaseCounters, ownQueries: number): DatabaseWork {
  return {
    commits: after.commits - before.commits - ownQueries,
    attemptsInserted: after.attemptsInserted - before.attemptsInserted,
    messagesUpdated: after.messagesUpdated - before.messagesUpdated,
    endpointsUpdated: after.endpointsUpdated - before.endpointsUpdated,
    walBytes: before.wal === null || after.wal === null ? null : after.wal - before.wal,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/**
 * The receiver: answers 200 to every request once its body has arrived; counts requests, bytes, distinct
 * `webhook-id` headers, repeats and TCP connections. `{ type: 'stats', reset }` over IPC answers the counts
 * (and starts them anew when `reset`).
 */
const RECEIVER_CODE = `
import http from 'node:http';
let counts, ids;
const reset = () => { counts = { requests: 0, distinct: 0, duplicates: 0, missing: 0, bytes: 0, connections: 0 }; ids = new Set(); };
reset();
const server = http.createServer((request, response) => {
  let size = 0;
  request.on('data', (chunk) => { size += chunk.length; });
  request.on('end', () => {
    counts.requests++;
    counts.bytes += size;
    const id = request.headers['webhook-id'];
    if (typeof id !== 'string' || id === '') counts.missing++;
    else if (ids.has(id)) counts.duplicates++;
    else { ids.add(id); counts.distinct++; }
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    response.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.on('connection', () => { counts.connections++; });
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
process.on('message', (message) => {
  if (message && message.type === 'stats') {
    process.send({ type: 'stats', counts });
    if (message.reset) reset();
  }
});
process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
`;

interface Receiver {
  child: Child;
  url: string;
  /** The counts since the last reset; `reset` starts new ones. */
  stats(reset?: boolean): Promise<ReceiverCounts>;
}

async function startReceiver(): Promise<Receiver> {
  const child = startChild('receiver', ['--input-type=module', '-e', RECEIVER_CODE], cleanEnv({}), true);
  const port = await portOf(child);
  const stats = (reset = false) =>
    new Promise<ReceiverCounts>((resolve, reject) => {
      const onMessage = (message: { type?: string; counts?: ReceiverCounts }) => {
        if (message.type !== 'stats' || !message.counts) return;
        child.process.off('message', onMessage);
        resolve(message.counts);
      };
      child.process.on('message', onMessage);
      if (!child.process.send({ type: 'stats', reset })) reject(new Error('the receiver is gone'));
    });
  return { child, url: `http://127.0.0.1:${port}`, stats };
}

// ---------------------------------------------------------------------------------------------------------------
// Data

interface Planned {
  tenantId: string;
  serverId: string;
  messageIds: string[];
  planSeconds: number;
}

type Db = ReturnType<typeof createDatabase>;

async function seed(db: Db, options: WebhookOptions, receiverUrl: string): Promise<{ tenantId: string; serverId: string }> {
  const tenant = await db.tenant.create({ data: { name: 'webhook-benchmark' } });
  const server = await db.server.create({ data: { tenantId: tenant.id, name: 'srv-bench-001', reportCount: 1 } });
  const rows = Array.from({ length: options.endpoints }, (_, index) => ({
    tenantId: tenant.id,
    url: `${receiverUrl}/hooks/${String(index).padStart(4, '0')}`,
    kind: 'generic' as const,
    events: ['cluster.created'],
    secret: generateSecret(),
  }));
  for (let start = 0; start < rows.length; start += 1000) await db.webhookEndpoint.createMany({ data: rows.slice(start, start + 1000) });
  return { tenantId: tenant.id, serverId: server.id };
}

/** A new cluster and its events, planned as the analysis worker plans them: `planReportEvents` in one transaction. */
async function planCluster(db: Db, tenantId: string, serverId: string, index: number): Promise<string[]> {
  const cluster = await db.cluster.create({
    data: {
      tenantId,
      pattern: 'lock-convoy',
      blamedModule: 'contoso_filter.sys',
      signatureText: `ERESOURCE held across a paging I/O by contoso_filter!FltPostWrite (benchmark cluster ${index})`,
      serverCount: 1,
      reportCount: 1,
    },
  });
  const report = { tenantId, reportId: randomUUID(), serverId, seenAt: new Date(), summary: `Logon hangs: the worker queue is blocked behind contoso_filter.sys (benchmark ${index})` };
  return db.$transaction((tx) => planReportEvents(tx, report, [{ clusterId: cluster.id, created: true, regressed: false }]), { timeout: 300_000, maxWait: 10_000 });
}

interface Request {
  url: string;
  body: string;
  secret: string;
}

/** The bodies the worker will send for these messages, with their endpoint's URL and secret. */
async function requestsOf(db: Db, messageIds: string[]): Promise<Request[]> {
  const messages = await db.webhookMessage.findMany({ where: { id: { in: messageIds } }, include: { endpoint: true } });
  return messages.map((message) => ({
    url: message.endpoint.url,
    secret: message.endpoint.secret,
    body: renderWebhookBody(message.endpoint.kind, message.event as unknown as StoredClusterEvent, { publicUrl: PUBLIC_URL, routingKey: message.endpoint.routingKey })!,
  }));
}

function signedHeaders(request: Request, id: string): Record<string, string> {
  return { ...signMessage({ id, timestamp: new Date(), body: request.body, secrets: [request.secret] }), 'content-type': 'application/json', 'user-agent': 'HangSleuth-Webhooks/1' };
}

// ---------------------------------------------------------------------------------------------------------------
// Baselines

type Send = (request: Request, id: string) => Promise<boolean>;

const rawFetch: Send = async (request, id) => {
  const response = await fetch(request.url, { method: 'POST', headers: signedHeaders(request, id), body: request.body });
  await response.arrayBuffer();
  return response.ok;
};

/** Through the sender a worker process delivers with: its connections are kept from one request to the next. */
const sendingThrough =
  (sender: WebhookSender): Send =>
  async (request, id) =>
    (await sender.send({ url: request.url, headers: signedHeaders(request, id), body: request.body })).ok;

async function runBaseline(name: string, send: Send, requests: Request[], options: WebhookOptions, concurrency: number, receiver: Receiver): Promise<BaselineResult> {
  const tag = randomBytes(4).toString('hex');
  const warm = Math.min(options.warmup, requests.length);
  await bounded(warm, concurrency, async (index) => {
    await send(requests[index]!, `msg_warm${tag}${index}`);
  });
  await receiver.stats(true);
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  await bounded(requests.length, concurrency, async (index) => {
    const start = performance.now();
    let ok = false;
    try {
      ok = await send(requests[index]!, `msg_base${tag}${index}`);
    } catch {
      ok = false;
    }
    latencies.push(performance.now() - start);
    if (!ok) failures++;
  });
  const seconds = (performance.now() - started) / 1000;
  return { name, requests: requests.length, seconds, perSecond: requests.length / seconds, failures, latencyMs: percentiles(latencies), receiver: await receiver.stats(true) };
}

// ---------------------------------------------------------------------------------------------------------------
// One pass: one database, one worker at one concurrency

async function runPass(options: WebhookOptions, concurrency: number, receiver: Receiver, s3: { endpoint: string; child: Child }, log: Log): Promise<PassResult> {
  const databaseName = `hangsleuth_bench_${randomBytes(5).toString('hex')}`;
  const url = databaseUrl(databaseName);
  const prefix = `hsbench-${randomBytes(5).toString('hex')}`;
  const children: Child[] = [];
  const client = new pg.Client({ connectionString: url });
  let clientConnected = false;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  // The worker's default retry schedule, so that a job's attempts are what the analysis worker would give it.
  const queue: WebhookQueue = createWebhookQueue({ prefix, retryScheduleMs: loadConfig({}).webhooks.retryScheduleMs }, redis);
  queue.on('error', () => undefined);
  let db: Db | null = null;
  try {
    await migrateDatabase(url);
    db = createDatabase({ url, poolSize: 4 });
    const { tenantId, serverId } = await seed(db, options, receiver.url);
    log(`concurrency ${concurrency}: ${options.endpoints} endpoints; planning ${options.clusters} clusters × ${options.endpoints} messages (planReportEvents) …`);
    const planned: Planned = { tenantId, serverId, messageIds: [], planSeconds: 0 };
    const planStart = performance.now();
    for (let index = 0; index < options.clusters; index++) planned.messageIds.push(...(await planCluster(db, tenantId, serverId, index)));
    planned.planSeconds = (performance.now() - planStart) / 1000;
    const ids = planned.messageIds;
    log(`concurrency ${concurrency}: ${ids.length} messages planned in ${planned.planSeconds.toFixed(1)} s`);

    const requests = await requestsOf(db, ids);
    log(`concurrency ${concurrency}: baseline raw fetch, ${requests.length} requests …`);
    const rawFetchResult = await runBaseline('raw fetch (keep-alive)', rawFetch, requests, options, concurrency, receiver);
    log(`concurrency ${concurrency}: raw fetch ${rawFetchResult.perSecond.toFixed(0)}/s; baseline the worker's sender …`);
    // As the worker creates it: WEBHOOK_TIMEOUT_MS's default, this allowlist, a connection per delivery in flight at most.
    const sender = createDeliverySender({ timeoutMs: loadConfig({}).webhooks.timeoutMs, allowlist: ALLOWLIST, concurrency });
    const senderResult = await runBaseline("the worker's sender alone", sendingThrough(sender), requests, options, concurrency, receiver).finally(() => sender.close());
    log(`concurrency ${concurrency}: the worker's sender ${senderResult.perSecond.toFixed(0)}/s; starting the worker …`);

    await client.connect();
    clientConnected = true;
    /** Statements this benchmark ran on the pass's database meanwhile, taken out of its commit count. */
    let ownQueries = 0;
    const query = async <T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> => {
      ownQueries++;
      return (await client.query<T>(sql, values)).rows;
    };
    const nodeArgs = (process.env['BENCH_WEBHOOK_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
    const worker = startChild(
      'worker',
      [...nodeArgs, 'bin/hangsleuth.js', 'worker'],
      cleanEnv({
        DATABASE_URL: url,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: 'hangsleuth-bench',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
        HANGSLEUTH_HOST: '127.0.0.1',
        HANGSLEUTH_PORT: '0',
        HANGSLEUTH_PUBLIC_URL: PUBLIC_URL,
        HANGSLEUTH_LOG_LEVEL: 'warn',
        WORKER_METRICS_PORT: '0',
        WEBHOOK_ALLOWED_HOSTS: ALLOWLIST.join(','),
        WEBHOOK_CONCURRENCY: String(concurrency),
        RECONCILE_GRACE_MS: '86400000',
      }),
    );
    children.push(worker);
    await waitUntil('the webhook worker on the queue', async () => (await queue.getWorkersCount()) >= 1, 60_000, children);
    // Both workers of the process register; give the webhook worker's connection a moment to block on the queue.
    await sleep(500);
    const doneAmong = async (messageIds: string[]) => {
      const [row] = await query<{ delivered: string; failed: string }>(
        "SELECT count(*) FILTER (WHERE status = 'delivered') AS delivered, count(*) FILTER (WHERE status = 'failed') AS failed FROM webhook_messages WHERE id = ANY($1::text[])",
        [messageIds],
      );
      return { delivered: Number(row!.delivered), failed: Number(row!.failed) };
    };

    // First, with the worker idle (its first work): a new cluster, planned and enqueued right after its commit as
    // the analysis worker does. created_at is the planning transaction's start (PostgreSQL's now()).
    let newCluster: PassResult['newCluster'] = null;
    await receiver.stats(true);
    {
      const planStart = now();
      const freshIds = await planCluster(db, tenantId, serverId, options.clusters);
      const planMs = now() - planStart;
      await enqueueDeliveries(queue, freshIds);
      try {
        await waitUntil("the new cluster's deliveries", async () => {
          const done = await doneAmong(freshIds);
          return done.delivered + done.failed === freshIds.length;
        }, options.drainTimeoutMs, children, 50);
        const fresh = await query<{ created_at: Date; delivered_at: Date | null }>('SELECT created_at, delivered_at FROM webhook_messages WHERE id = ANY($1::text[])', [freshIds]);
        const latencies = fresh.filter((row) => row.delivered_at).map((row) => row.delivered_at!.getTime() - row.created_at.getTime());
        newCluster = {
          messages: freshIds.length,
          delivered: latencies.length,
          planMs,
          firstMs: Math.min(...latencies),
          latency: percentiles(latencies),
          lastMs: Math.max(...latencies),
          receiver: await receiver.stats(true),
        };
        log(`concurrency ${concurrency}: a new cluster reached its ${latencies.length} subscribers in ${(newCluster.lastMs / 1000).toFixed(1)} s`);
      } catch (error) {
        if (!/timed out/.test((error as Error).message)) throw error;
        log(`concurrency ${concurrency}: the new cluster's deliveries timed out`);
      }
    }
    // The worker's database connections report their statistics 10 s after they went idle.
    log(`concurrency ${concurrency}: letting PostgreSQL's statistics settle (11 s) …`);
    await sleep(11_000);

    const components: CpuComponent[] = [
      { component: WORKER, pids: () => [worker.process.pid!] },
      { component: POSTGRES, pids: () => postgresPids(client, databaseName) },
      { component: 'Redis', pids: () => redisPid(redis) },
      { component: 'receiver', pids: () => [receiver.child.process.pid!] },
      { component: LOAD_GENERATOR, pids: () => [process.pid] },
    ];
    await receiver.stats(true);
    const countersBefore = await databaseCounters(client, databaseName);
    ownQueries = 0;
    const loadBefore = os.loadavg()[0]!;
    const cpuStart = await cpuSnapshot(components);
    log(`concurrency ${concurrency}: enqueueing ${ids.length} deliveries …`);
    const started = now();
    await enqueueDeliveries(queue, ids);
    const enqueueMs = now() - started;
    let timedOut = false;
    try {
      await waitUntil('the deliveries', async () => {
        const done = await doneAmong(ids);
        return done.delivered + done.failed === ids.length;
      }, options.drainTimeoutMs, children, 250);
    } catch (error) {
      if (!/timed out/.test((error as Error).message)) throw error;
      timedOut = true;
    }
    const usage = cpuBetween(cpuStart, await cpuSnapshot(components));
    const loadAfter = os.loadavg()[0]!;
    const receiverCounts = await receiver.stats(true);
    // Stopping the worker makes its connections report their statistics.
    await stopChild(worker);
    await sleep(1000);
    const states = await doneAmong(ids);
    const database = databaseWork(countersBefore, await databaseCounters(client, databaseName), ownQueries);
    const rows = await query<{ delivered_at: Date; attempted_at: Date; latency_ms: number }>(
      `SELECT m.delivered_at, a.attempted_at, a.latency_ms FROM webhook_messages m JOIN webhook_attempts a ON a.message_id = m.id
        WHERE m.id = ANY($1::text[]) AND m.status = 'delivered' AND a.status_code BETWEEN 200 AND 299`,
      [ids],
    );
    const deliveredAt = rows.map((row) => row.delivered_at.getTime()).sort((a, b) => a - b);
    const last = deliveredAt[deliveredAt.length - 1] ?? NaN;
    const at = (q: number) => deliveredAt[Math.min(deliveredAt.length - 1, Math.floor(q * deliveredAt.length))] ?? NaN;
    const steady = (Math.floor(0.9 * deliveredAt.length) - Math.floor(0.1 * deliveredAt.length)) / ((at(0.9) - at(0.1)) / 1000);
    const seconds = (last - started) / 1000;
    log(`concurrency ${concurrency}: ${states.delivered} delivered, ${states.failed} failed${timedOut ? ' (timed out)' : ''}, ${(states.delivered / seconds).toFixed(0)}/s`);

    return {
      concurrency,
      messages: ids.length,
      planSeconds: planned.planSeconds,
      enqueueMs,
      delivered: states.delivered,
      failed: ids.length - states.delivered,
      seconds,
      perSecond: states.delivered / seconds,
      steadyPerSecond: steady,
      enqueueToDelivered: percentiles(deliveredAt.map((time) => time - started)),
      httpMs: percentiles(rows.map((row) => row.latency_ms)),
      attemptToDeliveredMs: percentiles(rows.map((row) => row.delivered_at.getTime() - row.attempted_at.getTime())),
      receiver: receiverCounts,
      database,
      cpu: usage.cpu,
      machineBusy: usage.machineBusy,
      cpuWindowSeconds: usage.seconds,
      loadAverage: [loadBefore, loadAfter],
      logLines: worker.warningCount,
      logSample: worker.warnings.slice(0, 3),
      rawFetch: rawFetchResult,
      sender: senderResult,
      newCluster,
    };
  } finally {
    await Promise.all(children.map((child) => stopChild(child)));
    if (db) await db.$disconnect().catch(() => undefined);
    if (clientConnected) await client.end().catch(() => undefined);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    redis.disconnect();
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`).catch((error: unknown) => log(`could not drop ${databaseName}: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry point

export async function benchmarkWebhooks(overrides: Partial<WebhookOptions> = {}, log: Log = defaultLog): Promise<WebhookBenchmark> {
  const options: WebhookOptions = { ...DEFAULT_WEBHOOK_OPTIONS, ...overrides };
  if (options.concurrencies.length === 0) throw new Error('no webhook concurrency to measure');
  const folder = await mkdtemp(join(os.tmpdir(), 'hangsleuth-bench-s3-'));
  let s3: { child: Child; endpoint: string } | null = null;
  let receiver: Receiver | null = null;
  try {
    s3 = await startS3rver(folder);
    receiver = await startReceiver();
    const passes: PassResult[] = [];
    for (const concurrency of options.concurrencies) passes.push(await runPass(options, concurrency, receiver, s3, log));
    const sizes = passes.map((pass) => pass.rawFetch.receiver.bytes / Math.max(1, pass.rawFetch.receiver.requests));
    return {
      options,
      cores: os.cpus().length,
      bodyBytes: { min: Math.min(...sizes), max: Math.max(...sizes), mean: sizes.reduce((sum, size) => sum + size, 0) / sizes.length },
      passes,
    };
  } finally {
    if (receiver) await stopChild(receiver.child);
    if (s3) await stopChild(s3.child);
    await rm(folder, { recursive: true, force: true });
  }
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not ${text}`);
  return value;
}

function concurrencyList(name: string, text: string): number[] {
  return text.split(',').map((part) => positiveInteger(name, part.trim()));
}

/** BENCH_WEBHOOK_ENDPOINTS, BENCH_WEBHOOK_CLUSTERS, BENCH_WEBHOOK_CONCURRENCY (`32,128`): overrides of the defaults. */
export function webhookOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<WebhookOptions> {
  const options: Partial<WebhookOptions> = {};
  if (env['BENCH_WEBHOOK_ENDPOINTS']) options.endpoints = positiveInteger('BENCH_WEBHOOK_ENDPOINTS', env['BENCH_WEBHOOK_ENDPOINTS']);
  if (env['BENCH_WEBHOOK_CLUSTERS']) options.clusters = positiveInteger('BENCH_WEBHOOK_CLUSTERS', env['BENCH_WEBHOOK_CLUSTERS']);
  if (env['BENCH_WEBHOOK_CONCURRENCY']) options.concurrencies = concurrencyList('BENCH_WEBHOOK_CONCURRENCY', env['BENCH_WEBHOOK_CONCURRENCY']);
  return options;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const ms = (value: number): string => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(1)) : '—');
const count = (value: number): string => value.toLocaleString('en-US');

/** The Goals row's figure: the first pass' rate beside raw fetch's, and whether every message arrived once. */
export function webhookGoal(result: WebhookBenchmark | null): { measured: string; pass: null } {
  const pass = result?.passes[0];
  if (!result || !pass) return { measured: '—', pass: null };
  const once = pass.receiver.distinct === pass.messages && pass.receiver.requests === pass.messages;
  return {
    measured:
      `${fixed(pass.perSecond, 0)} deliveries/s at WEBHOOK_CONCURRENCY ${pass.concurrency} = ${fixed(pass.perSecond / pass.rawFetch.perSecond, 2)}× raw fetch (${fixed(pass.rawFetch.perSecond, 0)}/s); ` +
      `${count(pass.receiver.distinct)} of ${count(pass.messages)} received exactly once${once ? '' : ` (${count(pass.receiver.requests)} requests, ${count(pass.receiver.duplicates)} repeats)`}`,
    pass: null,
  };
}

interface SectionContext {
  machine: string;
  command: string;
  revision: string | null;
}

/** The "Webhooks: deliveries per second" section of BENCHMARKS.md. */
export function webhookSection(result: WebhookBenchmark | null, context: SectionContext): string[] {
  const lines = [WEBHOOK_SECTION_HEADING, ''];
  if (!result) {
    lines.push('Not measured (`--no-webhooks`).', '');
    return lines;
  }
  const { options } = result;
  const messages = options.endpoints * options.clusters;
  lines.push(
    `- Machine: ${context.machine}`,
    `- Command: ${context.command}`,
    ...(context.revision ? [`- Service code: ${context.revision}`] : []),
    '',
    `One tenant with ${count(options.endpoints)} webhook endpoints (generic, events \`cluster.created\`, a secret each from \`generateSecret()\`), all on one`,
    'local receiver: a child process running node:http on 127.0.0.1 that answers 200 as soon as a request\'s body has arrived and counts',
    `requests, distinct \`webhook-id\` headers and TCP connections. ${count(options.clusters)} new clusters, each planned by \`planReportEvents\` in a`,
    `transaction of its own as the analysis worker does, give ${count(messages)} pending messages (one per endpoint and cluster; generic JSON`,
    `bodies of ${fixed(result.bodyBytes.mean, 0)} bytes). Then ONE worker process (\`node bin/hangsleuth.js worker\`) with WEBHOOK_CONCURRENCY as below,`,
    'WEBHOOK_ALLOWED_HOSTS=127.0.0.1/32, HANGSLEUTH_LOG_LEVEL=warn, RECONCILE_GRACE_MS at its maximum (so its reconciler leaves the',
    'messages to the benchmark), every other setting at its default (DATABASE_POOL_SIZE 10); a database and a queue prefix of the pass\'s',
    'own; s3rver for the object store the worker needs. The worker\'s first work is one more new cluster, planned and enqueued right',
    'after its commit as the analysis worker does (the latency a new root cause takes to reach every subscriber); then, once',
    'PostgreSQL\'s statistics have settled, the burst: all message ids enqueued at once (`enqueueDeliveries`). The rate is messages',
    'reaching status `delivered` ÷ (enqueue → last `delivered_at`), PostgreSQL polled every 250 ms.',
    '',
    'Baselines, same run, same receiver, same bodies (`renderWebhookBody` of the stored events) signed per request with `signMessage` and',
    'the endpoint\'s secret, same number of requests and the same concurrency, from the benchmark process after a warm-up of',
    `${count(options.warmup)}: **raw \`fetch\`** (Node's global fetch, keep-alive connections), and **the worker's sender** alone (\`createDeliverySender\`, as`,
    'the worker process creates it: the SSRF check per request, one long-lived keep-alive undici Agent for all requests, response read up to',
    '64 KiB) called in a loop without the database or the queue.',
    '',
  );
  lines.push('| WEBHOOK_CONCURRENCY | Messages | Delivered | Failed | **Deliveries/s** | Steady (10–90 %)/s | Raw fetch/s | Worker ÷ raw fetch | Sender alone/s | Received once (distinct ids / requests) | TCP connections (worker / raw fetch / sender alone) |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const pass of result.passes) {
    lines.push(
      `| ${pass.concurrency} | ${count(pass.messages)} | ${count(pass.delivered)} | ${count(pass.failed)} | **${fixed(pass.perSecond, 0)}** | ${fixed(pass.steadyPerSecond, 0)} | ` +
        `${fixed(pass.rawFetch.perSecond, 0)} | ${fixed(pass.perSecond / pass.rawFetch.perSecond, 2)} | ${fixed(pass.sender.perSecond, 0)} | ` +
        `${pass.receiver.distinct === pass.messages && pass.receiver.requests === pass.messages ? 'yes' : '**no**'}: ${count(pass.receiver.distinct)} / ${count(pass.receiver.requests)}${pass.receiver.duplicates > 0 ? `, ${count(pass.receiver.duplicates)} repeats` : ''} | ` +
        `${count(pass.receiver.connections)} / ${count(pass.rawFetch.receiver.connections)} / ${count(pass.sender.receiver.connections)} |`,
    );
  }
  lines.push('');
  const baselineProblems = result.passes.flatMap((pass) => [pass.rawFetch, pass.sender].filter((baseline) => baseline.failures > 0 || baseline.receiver.distinct !== baseline.requests).map((baseline) => `${baseline.name} at ${pass.concurrency}: ${baseline.failures} failures, ${baseline.receiver.distinct} distinct ids received of ${baseline.requests}`));
  if (baselineProblems.length > 0) lines.push(`Baseline problems: ${baselineProblems.join('; ')}.`, '');
  for (const pass of result.passes) {
    if (pass.logLines > 0) lines.push(`The worker logged ${count(pass.logLines)} warning/error lines at concurrency ${pass.concurrency}, e.g. \`${(pass.logSample[0] ?? '').slice(0, 200).replace(/`/g, "'")}\`.`, '');
  }

  lines.push('### Latency', '');
  lines.push('Milliseconds, p50 / p99 (max). Client-side request time of the baselines: sent → response read.', '');
  lines.push(`| | ${result.passes.map((pass) => `Concurrency ${pass.concurrency}`).join(' | ')} |`);
  lines.push(`|---|${result.passes.map(() => '---:').join('|')}|`);
  const cells = (pick: (pass: PassResult) => Percentiles) => result.passes.map((pass) => { const value = pick(pass); return `${ms(value.p50)} / ${ms(value.p99)} (${ms(value.max)})`; }).join(' | ');
  lines.push(`| Burst: enqueue → \`delivered_at\` (mostly waiting behind earlier messages) | ${cells((pass) => pass.enqueueToDelivered)} |`);
  lines.push(`| Worker: HTTP exchange of one delivery (\`webhook_attempts.latency_ms\`) | ${cells((pass) => pass.httpMs)} |`);
  lines.push(`| Worker: \`attempted_at\` → \`delivered_at\` (sign, send, log the attempt) | ${cells((pass) => pass.attemptToDeliveredMs)} |`);
  lines.push(`| Raw fetch: one request | ${cells((pass) => pass.rawFetch.latencyMs)} |`);
  lines.push(`| The worker's sender alone: one request | ${cells((pass) => pass.sender.latencyMs)} |`);
  lines.push(
    `| **A new cluster, worker idle (its first work): \`created_at\` → \`delivered_at\`** to its ${count(options.endpoints)} subscribers (first / p50 / p99 / last) | ${result.passes
      .map((pass) => (pass.newCluster ? `${ms(pass.newCluster.firstMs)} / ${ms(pass.newCluster.latency.p50)} / ${ms(pass.newCluster.latency.p99)} / **${ms(pass.newCluster.lastMs)}**` : '—'))
      .join(' | ')} |`,
  );
  lines.push(`| … of which planning its messages (\`planReportEvents\` transaction) | ${result.passes.map((pass) => (pass.newCluster ? ms(pass.newCluster.planMs) : '—')).join(' | ')} |`);
  lines.push('');
  const freshProblems = result.passes.filter((pass) => pass.newCluster && (pass.newCluster.delivered !== pass.newCluster.messages || pass.newCluster.receiver.distinct !== pass.newCluster.messages));
  if (freshProblems.length > 0) lines.push(`New cluster: not every message delivered once (${freshProblems.map((pass) => `${pass.newCluster!.delivered} delivered, ${pass.newCluster!.receiver.distinct} received at ${pass.concurrency}`).join('; ')}).`, '');

  lines.push('### Where the time goes', '');
  lines.push(
    `Per delivery, over the burst (enqueue → all delivered). Database work from PostgreSQL's statistics of the pass's database; CPU from /proc (the machine has ${result.cores} cores;`,
    '"other processes" is busy time none of the listed processes used).',
    '',
  );
  lines.push(`| Per delivery | ${result.passes.map((pass) => `Concurrency ${pass.concurrency}`).join(' | ')} |`);
  lines.push(`|---|${result.passes.map(() => '---:').join('|')}|`);
  const per = (pick: (pass: PassResult) => number, digits = 2) => result.passes.map((pass) => fixed(pick(pass) / pass.delivered, digits)).join(' | ');
  lines.push(`| PostgreSQL transactions committed (a statement outside a transaction is one) | ${per((pass) => pass.database.commits)} |`);
  lines.push(`| rows: \`webhook_attempts\` inserted / \`webhook_messages\` updated / \`webhook_endpoints\` updated | ${result.passes.map((pass) => [pass.database.attemptsInserted, pass.database.messagesUpdated, pass.database.endpointsUpdated].map((value) => fixed(value / pass.delivered, 2)).join(' / ')).join(' | ')} |`);
  lines.push(`| WAL bytes (whole server) | ${per((pass) => pass.database.walBytes ?? NaN, 0)} |`);
  const cpuNames = [...new Set(result.passes.flatMap((pass) => pass.cpu.map((use) => use.component)))];
  for (const name of cpuNames) {
    lines.push(`| CPU ms: ${name} | ${result.passes.map((pass) => { const use = pass.cpu.find((entry) => entry.component === name); return use ? ms((use.seconds * 1000) / pass.delivered) : '—'; }).join(' | ')} |`);
  }
  lines.push(`| machine busy over the burst | ${result.passes.map((pass) => `${fixed(100 * pass.machineBusy, 0)} % of ${fixed(pass.cpuWindowSeconds, 1)} s`).join(' | ')} |`);
  lines.push(`| load average (1 min) before / after the burst | ${result.passes.map((pass) => `${fixed(pass.loadAverage[0], 2)} / ${fixed(pass.loadAverage[1], 2)}`).join(' | ')} |`);
  lines.push(`| enqueueing all ids (\`addBulk\`), ms | ${result.passes.map((pass) => ms(pass.enqueueMs)).join(' | ')} |`);
  lines.push(`| planning (\`planReportEvents\`, for information): messages/s | ${result.passes.map((pass) => fixed(pass.messages / pass.planSeconds, 0)).join(' | ')} |`);
  lines.push('');
  lines.push(...findings(result), '');
  lines.push(`- Goal: ${WEBHOOK_GOAL_TEXT}. Measured: ${webhookGoal(result).measured}.`, '');
  return lines;
}

/** A few factual sentences read off the figures. */
function findings(result: WebhookBenchmark): string[] {
  const sentences: string[] = [];
  const first = result.passes[0]!;
  const ratio = (a: number, b: number) => fixed(a / b, 2);
  sentences.push(
    `At concurrency ${first.concurrency} the worker delivered ${fixed(first.perSecond, 0)}/s: ${ratio(first.perSecond, first.rawFetch.perSecond)}× raw fetch (${fixed(first.rawFetch.perSecond, 0)}/s)` +
      ` and ${ratio(first.perSecond, first.sender.perSecond)}× its sender alone (${fixed(first.sender.perSecond, 0)}/s, itself ${ratio(first.sender.perSecond, first.rawFetch.perSecond)}× raw fetch),` +
      ' so most of the gap is the work around the HTTP request (queue, database), not the request.',
  );
  sentences.push(
    `The receiver accepted ${count(first.receiver.connections)} new TCP connections during the worker's ${count(first.messages)} deliveries (raw fetch: ${count(first.rawFetch.receiver.connections)}, its sender alone: ${count(first.sender.receiver.connections)}, each after its warm-up)` +
      (first.receiver.connections >= 0.9 * first.messages
        ? ': about one per delivery, a TCP (and on an https receiver a TLS) handshake each.'
        : ': the worker\'s sender keeps its connections open from one delivery to the next.'),
  );
  const service = first.cpu.filter((use) => use.component !== OTHER_PROCESSES && use.component !== LOAD_GENERATOR && use.component !== 'receiver');
  const serviceMs = (service.reduce((sum, use) => sum + use.seconds, 0) * 1000) / first.delivered;
  const other = first.cpu.find((use) => use.component === OTHER_PROCESSES)?.seconds ?? 0;
  sentences.push(
    `The service spent ${ms(serviceMs)} CPU-ms per delivery (${service.map((use) => `${use.component} ${ms((use.seconds * 1000) / first.delivered)}`).join(', ')})` +
      ` and PostgreSQL committed ${fixed(first.database.commits / first.delivered, 1)} transactions per delivery; ${result.cores} cores wholly given to it would carry about ${fixed((1000 * result.cores) / serviceMs, 0)} deliveries/s at that cost.` +
      (first.machineBusy >= 0.85
        ? ' The CPU was saturated during the burst'
        : first.machineBusy >= 0.6
          ? ` The machine was ${fixed(100 * first.machineBusy, 0)} % busy during the burst: near its CPU limit, the rest of the time spent waiting (round trips, the database pool)`
          : ` The machine was ${fixed(100 * first.machineBusy, 0)} % busy during the burst, so the rate is bounded by waiting (round trips, the database pool), not CPU`) +
      // Some busy time is always unaccounted for (the kernel's network work, s3rver, the shell): only more is worth a word.
      (other > 0.15 * first.cpuWindowSeconds * result.cores
        ? `, and ${fixed((100 * other) / (first.cpuWindowSeconds * result.cores), 0)} % of the machine's CPU went to other processes meanwhile: the rates are lower than on an idle machine, the CPU-ms per delivery much less so.`
        : '.'),
  );
  if (result.passes.length > 1) {
    sentences.push(`By concurrency: ${result.passes.map((pass) => `${pass.concurrency}: ${fixed(pass.perSecond, 0)}/s (raw fetch ${fixed(pass.rawFetch.perSecond, 0)}/s)`).join('; ')}.`);
  }
  return [sentences.join(' ')];
}

// ---------------------------------------------------------------------------------------------------------------
// Standalone: node bin/run-ts.js bench/webhook-benchmark.ts [--endpoints N] [--clusters N] [--concurrency 32,128]

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const overrides = webhookOptionsFromEnv();
  const argv = process.argv.slice(2);
  const { values } = parseArgs({ args: argv, options: { endpoints: { type: 'string' }, clusters: { type: 'string' }, concurrency: { type: 'string' } } });
  if (values.endpoints !== undefined) overrides.endpoints = positiveInteger('--endpoints', values.endpoints);
  if (values.clusters !== undefined) overrides.clusters = positiveInteger('--clusters', values.clusters);
  if (values.concurrency !== undefined) overrides.concurrencies = concurrencyList('--concurrency', values.concurrency);
  const cpus = os.cpus();
  const started = performance.now();
  const result = await benchmarkWebhooks(overrides);
  const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM`;
  const command = `\`node bin/run-ts.js bench/webhook-benchmark.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''}\``;
  process.stdout.write(`${[`<!-- ${new Date().toISOString()}, ${((performance.now() - started) / 1000).toFixed(0)} s -->`, '', ...webhookSection(result, { machine, command, revision: null })].join('\n')}\n`);
  if (process.env['BENCH_WEBHOOK_JSON']) process.stderr.write(`${JSON.stringify(result)}\n`);
}
