import { lookup } from 'node:dns/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/create-prisma-client.ts';
import { decodeCursor, pageOf } from '../../fleet/paging.ts';
import { isUuid } from '../../reports/report-view.ts';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/decide-events.ts';
import { viewEndpoint } from '../../webhooks/endpoint-view.ts';
import { generateSecret } from '../../webhooks/sign-message.ts';
import { checkUrl } from '../../webhooks/ssrf-guard.ts';
import { AppError } from '../app-error.ts';
import { callerOf, requireScope } from '../authenticate.ts';
import { idParams, pageQuery, problemResponses } from '../schemas.ts';

export interface WebhookApiOptions {
  enqueue(messageIds: string[], replay?: string): Promise<void>;
  /** CIDRs and host names that may be private (WEBHOOK_ALLOWED_HOSTS). */
  allowlist: string[];
  secretGraceMs: number;
}

const EndpointSettings = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  kind: z.enum(['generic', 'slack', 'pagerduty']).default('generic'),
  routingKey: z.string().length(32).optional().describe('PagerDuty Events API v2 integration key, 32 characters (kind pagerduty).'),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).default(['cluster.created', 'cluster.spreading', 'cluster.regressed', 'cluster.resolved']),
  filters: z
    .object({ pattern: z.string().max(100).nullable().default(null), module: z.string().max(255).nullable().default(null), minServers: z.number().int().min(1).max(1_000_000).default(1) })
    .default({ pattern: null, module: null, minServers: 1 }),
  spread: z
    .object({
      servers: z.number().int().min(1).max(1_000_000).default(5).describe('cluster.spreading fires when this many distinct servers…'),
      windowMs: z.number().int().min(60_000).max(90 * 86_400_000).default(86_400_000).describe('…were seen within this window.'),
      throttleMs: z.number().int().min(0).max(30 * 86_400_000).default(3_600_000).describe('At most one cluster.spreading per cluster per throttle period.'),
    })
    .default({ servers: 5, windowMs: 86_400_000, throttleMs: 3_600_000 }),
});

const EndpointPatch = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  routingKey: z.string().length(32).optional(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).optional(),
  enabled: z.boolean().optional().describe('true re-enables an endpoint the service disabled.'),
  filters: z.object({ pattern: z.string().max(100).nullable().optional(), module: z.string().max(255).nullable().optional(), minServers: z.number().int().min(1).optional() }).optional(),
  spread: z.object({ servers: z.number().int().min(1).optional(), windowMs: z.number().int().min(60_000).optional(), throttleMs: z.number().int().min(0).optional() }).optional(),
});

const EndpointViewSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    kind: z.string(),
    events: z.array(z.string()),
    filters: z.object({ pattern: z.string().nullable(), module: z.string().nullable(), minServers: z.number().int() }),
    spread: z.object({ servers: z.number().int(), windowMs: z.number().int(), throttleMs: z.number().int() }),
    enabled: z.boolean(),
    disabled: z.object({ reason: z.string(), at: z.string() }).nullable(),
    failingSince: z.string().nullable(),
    hasRoutingKey: z.boolean(),
    previousSecretExpiresAt: z.string().nullable(),
    createdAt: z.string(),
    links: z.object({ self: z.string(), messages: z.string() }),
  })
  .meta({ id: 'WebhookEndpoint' });

