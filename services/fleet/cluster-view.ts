/** What `GET /v1/clusters/:id` answers: one root cause across the tenant's fleet. */
import type { Database } from '../db/create-prisma-client.ts';
import { isUuid } from '../reports/report-view.ts';

const MAX_ALIAS_HOPS = 32;
const SERVERS_SHOWN = 50;

export interface ClusterView {
  id: string;
  /** Set when the id asked for was merged into this cluster. */
  requestedId: string;
  pattern: string;
  blamedModule: string | null;
  signatureText: string;
  state: string;
  aliases: string[];
  firstSeenAt: string;
  lastSeenAt: string;
  serverCount: number;
  reportCount: number;
  signatures: { hash: string; text: string; rulesVersion: string; placement: string; firstSeenAt: string; lastSeenAt: string }[];
  servers: { name: string; firstSeenAt: string; lastSeenAt: string; reportCount: number }[];
  links: { self: string };
}

/** The cluster for this tenant, following merges to the surviving cluster; null when there is none. */
export async function loadClusterView(db: Database, tenantId: string, clusterId: string, baseUrl: string): Promise<ClusterView | null> {
  if (!isUuid(clusterId)) return null;
  let current = await db.cluster.findFirst({ where: { id: clusterId, tenantId } });
  for (let hops = 0; current?.mergedIntoId && hops < MAX_ALIAS_HOPS; hops++) {
    current = await db.cluster.findFirst({ where: { id: current.mergedIntoId, tenantId } });
  }
  if (!current) return null;
  const [signatures, servers] = await Promise.all([
    db.signature.findMany({ where: { clusterId: current.id }, orderBy: { firstSeenAt: 'asc' } }),
    db.clusterServer.findMany({ where: { clusterId: current.id }, orderBy: { lastSeenAt: 'desc' }, take: SERVERS_SHOWN, include: { server: { select: { name: true } } } }),
  ]);
  return {
    id: current.id,
    requestedId: clusterId,
    pattern: current.pattern,
    blamedModule: current.blamedModule,
    signatureText: current.signatureText,
    state: current.state,
    aliases: current.aliases,
    firstSeenAt: current.firstSeenAt.toISOString(),
    lastSeenAt: current.lastSeenAt.toISOString(),
    serverCount: current.serverCount,
    reportCount: current.reportCount,
    signatures: signatures.map((signature) => ({
      hash: signature.hash,
      text: signature.text,
      rulesVersion: signature.rulesVersion,
      placement: signature.placement,
      firstSeenAt: signature.firstSeenAt.toISOString(),
      lastSeenAt: signature.lastSeenAt.toISOString(),
    })),
    servers: servers.map((member) => ({ name: member.server.name, firstSeenAt: member.firstSeenAt.toISOString(), lastSeenAt: member.lastSeenAt.toISOString(), reportCount: member.reportCount })),
    links: { self: `${baseUrl}/v1/clusters/${current.id}` },
  };
}
