import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { getJson, startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

let pipeline: Pipeline;
let tenantA: { tenantId: string; key: string };
let tenantB: { tenantId: string; key: string };
let example: Buffer;

const MAX_UPLOAD_MB = 2;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { MAX_UPLOAD_MB: String(MAX_UPLOAD_MB) } });
  tenantA = await pipeline.createTenant('tenant-a');
  tenantB = await pipeline.createTenant('tenant-b');
  example = await readFile(EXAMPLE_FILE);
});
afterAll(async () => pipeline?.close());

function unique(): Buffer {
  return Buffer.concat([example, Buffer.from(`\n$$ ${randomBytes(8).toString('hex')}\n`)]);
}

async function reportRows(): Promise<number> {
  return pipeline.runtime.db.report.count();
}

describe('authentication and scopes', () => {
  it('answers 401 problem+json without a key, with a malformed key, and with an unknown or revoked key', async () => {
    for (const authorization of [undefined, 'Bearer nonsense', `Bearer hs_AAAAAAAAAAAA_${'x'.repeat(43)}`, 'Basic dXNlcjpwYXNz']) {
      const response = await fetch(`${pipeline.api.url}/v1/reports?server=s1`, { method: 'POST', headers: { 'content-type': 'text/plain', ...(authorization ? { authorization } : {}) }, body: example });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ status: 401, code: 'unauthenticated' });
    }
  });

  it('stores only a hash of each key, and a revoked key stops working', async () => {
    const { key, tenantId } = await pipeline.createTenant(undefined, ['upload']);
    const rows = await pipeline.runtime.db.apiKey.findMany({ where: { tenantId } });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(key.split('_')[2]);
    expect((await upload(pipeline, key, unique())).status).toBe(202);
    await pipeline.runtime.db.apiKey.update({ where: { id: rows[0]!.id }, data: { revokedAt: new Date() } });
    expect((await upload(pipeline, key, unique())).status).toBe(401);
  });

  it('refuses an upload with a read-only key (403), and a transcript download with an upload-only key', async () => {
    const reader = await pipeline.createTenant(undefined, ['read']);
    const denied = await upload(pipeline, reader.key, unique());
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');

    const uploader = await pipeline.createTenant(undefined, ['upload']);
    const accepted = await upload(pipeline, uploader.key, unique());
    const links = accepted.body.links as { self: string; transcript: string };
    expect((await getJson(links.self, uploader.key)).status).toBe(200);
    expect((await fetch(links.transcript, { headers: { authorization: `Bearer ${uploader.key}` } })).status).toBe(403);
  });
});

describe('tenant isolation', () => {
  it("gives tenant B 404 for tenant A's report, transcript and cluster", async () => {
    const answer = await upload(pipeline, tenantA.key, unique(), { server: 'ISOLATED-1' });
    const id = answer.body.id as string;
    await waitForReports(pipeline, [id]);
    const mine = await getJson(`${pipeline.api.url}/v1/reports/${id}`, tenantA.key);
    expect(mine.status).toBe(200);
    const clusterLink = mine.body.findings[0].cluster.link as string;
    expect((await getJson(clusterLink, tenantA.key)).status).toBe(200);

    expect((await getJson(`${pipeline.api.url}/v1/reports/${id}`, tenantB.key)).status).toBe(404);
    expect((await fetch(`${pipeline.api.url}/v1/reports/${id}/transcript`, { headers: { authorization: `Bearer ${tenantB.key}` } })).status).toBe(404);
    expect((await getJson(clusterLink, tenantB.key)).status).toBe(404);
    expect((await getJson(`${pipeline.api.url}/v1/reports/not-a-uuid`, tenantA.key)).status).toBe(404);
  });

  it('clusters each tenant apart: the same root cause makes one cluster per tenant', async () => {
    const a = await upload(pipeline, tenantA.key, unique(), { server: 'SHARED-NAME' });
    const b = await upload(pipeline, tenantB.key, unique(), { server: 'SHARED-NAME' });
    await waitForReports(pipeline, [a.body.id as string, b.body.id as string]);
    const findingA = await pipeline.runtime.db.finding.findFirstOrThrow({ where: { reportId: a.body.id as string } });
    const findingB = await pipeline.runtime.db.finding.findFirstOrThrow({ where: { reportId: b.body.id as string } });
    expect(findingA.clusterId).not.toBe(findingB.clusterId);
    expect(findingA.serverId).not.toBe(findingB.serverId);
  });
});

