/**
 * The API's shapes, as zod schemas: routes validate requests with them, serialize answers through them, and the
 * OpenAPI document (/openapi.json) is generated from them, so the three never disagree.
 */
import { z } from 'zod';
import { CLUSTER_SORTS, CLUSTER_STATES, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SETTABLE_STATES, parseWindow } from '../fleet/fleet-vocabulary.ts';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
  })
  .meta({ id: 'Problem', description: 'An error, as application/problem+json (RFC 9457).' });

const isoTime = z.string().meta({ format: 'date-time' });

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe('Items per page.'),
  cursor: z.string().max(512).optional().describe('`nextCursor` of the previous page.'),
};

export function pageOfSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.') });
}

export const windowText = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((value) => parseWindow(value) !== null, 'a window is a number of hours or days, such as 24h or 7d, up to a year')
    .describe('A time window ending now: `24h`, `7d`, `90d`.');

export const ClusterSummarySchema = z
  .object({
    id: z.uuid(),
    pattern: z.string(),
    blamedModule: z.string().nullable(),
    signatureText: z.string(),
    state: z.enum(CLUSTER_STATES),
    firstSeenAt: isoTime,
    lastSeenAt: isoTime,
    serverCount: z.number().int(),
    reportCount: z.number().int(),
    growth: z.object({ reports: z.number().int(), previousReports: z.number().int(), change: z.number().int() }).optional(),
    links: z.object({ self: z.string() }),
  })
  .meta({ id: 'ClusterSummary' });

export const ClusterListQuerySchema = z.object({
  sort: z.enum(CLUSTER_SORTS).default('servers').describe('servers affected, reports, last seen, or growth against the previous window.'),
  pattern: z.string().max(100).optional(),
  module: z.string().max(255).optional().describe('Blamed module.'),
  state: z.enum(CLUSTER_STATES).optional(),
  window: z
    .string()
    .optional()
    .refine((value) => value === undefined || parseWindow(value) !== null, 'a window is a number of hours or days, such as 24h or 7d')
    .describe('Only clusters seen in this window (and, with sort=growth, the window growth is measured over; 7d by default).'),
  ...pageQuery,
});

export const ServerItemSchema = z.object({ name: z.string(), firstSeenAt: isoTime, lastSeenAt: isoTime, reportCount: z.number().int(), links: z.object({ history: z.string() }) }).meta({ id: 'ServerItem' });

export const ClusterDetailSchema = ClusterSummarySchema.extend({
  requestedId: z.string(),
  aliases: z.array(z.string()),
  notes: z.array(z.string()),
  triage: z.object({ state: z.string(), stateChangedAt: isoTime.nullable(), resolvedInVersion: z.string().nullable(), note: z.string().nullable(), ticketUrl: z.string().nullable() }),
  signatures: z.array(z.object({ hash: z.string(), text: z.string(), rulesVersion: z.string(), placement: z.string(), notes: z.array(z.string()), firstSeenAt: isoTime, lastSeenAt: isoTime })),
  representative: z
    .object({ reportId: z.uuid(), server: z.string(), receivedAt: isoTime, finding: z.unknown().describe('The verdict finding (docs/verdict-schema.md): chain, root blocker, evidence.'), link: z.string() })
    .nullable(),
  series: z.object({
    bucket: z.enum(['hour', 'day']),
    from: isoTime,
    to: isoTime,
    points: z.array(z.object({ bucket: isoTime, reports: z.number().int(), servers: z.number().int(), newServers: z.number().int() })),
  }),
  servers: pageOfSchema(ServerItemSchema),
  links: z.object({ self: z.string(), servers: z.string() }),
}).meta({ id: 'ClusterDetail' });

export const ClusterDetailQuerySchema = z.object({
  bucket: z.enum(['1h', '1d']).default('1d').describe('Bucket of the time series.'),
  window: windowText('14d'),
});

export const TriagePatchSchema = z
  .object({
    state: z.enum(SETTABLE_STATES).optional().describe('`regressed` is set by the service when a resolved cluster is seen again.'),
    resolvedInVersion: z.string().max(100).nullable().optional(),
    note: z.string().max(10_000).nullable().optional(),
    ticketUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'send at least one of state, resolvedInVersion, note, ticketUrl');

export const TrendsQuerySchema = z.object({
  window: windowText('7d'),
  bucket: z.enum(['1h', '1d']).default('1d'),
  limit: z.coerce.number().int().min(1).max(50).default(10).describe('Clusters in each list.'),
});

export const TrendsSchema = z
  .object({
    from: isoTime,
    to: isoTime,
    bucket: z.enum(['hour', 'day']),
    buckets: z.array(isoTime),
    totals: z.array(z.number().int()),
    clusters: z.array(z.object({ cluster: ClusterSummarySchema, reports: z.number().int(), series: z.array(z.object({ reports: z.number().int(), servers: z.number().int() })) })),
    newClusters: z.object({ count: z.number().int(), items: z.array(ClusterSummarySchema) }),
    topMovers: z.array(z.object({ cluster: ClusterSummarySchema, reports: z.number().int(), previousReports: z.number().int(), change: z.number().int() })),
  })
  .meta({ id: 'Trends' });

export const ServerListSchema = pageOfSchema(ServerItemSchema);

export const ServerHistorySchema = pageOfSchema(
  z.object({
    reportId: z.uuid(),
    receivedAt: isoTime,
    status: z.string(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    verdict: z.string().nullable(),
    summary: z.string().nullable(),
    findings: z.array(z.object({ pattern: z.string(), blamedModule: z.string().nullable(), confidence: z.string(), signature: z.string(), cluster: z.object({ id: z.string(), link: z.string() }) })),
    links: z.object({ report: z.string() }),
  }),
).extend({ server: ServerItemSchema });

export const ReportReceiptSchema = z
  .object({
    id: z.uuid(),
    status: z.string(),
    server: z.string(),
    contentSha256: z.string(),
    byteSize: z.number().int(),
    receivedAt: z.string(),
    duplicate: z.boolean().describe('true: the existing report of a repeated Idempotency-Key, or of the same content from the same server.'),
    links: z.object({ self: z.string(), transcript: z.string() }),
  })
  .meta({ id: 'ReportReceipt' });

export const ReportViewSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['received', 'queued', 'analysing', 'analysed', 'failed']),
    server: z.string(),
    contentSha256: z.string(),
    byteSize: z.number().int(),
    contentType: z.string(),
    fileName: z.string().nullable(),
    ticketId: z.string().nullable(),
    osVersion: z.string().nullable(),
    collectedAt: z.string().nullable(),
    receivedAt: z.string(),
    queuedAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    attempts: z.number().int(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    verdict: z.unknown().describe('The versioned verdict (docs/verdict-schema.md), once analysed.'),
    analysis: z.object({ engineVersion: z.string(), rulesVersion: z.string(), durationMs: z.number(), modelSummary: z.unknown() }).nullable(),
    findings: z.array(
      z.object({
        ordinal: z.number().int(),
        pattern: z.string(),
        blamedModule: z.string().nullable(),
        confidence: z.string(),
        summary: z.string(),
        signature: z.object({ hash: z.string(), text: z.string(), rulesVersion: z.string() }),
        cluster: z.object({ id: z.string(), link: z.string() }),
      }),
    ),
    links: z.object({ self: z.string(), transcript: z.string() }),
  })
  .meta({ id: 'Report' });

export const idParams = z.object({ id: z.string().max(64) });
export const nameParams = z.object({ name: z.string().min(1).max(255) });

export const problemResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  503: ProblemSchema,
};
