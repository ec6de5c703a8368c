import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/create-prisma-client.ts';
import type { FleetCache } from '../../fleet/fleet-cache.ts';
import { loadTrends } from '../../fleet/load-trends.ts';
import { parseWindow } from '../../fleet/fleet-vocabulary.ts';
import { listServers, loadServerHistory } from '../../fleet/server-history.ts';
import { AppError } from '../app-error.ts';
import { callerOf, requireScope } from '../authenticate.ts';
import { sendAnswer } from '../send-answer.ts';
import { ServerHistorySchema, ServerListSchema, TrendsQuerySchema, TrendsSchema, nameParams, pageQuery, problemResponses } from '../schemas.ts';

const GRANULARITY = { '1h': 'hour', '1d': 'day' } as const;

export async function registerFleetRoutes(app: FastifyInstance, { db, baseUrlOf, cache }: { db: Database; baseUrlOf(request: FastifyRequest): string; cache: FleetCache }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/v1/trends', {
    preHandler: requireScope('read'),
    schema: { tags: ['fleet'], summary: 'Reports and servers per cluster per bucket, new clusters, top movers', querystring: TrendsQuerySchema, response: { 200: TrendsSchema, ...problemResponses } },
  }, async (request, reply) => {
    const windowMs = parseWindow(request.query.window)!;
    const bucket = GRANULARITY[request.query.bucket];
    if (bucket === 'hour' && windowMs > 31 * 86_400_000) throw new AppError('bad-request', 'hourly buckets cover at most 31 days; use bucket=1d');
    const { tenantId } = callerOf(request);
    const answer = await cache.get(tenantId, request.url, () => loadTrends(db, { tenantId, windowMs, bucket, limit: request.query.limit, now: new Date() }, baseUrlOf(request)));
    return sendAnswer(request, reply, answer);
  });

  api.get('/v1/servers', {
    preHandler: requireScope('read'),
    schema: { tags: ['fleet'], summary: 'Servers of the fleet, most recently seen first', querystring: z.object(pageQuery), response: { 200: ServerListSchema, ...problemResponses } },
  }, async (request) => listServers(db, callerOf(request).tenantId, request.query.limit, request.query.cursor, baseUrlOf(request)));

  api.get('/v1/servers/:name/history', {
    preHandler: requireScope('read'),
    schema: { tags: ['fleet'], summary: "A server's reports over time, with verdicts and clusters", params: nameParams, querystring: z.object(pageQuery), response: { 200: ServerHistorySchema, ...problemResponses } },
  }, async (request, reply) => {
    const { tenantId } = callerOf(request);
    const answer = await cache.get(tenantId, request.url, async () => {
      const history = await loadServerHistory(db, tenantId, request.params.name, request.query.limit, request.query.cursor, baseUrlOf(request));
      if (!history) throw new AppError('not-found', `no server ${request.params.name}`);
      return history;
    });
    return sendAnswer(request, reply, answer);
  });
}
