import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAnalysis } from '../../services/analysis/record-analysis.ts';
import { analyzeTranscript, signFinding, summariseModel } from '../../services/engine/index.ts';
import { createAnalysisQueue, createProducerConnection, enqueueAnalysis } from '../../services/queue/analysis-queue.ts';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

let pipeline: Pipeline;
let tenant: { tenantId: string; key: string };
let example: Buffer;

beforeAll(async () => {
  pipeline = await startPipeline();
  tenant = await pipeline.createTenant();
  example = await readFile(EXAMPLE_FILE);
});
afterAll(async () => pipeline?.close());

function unique(): Buffer {
  return Buffer.concat([example, Buffer.from(`\n$$ ${randomBytes(8).toString('hex')}\n`)]);
}

describe('a report is analysed exactly once', () => {
  it('ignores a second job for an analysed report', async () => {
    const answer = await upload(pipeline, tenant.key, unique(), { server: 'ONCE-1' });
    const id = answer.body.id as string;
    await waitForReports(pipeline, [id]);
    const before = await pipeline.runtime.db.report.findUniqueOrThrow({ where: { id } });

    const redis = createProducerConnection(pipeline.config.redisUrl);
    const queue = createAnalysisQueue({ redisUrl: pipeline.config.redisUrl, prefix: pipeline.config.queuePrefix, attempts: 1, backoffMs: 10 }, redis);
    try {
      await queue.remove(id);
      await enqueueAnalysis(queue, id);
      const deadline = Date.now() + 20_000;
      while ((await queue.getJobState(id)) !== 'completed' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await queue.getJobState(id)).toBe('completed');
      const job = await queue.getJob(id);
      expect(job?.returnvalue).toMatchObject({ status: 'skipped' });
    } finally {
      await queue.close();
      redis.disconnect();
    }
    expect(await pipeline.runtime.db.analysis.count({ where: { reportId: id } })).toBe(1);
    expect(await pipeline.runtime.db.finding.count({ where: { reportId: id } })).toBe(1);
    const after = await pipeline.runtime.db.report.findUniqueOrThrow({ where: { id } });
    expect(after.finishedAt).toEqual(before.finishedAt);
  });

  it('records one analysis, and counts the report once in its cluster, when two saves race', async () => {
    const answer = await upload(pipeline, tenant.key, unique(), { server: 'RACE-1' });
    const id = answer.body.id as string;
    await waitForReports(pipeline, [id]);
    // Put the report back as if its first analysis had never committed, then save two analyses at once.
    const finding = await pipeline.runtime.db.finding.findFirstOrThrow({ where: { reportId: id } });
    const clusterBefore = await pipeline.runtime.db.cluster.findUniqueOrThrow({ where: { id: finding.clusterId } });
    await pipeline.runtime.db.analysis.deleteMany({ where: { reportId: id } });
    await pipeline.runtime.db.report.update({ where: { id }, data: { status: 'analysing' } });
    await pipeline.runtime.db.cluster.update({ where: { id: clusterBefore.id }, data: { reportCount: { decrement: 1 } } });
    await pipeline.runtime.db.clusterServer.updateMany({ where: { clusterId: clusterBefore.id }, data: { reportCount: { decrement: 1 } } });

    const { model, verdict } = analyzeTranscript(example);
    const input = { reportId: id, verdict, signatures: verdict.findings.map((item) => signFinding(item)), modelSummary: summariseModel(model), engineVersion: 'test', durationMs: 1, similarity: 0.5 };
    const outcomes = await Promise.all([recordAnalysis(pipeline.runtime.db, input), recordAnalysis(pipeline.runtime.db, input)]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['already-analysed', 'recorded']);
    expect(await pipeline.runtime.db.analysis.count({ where: { reportId: id } })).toBe(1);
    const clusterAfter = await pipeline.runtime.db.cluster.findUniqueOrThrow({ where: { id: clusterBefore.id } });
    expect(clusterAfter.reportCount).toBe(clusterBefore.reportCount);
  });

  it('places concurrent new signatures of one root cause in a single cluster', async () => {
    // Twenty servers hit a never-seen root cause at once: workers must agree on one cluster, not make several.
    const fresh = example.toString('utf8').replaceAll('FabrikamDSM', `Contoso${randomBytes(3).toString('hex')}`);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => upload(pipeline, tenant.key, `${fresh}\n$$ ${index}\n`, { server: `NEW-${index}` })));
    const ids = answers.map((answer) => answer.body.id as string);
    await waitForReports(pipeline, ids);
    const findings = await pipeline.runtime.db.finding.findMany({ where: { reportId: { in: ids } } });
    expect(findings).toHaveLength(20);
    const clusters = new Set(findings.map((finding) => finding.clusterId));
    expect(clusters.size).toBe(1);
    const cluster = await pipeline.runtime.db.cluster.findUniqueOrThrow({ where: { id: [...clusters][0]! } });
    expect(cluster).toMatchObject({ serverCount: 20, reportCount: 20 });
  });
});
