/**
 * Recovery against the real services (no mocks): a worker process killed with SIGKILL, Redis losing its data, and
 * PostgreSQL or S3 unreachable during uploads. The invariants: every acknowledged (2xx) report is stored (row and
 * object) and analysed exactly once; every refused upload (503) leaves no row and no object behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ANALYSIS_QUEUE } from '../../services/queue/analysis-queue.ts';
import { startPipeline, waitForReports, type Pipeline, type PipelineOptions } from '../support/pipeline-harness.ts';
import { EXAMPLE_FILE, REPO_ROOT } from '../support/shared-corpus.ts';

const SCENARIO_TIMEOUT_MS = 120_000;
/** The API key check itself cannot run without PostgreSQL (services/api/authenticate.ts). */
const AUTH_UNCHECKABLE = 'the API key could not be checked';

let example: Buffer;
beforeAll(async () => {
  example = await readFile(EXAMPLE_FILE);
});

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: everything a test starts registers its own teardown; it runs last-in first-out even when the test fails.

const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
function onCleanup(name: string, run: () => Promise<unknown>): void {
  cleanups.push({ name, run });
}
afterEach(async () => {
  const errors: unknown[] = [];
  while (cleanups.length > 0) {
    const { name, run } = cleanups.pop()!;
    try {
      await withTimeout(run(), 30_000, `cleanup: ${name}`);
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cleanup step(s) failed`);
}, 120_000);

async function openPipeline(options: PipelineOptions): Promise<Pipeline> {
  const pipeline = await startPipeline(options);
  onCleanup('pipeline', () => pipeline.close());
  return pipeline;
}

// ---------------------------------------------------------------------------------------------------------------
// Transcripts, uploads, object listing

/** The bundled example (one finding) with a line of its own, so that no two uploads share their content. */
function transcript(index: number): Buffer {
  return Buffer.concat([example, Buffer.from(`\n$$ recovery test upload ${index}\n`)]);
}

function serverName(index: number): string {
  return `srv-${String(index).padStart(3, '0')}`;
}

interface Answer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function answerOf(response: Response): Promise<Answer> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

function postReport(pipeline: Pipeline, key: string, body: Buffer | ReadableStream<Uint8Array>, server: string): Promise<Answer> {
  return fetch(`${pipeline.api.url}/v1/reports?${new URLSearchParams({ server })}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
    body,
    duplex: 'half',
  }).then(answerOf);
}

function expectServiceUnavailable(answer: Answer): void {
  expect(answer.status).toBe(503);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status: 503, code: 'dependency-unavailable' });
  expect(Number(answer.retryAfter)).toBeGreaterThan(0);
}

