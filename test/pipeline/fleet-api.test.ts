import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../services/app/start-api.ts';
import { issueApiKey } from '../../services/auth/api-keys.ts';
import { createAnalysisQueue, createProducerConnection, enqueueAnalysis, type AnalysisQueue } from '../../services/queue/analysis-queue.ts';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { getJson, startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

const DAY = 86_400_000;
let pipeline: Pipeline;
let queue: AnalysisQueue;
let redis: ReturnType<typeof createProducerConnection>;
let example: string;
let tenant: { tenantId: string; key: string };
let admin: { tenantId: string; key: string };
let other: { tenantId: string; key: string };

/** The example with its third-party driver renamed: the same pattern, another root cause. */
function transcriptBlaming(module: string): string {
  return `${example.replaceAll('FabrikamDSM', module)}\n$$ ${randomBytes(6).toString('hex')}\n`;
}

/** A report as if it had been received at `receivedAt` (a backfill), queued for the real worker. */
async function seedReport(tenantId: string, serverName: string, text: string, receivedAt: Date): Promise<string> {
  const { db, objectStore } = pipeline.runtime;
  const id = randomUUID();
  const objectKey = `transcripts/${tenantId}/${id}`;
  await objectStore.put(objectKey, Readable.from([Buffer.from(text)]), 'text/plain');
  const server = await db.server.upsert({ where: { tenantId_name: { tenantId, name: serverName } }, create: { tenantId, name: serverName, firstSeenAt: receivedAt, lastSeenAt: receivedAt, reportCount: 1 }, update: { reportCount: { increment: 1 } } });
  await db.report.create({ data: { id, tenantId, serverId: server.id, contentSha256: randomBytes(32).toString('hex'), byteSize: BigInt(text.length), objectKey, contentType: 'text/plain', receivedAt, status: 'queued' } });
  await enqueueAnalysis(queue, id);
  return id;
}

const api = (path: string, key = tenant.key) => getJson(`${pipeline.api.url}${path}`, key);

async function patch(path: string, body: unknown, key = admin.key) {
  const response = await fetch(`${pipeline.api.url}${path}`, { method: 'PATCH', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  pipeline = await startPipeline();
  redis = createProducerConnection(pipeline.config.redisUrl);
  queue = createAnalysisQueue({ redisUrl: pipeline.config.redisUrl, prefix: pipeline.config.queuePrefix, attempts: 3, backoffMs: 100 }, redis);
  example = await readFile(EXAMPLE_FILE, 'utf8');
  tenant = await pipeline.createTenant('fleet');
  admin = { tenantId: tenant.tenantId, key: (await issueApiKey(pipeline.runtime.db, tenant.tenantId, 'admin', ['admin'])).key };
  other = await pipeline.createTenant('other');

  const now = Date.now();
  const ids: string[] = [];
  // Fabrikam: 6 servers, steady over two weeks. Contoso: 3 servers, all in the last days (a mover). Litware: 1 server.
  for (let index = 0; index < 6; index++) ids.push(await seedReport(tenant.tenantId, `FS-${index}`, transcriptBlaming('FabrikamDSM'), new Date(now - (index * 2 + 1) * DAY)));
  for (let index = 0; index < 3; index++) ids.push(await seedReport(tenant.tenantId, `WEB-${index}`, transcriptBlaming('ContosoFlt'), new Date(now - index * 3_600_000)));
  ids.push(await seedReport(tenant.tenantId, 'DB-0', transcriptBlaming('LitwareIo'), new Date(now - 20 * DAY)));
  ids.push(await seedReport(other.tenantId, 'OTHER-0', transcriptBlaming('FabrikamDSM'), new Date(now)));
  await waitForReports(pipeline, ids, ['analysed']);
}, 120_000);

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await pipeline?.close();
});

