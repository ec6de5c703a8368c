/**
 * A PagerDuty Events API v2 event for a cluster event. The cluster id is the dedup key, so every event of one
 * cluster (created, spreading, regressed) updates the same alert and `cluster.resolved` resolves it.
 */
import type { ClusterEvent, ClusterEventType } from './cluster-event.ts';
import { truncateText } from './truncate-text.ts';

/** developer.pagerduty.com/docs/send-alert-event (Events API v2). */
export const PAGERDUTY_LIMITS = {
  summary: 1024,
  dedupKey: 255,
  /** Not a PagerDuty limit: the whole event must stay under 512 KB, and a signature is read in HangSleuth anyway. */
  customDetailsSignature: 8192,
} as const;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** The fewest servers a cluster must be on for each severity; below `warning` it is `info`. */
export interface SeverityThresholds {
  critical: number;
  error: number;
  warning: number;
}

/** A hang on one server is worth knowing (info); on 2+ it is a pattern (warning); on 5+ an outage in the making (error); on 20+ critical. */
export const DEFAULT_SEVERITY_THRESHOLDS: SeverityThresholds = { critical: 20, error: 5, warning: 2 };

export interface PagerDutyLink {
  href: string;
  text: string;
}

export interface PagerDutyTriggerEvent {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component?: string;
    group: string;
    class: 'hang';
    custom_details: Record<string, unknown>;
  };
  links: PagerDutyLink[];
  client: 'HangSleuth';
  client_url: string;
}

export interface PagerDutyResolveEvent {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTriggerEvent | PagerDutyResolveEvent;

export interface PagerDutyPayloadOptions {
  /** The Events API v2 integration key of the PagerDuty service. */
  routingKey: string;
  severityThresholds?: SeverityThresholds | undefined;
}

const TRIGGERING: ReadonlySet<ClusterEventType> = new Set(['cluster.created', 'cluster.spreading', 'cluster.regressed']);

/** The event to send, or null for events PagerDuty is not told about (`report.analysed`: one report is not an alert). */
export function buildPagerDutyEvent(event: ClusterEvent, options: PagerDutyPayloadOptions): PagerDutyEvent | null {
  const dedupKey = event.cluster.id;
  if (event.type === 'cluster.resolved') return { routing_key: options.routingKey, event_action: 'resolve', dedup_key: dedupKey };
  if (!TRIGGERING.has(event.type)) return null;

  const { cluster, trigger, spread, links } = event;
  const payload: PagerDutyTriggerEvent['payload'] = {
    summary: truncateText(summaryOf(event), PAGERDUTY_LIMITS.summary),
    // PagerDuty wants the affected host; a fleet-wide cluster has none, so the newest server it reached stands in.
    source: trigger?.server ?? `${cluster.serverCount} servers`,
    severity: severityForSpread(cluster.serverCount, options.severityThresholds),
    timestamp: event.occurredAt.toISOString(),
    group: cluster.pattern,
    class: 'hang',
    custom_details: {
      event: event.type,
      event_id: event.id,
      cluster_id: cluster.id,
      pattern: cluster.pattern,
      blamed_module: cluster.blamedModule,
      state: cluster.state,
      servers: cluster.serverCount,
      reports: cluster.reportCount,
      first_seen: cluster.firstSeenAt.toISOString(),
      last_seen: cluster.lastSeenAt.toISOString(),
      signature: truncateText(cluster.signatureText, PAGERDUTY_LIMITS.customDetailsSignature),
      ...(trigger ? { report_id: trigger.reportId, server: trigger.server, report_summary: trigger.summary } : {}),
      ...(spread ? { spread_servers: spread.servers, spread_threshold: spread.threshold, spread_window_ms: spread.windowMs } : {}),
    },
  };
  if (cluster.blamedModule) payload.component = cluster.blamedModule;

  const pageLinks: PagerDutyLink[] = [{ href: links.cluster, text: 'Cluster in HangSleuth' }];
  if (links.report) pageLinks.push({ href: links.report, text: 'Triggering report' });
  if (links.dashboard) pageLinks.push({ href: links.dashboard, text: 'HangSleuth dashboard' });

  return {
    routing_key: options.routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload,
    links: pageLinks,
    client: 'HangSleuth',
    client_url: links.dashboard ?? links.cluster,
  };
}

export function severityForSpread(serverCount: number, thresholds: SeverityThresholds = DEFAULT_SEVERITY_THRESHOLDS): PagerDutySeverity {
  if (serverCount >= thresholds.critical) return 'critical';
  if (serverCount >= thresholds.error) return 'error';
  if (serverCount >= thresholds.warning) return 'warning';
  return 'info';
}

function summaryOf(event: ClusterEvent): string {
  const { pattern, blamedModule, serverCount } = event.cluster;
  const what = blamedModule ? `${pattern} in ${blamedModule}` : pattern;
  const servers = `${serverCount} ${serverCount === 1 ? 'server' : 'servers'}`;
  const verb = event.type === 'cluster.created' ? 'New hang' : event.type === 'cluster.spreading' ? 'Hang spreading' : 'Hang regressed';
  const detail = event.trigger ? `: ${event.trigger.summary}` : '';
  return `${verb}: ${what} on ${servers}${detail}`;
}
