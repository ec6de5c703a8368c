/**
 * The generic webhook body (docs/webhooks.md): Standard Webhooks' `{ type, timestamp, data }` plus a `schema`
 * version, so a receiver can tell a breaking change from an added field.
 */
import { serializeSnapshot, type ClusterEvent, type ClusterEventType, type EventTrigger, type SerializedClusterSnapshot } from './cluster-event.ts';

export const WEBHOOK_SCHEMA = 'hangsleuth.webhook/1';

export interface GenericWebhookBody {
  type: ClusterEventType;
  schema: typeof WEBHOOK_SCHEMA;
  /** When the event happened (ISO 8601), not when this attempt was sent: that is `webhook-timestamp`. */
  timestamp: string;
  data: {
    cluster: SerializedClusterSnapshot;
    trigger: EventTrigger | null;
    spread: { servers: number; threshold: number; windowMs: number } | null;
    links: { cluster: string; report: string | null; dashboard: string | null };
  };
}

export function buildGenericPayload(event: ClusterEvent): GenericWebhookBody {
  const { cluster, trigger, spread, links } = event;
  return {
    type: event.type,
    schema: WEBHOOK_SCHEMA,
    timestamp: event.occurredAt.toISOString(),
    data: {
      cluster: serializeSnapshot(cluster),
      // Keys are always present (null when absent) so receivers with typed schemas need no optional fields.
      trigger: trigger ? { reportId: trigger.reportId, server: trigger.server, summary: trigger.summary } : null,
      spread: spread ? { servers: spread.servers, threshold: spread.threshold, windowMs: spread.windowMs } : null,
      links: { cluster: links.cluster, report: links.report ?? null, dashboard: links.dashboard ?? null },
    },
  };
}
