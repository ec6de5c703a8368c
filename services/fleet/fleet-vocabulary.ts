/**
 * The fleet API's words and limits: cluster states and sorts, page sizes, time windows. This module imports nothing,
 * so that the dashboard (web/) can bundle it as well as the service.
 */
export const CLUSTER_SORTS = ['servers', 'reports', 'lastSeen', 'growth'] as const;
export type ClusterSort = (typeof CLUSTER_SORTS)[number];

export const CLUSTER_STATES = ['open', 'acknowledged', 'resolved', 'regressed'] as const;
export type ClusterState = (typeof CLUSTER_STATES)[number];

/** The states a person may set; `regressed` is the service's to set, when a resolved cluster is seen again. */
export const SETTABLE_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type SettableState = (typeof SETTABLE_STATES)[number];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const WINDOW = /^([1-9]\d{0,3})([hd])$/;
export const MAX_WINDOW_MS = 366 * 86_400_000;

/** `24h`, `7d`, `90d` → milliseconds; null when malformed or longer than a year. */
export function parseWindow(text: string): number | null {
  const match = WINDOW.exec(text);
  if (!match) return null;
  const ms = Number(match[1]) * (match[2] === 'h' ? 3_600_000 : 86_400_000);
  return ms <= MAX_WINDOW_MS ? ms : null;
}
