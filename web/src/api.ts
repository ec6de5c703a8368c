/** The dashboard's only way to the service: the public /v1 API, with the API key kept in sessionStorage. */

const KEY_STORAGE = 'hangsleuth.apiKey';

export function getApiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** An answer other than 2xx, with the problem+json detail when the service sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function problemOf(response: Response): Promise<ApiError> {
  let detail = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { detail?: string; title?: string };
    detail = body.detail ?? body.title ?? detail;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, detail);
}

export async function apiFetch<T>(path: string, init: RequestInit = {}, key = getApiKey()): Promise<T> {
  const headers = new Headers(init.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await fetch(path, { ...init, headers });
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as T;
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ---- shapes of the answers (services/api/schemas.ts) ----

export const CLUSTER_SORTS = ['servers', 'reports', 'lastSeen', 'growth'] as const;
export const CLUSTER_STATES = ['open', 'acknowledged', 'resolved', 'regressed'] as const;
export type ClusterSort = (typeof CLUSTER_SORTS)[number];
export type ClusterState = (typeof CLUSTER_STATES)[number];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ClusterSummary {
  id: string;
  pattern: string;
  blamedModule: string | null;
  signatureText: string;
  state: ClusterState;
  firstSeenAt: string;
  lastSeenAt: string;
  serverCount: number;
  reportCount: number;
  growth?: { reports: number; previousReports: number; change: number };
  links: { self: string };
}

export interface ChainStep {
  from: string;
  to: string;
  fromLabel: string;
  toLabel: string;
  relation: string;
  inferred: boolean;
  evidence: { line: number; text: string }[];
}

export interface Finding {
  pattern: string;
  summary: string;
  blamedModule: string | null;
  rootBlocker: { kind: string; id: string; label: string; process?: string; waitedMs?: number; frames?: string[] } | null;
  chain: ChainStep[];
  missing: { what: string; command: string }[];
  confidence: string;
  signature?: { text: string; hash: string; rulesVersion: string };
}

export interface ServerItem {
  name: string;
  firstSeenAt: string;
  lastSeenAt: string;
  reportCount: number;
  links: { history: string };
}

export interface SeriesPoint {
  bucket: string;
  reports: number;
  servers: number;
  newServers: number;
}

export interface ClusterDetail extends Omit<ClusterSummary, 'links'> {
  requestedId: string;
  aliases: string[];
  notes: string[];
  triage: { state: string; stateChangedAt: string | null; resolvedInVersion: string | null; note: string | null; ticketUrl: string | null };
  signatures: { hash: string; text: string; rulesVersion: string; placement: string; notes: string[]; firstSeenAt: string; lastSeenAt: string }[];
  representative: { reportId: string; server: string; receivedAt: string; finding: Finding | null; link: string } | null;
  series: { bucket: 'hour' | 'day'; from: string; to: string; points: SeriesPoint[] };
  servers: Page<ServerItem>;
  links: { self: string; servers: string };
}

export interface Trends {
  from: string;
  to: string;
  bucket: 'hour' | 'day';
  buckets: string[];
  totals: number[];
  clusters: { cluster: ClusterSummary; reports: number; series: { reports: number; servers: number }[] }[];
  newClusters: { count: number; items: ClusterSummary[] };
  topMovers: { cluster: ClusterSummary; reports: number; previousReports: number; change: number }[];
}

export interface ServerHistory extends Page<{
  reportId: string;
  receivedAt: string;
  status: string;
  error: { code: string; message: string } | null;
  verdict: string | null;
  summary: string | null;
  findings: { pattern: string; blamedModule: string | null; confidence: string; signature: string; cluster: { id: string; link: string } }[];
  links: { report: string };
}> {
  server: ServerItem;
}

export interface ReportReceipt {
  id: string;
  status: string;
  server: string;
  duplicate: boolean;
  links: { self: string; transcript: string };
}

export interface ReportView {
  id: string;
  status: 'received' | 'queued' | 'analysing' | 'analysed' | 'failed';
  server: string;
  fileName: string | null;
  error: { code: string; message: string } | null;
  verdict: { verdict: string; summary: string } | null;
  findings: { ordinal: number; pattern: string; blamedModule: string | null; confidence: string; summary: string; cluster: { id: string; link: string } }[];
}

export interface TriagePatch {
  state?: 'open' | 'acknowledged' | 'resolved';
  resolvedInVersion?: string | null;
  note?: string | null;
  ticketUrl?: string | null;
}

/** POST /v1/reports through XMLHttpRequest, the one browser API that reports upload progress. */
export function uploadReport(
  file: File,
  metadata: { server: string; ticket?: string },
  onProgress: (fraction: number) => void,
): { promise: Promise<ReportReceipt>; abort(): void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<ReportReceipt>((resolve, reject) => {
    xhr.open('POST', `/v1/reports${query({ server: metadata.server, ticket: metadata.ticket, fileName: file.name })}`);
    const key = getApiKey();
    if (key) xhr.setRequestHeader('authorization', `Bearer ${key}`);
    xhr.setRequestHeader('content-type', /\.gz$/i.test(file.name) ? 'application/gzip' : 'text/plain');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as ReportReceipt);
      } else {
        const detail = (body as { detail?: string } | null)?.detail ?? `HTTP ${xhr.status}`;
        reject(new ApiError(xhr.status, detail));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'the upload failed: the service could not be reached')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'the upload was cancelled')));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
