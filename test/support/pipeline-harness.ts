/**
 * A whole pipeline on the machine's real services: a database of its own on the local PostgreSQL (migrated with
 * the committed migrations, dropped afterwards), a queue prefix of its own on Redis, s3rver on a free port in a
 * temporary folder, the API on a free port and (optionally) a worker in this process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { issueApiKey } from '../../services/auth/api-keys.ts';
import { loadConfig, type Config, type ConfigVariable } from '../../services/config/load-config.ts';
import type { ApiKeyScope } from '../../services/db/create-prisma-client.ts';
import { migrateDatabase } from '../../services/db/migrate-database.ts';
import { openRuntime, type Runtime } from '../../services/app/open-runtime.ts';
import { startApi, type ApiHandle } from '../../services/app/start-api.ts';
import { startWorker, type WorkerHandle } from '../../services/app/start-worker.ts';
import { startEmbeddedS3, type EmbeddedS3 } from '../../services/storage/embedded-s3.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export const PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface PipelineOptions {
  worker?: boolean;
  env?: Partial<Record<ConfigVariable, string>>;
  redisUrl?: string;
  /** Reach s3rver through a TCP proxy (`pipeline.proxies.s3`) whose link the test can cut. */
  s3Proxy?: boolean;
  /** Reach PostgreSQL through a TCP proxy (`pipeline.proxies.database`); the database is created and migrated directly. */
  databaseProxy?: boolean;
}

export interface Pipeline {
  config: Config;
  runtime: Runtime;
  api: ApiHandle;
  worker: WorkerHandle | null;
  /** s3rver itself: `s3.endpoint` bypasses the S3 proxy, if there is one. */
  s3: EmbeddedS3;
  /** The proxies the options asked for; the pipeline's configuration points at them. */
  proxies: { s3: TcpProxy | null; database: TcpProxy | null };
  /** The environment a child process needs to join this pipeline (a separate worker, say). */
  env: Record<string, string>;
  databaseName: string;
  startWorker(): Promise<WorkerHandle>;
  createTenant(name?: string, scopes?: ApiKeyScope[]): Promise<{ tenantId: string; key: string }>;
  close(): Promise<void>;
}

export async function createTestDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `hangsleuth_test_${randomBytes(6).toString('hex')}`;
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  await migrateDatabase(url);
  return {
    name,
    url,
    async drop() {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const database = await createTestDatabase();
  const folder = await mkdtemp(join(tmpdir(), 'hangsleuth-s3-'));
  const s3 = await startEmbeddedS3({ directory: folder, port: 0 });
  const s3Proxy = options.s3Proxy ? await startTcpProxy(Number(new URL(s3.endpoint).port)) : null;
  const databaseProxy = options.databaseProxy ? await startTcpProxy(5432) : null;
  const databaseUrl = new URL(database.url);
  if (databaseProxy) databaseUrl.port = String(databaseProxy.port);
  const env: Record<string, string> = {
    DATABASE_URL: databaseProxy ? databaseUrl.href : database.url,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `hstest-${randomBytes(5).toString('hex')}`,
    S3_ENDPOINT: s3Proxy ? `http://127.0.0.1:${s3Proxy.port}` : s3.endpoint,
    S3_BUCKET: 'hangsleuth-test',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    HANGSLEUTH_PORT: '0',
    HANGSLEUTH_LOG_LEVEL: 'silent',
    // Tests read what they just wrote; the fleet cache has its own test.
    FLEET_CACHE_TTL_MS: '0',
    API_KEY_CACHE_TTL_MS: '0',
    JOB_BACKOFF_MS: '200',
    JOB_LOCK_MS: '4000',
    JOB_STALLED_INTERVAL_MS: '1000',
    RECONCILE_INTERVAL_MS: '60000',
    RECONCILE_GRACE_MS: '1000',
    // Several workers (and test files) at once: a fixed metrics port would be taken.
    WORKER_METRICS_PORT: '0',
    ...options.env,
  };
  const config = loadConfig({}, env);
  const logger = pino({ level: process.env.HANGSLEUTH_TEST_LOG ?? 'silent' });
  const runtime = await openRuntime(config, 'test', { logger });
  const api = await startApi(runtime);
  const workers: WorkerHandle[] = [];
  const pipeline: Pipeline = {
    config,
    runtime,
    api,
    worker: null,
    s3,
    proxies: { s3: s3Proxy, database: databaseProxy },
    env,
    databaseName: database.name,
    async startWorker() {
      const worker = await startWorker(runtime);
      workers.push(worker);
      pipeline.worker ??= worker;
      return worker;
    },
    async createTenant(name = `tenant-${randomBytes(4).toString('hex')}`, scopes: ApiKeyScope[] = ['upload', 'read']) {
      const tenant = await runtime.db.tenant.create({ data: { name } });
      const issued = await issueApiKey(runtime.db, tenant.id, 'test', scopes);
      return { tenantId: tenant.id, key: issued.key };
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await api.close();
      await runtime.close();
      await s3Proxy?.close();
      await databaseProxy?.close();
      await s3.close();
      await rm(folder, { recursive: true, force: true });
      await database.drop();
      await deleteQueueKeys(env.REDIS_URL!, env.QUEUE_PREFIX!);
    },
  };
  if (options.worker !== false) await pipeline.startWorker();
  return pipeline;
}

/** Removes the queue keys a test left in Redis under its own prefix. Nothing to do when a test stopped Redis. */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis is gone (a recovery test stopped it): its keys went with it or belong to a throwaway instance.
  } finally {
    redis.disconnect();
  }
}

export interface UploadOptions {
  server?: string;
  contentType?: string;
  idempotencyKey?: string;
  query?: Record<string, string>;
}

export async function upload(pipeline: Pick<Pipeline, 'api'>, key: string, body: Uint8Array | string, options: UploadOptions = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = new URLSearchParams({ server: options.server ?? 'srv-01', ...options.query });
  const response = await fetch(`${pipeline.api.url}/v1/reports?${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': options.contentType ?? 'text/plain',
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function getJson(url: string, key: string): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Polls until every report is in one of `statuses`; returns their rows' statuses. */
export async function waitForReports(pipeline: Pick<Pipeline, 'runtime'>, ids: string[], statuses: string[] = ['analysed', 'failed'], timeoutMs = 60_000): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await pipeline.runtime.db.report.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
    const done = rows.filter((row) => statuses.includes(row.status));
    if (done.length === ids.length) return new Map(rows.map((row) => [row.id, row.status]));
    if (Date.now() > deadline) {
      const pending = rows.filter((row) => !statuses.includes(row.status)).map((row) => `${row.id}:${row.status}`);
      throw new Error(`${ids.length - done.length} of ${ids.length} reports not finished after ${timeoutMs} ms: ${pending.slice(0, 5).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
