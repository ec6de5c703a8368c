import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '../../db/create-prisma-client.ts';
import { listClusterServers, loadClusterView, resolveClusterId } from '../../fleet/cluster-view.ts';
import { listClusters } from '../../fleet/list-clusters.ts';
import { parseWindow } from '../../fleet/fleet-vocabulary.ts';
import type { FleetCache } from '../../fleet/fleet-cache.ts';
import { updateTriage } from '../../fleet/update-triage.ts';
import { AppError } from '../app-error.ts';
import { callerOf, requireScope } from '../authenticate.ts';
import { sendAnswer } from '../send-answer.ts';
import {
  ClusterDetailQuerySchema,
  ClusterDetailSchema,
  ClusterListQuerySchema,
  ClusterSummarySchema,
  ServerListSchema,
  TriagePatchSchema,
  idParams,
  pageOfSchema,
  pageQuery,
  problemResponses,
} from '../schemas.ts';
import { z } from 'zod';

export interface ClusterRouteOptions {
  db: Database;
  baseUrlOf(request: FastifyRequest): string;
  cache: FleetCache;
  /** Queues the webhook messages a triage change planned (`cluster.resolved`). */
  enqueueWebhooks(messageIds: string[]): Promise<void>;
}

const GRANULARITY = { '1h': 'hour', '1d': 'day' } as const;

export async function registerClusterRoutes(app: FastifyInstance, { db, baseUrlOf, cache, enqueueWebhooks }: ClusterRouteOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/v1/clusters', {
    preHandler: requireScope('read'),
    schema: { tags: ['clusters'], summary: 'Root causes across the fleet', querystring: ClusterListQuerySchema, response: { 200: pageOfSchema(ClusterSummarySchema), ...problemResponses } },
  }, async (request, reply) => {
    const query = request.query;
    const answer = await cache.get(callerOf(request).tenantId, request.url, () => listClusters(
      db,
      { tenantId: callerOf(request).tenantId, sort: query.sort, pattern: query.pattern, module: query.module, state: query.state, windowMs: query.window ? parseWindow(query.window)! : undefined, limit: query.limit, cursor: query.cursor, now: new Date() },
      baseUrlOf(request),
    ));
    return sendAnswer(request, reply, answer);
  });

  api.get('/v1/clusters/:id', {
    preHandler: requireScope('read'),
    schema: { tags: ['clusters'], summary: 'One root cause: signature, representative chain, time series, servers', params: idParams, querystring: ClusterDetailQuerySchema, response: { 200: ClusterDetailSchema, ...problemResponses } },
  }, async (request, reply) => {
    const { tenantId } = callerOf(request);
    const answer = await cache.get(tenantId, request.url, async () => {
      const loaded = await loadClusterView(db, tenantId, request.params.id, baseUrlOf(request), { bucket: GRANULARITY[request.query.bucket], windowMs: parseWindow(request.query.window)!, now: new Date() });
      if (!loaded) throw new AppError('not-found', `no cluster ${request.params.id}`);
      return loaded;
    });
    return sendAnswer(request, reply, answer);
  });

  api.get('/v1/clusters/:id/servers', {
    preHandler: requireScope('read'),
    schema: { tags: ['clusters'], summary: 'Servers a cluster was seen on, most recent first', params: idParams, querystring: z.object(pageQuery), response: { 200: ServerListSchema, ...problemResponses } },
  }, async (request) => {
    const id = await resolveClusterId(db, callerOf(request).tenantId, request.params.id);
    if (!id) throw new AppError('not-found', `no cluster ${request.params.id}`);
    return listClusterServers(db, id, request.query.limit, request.query.cursor, baseUrlOf(request));
  });

  api.patch('/v1/clusters/:id', {
    preHandler: requireScope('admin'),
    schema: { tags: ['clusters'], summary: 'Triage: acknowledge, resolve (in a version), reopen; note and ticket link', params: idParams, body: TriagePatchSchema, response: { 200: ClusterDetailSchema, ...problemResponses } },
  }, async (request) => {
    const { tenantId } = callerOf(request);
    const change = await updateTriage(db, tenantId, request.params.id, request.body);
    if (!change) throw new AppError('not-found', `no cluster ${request.params.id}`);
    cache.invalidateTenant(tenantId);
    if (change.webhookMessageIds.length > 0) {
      await enqueueWebhooks(change.webhookMessageIds).catch((error: unknown) => request.log.warn({ err: error }, 'webhook deliveries not queued; the reconciler will queue them'));
    }
    return (await loadClusterView(db, tenantId, change.clusterId, baseUrlOf(request), { bucket: 'day', windowMs: 14 * 86_400_000, now: new Date() }))!;
  });
}