describe('GET /v1/clusters', () => {
  it('sorts by servers affected, and pages with cursors without gaps or repeats', async () => {
    const all = await api('/v1/clusters?sort=servers');
    expect(all.status).toBe(200);
    expect(all.body.items.map((item: any) => [item.blamedModule, item.serverCount, item.reportCount])).toEqual([
      ['FabrikamDSM', 6, 6],
      ['ContosoFlt', 3, 3],
      ['LitwareIo', 1, 1],
    ]);
    expect(all.body.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Record<string, any> } = await api(`/v1/clusters?sort=servers&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items).toHaveLength(1);
      seen.push(page.body.items[0].id);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((item: any) => item.id));
  });

  it('sorts by last seen and by growth against the previous window', async () => {
    const byLastSeen = await api('/v1/clusters?sort=lastSeen');
    expect(byLastSeen.body.items.map((item: any) => item.blamedModule)).toEqual(['ContosoFlt', 'FabrikamDSM', 'LitwareIo']);
    const byGrowth = await api('/v1/clusters?sort=growth&window=7d');
    expect(byGrowth.body.items[0]).toMatchObject({ blamedModule: 'ContosoFlt', growth: { reports: 3, previousReports: 0, change: 3 } });
    const fabrikam = byGrowth.body.items.find((item: any) => item.blamedModule === 'FabrikamDSM');
    // Reports 1, 3, 5 days ago fall in the window; 7, 9, 11 days ago in the one before.
    expect(fabrikam.growth).toEqual({ reports: 3, previousReports: 3, change: 0 });
    const paged = await api('/v1/clusters?sort=growth&window=7d&limit=1');
    const second = await api(`/v1/clusters?sort=growth&window=7d&limit=1&cursor=${paged.body.nextCursor}`);
    expect(second.body.items[0].id).toBe(byGrowth.body.items[1].id);
  });

  it('filters by module, pattern, state and window', async () => {
    expect((await api('/v1/clusters?module=ContosoFlt')).body.items.map((item: any) => item.blamedModule)).toEqual(['ContosoFlt']);
    expect((await api('/v1/clusters?pattern=worker-queue-starvation')).body.items).toHaveLength(3);
    expect((await api('/v1/clusters?pattern=deadlock')).body.items).toHaveLength(0);
    expect((await api('/v1/clusters?window=7d')).body.items.map((item: any) => item.blamedModule).sort()).toEqual(['ContosoFlt', 'FabrikamDSM']);
    expect((await api('/v1/clusters?state=resolved')).body.items).toHaveLength(0);
  });

  it('answers 400 problem+json for a bad sort, window or cursor', async () => {
    for (const query of ['sort=size', 'window=7w', 'cursor=garbage', 'limit=0', 'limit=10000']) {
      const answer = await api(`/v1/clusters?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.code).toBe('bad-request');
    }
  });
});

describe('GET /v1/clusters/:id', () => {
  it('shows the signature, the representative chain, a daily series and the servers', async () => {
    const [fabrikam] = (await api('/v1/clusters?module=FabrikamDSM')).body.items;
    const detail = await api(`/v1/clusters/${fabrikam.id}?bucket=1d&window=14d`);
    expect(detail.status).toBe(200);
    expect(detail.body.signatureText).toContain('FabrikamDSM');
    expect(detail.body.signatures[0].notes.length).toBeGreaterThan(0);
    expect(detail.body.representative.finding.rootBlocker).toBeDefined();
    expect(detail.body.representative.finding.chain.length).toBeGreaterThan(0);
    expect(detail.body.series.points).toHaveLength(14);
    expect(detail.body.series.points.reduce((sum: number, point: any) => sum + point.reports, 0)).toBe(6);
    expect(detail.body.series.points.reduce((sum: number, point: any) => sum + point.newServers, 0)).toBe(6);
    expect(detail.body.servers.items).toHaveLength(6);
    const hourly = await api(`/v1/clusters/${fabrikam.id}?bucket=1h&window=24h`);
    expect(hourly.body.series.points).toHaveLength(24);

    const firstPage = await api(`/v1/clusters/${fabrikam.id}/servers?limit=4`);
    const secondPage = await api(`/v1/clusters/${fabrikam.id}/servers?limit=4&cursor=${firstPage.body.nextCursor}`);
    expect([...firstPage.body.items, ...secondPage.body.items].map((item: any) => item.name).sort()).toEqual(['FS-0', 'FS-1', 'FS-2', 'FS-3', 'FS-4', 'FS-5']);
    expect(secondPage.body.nextCursor).toBeNull();
  });

  it('keeps rollups equal to the reports they count', async () => {
    const clusters = await pipeline.runtime.db.cluster.findMany({ where: { tenantId: tenant.tenantId, mergedIntoId: null } });
    for (const cluster of clusters) {
      for (const granularity of ['hour', 'day'] as const) {
        const rollups = await pipeline.runtime.db.clusterRollup.aggregate({ where: { clusterId: cluster.id, granularity }, _sum: { reportCount: true, newServerCount: true } });
        expect(rollups._sum.reportCount).toBe(cluster.reportCount);
        expect(rollups._sum.newServerCount).toBe(cluster.serverCount);
      }
    }
  });
});

