import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { receiveReport, type ReceiveReportDependencies, type ReportMetadata } from '../../reports/receive-report.ts';
import { isUuid, loadReportView, reportLinks } from '../../reports/report-view.ts';
import { AppError } from '../app-error.ts';
import { callerOf, requireScope } from '../authenticate.ts';

export const RAW_TRANSCRIPT_TYPES = ['text/plain', 'application/octet-stream', 'application/gzip', 'application/x-gzip'];

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
}

export async function registerReportRoutes(app: FastifyInstance, { deps, baseUrlOf }: ReportRouteOptions): Promise<void> {
  const { db, objectStore } = deps;

  app.post('/v1/reports', { preHandler: requireScope(db, 'upload') }, async (request, reply) => {
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
  app.get<{ Params: { id: string } }>('/v1/reports/:id', { preHandler: requireScope(db, 'read', 'upload') }, async (request) => {
    const view = await loadReportView(db, callerOf(request).tenantId, request.params.id, baseUrlOf(request));
    if (!view) throw new AppError('not-found', `no report ${request.params.id}`);
    return view;
  });

  app.get<{ Params: { id: string } }>('/v1/reports/:id/transcript', { preHandler: requireScope(db, 'read') }, async (request, reply) => {
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

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
