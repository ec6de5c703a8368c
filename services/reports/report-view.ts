/** What `GET /v1/reports/:id` answers: the report, its status, verdict and findings with their clusters. */
import type { Database, ReportStatus } from '../db/create-prisma-client.ts';

export interface ReportLinks {
  self: string;
  transcript: string;
}

export interface FindingView {
  ordinal: number;
  pattern: string;
  blamedModule: string | null;
  confidence: string;
  summary: string;
  signature: { hash: string; text: string; rulesVersion: string };
  cluster: { id: string; link: string };
}

export interface ReportView {
  id: string;
  status: ReportStatus;
  server: string;
  contentSha256: string;
  byteSize: number;
  contentType: string;
  fileName: string | null;
  ticketId: string | null;
  osVersion: string | null;
  collectedAt: string | null;
  receivedAt: string;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  error: { code: string; message: string } | null;
  verdict: unknown;
  analysis: { engineVersion: string; rulesVersion: string; durationMs: number; modelSummary: unknown } | null;
  findings: FindingView[];
  links: ReportLinks;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function reportLinks(baseUrl: string, reportId: string): ReportLinks {
  return { self: `${baseUrl}/v1/reports/${reportId}`, transcript: `${baseUrl}/v1/reports/${reportId}/transcript` };
}

/** The report as its tenant sees it; null when it does not exist for this tenant (another tenant's id included). */
export async function loadReportView(db: Database, tenantId: string, reportId: string, baseUrl: string): Promise<ReportView | null> {
  if (!isUuid(reportId)) return null;
  const report = await db.report.findFirst({
    where: { id: reportId, tenantId },
    include: {
      server: { select: { name: true } },
      analysis: true,
      findings: { orderBy: { ordinal: 'asc' }, include: { signature: { select: { hash: true, text: true, rulesVersion: true } } } },
    },
  });
  if (!report) return null;
  return {
    id: report.id,
    status: report.status,
    server: report.server.name,
    contentSha256: report.contentSha256,
    byteSize: Number(report.byteSize),
    contentType: report.contentType,
    fileName: report.fileName,
    ticketId: report.ticketId,
    osVersion: report.osVersion,
    collectedAt: report.collectedAt?.toISOString() ?? null,
    receivedAt: report.receivedAt.toISOString(),
    queuedAt: report.queuedAt?.toISOString() ?? null,
    startedAt: report.startedAt?.toISOString() ?? null,
    finishedAt: report.finishedAt?.toISOString() ?? null,
    attempts: report.attempts,
    error: report.errorCode ? { code: report.errorCode, message: report.error ?? '' } : null,
    verdict: report.analysis?.verdict ?? null,
    analysis: report.analysis
      ? { engineVersion: report.analysis.engineVersion, rulesVersion: report.analysis.rulesVersion, durationMs: report.analysis.durationMs, modelSummary: report.analysis.modelSummary }
      : null,
    findings: report.findings.map((finding) => ({
      ordinal: finding.ordinal,
      pattern: finding.pattern,
      blamedModule: finding.blamedModule,
      confidence: finding.confidence,
      summary: finding.summary,
      signature: finding.signature,
      cluster: { id: finding.clusterId, link: `${baseUrl}/v1/clusters/${finding.clusterId}` },
    })),
    links: reportLinks(baseUrl, report.id),
  };
}
