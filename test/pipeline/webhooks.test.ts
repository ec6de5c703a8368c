import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../services/auth/api-keys.ts';
import { planReportEvents } from '../../services/webhooks/plan-cluster-events.ts';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { getJson, startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP receiver on loopback; `respond` decides each answer (status, delay). */
class Receiver {
  readonly received: Received[] = [];
  respond: (request: Received, count: number) => { status: number; delayMs?: number; headers?: Record<string, string> } = () => ({ status: 200 });
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const entry = { path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(entry);
        const answer = this.respond(entry, this.received.filter((item) => item.path === entry.path).length);
        setTimeout(() => {
          if (response.destroyed) return;
          response.writeHead(answer.status, answer.headers ?? {}).end('ok');
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.received.filter((item) => item.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let pipeline: Pipeline;
let receiver: Receiver;
let example: string;

beforeAll(async () => {
  pipeline = await startPipeline({
    env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1/32', WEBHOOK_RETRY_SCHEDULE_MS: '150,150,150', WEBHOOK_TIMEOUT_MS: '800', RECONCILE_INTERVAL_MS: '60000' },
  });
  receiver = new Receiver();
  await receiver.start();
  example = await readFile(EXAMPLE_FILE, 'utf8');
});
afterAll(async () => {
  await receiver?.close();
  await pipeline?.close();
});
afterEach(() => {
  receiver.respond = () => ({ status: 200 });
});

function transcriptBlaming(module: string): string {
  return `${example.replaceAll('FabrikamDSM', module)}\n$$ ${randomBytes(6).toString('hex')}\n`;
}

async function adminTenant(): Promise<{ tenantId: string; key: string }> {
  const tenant = await pipeline.createTenant();
  return { tenantId: tenant.tenantId, key: (await issueApiKey(pipeline.runtime.db, tenant.tenantId, 'admin', ['admin'])).key };
}

async function subscribe(key: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${pipeline.api.url}/v1/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function until<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('cluster.created', () => {
  it('sends one signed message per matching subscription, verifiable with the standardwebhooks library', async () => {
    const tenant = await adminTenant();
    const matching = await subscribe(tenant.key, { url: `${receiver.url}/created`, events: ['cluster.created'] });
    expect(matching.status).toBe(201);
    expect(matching.body.secret).toMatch(/^whsec_/);
    await subscribe(tenant.key, { url: `${receiver.url}/other-module`, events: ['cluster.created'], filters: { module: 'SomethingElse' } });

    const answer = await upload(pipeline, tenant.key, transcriptBlaming('ContosoDsm'), { server: 'HOOK-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const [delivery] = await until(() => receiver.at('/created'), (list) => list.length >= 1, 'cluster.created');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at('/created')).toHaveLength(1);
    expect(receiver.at('/other-module')).toHaveLength(0);

    const headers = { 'webhook-id': String(delivery!.headers['webhook-id']), 'webhook-timestamp': String(delivery!.headers['webhook-timestamp']), 'webhook-signature': String(delivery!.headers['webhook-signature']) };
    const verifier = new Webhook(matching.body.secret);
    const payload = verifier.verify(delivery!.body, headers) as { type: string; data: { cluster: { blamedModule: string; serverCount: number } } };
    expect(payload.type).toBe('cluster.created');
    expect(payload.data.cluster.blamedModule).toBe('ContosoDsm');
    expect(() => verifier.verify(delivery!.body.replace('ContosoDsm', 'Tampered'), headers)).toThrow();
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect(() => verifier.verify(delivery!.body, { ...headers, 'webhook-timestamp': old })).toThrow();
  });
});

describe('cluster.spreading', () => {
  it('fires once when the servers in the window reach the threshold', async () => {
    const tenant = await adminTenant();
    await subscribe(tenant.key, { url: `${receiver.url}/spreading`, events: ['cluster.spreading'], spread: { servers: 3, windowMs: 3_600_000, throttleMs: 0 } });
    for (let index = 0; index < 5; index++) {
      const answer = await upload(pipeline, tenant.key, transcriptBlaming('LitwareNet'), { server: `SPREAD-${index}` });
      await waitForReports(pipeline, [answer.body.id as string]);
    }
    const [message] = await until(() => receiver.at('/spreading'), (list) => list.length >= 1, 'cluster.spreading');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.at('/spreading')).toHaveLength(1);
    expect(JSON.parse(message!.body).data.spread).toMatchObject({ servers: 3, threshold: 3 });
  });

  it('gives at most one message per throttle period for a burst of 1,000 reports', async () => {
    const tenant = await adminTenant();
    const db = pipeline.runtime.db;
    const endpoint = await db.webhookEndpoint.create({ data: { tenantId: tenant.tenantId, url: `${receiver.url}/burst`, kind: 'generic', events: ['cluster.spreading'], spreadServers: 2, spreadWindowMs: 3_600_000, throttleMs: 3_600_000, secret: 'whsec_dGVzdA==' } });
    const cluster = await db.cluster.create({ data: { tenantId: tenant.tenantId, pattern: 'worker-queue-starvation', blamedModule: 'BurstDrv', signatureText: 's', aliases: [], serverCount: 3, reportCount: 0 } });
    const now = new Date();
    for (let index = 0; index < 3; index++) {
      const server = await db.server.create({ data: { tenantId: tenant.tenantId, name: `BURST-${index}` } });
      await db.clusterServer.create({ data: { clusterId: cluster.id, serverId: server.id, tenantId: tenant.tenantId, firstSeenAt: now, lastSeenAt: now, reportCount: 1 } });
    }
    const server = await db.server.findFirstOrThrow({ where: { tenantId: tenant.tenantId } });
    let planned = 0;
    for (let index = 0; index < 1000; index++) {
      const ids = await db.$transaction((tx) => planReportEvents(tx, { tenantId: tenant.tenantId, reportId: '00000000-0000-4000-8000-000000000000', serverId: server.id, seenAt: new Date(), summary: 's' }, [{ clusterId: cluster.id, created: false, regressed: false }]));
      planned += ids.length;
    }
    expect(planned).toBe(1);
    expect(await db.webhookMessage.count({ where: { endpointId: endpoint.id } })).toBe(1);
  }, 120_000);
});

describe('delivery', () => {
  it('retries a failing receiver on the schedule and logs every attempt', async () => {
    const tenant = await adminTenant();
    const endpoint = await subscribe(tenant.key, { url: `${receiver.url}/flaky`, events: ['cluster.created'] });
    receiver.respond = (request, count) => (request.path === '/flaky' && count <= 2 ? { status: 503 } : { status: 200 });
    const answer = await upload(pipeline, tenant.key, transcriptBlaming('FlakyIo'), { server: 'RETRY-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    await until(() => receiver.at('/flaky'), (list) => list.length >= 3, 'the third attempt');
    const log = await until(
      async () => (await getJson(`${pipeline.api.url}/v1/webhooks/${endpoint.body.id}/messages`, tenant.key)).body,
      (body) => body.items[0]?.status === 'delivered',
      'delivered',
    );
    expect(log.items[0].attempts.map((attempt: any) => attempt.statusCode)).toEqual([503, 503, 200]);
    const ids = new Set(receiver.at('/flaky').map((item) => item.headers['webhook-id']));
    expect(ids.size).toBe(1);
  });

  it('disables an endpoint that answers 410, and says why', async () => {
    const tenant = await adminTenant();
    const endpoint = await subscribe(tenant.key, { url: `${receiver.url}/gone`, events: ['cluster.created'] });
    receiver.respond = (request) => (request.path === '/gone' ? { status: 410 } : { status: 200 });
    const answer = await upload(pipeline, tenant.key, transcriptBlaming('GoneDrv'), { server: 'GONE-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const view = await until(async () => (await getJson(`${pipeline.api.url}/v1/webhooks/${endpoint.body.id}`, tenant.key)).body, (body) => body.enabled === false, 'the endpoint disabled');
    expect(view.disabled.reason).toContain('410');
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('disables an endpoint that has failed every delivery for longer than WEBHOOK_DISABLE_AFTER_MS', async () => {
    const tenant = await adminTenant();
    const endpoint = await subscribe(tenant.key, { url: `${receiver.url}/down-for-days`, events: ['cluster.created'] });
    // It has been failing for six days (the default limit is five).
    await pipeline.runtime.db.webhookEndpoint.update({ where: { id: endpoint.body.id }, data: { failingSince: new Date(Date.now() - 6 * 86_400_000) } });
    receiver.respond = (request) => (request.path === '/down-for-days' ? { status: 500 } : { status: 200 });
    const answer = await upload(pipeline, tenant.key, transcriptBlaming('DownDrv'), { server: 'DOWN-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const view = await until(async () => (await getJson(`${pipeline.api.url}/v1/webhooks/${endpoint.body.id}`, tenant.key)).body, (body) => body.enabled === false, 'the endpoint disabled');
    expect(view.disabled.reason).toMatch(/failed since/);
    // Enabling it again clears the failure record.
    const enabled = await fetch(`${pipeline.api.url}/v1/webhooks/${endpoint.body.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    expect(await enabled.json()).toMatchObject({ enabled: true, disabled: null, failingSince: null });
  });

  it('replays a delivered message with the same webhook-id', async () => {
    const tenant = await adminTenant();
    const endpoint = await subscribe(tenant.key, { url: `${receiver.url}/replay`, events: ['cluster.created'] });
    const answer = await upload(pipeline, tenant.key, transcriptBlaming('ReplayDrv'), { server: 'REPLAY-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const log = await until(async () => (await getJson(`${pipeline.api.url}/v1/webhooks/${endpoint.body.id}/messages`, tenant.key)).body, (body) => body.items[0]?.status === 'delivered', 'delivered');
    const messageId = log.items[0].id as string;
    const replay = await fetch(`${pipeline.api.url}/v1/webhooks/${endpoint.body.id}/messages/${messageId}/replay`, { method: 'POST', headers: { authorization: `Bearer ${tenant.key}` } });
    expect(replay.status).toBe(202);
    const deliveries = await until(() => receiver.at('/replay'), (list) => list.length >= 2, 'the replay');
    expect(deliveries.map((item) => item.headers['webhook-id'])).toEqual([messageId, messageId]);
  });

  it('times a hanging receiver out without delaying another endpoint', async () => {
    const tenant = await adminTenant();
    await subscribe(tenant.key, { url: `${receiver.url}/hanging`, events: ['cluster.created'] });
    await subscribe(tenant.key, { url: `${receiver.url}/fast`, events: ['cluster.created'] });
    receiver.respond = (request) => (request.path === '/hanging' ? { status: 200, delayMs: 60_000 } : { status: 200 });
    const answer = await upload(pipeline, tenant.key, transcriptBlaming('SlowDrv'), { server: 'HANG-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const [fast] = await until(() => receiver.at('/fast'), (list) => list.length >= 1, 'the fast receiver');
    const [hanging] = receiver.at('/hanging');
    // The fast receiver got its message before the hanging one's timeout (800 ms) could have run out.
    expect(fast!.at - (hanging?.at ?? fast!.at)).toBeLessThan(800);
  });
});

describe('PagerDuty', () => {
  it('triggers on a new cluster and resolves it with the same dedup_key when the cluster is resolved', async () => {
    const tenant = await adminTenant();
    await subscribe(tenant.key, { url: `${receiver.url}/pagerduty`, kind: 'pagerduty', routingKey: 'R0UTINGKEY0000000000000000000000', events: ['cluster.created', 'cluster.resolved'] });
    const answer = await upload(pipeline, tenant.key, transcriptBlaming('PagerDrv'), { server: 'PD-1' });
    await waitForReports(pipeline, [answer.body.id as string]);
    const [trigger] = await until(() => receiver.at('/pagerduty'), (list) => list.length >= 1, 'the trigger');
    const triggered = JSON.parse(trigger!.body);
    expect(triggered).toMatchObject({ event_action: 'trigger', routing_key: 'R0UTINGKEY0000000000000000000000' });
    const response = await fetch(`${pipeline.api.url}/v1/clusters/${triggered.dedup_key}`, { method: 'PATCH', headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ state: 'resolved' }) });
    expect(response.status).toBe(200);
    const [, resolve] = await until(() => receiver.at('/pagerduty'), (list) => list.length >= 2, 'the resolve');
    expect(JSON.parse(resolve!.body)).toEqual({ routing_key: 'R0UTINGKEY0000000000000000000000', event_action: 'resolve', dedup_key: triggered.dedup_key });
  });
});

describe('subscriptions', () => {
  it('refuses private addresses without the allowlist, and keeps each tenant to its own endpoints', async () => {
    const tenant = await adminTenant();
    for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[::1]:9/hook']) {
      const refused = await subscribe(tenant.key, { url, events: ['cluster.created'] });
      expect(refused.status, url).toBe(400);
    }
    const mine = await subscribe(tenant.key, { url: `${receiver.url}/mine`, events: ['cluster.created'] });
    const other = await adminTenant();
    expect((await getJson(`${pipeline.api.url}/v1/webhooks/${mine.body.id}`, other.key)).status).toBe(404);
    expect((await getJson(`${pipeline.api.url}/v1/webhooks`, other.key)).body.items).toEqual([]);
    const readOnly = await pipeline.createTenant(undefined, ['read']);
    expect((await getJson(`${pipeline.api.url}/v1/webhooks`, readOnly.key)).status).toBe(403);
  });
});