/** Runs `task` over `count` indexes, at most `limit` at a time; results in index order. */
async function inParallel<R>(count: number, limit: number, task: (index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}

/** Every key in the pipeline's bucket, read from s3rver directly (past any proxy). */
async function listObjectKeys(pipeline: Pipeline): Promise<string[]> {
  const client = new S3Client({
    endpoint: pipeline.s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: pipeline.config.objectStore.bucket, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  } finally {
    client.destroy();
  }
}

/** Waits for every report to finish and checks that each was analysed exactly once, with its one finding. */
async function expectAnalysedOnce(pipeline: Pipeline, ids: string[]): Promise<void> {
  const statuses = await waitForReports(pipeline, ids, ['analysed', 'failed'], 90_000);
  expect([...statuses.values()].filter((status) => status !== 'analysed')).toEqual([]);
  const { db } = pipeline.runtime;
  const perReport = await db.analysis.groupBy({ by: ['reportId'], where: { reportId: { in: ids } }, _count: { _all: true } });
  expect(perReport).toHaveLength(ids.length);
  expect(perReport.filter((group) => group._count._all !== 1)).toEqual([]);
  expect(await db.analysis.count()).toBe(ids.length);
  expect(await db.finding.count({ where: { reportId: { in: ids } } })).toBe(ids.length);
  expect(await db.report.count({ where: { status: 'failed' } })).toBe(0);
}

// ---------------------------------------------------------------------------------------------------------------
// Processes: worker children, a Redis of the test's own

interface ChildHandle {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** A child process; unless told otherwise, the test's cleanup kills it (SIGKILL) if it still runs. */
function spawnChild(command: string, args: string[], env: NodeJS.ProcessEnv, killAtCleanup = true): ChildHandle {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const handle = { child, exited, output: () => output };
  if (killAtCleanup) onCleanup(`${command} ${args.join(' ')} (pid ${child.pid})`, () => killChild(handle));
  return handle;
}

async function killChild({ child, exited }: ChildHandle): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

/** `hangsleuth worker` as a separate process, configured from the pipeline's environment. */
function spawnWorker(pipeline: Pipeline): ChildHandle {
  return spawnChild(process.execPath, ['bin/hangsleuth.js', 'worker'], { ...process.env, ...pipeline.env, HANGSLEUTH_LOG_LEVEL: 'warn' });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface RedisServer {
  port: number;
  url: string;
  /** SIGKILL: the data (kept in memory only) is gone. */
  kill(): Promise<void>;
}

/** A redis-server of the test's own, in memory only; the caller kills it (after closing the pipeline that uses it). */
async function startRedis(port: number): Promise<RedisServer> {
  const handle = spawnChild('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env, false);
  try {
    await untilRedisAnswers(handle, port);
  } catch (error) {
    await killChild(handle);
    throw error;
  }
  return { port, url: `redis://127.0.0.1:${port}`, kill: () => killChild(handle) };
}

async function untilRedisAnswers(handle: ChildHandle, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    if (handle.child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start:\n${handle.output()}`);
    await sleep(50);
  }
}

async function jobCounts(port: number, prefix: string): Promise<Record<string, number>> {
  const queue = new Queue(ANALYSIS_QUEUE, { connection: { host: '127.0.0.1', port, maxRetriesPerRequest: 1 }, prefix });
  queue.on('error', () => undefined);
  try {
    return await queue.getJobCounts();
  } finally {
    await queue.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('recovery', () => {
  it(
    'kill -9 of a worker process in the middle of 200 uploads: every report is analysed exactly once',
    async () => {
      const pipeline = await openPipeline({ worker: false });
      const tenant = await pipeline.createTenant();
      const { db } = pipeline.runtime;

      const first = spawnWorker(pipeline);
      // The first upload alone, until the worker process has analysed it: it is up before the other 199 come.
      const warmUp = await postReport(pipeline, tenant.key, transcript(0), serverName(0));
      expect(warmUp.status).toBe(202);
      await waitForReports(pipeline, [warmUp.body.id as string], ['analysed'], 30_000).catch((error: Error) => {
        throw new Error(`${error.message}\n--- first worker:\n${first.output()}`);
      });
      let uploaded = 1;
      const uploads = inParallel(199, 16, async (index) => {
        const answer = await postReport(pipeline, tenant.key, transcript(index + 1), serverName(index + 1));
        uploaded++;
        return answer;
      });
      void uploads.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile

      // SIGKILL the worker once it has analysed some reports, while it is analysing others and uploads go on.
      let killedAt: { analysed: number; uploaded: number } | undefined;
      const deadline = Date.now() + 60_000;
      while (!killedAt) {
        const [analysed, analysing] = await Promise.all([db.analysis.count(), db.report.count({ where: { status: 'analysing' } })]);
        if (analysed >= 20 && analysing > 0) {
          first.child.kill('SIGKILL');
          killedAt = { analysed, uploaded };
          break;
        }
        if (Date.now() > deadline) throw new Error(`the first worker analysed only ${analysed} reports in 60 s:\n${first.output()}`);
        await sleep(20);
      }
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(killedAt.analysed).toBeLessThan(200);
      // What the dead worker held (a save it had sent before dying is given a moment to land).
      await sleep(250);
      const interrupted = (await db.report.findMany({ where: { status: 'analysing' }, select: { id: true } })).map((report) => report.id);

      const second = spawnWorker(pipeline);
      const answers = [warmUp, ...(await uploads)];
      expect(answers.map((answer) => answer.status)).toEqual(new Array(200).fill(202));
      const ids = answers.map((answer) => answer.body.id as string);
      expect(new Set(ids).size).toBe(200);

      try {
        await expectAnalysedOnce(pipeline, ids);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- first worker:\n${first.output()}\n--- second worker:\n${second.output()}`, { cause: error });
      }
      // The reports the dead worker was analysing were taken over (claimed a second time) once their lock expired.
      const takenOver = await db.report.findMany({ where: { id: { in: interrupted } }, select: { status: true, attempts: true } });
      expect(takenOver.filter((report) => report.status !== 'analysed' || report.attempts < 2)).toEqual([]);
      console.info(`[recovery] worker killed after ${killedAt.analysed} analyses and ${killedAt.uploaded} acknowledged uploads, while analysing ${interrupted.length}`);

      second.child.kill('SIGTERM');
      expect(await withTimeout(second.exited, 20_000, 'the second worker to stop on SIGTERM')).toEqual({ code: 0, signal: null });
    },
    SCENARIO_TIMEOUT_MS,
  );

  describe('Redis data lost after 200 uploads were acknowledged: the reconciler brings all 200 to analysed', () => {
    const losses: Array<[string, (redis: RedisServer) => Promise<RedisServer>]> = [
      [
        'FLUSHALL',
        async (redis) => {
          const client = new Redis({ host: '127.0.0.1', port: redis.port });
          try {
            expect(await client.flushall()).toBe('OK');
          } finally {
            client.disconnect();
          }
          return redis;
        },
      ],
      [
        'redis-server killed and restarted empty on the same port',
        async (redis) => {
          await redis.kill();
          return startRedis(redis.port);
        },
      ],
    ];

    it.each(losses)(
      '%s',
      async (_name, loseData) => {
        let redis = await startRedis(await freePort());
        // Registered before the pipeline, so it runs after the pipeline closed (its workers need Redis to stop).
        onCleanup('own redis-server', () => redis.kill());
        const pipeline = await openPipeline({ worker: false, redisUrl: redis.url, env: { RECONCILE_INTERVAL_MS: '500', RECONCILE_GRACE_MS: '0' } });
        const tenant = await pipeline.createTenant();
        const { db } = pipeline.runtime;

        const answers = await inParallel(200, 16, (index) => postReport(pipeline, tenant.key, transcript(index), serverName(index)));
        expect(answers.map((answer) => answer.status)).toEqual(new Array(200).fill(202));
        const ids = answers.map((answer) => answer.body.id as string);
        expect(await db.report.count({ where: { id: { in: ids }, status: 'queued' } })).toBe(200);
        expect((await jobCounts(redis.port, pipeline.config.queuePrefix)).waiting).toBe(200);

        redis = await loseData(redis);
        // Nothing in Redis remembers these reports: only the reconciler (from PostgreSQL) can get them analysed.
        const counts = await jobCounts(redis.port, pipeline.config.queuePrefix);
        expect(Object.values(counts).every((count) => count === 0), JSON.stringify(counts)).toBe(true);

        await pipeline.startWorker();
        await expectAnalysedOnce(pipeline, ids);
      },
      SCENARIO_TIMEOUT_MS,
    );
  });

  describe('PostgreSQL or S3 unreachable during upload: 503, and no report left acknowledged and unstored', () => {
    it(
      'S3 unreachable: 503 problem+json with Retry-After, no row, no object; after the link is back an upload is analysed',
      async () => {
        const pipeline = await openPipeline({ s3Proxy: true });
        const tenant = await pipeline.createTenant();
        const { db } = pipeline.runtime;
        const s3 = pipeline.proxies.s3!;

        s3.cut();
        const refused = await inParallel(4, 4, (index) => postReport(pipeline, tenant.key, transcript(index), serverName(index)));
        for (const answer of refused) expectServiceUnavailable(answer);
        s3.restore();

        expect(await db.report.count()).toBe(0);
        expect(await listObjectKeys(pipeline)).toEqual([]);

        const accepted = await postReport(pipeline, tenant.key, transcript(100), serverName(100));
        expect(accepted.status).toBe(202);
        const id = accepted.body.id as string;
        await expectAnalysedOnce(pipeline, [id]);
        const report = await db.report.findUniqueOrThrow({ where: { id } });
        expect(await listObjectKeys(pipeline)).toEqual([report.objectKey]);
      },
      SCENARIO_TIMEOUT_MS,
    );

    it.each([
      ['with the dedupe lookup', {}],
      ['without the dedupe lookup', { DEDUPE_WINDOW_SECONDS: '0' }],
    ] as const)(
      'PostgreSQL unreachable (%s): 503 before and after the transcript is stored, no row, no object; then an upload is analysed',
      async (_name, env) => {
        const pipeline = await openPipeline({ databaseProxy: true, worker: false, env });
        const tenant = await pipeline.createTenant();
        const { db } = pipeline.runtime;
        const database = pipeline.proxies.database!;

        // Cut before the upload: the API key cannot even be checked.
        database.cut();
        expectServiceUnavailable(await postReport(pipeline, tenant.key, transcript(0), serverName(0)));
        database.restore();

        // Cut in the middle of the upload: the key was checked, the transcript reaches S3, the row cannot be written.
        const body = transcript(1);
        let sendRest!: () => void;
        const rest = new Promise<void>((resolve) => {
          sendRest = resolve;
        });
        let step = 0;
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (step++ === 0) {
              controller.enqueue(new Uint8Array(body.subarray(0, 4096)));
              return;
            }
            await rest;
            controller.enqueue(new Uint8Array(body.subarray(4096)));
            controller.close();
          },
        });
        await db.tenant.count(); // a pooled connection is open again
        const before = database.traffic.fromTarget;
        const pending = postReport(pipeline, tenant.key, stream, serverName(1));
        // PostgreSQL answered the key check (nothing else talks to it now: no worker runs) and the link went quiet.
        await until(() => database.traffic.fromTarget > before && Date.now() - database.traffic.lastAt > 150, 'the API key check');
        database.cut();
        sendRest();
        const midway = await pending;
        expectServiceUnavailable(midway);
        expect(midway.body.detail).not.toBe(AUTH_UNCHECKABLE);
        database.restore();

        expect(await db.report.count()).toBe(0);
        // The transcript stays until the sweep (the row might have been committed as the link died); it has no row.
        const worker = await pipeline.startWorker();
        expect((await worker.sweepOrphans(0)).deleted).toBeLessThanOrEqual(1);
        expect(await listObjectKeys(pipeline)).toEqual([]);

        const accepted = await postReport(pipeline, tenant.key, transcript(100), serverName(100));
        expect(accepted.status).toBe(202);
        const id = accepted.body.id as string;
        await expectAnalysedOnce(pipeline, [id]);
        const report = await db.report.findUniqueOrThrow({ where: { id } });
        expect(await listObjectKeys(pipeline)).toEqual([report.objectKey]);
      },
      SCENARIO_TIMEOUT_MS,
    );

    it(
      'S3 cut for a moment during 50 concurrent uploads: every 2xx is stored and analysed, every refusal left no row',
      async () => {
        const pipeline = await openPipeline({ s3Proxy: true, env: { RECONCILE_INTERVAL_MS: '1000' } });
        const tenant = await pipeline.createTenant();
        const { db } = pipeline.runtime;
        const s3 = pipeline.proxies.s3!;

        // Cut once 15 uploads are answered; restore at the first refusal (or after 5 s).
        let answered = 0;
        let failsafe: NodeJS.Timeout | undefined;
        let restoredAt: number | undefined;
        const restore = () => {
          if (restoredAt !== undefined) return;
          clearTimeout(failsafe);
          s3.restore();
          restoredAt = answered;
        };
        onCleanup('failsafe timer', async () => clearTimeout(failsafe));
        const answers = await inParallel(50, 8, async (index) => {
          let answer: Answer;
          try {
            answer = await postReport(pipeline, tenant.key, transcript(index), serverName(index));
          } catch (error) {
            answer = { status: 0, contentType: null, retryAfter: null, body: { error: String(error) } };
          }
          answered++;
          if (answered === 15) {
            s3.cut();
            failsafe = setTimeout(restore, 5000);
          } else if (s3.isCut && answer.status !== 202) {
            restore();
          }
          return answer;
        });
        restore();

        const accepted = answers.flatMap((answer, index) => (answer.status >= 200 && answer.status < 300 ? [{ index, id: answer.body.id as string }] : []));
        const refused = answers.flatMap((answer, index) => (answer.status >= 200 && answer.status < 300 ? [] : [{ index, answer }]));
        expect(accepted.map(({ index }) => answers[index]!.status).every((status) => status === 202)).toBe(true);
        expect(refused.length, 'the cut refused no upload').toBeGreaterThan(0);
        expect(accepted.length).toBeGreaterThan(15);
        for (const { answer } of refused) expectServiceUnavailable(answer);

        // Every refusal left no row.
        for (const { index } of refused) expect(await db.report.count({ where: { server: { name: serverName(index) } } })).toBe(0);
        // Every acknowledgement has its row and its object, and is analysed (once).
        const rows = await db.report.findMany({ where: { id: { in: accepted.map(({ id }) => id) } }, select: { id: true, objectKey: true } });
        expect(rows).toHaveLength(accepted.length);
        const keys = new Set(await listObjectKeys(pipeline));
        expect(rows.filter((row) => !keys.has(row.objectKey)).map((row) => row.id)).toEqual([]);
        await expectAnalysedOnce(
          pipeline,
          accepted.map(({ id }) => id),
        );
        const orphans = [...keys].filter((key) => !rows.some((row) => row.objectKey === key));
        console.info(`[recovery] S3 cut after 15 answers, restored after ${restoredAt}: ${accepted.length} accepted, ${refused.length} refused, ${orphans.length} object(s) without a row`);
      },
      SCENARIO_TIMEOUT_MS,
    );
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
