/**
 * `GET /v1/trends`: what is hanging the fleet in a window, from the rollups only (never from reports): reports
 * per bucket, the top clusters with their reports and distinct servers per bucket, the clusters first seen in
 * the window, and the top movers against the window before.
 */
import type { Database } from '../db/create-prisma-client.ts';
import { bucketMs, bucketsBetween, type Granularity } from './buckets.ts';
import { summarise, type ClusterSummary } from './list-clusters.ts';

export interface TrendQuery {
  tenantId: string;
  windowMs: number;
  bucket: Granularity;
  /** How many clusters each list holds. */
  limit: number;
  now: Date;
}

export interface Trends {
  from: string;
  to: string;
  bucket: Granularity;
  buckets: string[];
  /** Reports of every cluster, per bucket. */
  totals: number[];
  clusters: { cluster: ClusterSummary; reports: number; series: { reports: number; servers: number }[] }[];
  newClusters: { count: number; items: ClusterSummary[] };
  topMovers: { cluster: ClusterSummary; reports: number; previousReports: number; change: number }[];
}

type ClusterRecord = Parameters<typeof summarise>[0];

export async function loadTrends(db: Database, query: TrendQuery, baseUrl: string): Promise<Trends> {
  const { tenantId, bucket, limit } = query;
  const buckets = bucketsBetween(new Date(query.now.getTime() - query.windowMs + bucketMs(bucket)), query.now, bucket);
  const from = buckets[0]!;
  const previousFrom = new Date(from.getTime() - buckets.length * bucketMs(bucket));

  const [perBucket, perCluster, movers, newCount, newest] = await Promise.all([
    db.$queryRaw<{ bucket: Date; reports: number }[]>`
      SELECT bucket, sum(report_count)::int AS reports FROM cluster_rollups
      WHERE tenant_id = ${tenantId}::uuid AND granularity = ${bucket}::rollup_granularity AND bucket >= ${from}
      GROUP BY bucket`,
    db.$queryRaw<{ cluster_id: string; reports: number }[]>`
      SELECT cluster_id, sum(report_count)::int AS reports FROM cluster_rollups
      WHERE tenant_id = ${tenantId}::uuid AND granularity = ${bucket}::rollup_granularity AND bucket >= ${from}
      GROUP BY cluster_id ORDER BY reports DESC, cluster_id LIMIT ${limit}`,
    db.$queryRaw<{ cluster_id: string; reports: number; previous_reports: number; change: number }[]>`
      SELECT cluster_id, reports, previous_reports, reports - previous_reports AS change FROM (
        SELECT cluster_id,
               coalesce(sum(report_count) FILTER (WHERE bucket >= ${from}), 0)::int AS reports,
               coalesce(sum(report_count) FILTER (WHERE bucket < ${from}), 0)::int AS previous_reports
        FROM cluster_rollups
        WHERE tenant_id = ${tenantId}::uuid AND granularity = ${bucket}::rollup_granularity AND bucket >= ${previousFrom}
        GROUP BY cluster_id) AS windows
      WHERE reports > previous_reports
      ORDER BY change DESC, cluster_id LIMIT ${limit}`,
    db.cluster.count({ where: { tenantId, mergedIntoId: null, firstSeenAt: { gte: from } } }),
    db.cluster.findMany({ where: { tenantId, mergedIntoId: null, firstSeenAt: { gte: from } }, orderBy: [{ firstSeenAt: 'desc' }, { id: 'asc' }], take: limit }),
  ]);

  const topIds = perCluster.map((row) => row.cluster_id);
  const [series, clusters] = await Promise.all([
    db.clusterRollup.findMany({ where: { clusterId: { in: topIds }, granularity: bucket, bucket: { gte: from } } }),
    db.cluster.findMany({ where: { id: { in: [...new Set([...topIds, ...movers.map((row) => row.cluster_id)])] } } }),
  ]);
  const clusterById = new Map<string, ClusterRecord>(clusters.map((cluster) => [cluster.id, cluster]));
  const index = new Map(buckets.map((start, position) => [start.getTime(), position]));
  const seriesOf = new Map(topIds.map((id) => [id, buckets.map(() => ({ reports: 0, servers: 0 }))]));
  for (const row of series) {
    const position = index.get(row.bucket.getTime());
    if (position !== undefined) seriesOf.get(row.clusterId)![position] = { reports: row.reportCount, servers: row.serverCount };
  }
  const totals = buckets.map(() => 0);
  for (const row of perBucket) {
    const position = index.get(row.bucket.getTime());
    if (position !== undefined) totals[position] = row.reports;
  }

  return {
    from: from.toISOString(),
    to: query.now.toISOString(),
    bucket,
    buckets: buckets.map((start) => start.toISOString()),
    totals,
    clusters: perCluster.map((row) => ({ cluster: summarise(clusterById.get(row.cluster_id)!, baseUrl), reports: row.reports, series: seriesOf.get(row.cluster_id)! })),
    newClusters: { count: newCount, items: newest.map((cluster) => summarise(cluster, baseUrl)) },
    topMovers: movers.map((row) => ({ cluster: summarise(clusterById.get(row.cluster_id)!, baseUrl), reports: row.reports, previousReports: row.previous_reports, change: row.change })),
  };
}