describe('content, size and metadata', () => {
  it('answers 415 for a content type that is not a transcript, and stores nothing', async () => {
    const before = await reportRows();
    for (const contentType of ['application/json', 'image/png']) {
      const answer = await upload(pipeline, tenantA.key, '{"a":1}', { contentType });
      expect(answer.status).toBe(415);
      expect(answer.body.code).toBe('unsupported-media-type');
    }
    expect(await reportRows()).toBe(before);
  });

  it('answers 413 for a body over the limit, announced or streamed without a length, and stores nothing', async () => {
    const before = await reportRows();
    const tooLarge = Buffer.alloc(MAX_UPLOAD_MB * 1024 * 1024 + 1, 'k');
    const announced = await upload(pipeline, tenantA.key, tooLarge);
    expect(announced.status).toBe(413);
    expect(announced.body.code).toBe('payload-too-large');

    const chunks = [tooLarge.subarray(0, 1024 * 1024), tooLarge.subarray(1024 * 1024)];
    const streamed = await fetch(`${pipeline.api.url}/v1/reports?server=big`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantA.key}`, 'content-type': 'text/plain' },
      body: new ReadableStream({ pull(controller) { const next = chunks.shift(); if (next) controller.enqueue(next); else controller.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await reportRows()).toBe(before);
  });

  it('answers 400 without a server name, for an empty body and for a bad collection time', async () => {
    const noServer = await fetch(`${pipeline.api.url}/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${tenantA.key}`, 'content-type': 'text/plain' }, body: example });
    expect(noServer.status).toBe(400);
    expect(((await noServer.json()) as { detail: string }).detail).toContain('server');
    expect((await upload(pipeline, tenantA.key, '')).status).toBe(400);
    expect((await upload(pipeline, tenantA.key, unique(), { query: { collectedAt: 'yesterday' } })).status).toBe(400);
  });

  it('accepts multipart/form-data with the metadata fields before the file', async () => {
    const form = new FormData();
    form.set('server', 'MULTI-1');
    form.set('ticket', 'INC-42');
    form.set('collectedAt', '2026-11-20T10:00:00Z');
    form.set('transcript', new Blob([unique()], { type: 'text/plain' }), 'hang.txt');
    const response = await fetch(`${pipeline.api.url}/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${tenantA.key}` }, body: form });
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; server: string };
    expect(body.server).toBe('MULTI-1');
    const row = await pipeline.runtime.db.report.findUniqueOrThrow({ where: { id: body.id } });
    expect(row).toMatchObject({ ticketId: 'INC-42', fileName: 'hang.txt', contentType: 'text/plain' });
    expect(row.collectedAt?.toISOString()).toBe('2026-11-20T10:00:00.000Z');
    await waitForReports(pipeline, [body.id]);
  });
});

describe('duplicates', () => {
  it('returns the existing report for a repeated Idempotency-Key, even with another body', async () => {
    const key = `upload-${randomBytes(6).toString('hex')}`;
    const first = await upload(pipeline, tenantA.key, unique(), { idempotencyKey: key });
    const again = await upload(pipeline, tenantA.key, unique(), { idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true });
    expect(await pipeline.runtime.db.report.count({ where: { idempotencyKey: key } })).toBe(1);
  });

  it('makes one report of concurrent uploads that share an Idempotency-Key', async () => {
    const key = `race-${randomBytes(6).toString('hex')}`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => upload(pipeline, tenantA.key, unique(), { idempotencyKey: key })));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(1);
    expect(await pipeline.runtime.db.report.count({ where: { idempotencyKey: key } })).toBe(1);
  });

  it('returns the existing report for the same content from the same server, not from another server', async () => {
    const body = unique();
    const first = await upload(pipeline, tenantA.key, body, { server: 'DEDUPE-1' });
    const same = await upload(pipeline, tenantA.key, body, { server: 'DEDUPE-1' });
    const otherServer = await upload(pipeline, tenantA.key, body, { server: 'DEDUPE-2' });
    expect(same).toMatchObject({ status: 200, body: { id: first.body.id, duplicate: true } });
    expect(otherServer.status).toBe(202);
    expect(otherServer.body.id).not.toBe(first.body.id);
  });
});

describe('health', () => {
  it('is live and ready when PostgreSQL, Redis and object storage answer', async () => {
    expect((await fetch(`${pipeline.api.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${pipeline.api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgresql: 'ok', redis: 'ok', objectStorage: 'ok' } });
  });
});