const MessageSchema = z.object({
  id: z.string(),
  eventType: z.string(),
  status: z.string(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  attempts: z.array(z.object({ attemptedAt: z.string(), statusCode: z.number().int().nullable(), latencyMs: z.number().int(), responseSnippet: z.string().nullable(), error: z.string().nullable() })),
});

export async function registerWebhookRoutes(app: FastifyInstance, { db, baseUrlOf, webhooks }: { db: Database; baseUrlOf(request: FastifyRequest): string; webhooks: WebhookApiOptions }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const admin = requireScope('admin');

  async function ownEndpoint(request: FastifyRequest, id: string) {
    const endpoint = isUuid(id) ? await db.webhookEndpoint.findFirst({ where: { id, tenantId: callerOf(request).tenantId } }) : null;
    if (!endpoint) throw new AppError('not-found', `no webhook endpoint ${id}`);
    return endpoint;
  }

  /** Checked now with the real resolver, and again at every send: the address a name resolves to can change. */
  async function assertReachable(url: string): Promise<void> {
    const verdict = await checkUrl(url, { allowlist: webhooks.allowlist, lookup: (host) => lookup(host, { all: true, verbatim: true }) });
    if (!verdict.ok) throw new AppError('bad-request', `webhook URL refused: ${verdict.reason}`);
  }

  api.post('/v1/webhooks', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'Subscribe an endpoint; the answer holds its signing secret, shown once', body: EndpointSettings, response: { 201: EndpointViewSchema.extend({ secret: z.string() }), ...problemResponses } },
  }, async (request, reply) => {
    const settings = request.body;
    if (settings.kind === 'pagerduty' && !settings.routingKey) throw new AppError('bad-request', 'a pagerduty endpoint needs its routingKey');
    await assertReachable(settings.url);
    const secret = generateSecret();
    const row = await db.webhookEndpoint.create({
      data: {
        tenantId: callerOf(request).tenantId,
        url: settings.url,
        kind: settings.kind,
        routingKey: settings.routingKey ?? null,
        events: settings.events,
        patternFilter: settings.filters.pattern,
        moduleFilter: settings.filters.module,
        minServers: settings.filters.minServers,
        spreadServers: settings.spread.servers,
        spreadWindowMs: settings.spread.windowMs,
        throttleMs: settings.spread.throttleMs,
        secret,
      },
    });
    return reply.code(201).send({ ...viewEndpoint(row, baseUrlOf(request)), secret });
  });

  api.get('/v1/webhooks', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: "The tenant's webhook endpoints", response: { 200: z.object({ items: z.array(EndpointViewSchema) }), ...problemResponses } },
  }, async (request) => {
    const rows = await db.webhookEndpoint.findMany({ where: { tenantId: callerOf(request).tenantId }, orderBy: { createdAt: 'asc' } });
    return { items: rows.map((row) => viewEndpoint(row, baseUrlOf(request))) };
  });

  api.get('/v1/webhooks/:id', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'One endpoint, with why the service disabled it if it did', params: idParams, response: { 200: EndpointViewSchema, ...problemResponses } },
  }, async (request) => viewEndpoint(await ownEndpoint(request, request.params.id), baseUrlOf(request)));

  api.patch('/v1/webhooks/:id', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'Change an endpoint, or enable it again', params: idParams, body: EndpointPatch, response: { 200: EndpointViewSchema, ...problemResponses } },
  }, async (request) => {
    const endpoint = await ownEndpoint(request, request.params.id);
    const patch = request.body;
    if (patch.url) await assertReachable(patch.url);
    const row = await db.webhookEndpoint.update({
      where: { id: endpoint.id },
      data: {
        ...(patch.url ? { url: patch.url } : {}),
        ...(patch.routingKey ? { routingKey: patch.routingKey } : {}),
        ...(patch.events ? { events: patch.events } : {}),
        ...(patch.enabled === true ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null } : patch.enabled === false ? { enabled: false, disabledReason: null, disabledAt: new Date() } : {}),
        ...(patch.filters?.pattern !== undefined ? { patternFilter: patch.filters.pattern } : {}),
        ...(patch.filters?.module !== undefined ? { moduleFilter: patch.filters.module } : {}),
        ...(patch.filters?.minServers !== undefined ? { minServers: patch.filters.minServers } : {}),
        ...(patch.spread?.servers !== undefined ? { spreadServers: patch.spread.servers } : {}),
        ...(patch.spread?.windowMs !== undefined ? { spreadWindowMs: patch.spread.windowMs } : {}),
        ...(patch.spread?.throttleMs !== undefined ? { throttleMs: patch.spread.throttleMs } : {}),
      },
    });
    return viewEndpoint(row, baseUrlOf(request));
  });

  api.delete('/v1/webhooks/:id', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'Unsubscribe an endpoint', params: idParams },
  }, async (request, reply) => {
    const endpoint = await ownEndpoint(request, request.params.id);
    await db.webhookEndpoint.delete({ where: { id: endpoint.id } });
    return reply.code(204).send();
  });

  api.post('/v1/webhooks/:id/rotate-secret', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'A new signing secret; deliveries carry signatures by both until the previous one expires', params: idParams, response: { 200: z.object({ secret: z.string(), previousSecretExpiresAt: z.string() }), ...problemResponses } },
  }, async (request) => {
    const endpoint = await ownEndpoint(request, request.params.id);
    const secret = generateSecret();
    const previousSecretExpiresAt = new Date(Date.now() + webhooks.secretGraceMs);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { secret, previousSecret: endpoint.secret, previousSecretExpiresAt } });
    return { secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() };
  });

  api.get('/v1/webhooks/:id/messages', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'The delivery log: messages, newest first, with every attempt', params: idParams, querystring: z.object(pageQuery), response: { 200: z.object({ items: z.array(MessageSchema), nextCursor: z.string().nullable() }), ...problemResponses } },
  }, async (request) => {
    const endpoint = await ownEndpoint(request, request.params.id);
    const position = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
    const at = position ? new Date(String(position.value)) : undefined;
    const rows = await db.webhookMessage.findMany({
      where: { endpointId: endpoint.id, ...(at ? { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { gt: position!.id } }] } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: request.query.limit + 1,
      include: { attempts: { orderBy: { attemptedAt: 'asc' } } },
    });
    return pageOf(
      rows,
      request.query.limit,
      (row) => ({
        id: row.id,
        eventType: row.eventType,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        deliveredAt: row.deliveredAt?.toISOString() ?? null,
        attempts: row.attempts.map((attempt) => ({ attemptedAt: attempt.attemptedAt.toISOString(), statusCode: attempt.statusCode, latencyMs: attempt.latencyMs, responseSnippet: attempt.responseSnippet, error: attempt.error })),
      }),
      (row) => ({ value: row.createdAt.toISOString(), id: row.id }),
    );
  });

  api.post('/v1/webhooks/:id/messages/:messageId/replay', {
    preHandler: admin,
    schema: { tags: ['webhooks'], summary: 'Send a message again (same webhook-id, so receivers can tell it is a replay)', params: z.object({ id: z.string().max(64), messageId: z.string().max(64) }), response: { 202: z.object({ id: z.string(), status: z.string() }), ...problemResponses } },
  }, async (request, reply) => {
    const endpoint = await ownEndpoint(request, request.params.id);
    const message = await db.webhookMessage.findFirst({ where: { id: request.params.messageId, endpointId: endpoint.id } });
    if (!message) throw new AppError('not-found', `no message ${request.params.messageId}`);
    await db.webhookMessage.update({ where: { id: message.id }, data: { status: 'pending', deliveredAt: null } });
    await webhooks.enqueue([message.id], String(Date.now()));
    return reply.code(202).send({ id: message.id, status: 'pending' });
  });
}
