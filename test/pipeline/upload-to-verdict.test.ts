import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { getJson, startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

let pipeline: Pipeline;
let tenant: { tenantId: string; key: string };
let example: Buffer;

beforeAll(async () => {
  pipeline = await startPipeline();
  tenant = await pipeline.createTenant();
  example = await readFile(EXAMPLE_FILE);
});
afterAll(async () => pipeline?.close());

describe('upload → 202 → analysed', () => {
  it('analyses the bundled example and serves its verdict, findings and cluster', async () => {
    const answer = await upload(pipeline, tenant.key, example, { server: 'LOGON-07', query: { ticket: 'INC-1', os: 'Windows Server 2012 R2' } });
    expect(answer.status).toBe(202);
    const id = answer.body.id as string;
    expect(answer.body).toMatchObject({ server: 'LOGON-07', duplicate: false, byteSize: example.length });
    expect((answer.body.links as { self: string }).self).toBe(`${pipeline.api.url}/v1/reports/${id}`);

    await waitForReports(pipeline, [id]);
    const report = await getJson(`${pipeline.api.url}/v1/reports/${id}`, tenant.key);
    expect(report.status).toBe(200);
    expect(report.body.status).toBe('analysed');
    expect(report.body.ticketId).toBe('INC-1');
    expect(report.body.verdict.verdict).toBe('hang');
    const [finding] = report.body.findings;
    // The example's author-stated root cause (examples/README.md): the Delayed worker queue starved by FabrikamDSM.
    expect(finding.pattern).toBe('worker-queue-starvation');
    expect(finding.blamedModule).toBe('FabrikamDSM');
    expect(finding.signature.text).toContain('FabrikamDSM');
    expect(finding.cluster.link).toBe(`${pipeline.api.url}/v1/clusters/${finding.cluster.id}`);

    const cluster = await pipeline.runtime.db.cluster.findUniqueOrThrow({ where: { id: finding.cluster.id } });
    expect(cluster).toMatchObject({ pattern: 'worker-queue-starvation', blamedModule: 'FabrikamDSM', serverCount: 1, reportCount: 1 });
    expect(await pipeline.runtime.db.analysis.count({ where: { reportId: id } })).toBe(1);
  });

  it('puts the same root cause on another server, sent gzipped, into the same cluster', async () => {
    const first = await upload(pipeline, tenant.key, example, { server: 'LOGON-11' });
    const second = await upload(pipeline, tenant.key, gzipSync(example), { server: 'LOGON-12', contentType: 'application/gzip' });
    expect([first.status, second.status]).toEqual([202, 202]);
    await waitForReports(pipeline, [first.body.id as string, second.body.id as string]);
    const findings = await pipeline.runtime.db.finding.findMany({ where: { reportId: { in: [first.body.id as string, second.body.id as string] } } });
    expect(findings).toHaveLength(2);
    expect(findings[0]!.clusterId).toBe(findings[1]!.clusterId);
    const cluster = await pipeline.runtime.db.cluster.findUniqueOrThrow({ where: { id: findings[0]!.clusterId } });
    expect(cluster.serverCount).toBeGreaterThanOrEqual(2);
    const members = await pipeline.runtime.db.clusterServer.count({ where: { clusterId: cluster.id } });
    expect(members).toBe(cluster.serverCount);
  });

  it('streams the stored transcript back byte for byte', async () => {
    const answer = await upload(pipeline, tenant.key, example, { server: 'LOGON-13' });
    const response = await fetch((answer.body.links as { transcript: string }).transcript, { headers: { authorization: `Bearer ${tenant.key}` } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(example)).toBe(true);
  });
});
