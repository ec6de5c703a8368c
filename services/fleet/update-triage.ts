/**
 * Triage of a cluster, as on-call teams know it from Sentry: open → acknowledged → resolved (optionally "in
 * version X"); a resolved cluster seen again becomes `regressed` by itself (services/analysis/record-analysis.ts).
 */
import type { Database } from '../db/create-prisma-client.ts';
import { planResolvedEvents } from '../webhooks/plan-cluster-events.ts';
import { resolveClusterId } from './cluster-view.ts';
import type { SettableState } from './fleet-vocabulary.ts';

export interface TriagePatch {
  state?: SettableState | undefined;
  resolvedInVersion?: string | null | undefined;
  note?: string | null | undefined;
  ticketUrl?: string | null | undefined;
}

export interface TriageChange {
  clusterId: string;
  previousState: string;
  state: string;
  /** Webhook messages (`cluster.resolved`) planned with the change, to enqueue. */
  webhookMessageIds: string[];
}

/** Applies the patch; null when the cluster does not exist for this tenant. */
export async function updateTriage(db: Database, tenantId: string, clusterId: string, patch: TriagePatch): Promise<TriageChange | null> {
  const id = await resolveClusterId(db, tenantId, clusterId);
  if (!id) return null;
  return db.$transaction(async (tx) => {
    const [current] = await tx.$queryRaw<{ state: string }[]>`SELECT state::text AS state FROM clusters WHERE id = ${id}::uuid FOR UPDATE`;
    const previousState = current!.state;
    const stateChanges = patch.state !== undefined && patch.state !== previousState;
    await tx.cluster.update({
      where: { id },
      data: {
        ...(patch.state !== undefined ? { state: patch.state } : {}),
        ...(stateChanges ? { stateChangedAt: new Date() } : {}),
        // A version only means something for a resolution; reopening forgets it.
        ...(patch.resolvedInVersion !== undefined ? { resolvedInVersion: patch.resolvedInVersion } : stateChanges && patch.state !== 'resolved' ? { resolvedInVersion: null } : {}),
        ...(patch.note !== undefined ? { note: patch.note } : {}),
        ...(patch.ticketUrl !== undefined ? { ticketUrl: patch.ticketUrl } : {}),
      },
    });
    const resolvedNow = stateChanges && patch.state === 'resolved';
    const webhookMessageIds = resolvedNow ? await planResolvedEvents(tx, tenantId, id) : [];
    return { clusterId: id, previousState, state: patch.state ?? previousState, webhookMessageIds };
  });
}
