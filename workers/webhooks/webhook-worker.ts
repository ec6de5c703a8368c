/** The BullMQ worker of the webhook queue: many deliveries at once, each bounded by its timeout. */
import { Worker, type Job } from 'bullmq';
import { DELIVER_WEBHOOK_JOB, WEBHOOK_QUEUE, createWorkerConnectionOptions, type DeliverWebhookJob } from '../../services/queue/analysis-queue.ts';
import { deliverMessage, type DeliveryDependencies, type DeliveryOutcome } from './deliver-message.ts';
import { retryDelay } from './retry-delay.ts';

export interface WebhookWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  retryScheduleMs: readonly number[];
}

export function startWebhookWorker(deps: DeliveryDependencies, options: WebhookWorkerOptions): Worker<DeliverWebhookJob, DeliveryOutcome, typeof DELIVER_WEBHOOK_JOB> {
  const worker = new Worker<DeliverWebhookJob, DeliveryOutcome, typeof DELIVER_WEBHOOK_JOB>(
    WEBHOOK_QUEUE,
    async (job: Job<DeliverWebhookJob>) => deliverMessage(deps, job.data.messageId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)),
    {
      connection: createWorkerConnectionOptions(options.redisUrl),
      prefix: options.prefix,
      concurrency: options.concurrency,
      settings: { backoffStrategy: (attemptsMade, _type, error) => retryDelay(options.retryScheduleMs, attemptsMade, (error as { retryAfterMs?: number | null } | undefined)?.retryAfterMs ?? null) },
    },
  );
  worker.on('error', (error) => deps.logger.error({ err: error }, 'webhook worker error'));
  return worker;
}
