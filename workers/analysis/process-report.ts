/**
 * One analysis job: fetch (report row, transcript object) → transform (the engine, in a budgeted thread) → save
 * (one transaction). Expected outcomes are returned as a status; only transient failures (PostgreSQL, object
 * storage) throw, so that BullMQ retries them with backoff.
 */
import type { Database } from '../../services/db/create-prisma-client.ts';
import type { Logger } from '../../services/logging/create-logger.ts';
import { recordAnalysis, type ClusterTouch } from '../../services/analysis/record-analysis.ts';
import { ObjectMissingError, ObjectTooLargeError, type ObjectStore } from '../../services/storage/object-store.ts';
import type { EnginePool } from './engine-pool.ts';

export interface ProcessReportDependencies {
  db: Database;
  objectStore: ObjectStore;
  engine: EnginePool;
  logger: Logger;
  engineVersion: string;
  maxTranscriptBytes: number;
  similarity: number;
  /** Queues the deliveries of webhook messages the analysis planned; a failure leaves them to the reconciler. */
  enqueueWebhooks?: (messageIds: string[]) => Promise<void>;
}

export type ProcessOutcome =
  | { status: 'analysed'; clusters: ClusterTouch[] }
  | { status: 'failed'; code: string; message: string }
  | { status: 'skipped'; reason: string };

export async function processReport(deps: ProcessReportDependencies, reportId: string): Promise<ProcessOutcome> {
  const log = deps.logger.child({ reportId });
  const [report] = await deps.db.$queryRaw<{ object_key: string }[]>`
    UPDATE reports SET status = 'analysing', started_at = now(), attempts = attempts + 1, updated_at = now()
    WHERE id = ${reportId}::uuid AND status IN ('received', 'queued', 'analysing')
    RETURNING object_key`;
  if (!report) {
    const finished = await deps.db.report.findUnique({ where: { id: reportId }, select: { status: true } });
    return { status: 'skipped', reason: finished ? `the report is already ${finished.status}` : 'the report does not exist' };
  }

  let bytes: Buffer;
  try {
    bytes = await deps.objectStore.read(report.object_key, deps.maxTranscriptBytes);
  } catch (error) {
    if (error instanceof ObjectMissingError) return fail(deps, reportId, 'transcript-missing', error.message);
    if (error instanceof ObjectTooLargeError) return fail(deps, reportId, 'too-large', error.message);
    throw error;
  }

  const outcome = await deps.engine.analyse(bytes);
  if (!outcome.ok) {
    log.warn({ code: outcome.code }, outcome.message);
    return fail(deps, reportId, outcome.code, outcome.message);
  }
  const recorded = await recordAnalysis(deps.db, {
    reportId,
    verdict: outcome.verdict,
    signatures: outcome.signatures,
    modelSummary: outcome.modelSummary,
    engineVersion: deps.engineVersion,
    durationMs: outcome.durationMs,
    similarity: deps.similarity,
  });
  if (recorded.status !== 'recorded') return { status: 'skipped', reason: recorded.status };
  if (recorded.webhookMessageIds.length > 0 && deps.enqueueWebhooks) {
    await deps.enqueueWebhooks(recorded.webhookMessageIds).catch((error: unknown) => log.warn({ err: error }, 'webhook deliveries not queued; the reconciler will queue them'));
  }
  log.info({ verdict: outcome.verdict.verdict, findings: outcome.verdict.findings.length, durationMs: Math.round(outcome.durationMs) }, 'report analysed');
  return { status: 'analysed', clusters: recorded.clusters };
}

/** Bad input fails once, with its reason, and is not retried. */
async function fail(deps: ProcessReportDependencies, reportId: string, code: string, message: string): Promise<ProcessOutcome> {
  await deps.db.report.updateMany({
    where: { id: reportId, status: { not: 'analysed' } },
    data: { status: 'failed', errorCode: code, error: message, finishedAt: new Date() },
  });
  return { status: 'failed', code, message };
}
