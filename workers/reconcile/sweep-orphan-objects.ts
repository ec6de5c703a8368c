/**
 * Deletes transcripts that no report row points at. They are left behind on purpose when the database failed
 * after the object was stored: the row may in fact have been committed (a connection lost during COMMIT), so the
 * API never deletes in that case; only this sweep does, once the object is older than any upload still in flight.
 */
import type { Database } from '../../services/db/create-prisma-client.ts';
import type { Logger } from '../../services/logging/create-logger.ts';
import type { ObjectStore } from '../../services/storage/object-store.ts';
import { TRANSCRIPT_PREFIX } from '../../services/reports/receive-report.ts';

export interface SweepOptions {
  /** Objects younger than this may belong to an upload whose row is being written. */
  graceMs: number;
  now?: Date;
}

export interface SweepResult {
  examined: number;
  deleted: number;
}

export async function sweepOrphanObjects(db: Database, objectStore: ObjectStore, logger: Logger, options: SweepOptions): Promise<SweepResult> {
  const cutoff = (options.now ?? new Date()).getTime() - options.graceMs;
  const result: SweepResult = { examined: 0, deleted: 0 };
  let startAfter: string | undefined;
  for (;;) {
    const page = await objectStore.list(TRANSCRIPT_PREFIX, startAfter);
    const old = page.objects.filter((object) => object.lastModified.getTime() < cutoff).map((object) => object.key);
    result.examined += page.objects.length;
    if (old.length > 0) {
      const rows = await db.report.findMany({ where: { objectKey: { in: old } }, select: { objectKey: true } });
      const referenced = new Set(rows.map((row) => row.objectKey));
      const orphans = old.filter((key) => !referenced.has(key));
      if (orphans.length > 0) {
        await objectStore.deleteMany(orphans);
        result.deleted += orphans.length;
      }
    }
    if (!page.more || page.objects.length === 0) break;
    startAfter = page.objects.at(-1)!.key;
  }
  if (result.deleted > 0) logger.info(result, 'deleted transcripts that no report points at');
  return result;
}
