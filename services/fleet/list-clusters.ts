/** `GET /v1/clusters`: a tenant's root causes, filtered, sorted and cursor-paginated. */
import type { Database } from '../db/create-prisma-client.ts';
import { Prisma } from '../db/create-prisma-client.ts';
import type { ClusterSort, ClusterState } from './fleet-vocabulary.ts';
import { decodeCursor, pageOf, type CursorPosition, type Page } from './paging.ts';

export interface ClusterListQuery {
  tenantId: string;
  sort: ClusterSort;
  pattern?: string | undefined;
  module?: string | undefined;
  state?: ClusterState | undefined;
  /** Only clusters seen within this window; with sort=growth, also the window growth is measured over. */
  windowMs?: number | undefined;
  limit: number;
  cursor?: string | undefined;
  now: Date;
}

export interface ClusterSummary {
  id: string;
  pattern: string;
  blamedModule: string | null;
  signatureText: string;
  state: ClusterState;
  firstSeenAt: string;
  lastSeenAt: string;
  serverCount: number;
  reportCount: number;
  /** With sort=growth: reports in the window against the window before it. */
  growth?: { reports: number; previousReports: number; change: number };
  links: { self: string };
}

const DEFAULT_GROWTH_WINDOW_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

interface ClusterRow {
  id: string;
  pattern: string;
  blamedModule: string | null;
  signatureText: string;
  state: ClusterState;
  firstSeenAt: Date;
  lastSeenAt: Date;
  serverCount: number;
  reportCount: number;
}

export async function listClusters(db: Database, query: ClusterListQuery, baseUrl: string): Promise<Page<ClusterSummary>> {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.sort === 'growth') return listByGrowth(db, query, cursor, baseUrl);
  const column = ({ servers: 'serverCount', reports: 'reportCount', lastSeen: 'lastSeenAt' } as const)[query.sort];
  const after = cursor ? keysetAfter(column, column === 'lastSeenAt' ? new Date(String(cursor.value)) : Number(cursor.value), cursor.id) : {};
  const rows = await db.cluster.findMany({
    where: { ...filtersOf(query), ...after },
    orderBy: [{ [column]: 'desc' }, { id: 'asc' }],
    take: query.limit + 1,
  });
  return pageOf(rows, query.limit, (row) => summarise(row, baseUrl), (row) => ({ value: column === 'lastSeenAt' ? row.lastSeenAt.toISOString() : row[column], id: row.id }));
}

function filtersOf(query: ClusterListQuery): Prisma.ClusterWhereInput {
  return {
    tenantId: query.tenantId,
    mergedIntoId: null,
    ...(query.pattern ? { pattern: query.pattern } : {}),
    ...(query.module ? { blamedModule: query.module } : {}),
    ...(query.state ? { state: query.state } : {}),
    ...(query.windowMs ? { lastSeenAt: { gte: new Date(query.now.getTime() - query.windowMs) } } : {}),
  };
}

function keysetAfter(column: 'serverCount' | 'reportCount' | 'lastSeenAt', value: number | Date, id: string): Prisma.ClusterWhereInput {
  return { OR: [{ [column]: { lt: value } }, { [column]: value, id: { gt: id } }] };
}

/** Growth over daily rollups: whole UTC days, the window ending today against the window before it. */
async function listByGrowth(db: Database, query: ClusterListQuery, cursor: CursorPosition | undefined, baseUrl: string): Promise<Page<ClusterSummary>> {
  const windowDays = Math.max(1, Math.round((query.windowMs ?? DEFAULT_GROWTH_WINDOW_MS) / DAY_MS));
  const today = Math.floor(query.now.getTime() / DAY_MS) * DAY_MS;
  const windowStart = new Date(today - (windowDays - 1) * DAY_MS);
  const previousStart = new Date(windowStart.getTime() - windowDays * DAY_MS);
  const conditions = [Prisma.sql`c.tenant_id = ${query.tenantId}::uuid`, Prisma.sql`c.merged_into_id IS NULL`];
  if (query.pattern) conditions.push(Prisma.sql`c.pattern = ${query.pattern}`);
  if (query.module) conditions.push(Prisma.sql`c.blamed_module = ${query.module}`);
  if (query.state) conditions.push(Prisma.sql`c.state = ${query.state}::cluster_state`);
  if (query.windowMs) conditions.push(Prisma.sql`c.last_seen_at >= ${new Date(query.now.getTime() - query.windowMs)}`);
  const keyset = cursor ? Prisma.sql`WHERE (change < ${Number(cursor.value)} OR (change = ${Number(cursor.value)} AND id > ${cursor.id}::uuid))` : Prisma.empty;
  const rows = await db.$queryRaw<(ClusterRow & { reports: number; previousReports: number; change: number })[]>`
    WITH windowed AS (
      SELECT cluster_id,
             sum(report_count) FILTER (WHERE bucket >= ${windowStart})::int AS reports,
             sum(report_count) FILTER (WHERE bucket < ${windowStart})::int AS previous_reports
      FROM cluster_rollups
      WHERE tenant_id = ${query.tenantId}::uuid AND granularity = 'day' AND bucket >= ${previousStart}
      GROUP BY cluster_id
    ), ranked AS (
      SELECT c.id, c.pattern, c.blamed_module AS "blamedModule", c.signature_text AS "signatureText", c.state::text AS state,
             c.first_seen_at AS "firstSeenAt", c.last_seen_at AS "lastSeenAt", c.server_count AS "serverCount", c.report_count AS "reportCount",
             coalesce(w.reports, 0) AS reports, coalesce(w.previous_reports, 0) AS "previousReports",
             coalesce(w.reports, 0) - coalesce(w.previous_reports, 0) AS change
      FROM clusters c LEFT JOIN windowed w ON w.cluster_id = c.id
      WHERE ${Prisma.join(conditions, ' AND ')}
    )
    SELECT * FROM ranked ${keyset}
    ORDER BY change DESC, id ASC
    LIMIT ${query.limit + 1}`;
  return pageOf(
    rows,
    query.limit,
    (row) => ({ ...summarise(row, baseUrl), growth: { reports: row.reports, previousReports: row.previousReports, change: row.change } }),
    (row) => ({ value: row.change, id: row.id }),
  );
}

export function summarise(row: ClusterRow, baseUrl: string): ClusterSummary {
  return {
    id: row.id,
    pattern: row.pattern,
    blamedModule: row.blamedModule,
    signatureText: row.signatureText,
    state: row.state,
    firstSeenAt: row.firstSeenAt.toISOString(),
    lastSeenAt: row.lastSeenAt.toISOString(),
    serverCount: row.serverCount,
    reportCount: row.reportCount,
    links: { self: `${baseUrl}/v1/clusters/${row.id}` },
  };
}
