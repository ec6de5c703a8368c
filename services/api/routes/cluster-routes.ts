import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../../db/create-prisma-client.ts';
import { loadClusterView } from '../../fleet/cluster-view.ts';
import { AppError } from '../app-error.ts';
import { callerOf, requireScope } from '../authenticate.ts';

export async function registerClusterRoutes(app: FastifyInstance, { db, baseUrlOf }: { db: Database; baseUrlOf(request: FastifyRequest): string }): Promise<void> {
  app.get<{ Params: { id: string } }>('/v1/clusters/:id', { preHandler: requireScope(db, 'read') }, async (request) => {
    const view = await loadClusterView(db, callerOf(request).tenantId, request.params.id, baseUrlOf(request));
    if (!view) throw new AppError('not-found', `no cluster ${request.params.id}`);
    return view;
  });
}
