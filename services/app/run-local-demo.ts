/**
 * `npm start`: the whole service in one process on the machine's own PostgreSQL and Redis, with an embedded
 * S3-protocol endpoint, then the bundled example transcript sent through the real HTTP API and the queue to
 * show it working. It keeps serving until Ctrl-C.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/load-config.ts';
import { issueApiKey } from '../auth/api-keys.ts';
import { migrateDatabase } from '../db/migrate-database.ts';
import type { Database } from '../db/create-prisma-client.ts';
import { createLogger } from '../logging/create-logger.ts';
import { untilSignalled } from './until-signalled.ts';
import { openRuntime } from './open-runtime.ts';
import { startApi } from './start-api.ts';
import { startWorker } from './start-worker.ts';

const EXAMPLE = new URL('../../examples/hung-logon-worker-queue.txt', import.meta.url);
const DEV_TENANT = 'development';
const DEMO_SERVER = 'LOGON-DEV-01';

export interface LocalDemoOptions {
  demo: boolean;
  logLevel?: string;
}

export async function runLocalDemo(config: Config, options: LocalDemoOptions): Promise<number> {
  const migrations = await migrateDatabase(config.databaseUrl);
  say(`database   ${redactUrl(config.databaseUrl)} (${migrations.applied.length} migration(s) applied, ${migrations.alreadyApplied.length} already there)`);
  const logger = createLogger(options.logLevel ?? config.logLevel, 'hangsleuth');
  const runtime = await openRuntime(config, 'hangsleuth', { logger });
  say(`objects    ${runtime.embeddedS3 ? `embedded s3rver at ${runtime.embeddedS3.endpoint}, folder ${config.objectStore.embedded!.directory}` : config.objectStore.endpoint ?? `AWS S3 (${config.objectStore.region})`}, bucket ${config.objectStore.bucket}`);
  const api = await startApi(runtime);
  const worker = await startWorker(runtime);
  say(`queue      ${redactUrl(config.redisUrl)} (prefix ${config.queuePrefix}), ${config.analysis.concurrency} analysis thread(s)`);
  say(`API        ${api.url}   (health: ${api.url}/readyz, reference: ${api.url}/docs)`);

  const key = await issueDevelopmentKey(runtime.db);
  say('');
  say(`API key for tenant "${DEV_TENANT}" (shown once; earlier development keys are revoked):`);
  say(`  ${key}`);

  if (options.demo) await sendExample(api.url, key);
  say('');
  say(`Dashboard  ${api.url}/   (sign in with the API key above)`);
  say('Serving. Ctrl-C to stop.');
  await untilSignalled();
  await worker.close();
  await api.close();
  await runtime.close();
  return 0;
}

async function issueDevelopmentKey(db: Database): Promise<string> {
  const tenant = await db.tenant.upsert({ where: { name: DEV_TENANT }, create: { name: DEV_TENANT }, update: {} });
  await db.apiKey.updateMany({ where: { tenantId: tenant.id, name: 'development', revokedAt: null }, data: { revokedAt: new Date() } });
  return (await issueApiKey(db, tenant.id, 'development', ['upload', 'read', 'admin'])).key;
}

/** The example goes the way every upload goes: HTTP, object storage, the queue, a worker thread, PostgreSQL. */
async function sendExample(apiUrl: string, key: string): Promise<void> {
  const transcript = await readFile(EXAMPLE);
  say('');
  say(`Uploading examples/hung-logon-worker-queue.txt (${transcript.length} bytes) as server ${DEMO_SERVER}...`);
  const headers = { authorization: `Bearer ${key}` };
  const answer = await fetch(`${apiUrl}/v1/reports?server=${DEMO_SERVER}`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: transcript });
  const receipt = (await answer.json()) as { id: string; status: string; duplicate: boolean; links: { self: string } };
  say(`  ${answer.status} ${receipt.duplicate ? '(the same transcript was already uploaded for this server: its existing report)' : 'accepted'}: report ${receipt.id}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const report = (await (await fetch(receipt.links.self, { headers })).json()) as ReportAnswer;
    if (report.status === 'analysed' || report.status === 'failed' || Date.now() > deadline) {
      printReport(report);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface ReportAnswer {
  status: string;
  error: { code: string; message: string } | null;
  verdict: { verdict: string; summary: string } | null;
  findings: { pattern: string; blamedModule: string | null; signature: { text: string }; cluster: { link: string } }[];
  links: { self: string; transcript: string };
}

function printReport(report: ReportAnswer): void {
  say(`  status   ${report.status}${report.error ? ` (${report.error.code}: ${report.error.message})` : ''}`);
  if (report.verdict) say(`  verdict  ${report.verdict.verdict}: ${report.verdict.summary}`);
  for (const finding of report.findings) {
    say(`  finding  ${finding.pattern}, blamed on ${finding.blamedModule ?? 'nothing named'}`);
    say(`           signature ${finding.signature.text}`);
    say(`           cluster   ${finding.cluster.link}`);
  }
  say(`  report   ${report.links.self}`);
  say(`  text     ${report.links.transcript}`);
}

function say(line: string): void {
  console.log(line);
}

function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
