/**
 * Receiving a transcript: stream it to object storage (hashing and metering on the way), commit its report row,
 * then enqueue its analysis. The caller is answered 2xx only once both the object and the row are stored, so an
 * acknowledged report is never lost; a failure before that leaves nothing behind and answers 503.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Database } from '../db/create-prisma-client.ts';
import { Prisma } from '../db/create-prisma-client.ts';
import type { Logger } from '../logging/create-logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { enqueueAnalysis, type AnalysisQueue } from '../queue/analysis-queue.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { AppError } from '../api/app-error.ts';
import { BodyTooLargeError, MeteredStream } from './metered-stream.ts';

export interface ReceiveReportDependencies {
  db: Database;
  objectStore: ObjectStore;
  queue: AnalysisQueue;
  logger: Logger;
  maxUploadBytes: number;
  dedupeWindowMs: number;
  metrics?: Pick<Metrics, 'uploadBytes'> | undefined;
}

export interface ReportMetadata {
  serverName: string;
  contentType: string;
  fileName?: string | undefined;
  idempotencyKey?: string | undefined;
  ticketId?: string | undefined;
  osVersion?: string | undefined;
  collectedAt?: Date | undefined;
  /** Content-Length when the client sent one: a body announced too large is refused before it is read. */
  declaredLength?: number | undefined;
}

export interface ReceivedReport {
  reportId: string;
  duplicate: boolean;
}

export const TRANSCRIPT_PREFIX = 'transcripts/';
const ENQUEUE_TIMEOUT_MS = 3000;
const SERVER_NAME = /^[^\u0000-\u001f\u007f]{1,255}$/;

export async function receiveReport(deps: ReceiveReportDependencies, tenantId: string, metadata: ReportMetadata, body: Readable): Promise<ReceivedReport> {
  const serverName = metadata.serverName.trim();
  if (!SERVER_NAME.test(serverName)) throw new AppError('bad-request', 'server must be a name of 1 to 255 printable characters');
  if (metadata.declaredLength !== undefined && metadata.declaredLength > deps.maxUploadBytes) {
    throw new AppError('payload-too-large', `the transcript is ${metadata.declaredLength} bytes; the limit is ${deps.maxUploadBytes}`);
  }
  if (metadata.idempotencyKey) {
    const existing = await findByIdempotencyKey(deps.db, tenantId, metadata.idempotencyKey);
    if (existing) {
      body.resume();
      return { reportId: existing, duplicate: true };
    }
  }

  const reportId = randomUUID();
  const objectKey = `${TRANSCRIPT_PREFIX}${tenantId}/${reportId}`;
  const meter = new MeteredStream(deps.maxUploadBytes);
  await storeObject(deps, objectKey, body, meter, metadata.contentType);
  const sha256 = meter.sha256();
  if (meter.bytesSeen === 0) {
    await discardObject(deps, objectKey);
    throw new AppError('bad-request', 'the transcript is empty');
  }
  deps.metrics?.uploadBytes.observe(meter.bytesSeen);

  // When PostgreSQL fails from here on, the object stays: see workers/reconcile/sweep-orphan-objects.ts.
  const duplicateOf = await findRecentDuplicate(deps, tenantId, serverName, sha256);
  if (duplicateOf) {
    await discardObject(deps, objectKey);
    return { reportId: duplicateOf, duplicate: true };
  }

  const receivedAt = new Date();
  try {
    // One statement, so one round trip and atomic without an interactive transaction: the server row (created or
    // counted) and the report row.
    await deps.db.$executeRaw`
      WITH server AS (
        INSERT INTO servers (id, tenant_id, name, first_seen_at, last_seen_at, report_count)
        VALUES (gen_random_uuid(), ${tenantId}::uuid, ${serverName}, ${receivedAt}, ${receivedAt}, 1)
        ON CONFLICT (tenant_id, name) DO UPDATE SET
          last_seen_at = GREATEST(servers.last_seen_at, EXCLUDED.last_seen_at),
          report_count = servers.report_count + 1
        RETURNING id)
      INSERT INTO reports (id, tenant_id, server_id, content_sha256, byte_size, object_key, content_type, file_name,
                           idempotency_key, ticket_id, os_version, collected_at, received_at, updated_at)
      SELECT ${reportId}::uuid, ${tenantId}::uuid, server.id, ${sha256}, ${BigInt(meter.bytesSeen)}, ${objectKey}, ${metadata.contentType},
             ${metadata.fileName ?? null}, ${metadata.idempotencyKey ?? null}, ${metadata.ticketId ?? null}, ${metadata.osVersion ?? null},
             ${metadata.collectedAt ?? null}::timestamptz, ${receivedAt}, ${receivedAt}
      FROM server`;
  } catch (error) {
    if (metadata.idempotencyKey && isUniqueViolation(error)) {
      await discardObject(deps, objectKey);
      const winner = await findByIdempotencyKey(deps.db, tenantId, metadata.idempotencyKey);
      if (winner) return { reportId: winner, duplicate: true };
    }
    // The row may have been committed before the connection failed: the object is kept for it, and swept later
    // if no row points at it.
    throw new AppError('dependency-unavailable', 'the report could not be recorded; retry later', { cause: error });
  }

  await queueReport(deps, reportId);
  deps.logger.info({ reportId, tenantId, server: serverName, bytes: meter.bytesSeen }, 'report received');
  return { reportId, duplicate: false };
}

