/**
 * One delivery attempt against the real PostgreSQL (a database of its own) and a real HTTP receiver on loopback:
 * what the delivery log, the message and the endpoint hold afterwards, and that a delivered attempt's writes
 * become visible together or not at all.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDatabase, type Database } from '../../services/db/create-prisma-client.ts';
import { planReportEvents } from '../../services/webhooks/plan-cluster-events.ts';
import type { WebhookSender } from '../../services/webhooks/send-webhook.ts';
import { deliverMessage, RetryDelivery, type DeliveryDependencies } from '../../workers/webhooks/deliver-message.ts';
import { createDeliverySender } from '../../workers/webhooks/delivery-sender.ts';
import { createTestDatabase } from '../support/pipeline-harness.ts';

/** Answers by path: `/status/<code>` with that status (and `retry-after: 7` on 503), anything else 200. */
function startReceiver(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const status = Number(/^\/status\/(\d{3})/.exec(request.url ?? '')?.[1] ?? 200);
      response.writeHead(status, status === 503 ? { 'retry-after': '7' } : {}).end(`answered ${status}`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Database;
let observer: pg.Client;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let sender: WebhookSender;
let deps: DeliveryDependencies;
const DISABLE_AFTER_MS = 86_400_000;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase({ url: database.url, poolSize: 4 });
  observer = new pg.Client({ connectionString: database.url });
  await observer.connect();
  receiver = await startReceiver();
  sender = createDeliverySender({ timeoutMs: 2000, allowlist: ['127.0.0.1/32'], concurrency: 4 });
  deps = { db, logger: pino({ level: 'silent' }), publicUrl: 'https://hangsleuth.example.com', disableAfterMs: DISABLE_AFTER_MS, sender };
});
afterAll(async () => {
  await sender?.close();
  receiver?.server.close();
  await observer?.end();
  await db?.$disconnect();
  await database?.drop();
});

interface EndpointSetup {
  path?: string;
  kind?: 'generic' | 'pagerduty';
  failingSince?: Date | null;
}

/** A tenant with one endpoint on the receiver and one pending `cluster.created` message for it. */
async function pendingMessage(setup: EndpointSetup = {}): Promise<{ messageId: string; endpointId: string }> {
  const tenant = await db.tenant.create({ data: { name: `deliveries-${randomUUID()}` } });
  const server = await db.server.create({ data: { tenantId: tenant.id, name: 'SRV-1', reportCount: 1 } });
  const endpoint = await db.webhookEndpoint.create({
    data: {
      tenantId: tenant.id,
      url: `${receiver.url}${setup.path ?? '/hook'}`,
      kind: setup.kind ?? 'generic',
      routingKey: setup.kind === 'pagerduty' ? 'R0UTINGKEY0000000000000000000000' : null,
      events: ['cluster.created'],
      secret: 'whsec_dGVzdA==',
      failingSince: setup.failingSince ?? null,
    },
  });
  const cluster = await db.cluster.create({ data: { tenantId: tenant.id, pattern: 'lock-convoy', blamedModule: 'contoso.sys', signatureText: 'ERESOURCE convoy', serverCount: 1, reportCount: 1 } });
  const report = { tenantId: tenant.id, reportId: randomUUID(), serverId: server.id, seenAt: new Date(), summary: 'Logon hangs' };
  const [messageId] = await db.$transaction((tx) => planReportEvents(tx, report, [{ clusterId: cluster.id, created: true, regressed: false }]));
  return { messageId: messageId!, endpointId: endpoint.id };
}

/** What another connection sees of the message, its attempts and its endpoint. */
async function observe(messageId: string, endpointId: string) {
  const query = async <T extends pg.QueryResultRow>(sql: string, values: unknown[]) => (await observer.query<T>(sql, values)).rows;
  const [message] = await query<{ status: string; attempt_count: number; last_attempt_at: Date | null; delivered_at: Date | null }>('SELECT status, attempt_count, last_attempt_at, delivered_at FROM webhook_messages WHERE id = $1', [messageId]);
  const attempts = await query<{ attempted_at: Date; status_code: number | null; response_snippet: string | null; error: string | null }>('SELECT attempted_at, status_code, response_snippet, error FROM webhook_attempts WHERE message_id = $1 ORDER BY attempted_at', [messageId]);
  const [endpoint] = await query<{ enabled: boolean; disabled_reason: string | null; failing_since: Date | null; updated_at: Date }>('SELECT enabled, disabled_reason, failing_since, updated_at FROM webhook_endpoints WHERE id = $1', [endpointId]);
  return { message: message!, attempts, endpoint: endpoint! };
}

