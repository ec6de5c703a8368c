import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

// One analysis thread budget small enough that a large transcript exceeds it, big enough for the example.
const TIMEOUT_MS = 1500;

let pipeline: Pipeline;
let example: Buffer;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { MAX_UPLOAD_MB: '64', ANALYSIS_TIMEOUT_MS: String(TIMEOUT_MS), ANALYSIS_CONCURRENCY: '2', JOB_ATTEMPTS: '3' } });
  example = await readFile(EXAMPLE_FILE);
});
afterAll(async () => pipeline?.close());

function distinctExample(index: number): Buffer {
  return Buffer.concat([example, Buffer.from(`\n$$ copy ${index} ${randomBytes(4).toString('hex')}\n`)]);
}

describe('hostile transcripts fail alone, with their reason, while other tenants are analysed', () => {
  it('binary, a million blank lines, a 50 MB single line, a gzip bomb and an over-budget transcript', async () => {
    const attacker = await pipeline.createTenant('attacker');
    const victim = await pipeline.createTenant('victim');
    const hostile: Record<string, { body: Buffer; contentType: string; code: string }> = {
      binary: { body: randomBytes(2 * 1024 * 1024), contentType: 'application/octet-stream', code: 'not-a-text-transcript' },
      blankLines: { body: Buffer.alloc(1_000_000, '\n'), contentType: 'text/plain', code: 'no-debugger-output' },
      singleLine: { body: Buffer.alloc(50 * 1024 * 1024, 'A'), contentType: 'text/plain', code: 'no-debugger-output' },
      // 1.5 GB of spaces in 1.5 MB: past the pipeline's 64 MiB limit once inflated, refused without inflating it all.
      gzipBomb: { body: gzipSync(Buffer.alloc(1536 * 1024 * 1024, 0x20), { level: 9 }), contentType: 'application/gzip', code: 'too-large' },
      // ~60 MB of real transcript: more than the analysis time budget of this pipeline.
      overBudget: { body: Buffer.concat(Array.from({ length: 2000 }, () => example)), contentType: 'text/plain', code: 'analysis-timeout' },
    };

    const hostileUploads = Object.entries(hostile).map(async ([name, { body, contentType }]) => [name, await upload(pipeline, attacker.key, body, { server: `evil-${name}`, contentType })] as const);
    const victimUploads = Array.from({ length: 12 }, (_, index) => upload(pipeline, victim.key, distinctExample(index), { server: `good-${index}` }));
    const [hostileAnswers, victimAnswers] = await Promise.all([Promise.all(hostileUploads), Promise.all(victimUploads)]);

    expect(Object.fromEntries(hostileAnswers.map(([name, answer]) => [name, answer.status]))).toEqual(Object.fromEntries(Object.keys(hostile).map((name) => [name, 202])));
    for (const answer of victimAnswers) expect(answer.status).toBe(202);
    const hostileIds = Object.fromEntries(hostileAnswers.map(([name, answer]) => [name, answer.body.id as string]));
    const victimIds = victimAnswers.map((answer) => answer.body.id as string);

    const statuses = await waitForReports(pipeline, [...Object.values(hostileIds), ...victimIds], ['analysed', 'failed'], 90_000);
    for (const id of victimIds) expect(statuses.get(id)).toBe('analysed');
    for (const [name, { code }] of Object.entries(hostile)) {
      const report = await pipeline.runtime.db.report.findUniqueOrThrow({ where: { id: hostileIds[name]! } });
      expect({ name, status: report.status, code: report.errorCode }).toEqual({ name, status: 'failed', code });
      expect(report.error).toMatch(/\w/);
      // Bad input fails once: it is not retried.
      expect(report.attempts).toBe(1);
    }
    expect(await pipeline.runtime.db.analysis.count({ where: { reportId: { in: Object.values(hostileIds) } } })).toBe(0);
  }, 150_000);
});
