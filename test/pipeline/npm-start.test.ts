/**
 * The README's first Quickstart command, `npm start` (= `node bin/hangsleuth.js serve`), as a process of its own on
 * its local defaults, except where two runs on one machine would collide (its database, queue prefix, ports and
 * object folder): it migrates, serves, prints a key, uploads the bundled example, prints its verdict, and the URLs
 * it prints answer (the dashboard, the cluster). SIGTERM stops it cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../services/config/load-config.ts';
import { deleteQueueKeys } from '../support/pipeline-harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PG_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = `hstest_serve_${randomBytes(5).toString('hex')}`;
const queuePrefix = `hstest-serve-${randomBytes(4).toString('hex')}`;
let child: ChildProcess | undefined;
let folder: string | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (folder) await rm(folder, { recursive: true, force: true });
  await deleteQueueKeys('redis://127.0.0.1:6379', queuePrefix);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

/** Resolves with everything printed once `text` appears; rejects if the process exits first or after `timeoutMs`. */
function waitForOutput(process: ChildProcess, output: { text: string }, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms; printed:\n${output.text}`)), timeoutMs);
    const check = () => {
      if (output.text.includes(text)) {
        clearTimeout(timer);
        resolve(output.text);
      }
    };
    process.stdout!.on('data', check);
    process.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before "${text}"; printed:\n${output.text}`));
    });
    check();
  });
}

describe('npm start', () => {
  it('serves on its local defaults, analyses the bundled example, and prints URLs that answer', async () => {
    folder = await mkdtemp(join(tmpdir(), 'hangsleuth-serve-'));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !(name in CONFIG_VARIABLES)) env[name] = value;
    Object.assign(env, {
      DATABASE_URL: `postgresql://postgres@127.0.0.1:5432/${database}`,
      QUEUE_PREFIX: queuePrefix,
      HANGSLEUTH_PORT: '0',
      LOCAL_S3_PORT: '0',
      LOCAL_S3_DIR: folder,
      WORKER_METRICS_PORT: '0',
    });
    child = spawn(process.execPath, ['bin/hangsleuth.js', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    child.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));

    const printed = await waitForOutput(child, output, 'Serving. Ctrl-C to stop.', 120_000);
    expect(printed).toMatch(/database .*\(\d+ migration\(s\) applied, 0 already there\)/);
    expect(printed).toContain('202 accepted: report');
    expect(printed).toMatch(/status +analysed/);
    expect(printed).toMatch(/verdict +hang: /);
    expect(printed).toMatch(/finding +worker-queue-starvation, blamed on FabrikamDSM/);
    const key = /\n {2}(hs_[A-Za-z0-9_-]+)\n/.exec(printed)?.[1];
    expect(key).toBeDefined();

    const dashboard = /Dashboard +(http:\/\/\S+)/.exec(printed)?.[1];
    expect(dashboard).toBeDefined();
    const page = await fetch(dashboard!, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');

    const clusterUrl = /cluster +(http:\/\/\S+)/.exec(printed)?.[1];
    const cluster = await fetch(clusterUrl!, { headers: { authorization: `Bearer ${key}` } });
    expect(cluster.status).toBe(200);
    expect(((await cluster.json()) as { blamedModule: string }).blamedModule).toBe('FabrikamDSM');

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 150_000);
});
