import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/create-prisma-client.ts';
import type { ObjectStore } from '../../storage/object-store.ts';

type Check = () => Promise<unknown>;

const CHECK_TIMEOUT_MS = 2000;

/** `/healthz`: the process answers. `/readyz`: PostgreSQL, Redis and object storage answer too. */
export async function registerHealthRoutes(app: FastifyInstance, deps: { db: Database; redis: Redis; objectStore: ObjectStore }): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, Check> = {
      postgresql: () => deps.db.$queryRaw`SELECT 1`,
      redis: () => deps.redis.ping(),
      objectStorage: () => deps.objectStore.ping(),
    };
    const results = Object.fromEntries(
      await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check)] as const)),
    );
    const ready = Object.values(results).every((result) => result === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: results });
  });
}

async function runCheck(check: Check): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `unavailable: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