async function storeObject(deps: ReceiveReportDependencies, objectKey: string, body: Readable, meter: MeteredStream, contentType: string): Promise<void> {
  // Piped by hand rather than with stream.pipeline, which would destroy the request on a store failure: the client
  // must get its 503, then the connection is closed (build-api.ts) instead of the rest of the body being read.
  const forwardBodyError = (error: Error) => meter.destroy(error);
  body.once('error', forwardBodyError);
  body.pipe(meter);
  try {
    await deps.objectStore.put(objectKey, meter, contentType);
  } catch (error) {
    const interrupted = isClientAbort(error, body);
    body.unpipe(meter);
    body.pause();
    meter.destroy();
    await discardObject(deps, objectKey);
    if (error instanceof BodyTooLargeError || meter.bytesSeen > deps.maxUploadBytes) {
      throw new AppError('payload-too-large', `the transcript is larger than the limit of ${deps.maxUploadBytes} bytes`);
    }
    if (interrupted) throw new AppError('bad-request', 'the upload was interrupted before its end', { cause: error });
    throw new AppError('dependency-unavailable', 'the transcript could not be stored; nothing was kept', { cause: error });
  } finally {
    body.off('error', forwardBodyError);
  }
}

/**
 * Judged before the body is destroyed. The object store's connection errors carry the same codes as a client's
 * (a reset or hung-up S3 connection is ECONNRESET): a body received to its end, or whose client connection is still
 * open, was not interrupted by the client, so the failure is the store's.
 */
function isClientAbort(error: unknown, body: Readable): boolean {
  if (body.readableEnded) return false;
  const socket = (body as Readable & { socket?: { destroyed: boolean } | null }).socket;
  if (socket && !socket.destroyed) return false;
  const code = (error as { code?: string }).code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (error as Error).message === 'aborted';
}

/** Enqueue, then mark queued. When Redis is away the row stays `received` and the reconciler enqueues it later. */
async function queueReport(deps: ReceiveReportDependencies, reportId: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // A Redis that accepts connections but does not answer must not hold the upload's answer.
    await Promise.race([
      enqueueAnalysis(deps.queue, reportId),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not take the job within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
      }),
    ]);
    await deps.db.report.updateMany({ where: { id: reportId, status: 'received' }, data: { status: 'queued', queuedAt: new Date() } });
  } catch (error) {
    deps.logger.warn({ reportId, err: error }, 'report stored but not queued yet; the reconciler will queue it');
  } finally {
    clearTimeout(timer);
  }
}

/** A unique index refused the row: Prisma reports it as P2002, or as P2010 with PostgreSQL's 23505 for raw SQL. */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const meta = error.meta as { code?: string; driverAdapterError?: { cause?: { originalCode?: string; kind?: string } } } | undefined;
  return error.code === 'P2002' || meta?.code === '23505' || meta?.driverAdapterError?.cause?.originalCode === '23505' || meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation';
}

async function findByIdempotencyKey(db: Database, tenantId: string, idempotencyKey: string): Promise<string | null> {
  try {
    const row = await db.report.findUnique({ where: { tenantId_idempotencyKey: { tenantId, idempotencyKey } }, select: { id: true } });
    return row?.id ?? null;
  } catch (error) {
    throw new AppError('dependency-unavailable', 'the database is unavailable', { cause: error });
  }
}

async function findRecentDuplicate(deps: ReceiveReportDependencies, tenantId: string, serverName: string, sha256: string): Promise<string | null> {
  if (deps.dedupeWindowMs <= 0) return null;
  try {
    const row = await deps.db.report.findFirst({
      where: { tenantId, contentSha256: sha256, server: { name: serverName }, receivedAt: { gte: new Date(Date.now() - deps.dedupeWindowMs) } },
      orderBy: { receivedAt: 'desc' },
      select: { id: true },
    });
    return row?.id ?? null;
  } catch (error) {
    throw new AppError('dependency-unavailable', 'the database is unavailable', { cause: error });
  }
}

/** Best effort: an object without a row is unreachable garbage, never an acknowledged report. */
async function discardObject(deps: ReceiveReportDependencies, objectKey: string): Promise<void> {
  try {
    await deps.objectStore.delete(objectKey);
  } catch (error) {
    deps.logger.warn({ objectKey, err: error }, 'could not delete an unacknowledged object');
  }
}
