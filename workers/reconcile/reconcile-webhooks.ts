/**
 * Webhook messages are committed with the change they announce (an outbox); their delivery jobs are queued after
 * the commit. A message still pending with no live job (Redis lost it, or the enqueue failed) is queued again.
 */
import type { Database } from '../../services/db/create-prisma-client.ts';
import type { Logger } from '../../services/logging/create-logger.ts';
import { enqueueDeliveries, type WebhookQueue } from '../../services/queue/analysis-queue.ts';

const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);
const BATCH = 500;

export async function reconcileWebhooks(db: Database, queue: WebhookQueue, logger: Logger, options: { graceMs: number }): Promise<{ requeued: number }> {
  const cutoff = new Date(Date.now() - options.graceMs);
  let requeued = 0;
  let after: string | undefined;
  for (;;) {
    const pending = await db.webhookMessage.findMany({
      where: { status: 'pending', createdAt: { lt: cutoff }, ...(after ? { id: { gt: after } } : {}) },
      orderBy: { id: 'asc' },
      take: BATCH,
      select: { id: true },
    });
    const orphaned: string[] = [];
    for (const { id } of pending) {
      const state = await queue.getJobState(id);
      if (LIVE_STATES.has(state)) continue;
      if (state === 'completed' || state === 'failed') await queue.remove(id);
      orphaned.push(id);
    }
    if (orphaned.length > 0) await enqueueDeliveries(queue, orphaned);
    requeued += orphaned.length;
    if (pending.length < BATCH) break;
    after = pending.at(-1)!.id;
  }
  if (requeued > 0) logger.info({ requeued }, 'reconciler queued webhook messages that had no live job');
  return { requeued };
}
