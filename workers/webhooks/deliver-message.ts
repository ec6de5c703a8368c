/**
 * One delivery attempt of one webhook message: render the body for the endpoint's kind, sign it (Standard
 * Webhooks), send it through the SSRF-guarded sender, and log the attempt. Expected outcomes are values; a
 * failure worth retrying throws `RetryDelivery` so that BullMQ tries again on the schedule.
 */
import type { Database } from '../../services/db/create-prisma-client.ts';
import type { Logger } from '../../services/logging/create-logger.ts';
import type { StoredClusterEvent } from '../../services/webhooks/plan-cluster-events.ts';
import { renderWebhookBody } from '../../services/webhooks/render-webhook-body.ts';
import type { WebhookSender } from '../../services/webhooks/send-webhook.ts';
import { signMessage } from '../../services/webhooks/sign-message.ts';
import { recordDeliveredAttempt, recordUndeliveredAttempt, type AttemptRecord } from './record-attempt.ts';

export interface DeliveryDependencies {
  db: Database;
  logger: Logger;
  publicUrl: string;
  disableAfterMs: number;
  /** The worker process's sender (createDeliverySender), shared by its deliveries. */
  sender: WebhookSender;
}

export type DeliveryOutcome =
  | { status: 'delivered'; statusCode: number }
  | { status: 'failed'; reason: string }
  | { status: 'skipped'; reason: string };

/** A failed attempt that the schedule should retry; carries the receiver's Retry-After when it sent one. */
export class RetryDelivery extends Error {
  override readonly name = 'RetryDelivery';
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

export async function deliverMessage(deps: DeliveryDependencies, messageId: string, finalAttempt: boolean): Promise<DeliveryOutcome> {
  const message = await deps.db.webhookMessage.findUnique({ where: { id: messageId }, include: { endpoint: true } });
  if (!message) return { status: 'skipped', reason: 'the message no longer exists' };
  if (message.status === 'delivered') return { status: 'skipped', reason: 'already delivered' };
  const { endpoint } = message;
  if (!endpoint.enabled) return fail(deps, messageId, `the endpoint is disabled: ${endpoint.disabledReason ?? 'by its owner'}`);

  const now = new Date();
  const body = renderWebhookBody(endpoint.kind, message.event as unknown as StoredClusterEvent, { publicUrl: deps.publicUrl, routingKey: endpoint.routingKey });
  if (body === null) {
    await deps.db.webhookMessage.update({ where: { id: messageId }, data: { status: 'delivered', deliveredAt: now } });
    return { status: 'skipped', reason: `${endpoint.kind} endpoints are not sent ${message.eventType}` };
  }
  const secrets = [endpoint.secret, ...(endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now ? [endpoint.previousSecret] : [])];
  const headers = { ...signMessage({ id: message.id, timestamp: now, body, secrets }), 'content-type': 'application/json', 'user-agent': 'HangSleuth-Webhooks/1' };
  const result = await deps.sender.send({ url: endpoint.url, headers, body });

  const attempt: AttemptRecord = { messageId, attemptedAt: now, statusCode: result.status, latencyMs: Math.round(result.latencyMs), responseSnippet: result.responseSnippet || null, error: result.refused ?? result.error };
  if (result.ok) {
    await recordDeliveredAttempt(deps.db, attempt, endpoint.id, new Date());
    return { status: 'delivered', statusCode: result.status! };
  }
  await recordUndeliveredAttempt(deps.db, attempt);
  if (result.refused) return fail(deps, messageId, `refused to send: ${result.refused}`);
  if (result.status === 410) {
    await disable(deps, endpoint.id, 'the receiver answered 410 Gone');
    return fail(deps, messageId, 'the receiver answered 410 Gone: the endpoint is disabled');
  }
  // PagerDuty answers 400 to an event it will never accept (a bad routing key, say): its docs say not to retry.
  if (endpoint.kind === 'pagerduty' && result.status === 400) return fail(deps, messageId, `PagerDuty refused the event (400): ${result.responseSnippet.slice(0, 200)}`);
  const failingSince = endpoint.failingSince ?? now;
  if (!endpoint.failingSince) await deps.db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { failingSince: now } });
  if (now.getTime() - failingSince.getTime() >= deps.disableAfterMs) {
    await disable(deps, endpoint.id, `every delivery failed since ${failingSince.toISOString()}`);
    return fail(deps, messageId, 'the endpoint failed for too long and is disabled');
  }
  const why = result.status !== null ? `the receiver answered ${result.status}` : `no answer: ${result.error ?? 'unknown error'}`;
  if (finalAttempt) return fail(deps, messageId, `${why}; no attempts left`);
  throw new RetryDelivery(why, result.retryAfterMs);
}

async function fail(deps: DeliveryDependencies, messageId: string, reason: string): Promise<DeliveryOutcome> {
  await deps.db.webhookMessage.update({ where: { id: messageId }, data: { status: 'failed' } });
  deps.logger.warn({ messageId, reason }, 'webhook message not delivered');
  return { status: 'failed', reason };
}

async function disable(deps: DeliveryDependencies, endpointId: string, reason: string): Promise<void> {
  await deps.db.webhookEndpoint.update({ where: { id: endpointId }, data: { enabled: false, disabledReason: reason, disabledAt: new Date() } });
  deps.logger.warn({ endpointId, reason }, 'webhook endpoint disabled');
}