describe('a delivered attempt', () => {
  it('logs the attempt, marks the message delivered and clears the endpoint failing streak, all visible at once', async () => {
    const { messageId, endpointId } = await pendingMessage({ failingSince: new Date(Date.now() - 3_600_000) });
    // Another transaction holds the endpoint row, so the delivery's write stops there, its other writes made but not committed.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 FOR UPDATE', [endpointId]);
      const delivery = deliverMessage(deps, messageId, false);
      await vi.waitFor(async () => {
        const { rows } = await observer.query<{ waiting: number }>("SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        expect(rows[0]!.waiting).toBe(1);
      });
      const meanwhile = await observe(messageId, endpointId);
      expect(meanwhile.attempts).toEqual([]);
      expect(meanwhile.message).toMatchObject({ status: 'pending', attempt_count: 0, last_attempt_at: null, delivered_at: null });
      expect(meanwhile.endpoint.failing_since).not.toBeNull();

      await holder.query('COMMIT');
      expect(await delivery).toEqual({ status: 'delivered', statusCode: 200 });
    } finally {
      await holder.end();
    }
    const after = await observe(messageId, endpointId);
    expect(after.attempts).toEqual([expect.objectContaining({ status_code: 200, response_snippet: 'answered 200', error: null })]);
    expect(after.message).toMatchObject({ status: 'delivered', attempt_count: 1, last_attempt_at: after.attempts[0]!.attempted_at });
    expect(after.message.delivered_at!.getTime()).toBeGreaterThanOrEqual(after.attempts[0]!.attempted_at.getTime());
    expect(after.endpoint).toMatchObject({ enabled: true, failing_since: null, updated_at: after.message.delivered_at });
  });

  it('leaves a healthy endpoint row alone', async () => {
    const { messageId, endpointId } = await pendingMessage();
    const before = await observe(messageId, endpointId);
    expect(await deliverMessage(deps, messageId, false)).toEqual({ status: 'delivered', statusCode: 200 });
    const after = await observe(messageId, endpointId);
    expect(after.message).toMatchObject({ status: 'delivered', attempt_count: 1 });
    expect(after.endpoint).toEqual(before.endpoint);
  });

  it('is not sent again once delivered', async () => {
    const { messageId } = await pendingMessage();
    await deliverMessage(deps, messageId, false);
    expect(await deliverMessage(deps, messageId, false)).toEqual({ status: 'skipped', reason: 'already delivered' });
  });
});

describe('an attempt that does not deliver', () => {
  it('is logged and counted, starts the failing streak, and is retried with the receiver Retry-After', async () => {
    const { messageId, endpointId } = await pendingMessage({ path: '/status/503' });
    const failure = await deliverMessage(deps, messageId, false).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RetryDelivery);
    expect(failure).toMatchObject({ message: 'the receiver answered 503', retryAfterMs: 7000 });
    const after = await observe(messageId, endpointId);
    expect(after.attempts).toEqual([expect.objectContaining({ status_code: 503, response_snippet: 'answered 503', error: 'the receiver answered 503' })]);
    expect(after.message).toMatchObject({ status: 'pending', attempt_count: 1, last_attempt_at: after.attempts[0]!.attempted_at, delivered_at: null });
    expect(after.endpoint.failing_since).toEqual(after.attempts[0]!.attempted_at);
  });

  it('fails the message on the last attempt', async () => {
    const { messageId, endpointId } = await pendingMessage({ path: '/status/500' });
    expect(await deliverMessage(deps, messageId, true)).toEqual({ status: 'failed', reason: 'the receiver answered 500; no attempts left' });
    expect((await observe(messageId, endpointId)).message).toMatchObject({ status: 'failed', attempt_count: 1 });
  });

  it('disables the endpoint on 410 Gone', async () => {
    const { messageId, endpointId } = await pendingMessage({ path: '/status/410' });
    expect(await deliverMessage(deps, messageId, false)).toMatchObject({ status: 'failed', reason: expect.stringContaining('410 Gone') });
    const after = await observe(messageId, endpointId);
    expect(after.message).toMatchObject({ status: 'failed', attempt_count: 1 });
    expect(after.endpoint).toMatchObject({ enabled: false, disabled_reason: 'the receiver answered 410 Gone' });
  });

  it('fails a PagerDuty event answered 400 without retrying or disabling', async () => {
    const { messageId, endpointId } = await pendingMessage({ path: '/status/400', kind: 'pagerduty' });
    expect(await deliverMessage(deps, messageId, false)).toEqual({ status: 'failed', reason: 'PagerDuty refused the event (400): answered 400' });
    const after = await observe(messageId, endpointId);
    expect(after.message).toMatchObject({ status: 'failed', attempt_count: 1 });
    expect(after.endpoint).toMatchObject({ enabled: true, failing_since: null });
  });

  it('disables an endpoint failing for longer than disableAfterMs', async () => {
    const { messageId, endpointId } = await pendingMessage({ path: '/status/500', failingSince: new Date(Date.now() - 2 * DISABLE_AFTER_MS) });
    expect(await deliverMessage(deps, messageId, false)).toEqual({ status: 'failed', reason: 'the endpoint failed for too long and is disabled' });
    const after = await observe(messageId, endpointId);
    expect(after.attempts).toHaveLength(1);
    expect(after.endpoint).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('every delivery failed since') });
  });
});
