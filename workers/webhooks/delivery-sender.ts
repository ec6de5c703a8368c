/** The sender one webhook worker process delivers through: its connections are shared by all its deliveries. */
import { createWebhookSender, type WebhookSender } from '../../services/webhooks/send-webhook.ts';
import type { HostLookup } from '../../services/webhooks/ssrf-guard.ts';

/** The response body a delivery reads at most; the delivery log keeps its first 2 KB. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface DeliverySenderSettings {
  /** WEBHOOK_TIMEOUT_MS: one delivery's whole HTTP exchange. */
  timeoutMs: number;
  /** WEBHOOK_ALLOWED_HOSTS. */
  allowlist: readonly string[];
  /** WEBHOOK_CONCURRENCY: as many connections to one receiver as deliveries in flight, so none waits for another's. */
  concurrency: number;
  lookup?: HostLookup | undefined;
}

export function createDeliverySender(settings: DeliverySenderSettings): WebhookSender {
  return createWebhookSender({
    timeoutMs: settings.timeoutMs,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    allowlist: settings.allowlist,
    lookup: settings.lookup,
    maxConnectionsPerOrigin: settings.concurrency,
  });
}
