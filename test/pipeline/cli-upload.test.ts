import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_FILE, REPO_ROOT } from '../support/shared-corpus.ts';
import { startPipeline, type Pipeline } from '../support/pipeline-harness.ts';

const run = promisify(execFile);
let pipeline: Pipeline;
let folder: string;

beforeAll(async () => {
  pipeline = await startPipeline();
  folder = await mkdtemp(join(tmpdir(), 'hangsleuth-cli-'));
});
afterAll(async () => {
  await pipeline?.close();
  await rm(folder, { recursive: true, force: true });
});

describe('hangsleuth upload against the real API', () => {
  it('uploads, waits for the analysis and prints the verdict with the cluster link', async () => {
    const { key } = await pipeline.createTenant();
    const file = join(folder, 'hang.txt');
    await writeFile(file, Buffer.concat([await readFile(EXAMPLE_FILE), Buffer.from(`\n$$ ${randomBytes(6).toString('hex')}\n`)]));
    const { stdout } = await run(process.execPath, ['bin/hangsleuth.js', 'upload', file, '--server', 'CLI-01', '--url', pipeline.api.url, '--wait', '--timeout', '60'], {
      cwd: REPO_ROOT,
      env: { ...process.env, HANGSLEUTH_API_KEY: key },
    });
    expect(stdout).toContain('FabrikamDSM');
    expect(stdout).toMatch(new RegExp(`${pipeline.api.url}/v1/clusters/[0-9a-f-]{36}`));
    const report = await pipeline.runtime.db.report.findFirstOrThrow({ where: { server: { name: 'CLI-01' } } });
    expect(report.status).toBe('analysed');
    expect(report.fileName).toBe('hang.txt');

    // The same file again for the same server: the same report, not a second one.
    const again = await run(process.execPath, ['bin/hangsleuth.js', 'upload', file, '--server', 'CLI-01', '--url', pipeline.api.url, '--json'], { cwd: REPO_ROOT, env: { ...process.env, HANGSLEUTH_API_KEY: key } });
    expect(JSON.parse(again.stdout)).toMatchObject({ id: report.id, duplicate: true });
    expect(await pipeline.runtime.db.report.count({ where: { server: { name: 'CLI-01' } } })).toBe(1);
  });
});
