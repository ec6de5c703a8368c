/** The dashboard's only way to the service: the public /v1 API, with the API key kept in sessionStorage. */
import type { z } from 'zod';
import type {
  ClusterDetailSchema,
  ClusterSummarySchema,
  ReportReceiptSchema,
  ReportViewSchema,
  ServerHistorySchema,
  ServerItemSchema,
  TrendsSchema,
  TriagePatchSchema,
  pageOfSchema,
} from '../../services/api/schemas.ts';
import type { ChainStep, Finding, Verdict } from '../../services/engine/correlate/verdict-types.ts';

export type { ClusterSort, ClusterState } from '../../services/fleet/fleet-vocabulary.ts';
export type { ChainStep, Finding };

// The answers' shapes, derived from the API's schemas (type-only imports: neither zod nor the schemas are bundled).
export type Page<Item> = z.output<ReturnType<typeof pageOfSchema<z.ZodType<Item>>>>;
export type ClusterSummary = z.output<typeof ClusterSummarySchema>;
export type ServerItem = z.output<typeof ServerItemSchema>;
export type ServerHistory = z.output<typeof ServerHistorySchema>;
export type Trends = z.output<typeof TrendsSchema>;
export type ReportReceipt = z.output<typeof ReportReceiptSchema>;
export type TriagePatch = z.input<typeof TriagePatchSchema>;

// The schemas leave the engine's verdict and finding opaque (`unknown`); the dashboard reads them as the engine's types.
type ClusterDetailAnswer = z.output<typeof ClusterDetailSchema>;
type Representative = NonNullable<ClusterDetailAnswer['representative']>;
export type ClusterDetail = Omit<ClusterDetailAnswer, 'representative'> & {
  representative: (Omit<Representative, 'finding'> & { finding: Finding | null }) | null;
};
export type SeriesPoint = ClusterDetail['series']['points'][number];
export type ReportView = Omit<z.output<typeof ReportViewSchema>, 'verdict'> & { verdict: Verdict | null };

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