describe('triage', () => {
  it('acknowledges, resolves in a version, and regresses when the root cause comes back', async () => {
    const [litware] = (await api('/v1/clusters?module=LitwareIo')).body.items;
    expect((await patch(`/v1/clusters/${litware.id}`, { state: 'acknowledged', note: 'vendor contacted', ticketUrl: 'https://tickets.example/HS-1' })).body.triage).toMatchObject({ state: 'acknowledged', note: 'vendor contacted', ticketUrl: 'https://tickets.example/HS-1' });
    const resolved = await patch(`/v1/clusters/${litware.id}`, { state: 'resolved', resolvedInVersion: 'litware 4.2' });
    expect(resolved.body.triage).toMatchObject({ state: 'resolved', resolvedInVersion: 'litware 4.2' });
    expect((await api('/v1/clusters?state=resolved')).body.items.map((item: any) => item.id)).toEqual([litware.id]);

    const again = await upload(pipeline, tenant.key, transcriptBlaming('LitwareIo'), { server: 'DB-1' });
    await waitForReports(pipeline, [again.body.id as string]);
    const after = await api(`/v1/clusters/${litware.id}`);
    expect(after.body.state).toBe('regressed');
    expect(after.body.serverCount).toBe(2);
  });

  it('refuses triage without the admin scope, and states the service sets itself', async () => {
    const [contoso] = (await api('/v1/clusters?module=ContosoFlt')).body.items;
    expect((await patch(`/v1/clusters/${contoso.id}`, { state: 'acknowledged' }, tenant.key)).status).toBe(403);
    expect((await patch(`/v1/clusters/${contoso.id}`, { state: 'regressed' })).status).toBe(400);
    expect((await patch(`/v1/clusters/${contoso.id}`, {})).status).toBe(400);
    expect((await patch(`/v1/clusters/${contoso.id}`, { ticketUrl: 'javascript:alert(1)' })).status).toBe(400);
  });
});

describe('GET /v1/trends', () => {
  it('counts reports per bucket, the top clusters, new clusters and movers from the rollups', async () => {
    const trends = await api('/v1/trends?window=7d&bucket=1d');
    expect(trends.status).toBe(200);
    expect(trends.body.buckets).toHaveLength(7);
    // In the last 7 days: 3 Fabrikam, 3 Contoso, and the regressed Litware report of the triage test (if it ran).
    const inWindow = await pipeline.runtime.db.report.count({ where: { tenantId: tenant.tenantId, status: 'analysed', receivedAt: { gte: new Date(trends.body.from) } } });
    expect(trends.body.totals.reduce((sum: number, value: number) => sum + value, 0)).toBe(inWindow);
    const contoso = trends.body.clusters.find((entry: any) => entry.cluster.blamedModule === 'ContosoFlt');
    expect(contoso.reports).toBe(3);
    expect(contoso.series.reduce((sum: number, point: any) => sum + point.servers, 0)).toBeGreaterThanOrEqual(3);
    expect(trends.body.newClusters.items.map((item: any) => item.blamedModule)).toContain('ContosoFlt');
    expect(trends.body.topMovers[0].cluster.blamedModule).toBe('ContosoFlt');
    expect((await api('/v1/trends?window=90d&bucket=1h')).status).toBe(400);
    expect((await api('/v1/trends?window=24h&bucket=1h')).body.buckets).toHaveLength(24);
  });
});

