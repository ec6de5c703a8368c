/** A small client of the HangSleuth HTTP API: upload a transcript, read a report. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { STATUS_CODES, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { Verdict } from '../engine/index.ts';

export type ReportStatus = 'received' | 'queued' | 'analysing' | 'analysed' | 'failed';

export interface UploadReceipt {
  id: string;
  status: ReportStatus;
  server: string;
  contentSha256: string;
  byteSize: number;
  receivedAt: string;
  /** The same content for the same server was uploaded before: this is that report. */
  duplicate: boolean;
  links: { self: string; transcript: string };
}

export interface ReportFinding {
  pattern: string;
  blamedModule: string | null;
  confidence: string;
  summary: string;
  signature: { hash: string; text: string } | null;
  cluster: { id: string; link: string } | null;
}

export interface Report {
  id: string;
  status: ReportStatus;
  error: { code: string; message: string } | null;
  verdict: Verdict | null;
  findings: ReportFinding[];
  links: Record<string, string>;
}

/** An error answer of the API (application/problem+json), or an answer the client cannot use. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string | null;
  readonly title: string;
  readonly detail: string;
  /** The server's Retry-After, in milliseconds, when it gave one in seconds. */
  readonly retryAfterMs: number | null;

  constructor(status: number, code: string | null, title: string, detail: string, retryAfterMs: number | null = null) {
    super(`${status} ${title}: ${detail}`);
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The API could not be reached, or the connection broke before a whole answer arrived. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

export interface UploadOptions {
  path: string;
  server: string;
  ticket?: string;
  /** Defaults to the file's own name. */
  fileName?: string;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  onRetry?: RetryListener;
}

/** Told before each retry: why, how long the wait is, and which retry (1-based) comes next. */
export type RetryListener = (error: Error, delayMs: number, retry: number) => void;

export const MAX_RETRIES = 3;
const RETRYABLE_STATUSES = new Set([502, 503, 504]);
const MAX_RETRY_DELAY_MS = 30_000;
/** An upload of 512 MiB can pause while the server stores it; a minute of silence is not that. */
const IDLE_TIMEOUT_MS = 120_000;

/**
 * The wait before retry number `retry` (1-based), or null once the retries are used up. A longer Retry-After
 * from the server wins (the API asks for 5 s when a dependency is down), up to 30 s.
 */
export function retryDelayMs(retry: number, retryAfterMs: number | null = null): number | null {
  if (retry < 1 || retry > MAX_RETRIES) return null;
  return Math.min(Math.max(500 * 2 ** (retry - 1), retryAfterMs ?? 0), MAX_RETRY_DELAY_MS);
}

export function isRetryable(error: unknown): boolean {
  return error instanceof ConnectionError || (error instanceof ApiError && RETRYABLE_STATUSES.has(error.status));
}

export async function withRetries<T>(
  operation: () => Promise<T>,
  onRetry: RetryListener = () => {},
  delayFor: (retry: number, retryAfterMs: number | null) => number | null = retryDelayMs,
): Promise<T> {
  for (let retry = 1; ; retry++) {
    try {
      return await operation();
    } catch (error) {
      const delay = isRetryable(error) ? delayFor(retry, error instanceof ApiError ? error.retryAfterMs : null) : null;
      if (delay === null) throw error;
      onRetry(error as Error, delay, retry);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * The Idempotency-Key of an upload: a retried or repeated upload of the same file for the same server sends the
 * same key. The file's own hash comes first, at a fixed width, so no file/server pair can collide with another.
 */
export async function idempotencyKeyFor(content: Readable, server: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of content) hash.update(chunk as Buffer);
  return createHash('sha256').update(`${hash.digest('hex')}\n${server}`).digest('hex');
}

export class ApiClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;

  constructor(baseUrl: string, apiKey: string) {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
    this.#apiKey = apiKey;
  }

  /** Streams the file from disk (never whole in memory); retries are safe because of the Idempotency-Key. */
  async uploadReport(options: UploadOptions): Promise<UploadReceipt> {
    const { size } = await stat(options.path);
    // Bounded to the size announced in Content-Length: a transcript the debugger is still appending to is cut there.
    const open = (): Readable => (size > 0 ? createReadStream(options.path, { end: size - 1 }) : Readable.from([]));
    const idempotencyKey = await idempotencyKeyFor(open(), options.server);
    const query = new URLSearchParams({ server: options.server });
    if (options.ticket !== undefined) query.set('ticket', options.ticket);
    query.set('fileName', options.fileName ?? basename(options.path));
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size),
      'Idempotency-Key': idempotencyKey,
    };
    const onProgress = (sent: number) => options.onProgress?.(sent, size);
    const answer = await withRetries(() => this.#call('POST', '/v1/reports', query, headers, { open, onProgress }, [200, 202]), options.onRetry);
    return expectShape<UploadReceipt>(answer, ['id', 'status', 'links']);
  }

  async getReport(id: string, onRetry?: RetryListener): Promise<Report> {
    const answer = await withRetries(() => this.#call('GET', `/v1/reports/${encodeURIComponent(id)}`, null, {}, null, [200]), onRetry);
    return expectShape<Report>(answer, ['id', 'status', 'findings']);
  }

  async #call(method: string, path: string, query: URLSearchParams | null, headers: Record<string, string>, body: RequestBody | null, ok: number[]): Promise<Answer> {
    const url = new URL(`${this.#baseUrl}${path}${query ? `?${query}` : ''}`);
    const answer = await send(method, url, { ...headers, Authorization: `Bearer ${this.#apiKey}`, Accept: 'application/json' }, body);
    if (!ok.includes(answer.status)) throw problemOf(answer);
    return answer;
  }
}

interface RequestBody {
  open(): Readable;
  onProgress(sentBytes: number): void;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

function send(method: string, url: URL, headers: Record<string, string>, body: RequestBody | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, timeout: IDLE_TIMEOUT_MS });
    let file: Readable | null = null;
    let answered = false;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      file?.destroy();
      request.destroy();
      reject(error);
    };
    const broken = (error: Error) => new ConnectionError(`cannot reach ${url.origin}: ${error.message}`, { cause: error });

    request.on('timeout', () => fail(new ConnectionError(`no answer from ${url.origin} for ${IDLE_TIMEOUT_MS / 1000} s`)));
    // A server that answers early (401, 413) may close the connection while the body is still going out.
    request.on('error', (error) => {
      if (!answered) fail(broken(error));
    });
    request.on('response', (response) => {
      answered = true;
      const unfinished = file !== null && !request.writableFinished;
      if (unfinished) {
        file?.unpipe(request);
        file?.destroy();
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => fail(broken(error)));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        // A connection with half a request body on it cannot carry another request.
        if (unfinished) request.destroy();
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], text: Buffer.concat(chunks).toString('utf8') });
      });
    });

    if (body === null) {
      request.end();
      return;
    }
    file = body.open();
    let sent = 0;
    file.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      body.onProgress(sent);
    });
    // A read error is the file's fault, not the connection's: it is not retried.
    file.on('error', fail);
    file.pipe(request);
  });
}

function problemOf(answer: Answer): ApiError {
  const problem = parseJson(answer.text);
  const text = (key: string) => (problem !== null && typeof problem[key] === 'string' ? (problem[key] as string) : null);
  const fallbackDetail = answer.text.trim().replace(/\s+/g, ' ').slice(0, 200) || 'no details given';
  // Only the delta-seconds form: an HTTP-date would need the server's clock to agree with ours.
  const retryAfterMs = answer.retryAfter !== undefined && /^\d+$/.test(answer.retryAfter.trim()) ? Number(answer.retryAfter) * 1000 : null;
  return new ApiError(answer.status, text('code'), text('title') ?? STATUS_CODES[answer.status] ?? 'HTTP error', text('detail') ?? fallbackDetail, retryAfterMs);
}

function expectShape<T>(answer: Answer, required: string[]): T {
  const value = parseJson(answer.text);
  const missing = value === null ? required : required.filter((key) => value[key] === undefined || value[key] === null);
  if (missing.length > 0) throw new ApiError(answer.status, 'invalid-response', 'Unexpected answer', `the answer lacks ${missing.join(', ')}`);
  return value as T;
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
