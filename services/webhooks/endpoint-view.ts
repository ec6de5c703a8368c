/** An endpoint as its tenant sees it: everything but its secrets. */
import type { Prisma } from '../db/create-prisma-client.ts';

type EndpointRow = Prisma.WebhookEndpointGetPayload<object>;

export interface EndpointView {
  id: string;
  url: string;
  kind: string;
  events: string[];
  filters: { pattern: string | null; module: string | null; minServers: number };
  spread: { servers: number; windowMs: number; throttleMs: number };
  enabled: boolean;
  /** Why the service disabled it (410 Gone, failing for days), for the tenant to see and fix. */
  disabled: { reason: string; at: string } | null;
  failingSince: string | null;
  hasRoutingKey: boolean;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  links: { self: string; messages: string };
}

export function viewEndpoint(row: EndpointRow, baseUrl: string): EndpointView {
  return {
    id: row.id,
    url: row.url,
    kind: row.kind,
    events: row.events,
    filters: { pattern: row.patternFilter, module: row.moduleFilter, minServers: row.minServers },
    spread: { servers: row.spreadServers, windowMs: row.spreadWindowMs, throttleMs: row.throttleMs },
    enabled: row.enabled,
    disabled: !row.enabled && row.disabledReason ? { reason: row.disabledReason, at: (row.disabledAt ?? row.updatedAt).toISOString() } : null,
    failingSince: row.failingSince?.toISOString() ?? null,
    hasRoutingKey: row.routingKey !== null,
    previousSecretExpiresAt: row.previousSecretExpiresAt && row.previousSecretExpiresAt > new Date() ? row.previousSecretExpiresAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    links: { self: `${baseUrl}/v1/webhooks/${row.id}`, messages: `${baseUrl}/v1/webhooks/${row.id}/messages` },
  };
}
