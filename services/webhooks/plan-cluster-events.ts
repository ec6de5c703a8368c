/**
 * Turns cluster changes into webhook messages, inside the transaction that made the changes (an outbox): a
 * message exists if and only if its change was committed, and the delivery worker sends each at least once.
 */
import { randomUUID } from 'node:crypto';
import type { Prisma } from '../db/create-prisma-client.ts';
import { serializeSnapshot, type SerializedClusterSnapshot } from './cluster-event.ts';
import { decideSpread, endpointWants, type WebhookEventType } from './decide-events.ts';

type Transaction = Prisma.TransactionClient;

export interface ClusterChange {
  clusterId: string;
  created: boolean;
  regressed: boolean;
}

export interface ReportContext {
  tenantId: string;
  reportId: string;
  serverId: string;
  seenAt: Date;
  summary: string;
}

/** The event as stored with its message and handed to the payload builders (times as ISO strings). */
export interface StoredClusterEvent {
  id: string;
  type: WebhookEventType;
  occurredAt: string;
  cluster: SerializedClusterSnapshot;
  trigger?: { reportId: string; server: string; summary: string };
  spread?: { servers: number; threshold: number; windowMs: number };
  /** Paths; the delivery worker prefixes its public URL. */
  paths: { cluster: string; report?: string };
}

export function newMessageId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/** Plans the events of one analysed report; returns the new message ids (to enqueue once committed). */
export async function planReportEvents(tx: Transaction, report: ReportContext, changes: ClusterChange[]): Promise<string[]> {
  const endpoints = await tx.webhookEndpoint.findMany({ where: { tenantId: report.tenantId, enabled: true } });
  if (endpoints.length === 0 || changes.length === 0) return [];
  const server = await tx.server.findUniqueOrThrow({ where: { id: report.serverId }, select: { name: true } });
  const trigger = { reportId: report.reportId, server: server.name, summary: report.summary };
  const messageIds: string[] = [];

  for (const change of changes) {
    const cluster = await tx.cluster.findUniqueOrThrow({ where: { id: change.clusterId } });
    const serversInWindow = new Map<number, number>();
    for (const endpoint of endpoints) {
      const types: WebhookEventType[] = [];
      if (change.created) types.push('cluster.created');
      if (change.regressed) types.push('cluster.regressed');
      types.push('report.analysed');
      for (const type of types) {
        if (!endpointWants(endpoint, type, cluster)) continue;
        messageIds.push(await createMessage(tx, endpoint, eventOf(type, cluster, { trigger })));
      }
      if (!endpointWants(endpoint, 'cluster.spreading', cluster)) continue;
      let servers = serversInWindow.get(endpoint.spreadWindowMs);
      if (servers === undefined) {
        servers = await tx.clusterServer.count({ where: { clusterId: cluster.id, lastSeenAt: { gte: new Date(report.seenAt.getTime() - endpoint.spreadWindowMs) } } });
        serversInWindow.set(endpoint.spreadWindowMs, servers);
      }
      const [state] = await tx.$queryRaw<{ armed: boolean; last_fired_at: Date | null }[]>`
        INSERT INTO webhook_spread_states (endpoint_id, cluster_id) VALUES (${endpoint.id}::uuid, ${cluster.id}::uuid)
        ON CONFLICT (endpoint_id, cluster_id) DO UPDATE SET armed = webhook_spread_states.armed
        RETURNING armed, last_fired_at`;
      const now = new Date();
      const decision = decideSpread({ serversInWindow: servers, threshold: endpoint.spreadServers, armed: state!.armed, lastFiredAt: state!.last_fired_at, throttleMs: endpoint.throttleMs, now });
      await tx.webhookSpreadState.update({
        where: { endpointId_clusterId: { endpointId: endpoint.id, clusterId: cluster.id } },
        data: { armed: decision.armed, ...(decision.fire ? { lastFiredAt: now } : {}) },
      });
      if (decision.fire) {
        const spread = { servers, threshold: endpoint.spreadServers, windowMs: endpoint.spreadWindowMs };
        messageIds.push(await createMessage(tx, endpoint, eventOf('cluster.spreading', cluster, { trigger, spread })));
      }
    }
  }
  return messageIds;
}

/** `cluster.resolved` for every endpoint that listens for it. */
export async function planResolvedEvents(tx: Transaction, tenantId: string, clusterId: string): Promise<string[]> {
  const endpoints = await tx.webhookEndpoint.findMany({ where: { tenantId, enabled: true } });
  const cluster = await tx.cluster.findUniqueOrThrow({ where: { id: clusterId } });
  const messageIds: string[] = [];
  for (const endpoint of endpoints) {
    if (endpointWants(endpoint, 'cluster.resolved', cluster)) messageIds.push(await createMessage(tx, endpoint, eventOf('cluster.resolved', cluster, {})));
  }
  return messageIds;
}

type ClusterRow = Awaited<ReturnType<Transaction['cluster']['findUniqueOrThrow']>>;

function eventOf(type: WebhookEventType, cluster: ClusterRow, extra: Pick<StoredClusterEvent, 'trigger' | 'spread'>): Omit<StoredClusterEvent, 'id'> {
  return {
    type,
    occurredAt: new Date().toISOString(),
    cluster: serializeSnapshot(cluster),
    ...extra,
    paths: { cluster: `/v1/clusters/${cluster.id}`, ...(extra.trigger ? { report: `/v1/reports/${extra.trigger.reportId}` } : {}) },
  };
}

async function createMessage(tx: Transaction, endpoint: { id: string; tenantId: string }, event: Omit<StoredClusterEvent, 'id'>): Promise<string> {
  const id = newMessageId();
  await tx.webhookMessage.create({
    data: { id, tenantId: endpoint.tenantId, endpointId: endpoint.id, eventType: event.type, clusterId: event.cluster.id, event: { id, ...event } as unknown as Prisma.InputJsonValue },
  });
  return id;
}
