import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../../services/db/create-prisma-client.ts';
import { MIGRATIONS_DIRECTORY, MigrationError, migrateDatabase } from '../../services/db/migrate-database.ts';
import { createTestDatabase } from '../support/pipeline-harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function freshDatabase() {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return database;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function copyOfMigrations(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'hangsleuth-migrations-'));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  await cp(MIGRATIONS_DIRECTORY, folder, { recursive: true });
  return folder;
}

describe('hand-written migrations, recorded as prisma migrate deploy records them', () => {
  it('applies each migration once, with its SHA-256 checksum, in a _prisma_migrations table of Prisma\'s shape', async () => {
    const database = await freshDatabase();
    expect((await migrateDatabase(database.url)).applied).toEqual([]);
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(database.url, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const sql = await readFile(join(MIGRATIONS_DIRECTORY, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.applied_steps_count).toBe(1);
    }
    const columns = await query<{ column_name: string; data_type: string }>(database.url, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position");
    expect(columns.map((column) => column.column_name)).toEqual(['id', 'checksum', 'finished_at', 'migration_name', 'logs', 'rolled_back_at', 'started_at', 'applied_steps_count']);
  });

  it('refuses to go on when an applied migration was edited', async () => {
    const database = await freshDatabase();
    const folder = await copyOfMigrations();
    const [first] = (await readdir(folder)).filter((name) => /^\d/.test(name)).sort();
    await writeFile(join(folder, first!, 'migration.sql'), `${await readFile(join(folder, first!, 'migration.sql'), 'utf8')}\n-- edited\n`);
    await expect(migrateDatabase(database.url, folder)).rejects.toThrow(MigrationError);
    await expect(migrateDatabase(database.url, folder)).rejects.toThrow(/edited after it was applied/);
  });

  it('rolls a failing migration back whole and records nothing for it', async () => {
    const database = await freshDatabase();
    const folder = await copyOfMigrations();
    await mkdir(join(folder, '29991231000000_broken'));
    await writeFile(join(folder, '29991231000000_broken', 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n');
    await expect(migrateDatabase(database.url, folder)).rejects.toThrow(/29991231000000_broken failed and was rolled back/);
    expect(await query(database.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'")).toEqual([]);
    expect(await query(database.url, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '29991231000000_broken'`)).toEqual([]);
  });

  it('lets concurrent migrators apply the migrations once', async () => {
    const name = `hangsleuth_test_race_${Date.now().toString(36)}`;
    const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
    cleanups.push(() => query('postgresql://postgres@127.0.0.1:5432/postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined));
    const results = await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
    const total = results.reduce((sum, result) => sum + result.applied.length, 0);
    expect(total).toBe(results[0]!.applied.length + results[0]!.alreadyApplied.length);
  });
});

describe('the schema as Prisma Client sees it', () => {
  it('round-trips a row of every model, every field set, through Prisma Client', async () => {
    const database = await freshDatabase();
    const db = createDatabase({ url: database.url, poolSize: 2 });
    cleanups.push(() => db.$disconnect());
    const now = new Date('2026-11-25T00:00:00.000Z');
    const tenant = await db.tenant.create({ data: { name: 'every-model' } });
    const apiKey = await db.apiKey.create({ data: { tenantId: tenant.id, name: 'k', prefix: 'abcdefabcdef', secretHash: 'f'.repeat(64), scopes: ['upload', 'read', 'admin'], lastUsedAt: now, revokedAt: now } });
    const server = await db.server.create({ data: { tenantId: tenant.id, name: 'srv', firstSeenAt: now, lastSeenAt: now, reportCount: 1 } });
    const report = await db.report.create({
      data: {
        id: '00000000-0000-4000-8000-000000000001', tenantId: tenant.id, serverId: server.id, status: 'analysed', contentSha256: 'a'.repeat(64), byteSize: 5_000_000_000n,
        objectKey: 'k', contentType: 'text/plain', fileName: 'f.txt', idempotencyKey: 'i', ticketId: 't', osVersion: 'o', collectedAt: now, attempts: 2, errorCode: 'e', error: 'm',
        receivedAt: now, queuedAt: now, startedAt: now, finishedAt: now,
      },
    });
    const cluster = await db.cluster.create({ data: { tenantId: tenant.id, pattern: 'p', blamedModule: 'm', signatureText: 's', aliases: ['00000000-0000-4000-8000-0000000000aa'], state: 'regressed', stateChangedAt: now, resolvedInVersion: '2.4.1', note: 'n', ticketUrl: 'https://tickets.example/1', representativeReportId: report.id, firstSeenAt: now, lastSeenAt: now, serverCount: 1, reportCount: 1 } });
    const signature = await db.signature.create({ data: { tenantId: tenant.id, hash: 'h', text: 't', rulesVersion: 'sig-1', pattern: 'p', blamedModule: 'm', frameSet: ['a!b'], notes: ['n'], clusterId: cluster.id, placement: 'new', firstSeenAt: now, lastSeenAt: now } });
    const analysis = await db.analysis.create({ data: { reportId: report.id, tenantId: tenant.id, verdictKind: 'hang', summary: 's', verdict: { findings: [] }, modelSummary: { lines: 1 }, engineVersion: 'e', rulesVersion: 'r', durationMs: 3 } });
    const finding = await db.finding.create({ data: { analysisId: analysis.id, reportId: report.id, tenantId: tenant.id, serverId: server.id, ordinal: 0, pattern: 'p', blamedModule: 'm', confidence: 'high', summary: 's', signatureId: signature.id, clusterId: cluster.id } });
    const member = await db.clusterServer.create({ data: { clusterId: cluster.id, serverId: server.id, tenantId: tenant.id, firstSeenAt: now, lastSeenAt: now, reportCount: 1 } });
    const rollup = await db.clusterRollup.create({ data: { clusterId: cluster.id, tenantId: tenant.id, granularity: 'hour', bucket: now, reportCount: 3, serverCount: 2, newServerCount: 1 } });
    const seen = await db.clusterServerBucket.create({ data: { clusterId: cluster.id, serverId: server.id, granularity: 'day', bucket: now } });

    expect(await db.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).toEqual(tenant);
    expect(await db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).toEqual(apiKey);
    expect(await db.server.findUniqueOrThrow({ where: { id: server.id } })).toEqual(server);
    expect(await db.report.findUniqueOrThrow({ where: { id: report.id } })).toEqual(report);
    expect(await db.cluster.findUniqueOrThrow({ where: { id: cluster.id } })).toEqual(cluster);
    expect(await db.signature.findUniqueOrThrow({ where: { id: signature.id } })).toEqual(signature);
    expect(await db.analysis.findUniqueOrThrow({ where: { id: analysis.id } })).toEqual(analysis);
    expect(await db.finding.findUniqueOrThrow({ where: { id: finding.id } })).toEqual(finding);
    expect(await db.clusterServer.findUniqueOrThrow({ where: { clusterId_serverId: { clusterId: cluster.id, serverId: server.id } } })).toEqual(member);
    expect(await db.clusterRollup.findUniqueOrThrow({ where: { clusterId_granularity_bucket: { clusterId: cluster.id, granularity: 'hour', bucket: now } } })).toEqual(rollup);
    expect(await db.clusterServerBucket.findFirstOrThrow({ where: { clusterId: cluster.id } })).toEqual(seen);
    const endpoint = await db.webhookEndpoint.create({
      data: {
        tenantId: tenant.id, url: 'https://hooks.example/x', kind: 'pagerduty', routingKey: 'r', events: ['cluster.created'], patternFilter: 'p', moduleFilter: 'm', minServers: 2,
        spreadServers: 3, spreadWindowMs: 60_000, throttleMs: 1000, enabled: false, disabledReason: 'gone', disabledAt: now, secret: 'whsec_a', previousSecret: 'whsec_b', previousSecretExpiresAt: now, failingSince: now,
      },
    });
    const message = await db.webhookMessage.create({ data: { id: 'msg_1', tenantId: tenant.id, endpointId: endpoint.id, eventType: 'cluster.created', clusterId: cluster.id, event: { a: 1 }, status: 'delivered', attemptCount: 2, lastAttemptAt: now, deliveredAt: now } });
    const attempt = await db.webhookAttempt.create({ data: { messageId: message.id, attemptedAt: now, statusCode: 200, latencyMs: 12, responseSnippet: 'ok', error: null } });
    const spread = await db.webhookSpreadState.create({ data: { endpointId: endpoint.id, clusterId: cluster.id, armed: false, lastFiredAt: now } });
    expect(await db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toEqual(endpoint);
    expect(await db.webhookMessage.findUniqueOrThrow({ where: { id: message.id } })).toEqual(message);
    expect(await db.webhookAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).toEqual(attempt);
    expect(await db.webhookSpreadState.findUniqueOrThrow({ where: { endpointId_clusterId: { endpointId: endpoint.id, clusterId: cluster.id } } })).toEqual(spread);
    expect(report.byteSize).toBe(5_000_000_000n);
  });
});
