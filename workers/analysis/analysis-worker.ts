/** The BullMQ worker that consumes the analysis queue; each job runs `processReport`. */
import { Worker, type Job } from 'bullmq';
import type { Database } from '../../services/db/create-prisma-client.ts';
import type { Logger } from '../../services/logging/create-logger.ts';
import type { Metrics } from '../../services/metrics/metrics.ts';
import { ANALYSIS_QUEUE, createWorkerConnectionOptions, type AnalyseReportJob } from '../../services/queue/analysis-queue.ts';
import type { ProcessOutcome, ProcessReportDependencies } from './process-report.ts';
import { processReport } from './process-report.ts';

export interface AnalysisWorkerOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  lockMs: number;
  stalledIntervalMs: number;
}

export type AnalysisMetrics = Pick<Metrics, 'analysisDuration' | 'analysisFailures'>;

export function startAnalysisWorker(
  deps: ProcessReportDependencies & { db: Database; logger: Logger; metrics?: AnalysisMetrics | undefined },
  options: AnalysisWorkerOptions,
): Worker<AnalyseReportJob, ProcessOutcome> {
  const run = (reportId: string) => (deps.metrics ? measured(deps.metrics, () => processReport(deps, reportId)) : processReport(deps, reportId));
  const worker = new Worker<AnalyseReportJob, ProcessOutcome>(ANALYSIS_QUEUE, async (job: Job<AnalyseReportJob>) => run(job.data.reportId), {
    connection: createWorkerConnectionOptions(options.redisUrl),
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockMs,
    stalledInterval: options.stalledIntervalMs,
    // A job whose worker died is handed on a few times; the reconciler takes over after that.
    maxStalledCount: 3,
  });
  worker.on('failed', (job, error) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    deps.logger.warn({ reportId: job.data.reportId, attempt: job.attemptsMade, final, err: error }, final ? 'analysis failed on every attempt; the reconciler will queue it again' : 'analysis attempt failed; retrying');
    if (final) {
      deps.db.report
        .updateMany({ where: { id: job.data.reportId, status: { notIn: ['analysed', 'failed'] } }, data: { error: `retrying after: ${error.message}`.slice(0, 2000) } })
        .catch(() => undefined);
    }
  });
  worker.on('error', (error) => deps.logger.error({ err: error }, 'analysis worker error'));
  return worker;
}

/** Skipped jobs (already analysed, report gone) did no analysis and are not observed. */
async function measured(metrics: AnalysisMetrics, analyse: () => Promise<ProcessOutcome>): Promise<ProcessOutcome> {
  const stopTimer = metrics.analysisDuration.startTimer();
  try {
    const outcome = await analyse();
    if (outcome.status === 'analysed') stopTimer({ outcome: 'analysed' });
    if (outcome.status === 'failed') {
      stopTimer({ outcome: 'failed' });
      metrics.analysisFailures.inc({ reason: outcome.code });
    }
    return outcome;
  } catch (error) {
    stopTimer({ outcome: 'failed' });
    metrics.analysisFailures.inc({ reason: 'transient' });
    throw error;
  }
}
