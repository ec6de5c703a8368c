/** The BullMQ worker of the webhook queue: many deliveries at once, each bounded by its timeout, over one sender. */
import { Worker, type Job } from 'bullmq';
import { DELIVER_WEBHOOK_JOB, WEBHOOK_QUEUE, createWorkerConnectionOptions, type DeliverWebhookJob } from '../../services/queue/analysis-queue.ts';
import { deliverMessage, type DeliveryDependencies, type DeliveryOutcome } from './deliver-message.ts';
import { createDeliverySender } from './delivery-sender.ts';
import { retryDelay } from './retry-delay.ts';

export interface WebhookWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  retryScheduleMs: readonly number[];
  /** WEBHOOK_TIMEOUT_MS. */
  timeoutMs: number;
  /** WEBHOOK_ALLOWED_HOSTS. */
  allowlist: readonly string[];
}

export interface WebhookWorker {
  worker: Worker<DeliverWebhookJob, DeliveryOutcome, typeof DELIVER_WEBHOOK_JOB>;
  /** Lets the deliveries in flight finish, then closes the sender's connections. */
  close(): Promise<void>;
}

export function startWebhookWorker(deps: Omit<DeliveryDependencies, 'sender'>, options: WebhookWorkerOptions): WebhookWorker {
  const sender = createDeliverySender({ timeoutMs: options.timeoutMs, allowlist: options.allowlist, concurrency: options.concurrency });
  const delivery: DeliveryDependencies = { ...deps, sender };
  const worker = new Worker<DeliverWebhookJob, DeliveryOutcome, typeof DELIVER_WEBHOOK_JOB>(
    WEBHOOK_QUEUE,
    async (job: Job<DeliverWebhookJob>) => deliverMessage(delivery, job.data.messageId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)),
    {
      connection: createWorkerConnectionOptions(options.redisUrl),
      prefix: options.prefix,
      concurrency: options.concurrency,
      settings: { backoffStrategy: (attemptsMade, _type, error) => retryDelay(options.retryScheduleMs, attemptsMade, (error as { retryAfterMs?: number | null } | undefined)?.retryAfterMs ?? null) },
    },
  );
  worker.on('error', (error) => deps.logger.error({ err: error }, 'webhook worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      await sender.close();
    },
  };
}
