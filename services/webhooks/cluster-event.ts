/** What happened to a cluster (or a report): the one input every webhook payload is built from. */
import type { ClusterState } from '../fleet/fleet-vocabulary.ts';

export const CLUSTER_EVENT_TYPES = ['cluster.created', 'cluster.spreading', 'cluster.regressed', 'cluster.resolved', 'report.analysed'] as const;
export type ClusterEventType = (typeof CLUSTER_EVENT_TYPES)[number];

export interface ClusterSnapshot {
  id: string;
  pattern: string;
  blamedModule: string | null;
  signatureText: string;
  state: ClusterState;
  serverCount: number;
  reportCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** The report that caused the event (the new one on a new server, the one that regressed a cluster, ...). */
export interface EventTrigger {
  reportId: string;
  server: string;
  summary: string;
}

/** `cluster.spreading`: `servers` distinct servers within `windowMs` reached `threshold`. */
export interface EventSpread {
  servers: number;
  threshold: number;
  windowMs: number;
}

export interface EventLinks {
  cluster: string;
  report?: string | undefined;
  dashboard?: string | undefined;
}

export interface ClusterEvent {
  /** `msg_…`: stays the same across retries of the same event, so receivers can deduplicate (it is the `webhook-id`). */
  id: string;
  type: ClusterEventType;
  occurredAt: Date;
  cluster: ClusterSnapshot;
  trigger?: EventTrigger | undefined;
  spread?: EventSpread | undefined;
  links: EventLinks;
}

/** The snapshot with its times as ISO strings: how it is stored with a message and sent in the generic body. */
export type SerializedClusterSnapshot = Omit<ClusterSnapshot, 'firstSeenAt' | 'lastSeenAt'> & { firstSeenAt: string; lastSeenAt: string };

export function serializeSnapshot(cluster: ClusterSnapshot): SerializedClusterSnapshot {
  return {
    id: cluster.id,
    pattern: cluster.pattern,
    blamedModule: cluster.blamedModule,
    signatureText: cluster.signatureText,
    state: cluster.state,
    serverCount: cluster.serverCount,
    reportCount: cluster.reportCount,
    firstSeenAt: cluster.firstSeenAt.toISOString(),
    lastSeenAt: cluster.lastSeenAt.toISOString(),
  };
}