describe('servers', () => {
  it('lists servers and shows a server history with verdicts and clusters', async () => {
    const servers = await api('/v1/servers?limit=100');
    expect(servers.body.items.map((item: any) => item.name)).toContain('FS-3');
    const history = await api('/v1/servers/FS-3/history');
    expect(history.status).toBe(200);
    expect(history.body.server.name).toBe('FS-3');
    expect(history.body.items[0]).toMatchObject({ status: 'analysed', verdict: 'hang' });
    expect(history.body.items[0].findings[0].cluster.link).toContain('/v1/clusters/');
    expect((await api('/v1/servers/NOPE/history')).status).toBe(404);
  });
});

describe('entity tags on the fleet answers', () => {
  it('answers 304 without a body to a client holding the current answer, 200 with a new tag once it changed', async () => {
    // The answer cache on, as in production: with it off every answer is computed anew, its window ending now.
    const cached = await startApi({ ...pipeline.runtime, config: { ...pipeline.runtime.config, fleetCacheTtlMs: 60_000, port: 0 } });
    try {
      // A conditional request as a browser revalidating its cached copy sends it (fetch alone would add
      // `Cache-Control: no-cache`, an end-to-end reload that asks for the whole answer again).
      const headers = { authorization: `Bearer ${tenant.key}`, 'cache-control': 'max-age=0' };
      const [first] = (await api('/v1/clusters?module=ContosoFlt')).body.items;
      const path = `${cached.url}/v1/clusters/${first.id}`;
      const fetched = await fetch(path, { headers });
      const etag = fetched.headers.get('etag');
      expect(fetched.status).toBe(200);
      expect(fetched.headers.get('content-type')).toMatch(/^application\/json/);
      expect(fetched.headers.get('cache-control')).toBe('private, no-cache');
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(JSON.parse(await fetched.text()).id).toBe(first.id);

      const again = await fetch(path, { headers: { ...headers, 'if-none-match': etag! } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      expect((await fetch(path, { headers: { ...headers, 'if-none-match': '"something-else"' } })).status).toBe(200);

      const note = await fetch(`${cached.url}/v1/clusters/${first.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: `checked at ${Date.now()}` }),
      });
      expect(note.status).toBe(200);
      const changed = await fetch(path, { headers: { ...headers, 'if-none-match': etag! } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      // Another tenant's key learns nothing from a tag: 404, as without one.
      expect((await fetch(path, { headers: { authorization: `Bearer ${other.key}`, 'if-none-match': etag! } })).status).toBe(404);
    } finally {
      await cached.close();
    }
  });
});

describe('tenant isolation on every fleet route', () => {
  it("answers 404 or an empty list to another tenant's key", async () => {
    const [fabrikam] = (await api('/v1/clusters?module=FabrikamDSM')).body.items;
    for (const path of [`/v1/clusters/${fabrikam.id}`, `/v1/clusters/${fabrikam.id}/servers`, '/v1/servers/FS-0/history']) {
      expect((await api(path, other.key)).status, path).toBe(404);
    }
    const otherKeyAdmin = (await issueApiKey(pipeline.runtime.db, other.tenantId, 'admin', ['admin'])).key;
    expect((await patch(`/v1/clusters/${fabrikam.id}`, { state: 'resolved' }, otherKeyAdmin)).status).toBe(404);
    const theirs = await api('/v1/clusters', other.key);
    expect(theirs.body.items).toHaveLength(1);
    expect(theirs.body.items[0].id).not.toBe(fabrikam.id);
    expect((await api('/v1/servers', other.key)).body.items.map((item: any) => item.name)).toEqual(['OTHER-0']);
    const trends = await api('/v1/trends?window=7d', other.key);
    expect(trends.body.totals.reduce((sum: number, value: number) => sum + value, 0)).toBe(1);
  });
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document describing every route, with an interactive viewer at /docs', async () => {
    const document = await (await fetch(`${pipeline.api.url}/openapi.json`)).json();
    const validator = new Validator();
    const result = await validator.validate(document as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    for (const path of ['/v1/reports', '/v1/reports/{id}', '/v1/clusters', '/v1/clusters/{id}', '/v1/trends', '/v1/servers', '/v1/servers/{name}/history']) {
      expect(Object.keys((document as any).paths), path).toContain(path);
    }
    expect((document as any).paths['/v1/reports'].post.requestBody.content).toHaveProperty('application/gzip');
    const docs = await fetch(`${pipeline.api.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
