import type { Worker } from 'bullmq';
import packageJson from '../../package.json' with { type: 'json' };
import { createEnginePool } from '../../workers/analysis/engine-pool.ts';
import { startAnalysisWorker } from '../../workers/analysis/analysis-worker.ts';
import { reconcileReports } from '../../workers/reconcile/reconcile-reports.ts';
import { sweepOrphanObjects, type SweepResult } from '../../workers/reconcile/sweep-orphan-objects.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.ts';
import { reconcileWebhooks } from '../../workers/reconcile/reconcile-webhooks.ts';
import { startWebhookWorker } from '../../workers/webhooks/webhook-worker.ts';
import { createAnalysisQueue, createProducerConnection, createWebhookQueue, enqueueDeliveries } from '../queue/analysis-queue.ts';
import type { Runtime } from './open-runtime.ts';

export const ENGINE_VERSION = `hangsleuth/${packageJson.version}`;
/** Near-duplicate threshold of fleet clustering (docs/patterns.md). */
export const CLUSTER_SIMILARITY = 0.5;

export interface WorkerHandle {
  worker: Worker;
  /** Runs one reconciler pass now (it also runs at start and every RECONCILE_INTERVAL_MS). */
  reconcile(): Promise<void>;
  /** Deletes stored transcripts no report points at (also every ORPHAN_SWEEP_INTERVAL_MS). */
  sweepOrphans(graceMs?: number): Promise<SweepResult>;
  /** null with METRICS_ENABLED=false. */
  metrics: Metrics | null;
  /** Where this worker serves its metrics; null when disabled or when its port could not be bound. */
  metricsUrl: string | null;
  close(): Promise<void>;
}

/** The analysis worker process: the BullMQ worker, its engine threads, the reconciler, and its metrics server. */
export async function startWorker(runtime: Runtime): Promise<WorkerHandle> {
  const { config, logger, db, objectStore } = runtime;
  const redis = createProducerConnection(config.redisUrl);
  redis.on('error', (error) => logger.debug({ err: error }, 'reconciler redis connection error'));
  const queue = createAnalysisQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix, attempts: config.jobs.attempts, backoffMs: config.jobs.backoffMs }, redis);
  queue.on('error', (error) => logger.debug({ err: error }, 'reconciler queue error'));
  const webhookQueue = createWebhookQueue({ prefix: config.queuePrefix, retryScheduleMs: config.webhooks.retryScheduleMs }, redis);
  webhookQueue.on('error', (error) => logger.debug({ err: error }, 'webhook queue error'));
  const enqueueWebhooks = (messageIds: string[]) => enqueueDeliveries(webhookQueue, messageIds);
  const metrics = config.metrics.enabled ? createMetrics({ queue }) : null;
  const engine = createEnginePool({ threads: config.analysis.concurrency, timeoutMs: config.analysis.timeoutMs, memoryMb: config.analysis.memoryMb, maxTranscriptBytes: config.maxUploadBytes });
  const worker = startAnalysisWorker(
    { db, objectStore, engine, logger, engineVersion: ENGINE_VERSION, maxTranscriptBytes: config.maxUploadBytes, similarity: CLUSTER_SIMILARITY, metrics: metrics ?? undefined, enqueueWebhooks },
    { redisUrl: config.redisUrl, prefix: config.queuePrefix, concurrency: config.analysis.concurrency, lockMs: config.jobs.lockMs, stalledIntervalMs: config.jobs.stalledIntervalMs },
  );
  const webhookWorker = startWebhookWorker(
    { db, logger, publicUrl: publicUrlOf(config), disableAfterMs: config.webhooks.disableAfterMs },
    {
      redisUrl: config.redisUrl,
      prefix: config.queuePrefix,
      concurrency: config.webhooks.concurrency,
      retryScheduleMs: config.webhooks.retryScheduleMs,
      timeoutMs: config.webhooks.timeoutMs,
      allowlist: config.webhooks.allowedHosts,
    },
  );
  const metricsServer = metrics ? await serveMetrics(runtime, metrics) : null;

  let running: Promise<void> | null = null;
  const reconcile = () => {
    running ??= reconcileReports(db, queue, logger, { graceMs: config.reconciler.graceMs })
      .then(async (result) => {
        metrics?.reconcilerRequeued.inc(result.requeued);
        await reconcileWebhooks(db, webhookQueue, logger, { graceMs: config.reconciler.graceMs });
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'reconciler pass failed; it runs again at its next interval'))
      .finally(() => {
        running = null;
      });
    return running;
  };
  void reconcile();
  const timer = setInterval(() => void reconcile(), config.reconciler.intervalMs);
  timer.unref();
  const sweepOrphans = (graceMs = config.reconciler.orphanGraceMs) => sweepOrphanObjects(db, objectStore, logger, { graceMs });
  const sweepTimer = setInterval(() => {
    sweepOrphans().catch((error: unknown) => logger.warn({ err: error }, 'orphan sweep failed; it runs again at its next interval'));
  }, config.reconciler.orphanSweepIntervalMs);
  sweepTimer.unref();

  return {
    worker,
    reconcile,
    sweepOrphans,
    metrics,
    metricsUrl: metricsServer?.metricsUrl ?? null,
    async close() {
      clearInterval(timer);
      clearInterval(sweepTimer);
      await metricsServer?.close();
      await running;
      await worker.close();
      await webhookWorker.close();
      await engine.close();
      await queue.close();
      await webhookQueue.close();
      redis.disconnect();
    },
  };
}

/** Links in webhook payloads point at the API as its clients reach it. */
export function publicUrlOf(config: Runtime['config']): string {
  return config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}

/**
 * Metrics are not worth stopping analysis for: a port already taken (several workers on one machine) leaves this
 * worker without a metrics server, with a warning.
 */
async function serveMetrics({ config, logger }: Runtime, metrics: Metrics): Promise<MetricsServer | null> {
  try {
    const server = await startMetricsServer(metrics.registry, { host: config.host, port: config.metrics.workerPort });
    logger.info({ url: server.metricsUrl }, 'worker metrics server listening');
    return server;
  } catch (error) {
    logger.warn({ err: error, port: config.metrics.workerPort }, 'worker metrics server could not listen; this worker serves no metrics (WORKER_METRICS_PORT=0 picks a free port)');
    return null;
  }
}
