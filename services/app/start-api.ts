import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/build-api.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { createAnalysisQueue, createProducerConnection, createWebhookQueue, enqueueDeliveries } from '../queue/analysis-queue.ts';
import type { Runtime } from './open-runtime.ts';

export interface ApiHandle {
  app: FastifyInstance;
  url: string;
  /** null with METRICS_ENABLED=false. */
  metrics: Metrics | null;
  close(): Promise<void>;
}

/** The HTTP API process: listens on HANGSLEUTH_HOST:HANGSLEUTH_PORT until closed. */
export async function startApi(runtime: Runtime): Promise<ApiHandle> {
  const { config, logger, db, objectStore } = runtime;
  const redis = createProducerConnection(config.redisUrl);
  redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error (uploads are still accepted; the reconciler queues them)'));
  const queue = createAnalysisQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix, attempts: config.jobs.attempts, backoffMs: config.jobs.backoffMs }, redis);
  queue.on('error', (error) => logger.debug({ err: error }, 'queue error'));
  const webhookQueue = createWebhookQueue({ prefix: config.queuePrefix, retryScheduleMs: config.webhooks.retryScheduleMs }, redis);
  webhookQueue.on('error', (error) => logger.debug({ err: error }, 'webhook queue error'));
  const metrics = config.metrics.enabled ? createMetrics({ queue }) : null;
  const app = await buildApi({
    webhooks: { enqueue: (messageIds, replay) => enqueueDeliveries(webhookQueue, messageIds, replay), allowlist: config.webhooks.allowedHosts, secretGraceMs: config.webhooks.secretGraceMs }, db, objectStore, queue, redis, logger, maxUploadBytes: config.maxUploadBytes, dedupeWindowMs: config.dedupeWindowMs, fleetCacheTtlMs: config.fleetCacheTtlMs, apiKeyCacheTtlMs: config.apiKeyCacheTtlMs, publicUrl: config.publicUrl, metrics: metrics ?? undefined });
  const address = await app.listen({ host: config.host, port: config.port });
  const url = config.publicUrl ?? address.replace('[::1]', 'localhost');
  return {
    app,
    url,
    metrics,
    async close() {
      await app.close();
      await queue.close();
      await webhookQueue.close();
      redis.disconnect();
    },
  };
}
