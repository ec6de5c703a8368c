/** `GET /v1/servers` and `GET /v1/servers/:name/history`: what each server of the fleet has hit. */
import type { Database } from '../db/create-prisma-client.ts';
import { decodeCursor, pageOf, type Page } from './paging.ts';

export interface ServerItem {
  name: string;
  firstSeenAt: string;
  lastSeenAt: string;
  reportCount: number;
  links: { history: string };
}

export interface HistoryItem {
  reportId: string;
  receivedAt: string;
  status: string;
  error: { code: string; message: string } | null;
  verdict: string | null;
  summary: string | null;
  findings: { pattern: string; blamedModule: string | null; confidence: string; signature: string; cluster: { id: string; link: string } }[];
  links: { report: string };
}

export async function listServers(db: Database, tenantId: string, limit: number, cursor: string | undefined, baseUrl: string): Promise<Page<ServerItem>> {
  const position = cursor ? decodeCursor(cursor) : undefined;
  const at = position ? new Date(String(position.value)) : undefined;
  const rows = await db.server.findMany({
    where: { tenantId, ...(at ? { OR: [{ lastSeenAt: { lt: at } }, { lastSeenAt: at, id: { gt: position!.id } }] } : {}) },
    orderBy: [{ lastSeenAt: 'desc' }, { id: 'asc' }],
    take: limit + 1,
  });
  return pageOf(
    rows,
    limit,
    (row) => ({ name: row.name, firstSeenAt: row.firstSeenAt.toISOString(), lastSeenAt: row.lastSeenAt.toISOString(), reportCount: row.reportCount, links: { history: historyLink(baseUrl, row.name) } }),
    (row) => ({ value: row.lastSeenAt.toISOString(), id: row.id }),
  );
}

/** A server's reports, newest first, with their verdicts and clusters; null when the tenant has no such server. */
export async function loadServerHistory(db: Database, tenantId: string, name: string, limit: number, cursor: string | undefined, baseUrl: string): Promise<(Page<HistoryItem> & { server: ServerItem }) | null> {
  const server = await db.server.findUnique({ where: { tenantId_name: { tenantId, name } } });
  if (!server) return null;
  const position = cursor ? decodeCursor(cursor) : undefined;
  const at = position ? new Date(String(position.value)) : undefined;
  const rows = await db.report.findMany({
    where: { serverId: server.id, ...(at ? { OR: [{ receivedAt: { lt: at } }, { receivedAt: at, id: { gt: position!.id } }] } : {}) },
    orderBy: [{ receivedAt: 'desc' }, { id: 'asc' }],
    take: limit + 1,
    include: {
      analysis: { select: { verdictKind: true, summary: true } },
      findings: { orderBy: { ordinal: 'asc' }, include: { signature: { select: { text: true } } } },
    },
  });
  const page = pageOf(
    rows,
    limit,
    (row): HistoryItem => ({
      reportId: row.id,
      receivedAt: row.receivedAt.toISOString(),
      status: row.status,
      error: row.errorCode ? { code: row.errorCode, message: row.error ?? '' } : null,
      verdict: row.analysis?.verdictKind ?? null,
      summary: row.analysis?.summary ?? null,
      findings: row.findings.map((finding) => ({
        pattern: finding.pattern,
        blamedModule: finding.blamedModule,
        confidence: finding.confidence,
        signature: finding.signature.text,
        cluster: { id: finding.clusterId, link: `${baseUrl}/v1/clusters/${finding.clusterId}` },
      })),
      links: { report: `${baseUrl}/v1/reports/${row.id}` },
    }),
    (row) => ({ value: row.receivedAt.toISOString(), id: row.id }),
  );
  return {
    server: { name: server.name, firstSeenAt: server.firstSeenAt.toISOString(), lastSeenAt: server.lastSeenAt.toISOString(), reportCount: server.reportCount, links: { history: historyLink(baseUrl, server.name) } },
    ...page,
  };
}

function historyLink(baseUrl: string, name: string): string {
  return `${baseUrl}/v1/servers/${encodeURIComponent(name)}/history`;
}
