/**
 * The Prometheus metrics of one process, in a registry of its own: never prom-client's global registry, so that
 * several API and worker instances (tests, `hangsleuth serve`) can live in one process without clashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';

export const METRICS_PREFIX = 'hangsleuth_';

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
export const RECEIPT_OUTCOMES = ['accepted', 'duplicate', 'refused'] as const;
export type ReceiptOutcome = (typeof RECEIPT_OUTCOMES)[number];
export type AnalysisOutcome = 'analysed' | 'failed';

/** What the queue gauge reads at scrape time: the BullMQ queue. */
export interface JobCountSource {
  getJobCounts(...states: (typeof QUEUE_STATES)[number][]): Promise<Record<string, number>>;
}

export interface MetricsOptions {
  /** Without it the queue gauge has no samples. */
  queue?: JobCountSource;
  /** A Redis that accepts connections but does not answer must not hold the scrape until Prometheus gives up. */
  queueTimeoutMs?: number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly uploadBytes: Histogram;
  readonly reportsReceived: Counter<'outcome'>;
  readonly analysisDuration: Histogram<'outcome'>;
  readonly analysisFailures: Counter<'reason'>;
  readonly queueJobs: Gauge<'state'>;
  readonly collectErrors: Counter<'metric'>;
  readonly reconcilerRequeued: Counter;
}

const MIB = 1024 * 1024;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  const registers = [registry];

  // The queue is read once per scrape; the error counter waits for that read so that a failed read shows in the
  // same scrape. prom-client collects every metric at once, in registration order: the gauge must come first.
  let queueRead: Promise<void> = Promise.resolve();
  const queueJobsName = `${METRICS_PREFIX}queue_jobs`;
  const queueJobs: Gauge<'state'> = new Gauge({
    name: queueJobsName,
    help: 'Jobs of the analysis queue by state, read from Redis at each scrape; no samples when Redis did not answer.',
    labelNames: ['state'],
    registers,
    async collect() {
      queueRead = readQueue();
      await queueRead;
    },
  });
  const collectErrors = new Counter({
    name: `${METRICS_PREFIX}metrics_collect_errors_total`,
    help: 'Scrapes at which a metric could not be read (label metric), for example the queue gauge while Redis is away.',
    labelNames: ['metric'],
    registers,
    async collect() {
      await queueRead;
    },
  });
  async function readQueue(): Promise<void> {
    // Stale counts would look like a live queue: without an answer the gauge has no samples at all.
    queueJobs.reset();
    if (!options.queue) return;
    try {
      const counts = await withTimeout(options.queue.getJobCounts(...QUEUE_STATES), options.queueTimeoutMs ?? 2000);
      for (const state of QUEUE_STATES) queueJobs.set({ state }, counts[state] ?? 0);
    } catch {
      collectErrors.inc({ metric: queueJobsName });
    }
  }

  const reportsReceived = new Counter({
    name: `${METRICS_PREFIX}reports_received_total`,
    help: 'Upload requests by outcome: accepted (202), duplicate (200: same Idempotency-Key or same content), refused (any error).',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of RECEIPT_OUTCOMES) reportsReceived.inc({ outcome }, 0);

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: `${METRICS_PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests of the API by method, route pattern (unmatched for no route) and status code.',
      labelNames: ['method', 'route', 'status_code'],
      // Uploads of hundreds of MiB over slow links take minutes.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    uploadBytes: new Histogram({
      name: `${METRICS_PREFIX}upload_bytes`,
      help: 'Size of each transcript received in full (accepted, or a duplicate of a recent one by content).',
      buckets: exponentialBuckets(1024, 4, 11).concat([2048 * MIB, 16384 * MIB]),
      registers,
    }),
    reportsReceived,
    analysisDuration: new Histogram({
      name: `${METRICS_PREFIX}analysis_duration_seconds`,
      help: 'Duration of one analysis attempt (fetch, engine, save) by outcome; a transient error counts as failed.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    analysisFailures: new Counter({
      name: `${METRICS_PREFIX}analysis_failures_total`,
      help: 'Failed analysis attempts by reason: the report failure code (not-a-text-transcript, too-large, analysis-timeout, ...) or transient (retried).',
      labelNames: ['reason'],
      registers,
    }),
    queueJobs,
    collectErrors,
    reconcilerRequeued: new Counter({
      name: `${METRICS_PREFIX}reconciler_requeued_total`,
      help: 'Reports the reconciler queued again because they had no live job.',
      registers,
    }),
  };
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
