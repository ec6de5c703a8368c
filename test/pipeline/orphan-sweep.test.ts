import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { readFile } from 'node:fs/promises';

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline();
});
afterAll(async () => pipeline?.close());

async function keys(): Promise<string[]> {
  return (await pipeline.runtime.objectStore.list('transcripts/')).objects.map((object) => object.key).sort();
}

describe('the orphan sweep', () => {
  it('deletes stored transcripts no report points at, once past the grace period, and keeps the rest', async () => {
    const tenant = await pipeline.createTenant();
    const answer = await upload(pipeline, tenant.key, await readFile(EXAMPLE_FILE), { server: 'SWEEP-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const kept = (await pipeline.runtime.db.report.findUniqueOrThrow({ where: { id: answer.body.id as string } })).objectKey;
    const orphan = `transcripts/${tenant.tenantId}/00000000-0000-4000-8000-00000000dead`;
    await pipeline.runtime.objectStore.put(orphan, Readable.from([Buffer.from('kd> !thread\n')]), 'text/plain');

    const worker = pipeline.worker!;
    expect(await worker.sweepOrphans(60 * 60_000)).toEqual({ examined: 2, deleted: 0 });
    expect(await keys()).toEqual([kept, orphan].sort());
    expect(await worker.sweepOrphans(0)).toEqual({ examined: 2, deleted: 1 });
    expect(await keys()).toEqual([kept]);
  });
});
