/**
 * PostgreSQL is the record of what must be analysed; Redis only schedules it. The reconciler finds reports that
 * are not finished and have no live job (Redis lost its data, the API could not enqueue, a job failed on every
 * transient retry) and queues them again. Job id = report id, so queueing a report that has a job does nothing.
 */
import type { Database } from '../../services/db/create-prisma-client.ts';
import type { Logger } from '../../services/logging/create-logger.ts';
import { enqueueAnalysis, type AnalysisQueue } from '../../services/queue/analysis-queue.ts';

export interface ReconcileOptions {
  /** Reports updated more recently than this are on their normal path. */
  graceMs: number;
  batchSize?: number;
}

export interface ReconcileResult {
  examined: number;
  requeued: number;
}

const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

export async function reconcileReports(db: Database, queue: AnalysisQueue, logger: Logger, options: ReconcileOptions): Promise<ReconcileResult> {
  const batchSize = options.batchSize ?? 500;
  const cutoff = new Date(Date.now() - options.graceMs);
  const result: ReconcileResult = { examined: 0, requeued: 0 };
  let after: { updatedAt: Date; id: string } | undefined;
  for (;;) {
    const batch = await db.report.findMany({
      where: {
        status: { in: ['received', 'queued', 'analysing'] },
        updatedAt: { lt: cutoff },
        ...(after ? { OR: [{ updatedAt: { gt: after.updatedAt } }, { updatedAt: after.updatedAt, id: { gt: after.id } }] } : {}),
      },
      orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
      take: batchSize,
      select: { id: true, updatedAt: true },
    });
    for (const report of batch) {
      result.examined++;
      if (await requeueIfOrphaned(queue, report.id)) {
        result.requeued++;
        await db.report.updateMany({ where: { id: report.id, status: { in: ['received', 'queued', 'analysing'] } }, data: { status: 'queued', queuedAt: new Date() } });
      }
    }
    if (batch.length < batchSize) break;
    after = batch.at(-1)!;
  }
  if (result.requeued > 0) logger.info(result, 'reconciler queued reports that had no live job');
  return result;
}

async function requeueIfOrphaned(queue: AnalysisQueue, reportId: string): Promise<boolean> {
  const state = await queue.getJobState(reportId);
  if (LIVE_STATES.has(state)) return false;
  // A finished job whose report is not finished: its save did not commit. Remove it so the id can be reused.
  if (state === 'completed' || state === 'failed') await queue.remove(reportId);
  await enqueueAnalysis(queue, reportId);
  return true;
}
