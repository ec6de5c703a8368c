import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemSchema, ReportReceiptSchema, ReportViewSchema, idParams, problemResponses } from '../schemas.ts';
import { receiveReport, type ReceiveReportDependencies, type ReportMetadata } from '../../reports/receive-report.ts';
import { isUuid, loadReportView, reportLinks } from '../../reports/report-view.ts';
import { AppError } from '../app-error.ts';
import { callerOf, requireScope } from '../authenticate.ts';
import type { Metrics, ReceiptOutcome } from '../../metrics/metrics.ts';

export const RAW_TRANSCRIPT_TYPES = ['text/plain', 'application/octet-stream', 'application/gzip', 'application/x-gzip'];

// Every field is optional here because a multipart upload sends them in the form instead.
const UploadQuerySchema = z.object({
  server: z.string().max(255).optional().describe('The server the transcript was taken on (required, here or in the form).'),
  ticket: z.string().max(255).optional(),
  os: z.string().max(255).optional(),
  fileName: z.string().max(255).optional(),
  collectedAt: z.string().optional().describe('When the transcript was taken (ISO 8601).'),
});

const metadataSchema = z.object({
  server: z.string().min(1, 'server is required').max(255),
  ticket: z.string().max(255).optional(),
  os: z.string().max(255).optional(),
  fileName: z.string().max(255).optional(),
  collectedAt: z.iso.datetime({ offset: true }).optional(),
});

export interface ReportRouteOptions {
  deps: ReceiveReportDependencies;
  baseUrlOf(request: FastifyRequest): string;
  metrics?: Pick<Metrics, 'reportsReceived'> | undefined;
}

export async function registerReportRoutes(app: FastifyInstance, { deps, baseUrlOf, metrics }: ReportRouteOptions): Promise<void> {
  const { db, objectStore } = deps;

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post('/v1/reports', {
    preHandler: requireScope('upload'),
    // A route hook, not the handler: refusals before the handler (401, 403, Fastify's own 415) count too.
    onResponse: async (_request, reply) => {
      metrics?.reportsReceived.inc({ outcome: receiptOutcome(reply.statusCode) });
    },
    schema: {
      tags: ['reports'],
      summary: 'Upload a transcript',
      querystring: UploadQuerySchema,
      headers: z.object({ 'idempotency-key': z.string().max(255).optional() }),
      response: { 200: ReportReceiptSchema, 202: ReportReceiptSchema, 413: ProblemSchema, 415: ProblemSchema, ...problemResponses },
    },
  }, async (request, reply) => {
    const { tenantId } = callerOf(request);
    const idempotencyKey = headerOf(request, 'idempotency-key');
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw new AppError('bad-request', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const upload = request.isMultipart() ? await readMultipart(request) : readRaw(request);
    const metadata = parseMetadata(upload.fields);
    const received = await receiveReport(
      deps,
      tenantId,
      {
        serverName: metadata.server,
        contentType: upload.contentType,
        fileName: metadata.fileName ?? upload.fileName,
        idempotencyKey,
        ticketId: metadata.ticket,
        osVersion: metadata.os,
        collectedAt: metadata.collectedAt ? new Date(metadata.collectedAt) : undefined,
        declaredLength: upload.declaredLength,
      } satisfies ReportMetadata,
      upload.body,
    );
    const report = await db.report.findUniqueOrThrow({ where: { id: received.reportId }, select: { id: true, status: true, contentSha256: true, byteSize: true, receivedAt: true, server: { select: { name: true } } } });
    const links = reportLinks(baseUrlOf(request), report.id);
    reply.header('location', links.self);
    return reply.code(received.duplicate ? 200 : 202).send({
      id: report.id,
      status: report.status,
      server: report.server.name,
      contentSha256: report.contentSha256,
      byteSize: Number(report.byteSize),
      receivedAt: report.receivedAt.toISOString(),
      duplicate: received.duplicate,
      links,
    });
  });

  // An uploading client (the portal, `hangsleuth upload --wait`) may follow its reports' status.
  api.get('/v1/reports/:id', {
    preHandler: requireScope('read', 'upload'),
    schema: { tags: ['reports'], summary: 'A report: status, verdict, findings and their clusters', params: idParams, response: { 200: ReportViewSchema, ...problemResponses } },
  }, async (request) => {
    const view = await loadReportView(db, callerOf(request).tenantId, request.params.id, baseUrlOf(request));
    if (!view) throw new AppError('not-found', `no report ${request.params.id}`);
    return view;
  });

  api.get('/v1/reports/:id/transcript', {
    preHandler: requireScope('read'),
    schema: { tags: ['reports'], summary: 'The transcript as uploaded', params: idParams },
  }, async (request, reply) => {
    const { id } = request.params;
    const report = isUuid(id) ? await db.report.findFirst({ where: { id, tenantId: callerOf(request).tenantId } }) : null;
    if (!report) throw new AppError('not-found', `no report ${id}`);
    const object = await objectStore.open(report.objectKey).catch((error: unknown) => {
      throw new AppError('dependency-unavailable', 'the object store is unavailable', { cause: error });
    });
    if (!object) throw new AppError('not-found', `the transcript of report ${id} is no longer stored`);
    const fileName = (report.fileName ?? `${report.id}.txt`).replace(/[^\w.-]/g, '_');
    reply.header('content-type', report.contentType);
    reply.header('content-disposition', `attachment; filename="${fileName}"`);
    reply.header('content-length', String(report.byteSize));
    return reply.send(object.body);
  });
}

interface Upload {
  body: Readable;
  contentType: string;
  fields: Record<string, string>;
  fileName: string | undefined;
  declaredLength: number | undefined;
}

function readRaw(request: FastifyRequest): Upload {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = request.headers['content-length'];
  // Fastify parses JSON bodies itself; a transcript is never JSON.
  if (!RAW_TRANSCRIPT_TYPES.includes(contentType)) {
    throw new AppError('unsupported-media-type', `send the transcript as ${RAW_TRANSCRIPT_TYPES.join(', ')} or multipart/form-data, not ${contentType || 'no content type'}`);
  }
  return {
    body: request.body as Readable,
    contentType,
    fields: Object.fromEntries(Object.entries(request.query as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
    fileName: undefined,
    declaredLength: declared === undefined ? undefined : Number(declared),
  };
}

/** Multipart: metadata fields first, then one file part named `transcript` (query parameters count as fields). */
async function readMultipart(request: FastifyRequest): Promise<Upload> {
  const fields: Record<string, string> = Object.fromEntries(
    Object.entries(request.query as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (typeof part.value === 'string') fields[part.fieldname] = part.value;
      continue;
    }
    if (part.fieldname !== 'transcript') {
      part.file.resume();
      throw new AppError('bad-request', `unexpected file field "${part.fieldname}": send the transcript as "transcript"`);
    }
    const contentType = part.mimetype && part.mimetype !== 'application/octet-stream' && RAW_TRANSCRIPT_TYPES.includes(part.mimetype) ? part.mimetype : 'application/octet-stream';
    return { body: part.file, contentType, fields, fileName: part.filename || undefined, declaredLength: undefined };
  }
  throw new AppError('bad-request', 'the multipart body has no "transcript" file part');
}

function parseMetadata(fields: Record<string, string>): z.infer<typeof metadataSchema> {
  const parsed = metadataSchema.safeParse(fields);
  if (!parsed.success) throw new AppError('bad-request', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '));
  return parsed.data;
}

function receiptOutcome(status: number): ReceiptOutcome {
  if (status === 202) return 'accepted';
  if (status === 200) return 'duplicate';
  return 'refused';
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
