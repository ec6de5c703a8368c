/** Which subscriptions hear of a cluster change, and when `cluster.spreading` fires. Pure. */
import { CLUSTER_EVENT_TYPES, type ClusterEventType } from './cluster-event.ts';

export const WEBHOOK_EVENT_TYPES = CLUSTER_EVENT_TYPES;
export type WebhookEventType = ClusterEventType;

export interface EndpointRules {
  events: readonly string[];
  patternFilter: string | null;
  moduleFilter: string | null;
  minServers: number;
}

export interface ClusterFacts {
  pattern: string;
  blamedModule: string | null;
  serverCount: number;
}

/** The endpoint wants this event type for this cluster: its filters match and the cluster is on enough servers. */
export function endpointWants(endpoint: EndpointRules, type: WebhookEventType, cluster: ClusterFacts): boolean {
  if (!endpoint.events.includes(type)) return false;
  if (endpoint.patternFilter !== null && endpoint.patternFilter !== cluster.pattern) return false;
  if (endpoint.moduleFilter !== null && endpoint.moduleFilter.toLowerCase() !== (cluster.blamedModule ?? '').toLowerCase()) return false;
  // Resolution always reaches an endpoint that may have been told of the cluster, whatever its size now.
  return type === 'cluster.resolved' || cluster.serverCount >= endpoint.minServers;
}

export interface SpreadInput {
  /** Distinct servers the cluster was seen on within the endpoint's window. */
  serversInWindow: number;
  threshold: number;
  armed: boolean;
  lastFiredAt: Date | null;
  throttleMs: number;
  now: Date;
}

/**
 * Fires once when the servers in the window reach the threshold, then disarms; falling below the threshold
 * re-arms it, so a second crossing fires again, but never sooner than the throttle after the last one.
 */
export function decideSpread(input: SpreadInput): { fire: boolean; armed: boolean } {
  if (input.serversInWindow < input.threshold) return { fire: false, armed: true };
  if (!input.armed) return { fire: false, armed: false };
  if (input.lastFiredAt && input.now.getTime() - input.lastFiredAt.getTime() < input.throttleMs) return { fire: false, armed: true };
  return { fire: true, armed: false };
}
