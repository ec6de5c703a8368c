/** The body an endpoint of each kind receives for an event; null when that kind is not sent this event. */
import type { StoredClusterEvent } from './plan-cluster-events.ts';
import type { ClusterEvent } from './cluster-event.ts';
import { buildGenericPayload } from './generic-payload.ts';
import { buildPagerDutyEvent } from './pagerduty-payload.ts';
import { buildSlackMessage } from './slack-payload.ts';

export function renderWebhookBody(kind: 'generic' | 'slack' | 'pagerduty', stored: StoredClusterEvent, options: { publicUrl: string; routingKey: string | null }): string | null {
  const event = toClusterEvent(stored, options.publicUrl);
  if (kind === 'generic') return JSON.stringify(buildGenericPayload(event));
  if (kind === 'slack') return JSON.stringify(buildSlackMessage(event));
  const payload = buildPagerDutyEvent(event, { routingKey: options.routingKey ?? '' });
  return payload === null ? null : JSON.stringify(payload);
}

/** The stored event (ISO times, paths) as the payload builders take it (dates, absolute links). */
export function toClusterEvent(stored: StoredClusterEvent, publicUrl: string): ClusterEvent {
  return {
    id: stored.id,
    type: stored.type,
    occurredAt: new Date(stored.occurredAt),
    cluster: { ...stored.cluster, state: stored.cluster.state as ClusterEvent['cluster']['state'], firstSeenAt: new Date(stored.cluster.firstSeenAt), lastSeenAt: new Date(stored.cluster.lastSeenAt) },
    trigger: stored.trigger,
    spread: stored.spread,
    links: { cluster: `${publicUrl}${stored.paths.cluster}`, ...(stored.paths.report ? { report: `${publicUrl}${stored.paths.report}` } : {}) },
  };
}
