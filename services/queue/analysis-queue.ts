/**
 * The analysis queue (BullMQ on Redis). A job's id is its report's id, so enqueueing a report twice does nothing;
 * PostgreSQL, not Redis, is the record of what must be analysed (the reconciler re-enqueues from it).
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';

export const ANALYSIS_QUEUE = 'analysis';
export const ANALYSE_REPORT_JOB = 'analyse-report';

export interface AnalyseReportJob {
  reportId: string;
}

export interface QueueSettings {
  redisUrl: string;
  prefix: string;
  attempts: number;
  backoffMs: number;
}

export type AnalysisQueue = Queue<AnalyseReportJob, unknown, typeof ANALYSE_REPORT_JOB>;

/**
 * Producers fail fast when Redis is away (no offline queue, one try per command): an upload is acknowledged on
 * its PostgreSQL row, and the reconciler enqueues it once Redis is back.
 */
export function createProducerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: false });
}

/** Workers block on Redis: BullMQ needs `maxRetriesPerRequest: null` for them. */
export function createWorkerConnectionOptions(redisUrl: string): ConnectionOptions {
  return { ...parseRedisUrl(redisUrl), maxRetriesPerRequest: null };
}

function parseRedisUrl(redisUrl: string): ConnectionOptions & object {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

export function createAnalysisQueue(settings: QueueSettings, connection: ConnectionOptions): AnalysisQueue {
  return new Queue<AnalyseReportJob, unknown, typeof ANALYSE_REPORT_JOB>(ANALYSIS_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: analysisJobOptions(settings),
  });
}

export function analysisJobOptions(settings: Pick<QueueSettings, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    // The outcome lives in PostgreSQL; finished jobs only need to stay long enough to keep a duplicate add a no-op.
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 24 * 3600, count: 10_000 },
  };
}

export async function enqueueAnalysis(queue: AnalysisQueue, reportId: string): Promise<void> {
  await queue.add(ANALYSE_REPORT_JOB, { reportId }, { jobId: reportId });
}

export const WEBHOOK_QUEUE = 'webhooks';
export const DELIVER_WEBHOOK_JOB = 'deliver-webhook';

export interface DeliverWebhookJob {
  messageId: string;
}

export type WebhookQueue = Queue<DeliverWebhookJob, unknown, typeof DELIVER_WEBHOOK_JOB>;

/** Deliveries retry on the configured schedule (the worker's backoff strategy reads it), one attempt more than its length. */
export function createWebhookQueue(settings: { prefix: string; retryScheduleMs: readonly number[] }, connection: ConnectionOptions): WebhookQueue {
  return new Queue<DeliverWebhookJob, unknown, typeof DELIVER_WEBHOOK_JOB>(WEBHOOK_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: {
      attempts: settings.retryScheduleMs.length + 1,
      backoff: { type: 'webhook-schedule' },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600, count: 10_000 },
    },
  });
}

/** Job id = message id, so a message is queued once; a replay gets its own job id but keeps its webhook-id. */
export async function enqueueDeliveries(queue: WebhookQueue, messageIds: readonly string[], replay?: string): Promise<void> {
  await queue.addBulk(messageIds.map((messageId) => ({ name: DELIVER_WEBHOOK_JOB, data: { messageId }, opts: { jobId: replay ? `${messageId}-replay-${replay}` : messageId } })));
}
