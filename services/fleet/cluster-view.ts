/** `GET /v1/clusters/:id` and its servers: one root cause across the tenant's fleet. */
import type { Database } from '../db/create-prisma-client.ts';
import { isUuid } from '../reports/report-view.ts';
import { bucketsBetween, bucketMs, type Granularity } from './buckets.ts';
import { summarise, type ClusterSummary } from './list-clusters.ts';
import { decodeCursor, pageOf, type Page } from './paging.ts';

const MAX_ALIAS_HOPS = 32;
const SERVERS_IN_DETAIL = 20;

export interface ClusterSeriesPoint {
  bucket: string;
  reports: number;
  servers: number;
  newServers: number;
}

export interface ClusterServerItem {
  name: string;
  firstSeenAt: string;
  lastSeenAt: string;
  reportCount: number;
  links: { history: string };
}

export interface ClusterDetail extends ClusterSummary {
  /** The id asked for, when it was merged into this cluster. */
  requestedId: string;
  aliases: string[];
  notes: string[];
  triage: { state: string; stateChangedAt: string | null; resolvedInVersion: string | null; note: string | null; ticketUrl: string | null };
  signatures: { hash: string; text: string; rulesVersion: string; placement: string; notes: string[]; firstSeenAt: string; lastSeenAt: string }[];
  representative: { reportId: string; server: string; receivedAt: string; finding: unknown; link: string } | null;
  series: { bucket: Granularity; from: string; to: string; points: ClusterSeriesPoint[] };
  servers: Page<ClusterServerItem>;
  links: { self: string; servers: string };
}

export interface SeriesOptions {
  bucket: Granularity;
  windowMs: number;
  now: Date;
}

/** Follows merges to the surviving cluster of this tenant; null when there is none. */
export async function resolveClusterId(db: Database, tenantId: string, clusterId: string): Promise<string | null> {
  if (!isUuid(clusterId)) return null;
  let current = await db.cluster.findFirst({ where: { id: clusterId, tenantId }, select: { id: true, mergedIntoId: true } });
  for (let hops = 0; current?.mergedIntoId && hops < MAX_ALIAS_HOPS; hops++) {
    current = await db.cluster.findFirst({ where: { id: current.mergedIntoId, tenantId }, select: { id: true, mergedIntoId: true } });
  }
  return current?.id ?? null;
}

export async function loadClusterView(db: Database, tenantId: string, clusterId: string, baseUrl: string, series: SeriesOptions): Promise<ClusterDetail | null> {
  const id = await resolveClusterId(db, tenantId, clusterId);
  if (!id) return null;
  const cluster = await db.cluster.findUniqueOrThrow({ where: { id } });
  const [signatures, servers, points, representative] = await Promise.all([
    db.signature.findMany({ where: { clusterId: id }, orderBy: [{ firstSeenAt: 'asc' }, { hash: 'asc' }] }),
    listClusterServers(db, id, SERVERS_IN_DETAIL, undefined, baseUrl),
    loadSeries(db, id, series),
    loadRepresentative(db, id, cluster.representativeReportId, baseUrl),
  ]);
  return {
    ...summarise(cluster, baseUrl),
    requestedId: clusterId,
    aliases: cluster.aliases,
    notes: signatures[0]?.notes ?? [],
    triage: {
      state: cluster.state,
      stateChangedAt: cluster.stateChangedAt?.toISOString() ?? null,
      resolvedInVersion: cluster.resolvedInVersion,
      note: cluster.note,
      ticketUrl: cluster.ticketUrl,
    },
    signatures: signatures.map((signature) => ({
      hash: signature.hash,
      text: signature.text,
      rulesVersion: signature.rulesVersion,
      placement: signature.placement,
      notes: signature.notes,
      firstSeenAt: signature.firstSeenAt.toISOString(),
      lastSeenAt: signature.lastSeenAt.toISOString(),
    })),
    representative,
    series: { bucket: series.bucket, from: new Date(series.now.getTime() - series.windowMs).toISOString(), to: series.now.toISOString(), points },
    servers,
    links: { self: `${baseUrl}/v1/clusters/${id}`, servers: `${baseUrl}/v1/clusters/${id}/servers` },
  };
}

/** The servers a cluster was seen on, most recently seen first. */
export async function listClusterServers(db: Database, clusterId: string, limit: number, cursor: string | undefined, baseUrl: string): Promise<Page<ClusterServerItem>> {
  const position = cursor ? decodeCursor(cursor) : undefined;
  const rows = await db.clusterServer.findMany({
    where: {
      clusterId,
      ...(position
        ? { OR: [{ lastSeenAt: { lt: new Date(String(position.value)) } }, { lastSeenAt: new Date(String(position.value)), serverId: { gt: position.id } }] }
        : {}),
    },
    orderBy: [{ lastSeenAt: 'desc' }, { serverId: 'asc' }],
    take: limit + 1,
    include: { server: { select: { name: true } } },
  });
  return pageOf(
    rows,
    limit,
    (row) => ({
      name: row.server.name,
      firstSeenAt: row.firstSeenAt.toISOString(),
      lastSeenAt: row.lastSeenAt.toISOString(),
      reportCount: row.reportCount,
      links: { history: `${baseUrl}/v1/servers/${encodeURIComponent(row.server.name)}/history` },
    }),
    (row) => ({ value: row.lastSeenAt.toISOString(), id: row.serverId }),
  );
}

/** Reports, distinct servers and new servers per bucket, every bucket of the window present (zeros included). */
async function loadSeries(db: Database, clusterId: string, options: SeriesOptions): Promise<ClusterSeriesPoint[]> {
  const from = new Date(options.now.getTime() - options.windowMs + bucketMs(options.bucket));
  const rows = await db.clusterRollup.findMany({
    where: { clusterId, granularity: options.bucket, bucket: { gte: bucketsBetween(from, from, options.bucket)[0]! } },
    orderBy: { bucket: 'asc' },
  });
  const byBucket = new Map(rows.map((row) => [row.bucket.getTime(), row]));
  return bucketsBetween(from, options.now, options.bucket).map((bucket) => {
    const row = byBucket.get(bucket.getTime());
    return { bucket: bucket.toISOString(), reports: row?.reportCount ?? 0, servers: row?.serverCount ?? 0, newServers: row?.newServerCount ?? 0 };
  });
}

/** The verdict finding that shows this root cause, from the cluster's first report (or its latest, after merges). */
async function loadRepresentative(db: Database, clusterId: string, reportId: string | null, baseUrl: string): Promise<ClusterDetail['representative']> {
  const finding =
    (reportId ? await db.finding.findFirst({ where: { clusterId, reportId }, orderBy: { ordinal: 'asc' } }) : null) ??
    (await db.finding.findFirst({ where: { clusterId }, orderBy: { createdAt: 'desc' } }));
  if (!finding) return null;
  const report = await db.report.findUniqueOrThrow({ where: { id: finding.reportId }, include: { server: { select: { name: true } }, analysis: { select: { verdict: true } } } });
  const verdict = report.analysis?.verdict as { findings?: unknown[] } | undefined;
  return {
    reportId: report.id,
    server: report.server.name,
    receivedAt: report.receivedAt.toISOString(),
    finding: verdict?.findings?.[finding.ordinal] ?? null,
    link: `${baseUrl}/v1/reports/${report.id}`,
  };
}
