/**
 * The webhook sender: one HTTP POST per `send`, over keep-alive connections that one long-lived undici Agent pools
 * per origin, so a delivery to a receiver already talked to costs no TCP or TLS handshake. `send` never throws:
 * every outcome (delivered, refused by the SSRF guard, timed out, answered 5xx, ...) comes back as a value for the
 * delivery log and the retry decision.
 *
 * The SSRF guard runs twice: on the URL at every send before anything is sent (so a refusal is immediate and
 * explained), and inside the DNS lookup of every new connection, so the address a pooled connection was opened to
 * is always one that was checked.
 */
import { lookup as lookupHost } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Agent, request } from 'undici';
import { RefusedAddressError, checkUrl, createGuardedLookup, type HostLookup } from './ssrf-guard.ts';

/** How much of the response the delivery log keeps. */
export const RESPONSE_SNIPPET_BYTES = 2048;

export interface WebhookSenderOptions {
  /** Everything together, per send: lookup, connect, request, response headers and body. */
  timeoutMs: number;
  /** The response body is read up to this many bytes, then the connection is dropped. */
  maxResponseBytes: number;
  /** CIDRs or exact host names let through despite being private (e.g. `127.0.0.1/32` for a local receiver). */
  allowlist?: readonly string[] | undefined;
  /** Resolves a host name to all its addresses; the system resolver by default. */
  lookup?: HostLookup | undefined;
  /**
   * Connections open to one origin at most. No fewer than the sends in flight: a send waiting for another's
   * connection would spend its timeout unsent.
   */
  maxConnectionsPerOrigin?: number | undefined;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookSendResult {
  /** The receiver answered 2xx. */
  ok: boolean;
  status: number | null;
  latencyMs: number;
  /** The receiver's Retry-After (seconds or an HTTP date), in ms from now. */
  retryAfterMs: number | null;
  /** The first ≤ 2 KB of the response body, for the delivery log. */
  responseSnippet: string;
  /** Why the delivery failed (also set when `refused` is); null when ok. */
  error: string | null;
  /** Set when the SSRF guard refused the URL or an address it resolved to: nothing was sent. */
  refused: string | null;
}

export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookSendResult>;
  /** Lets the sends in flight finish, then closes every pooled connection. */
  close(): Promise<void>;
}

/** WEBHOOK_CONCURRENCY's default. */
const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 32;
/**
 * An idle connection is closed after 4 s (undici's default), shorter than common servers' idle timeouts (Node's
 * http server 5 s, nginx 75 s), so a receiver seldom closes one just as a delivery is written to it. A receiver's
 * Keep-Alive hint overrides it, up to a minute.
 */
const KEEP_ALIVE_TIMEOUT_MS = 4_000;
const KEEP_ALIVE_MAX_TIMEOUT_MS = 60_000;

/** What every send of one sender checks and enforces. */
interface SendLimits {
  timeoutMs: number;
  maxResponseBytes: number;
  allowlist: readonly string[];
  lookup: HostLookup;
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const limits: SendLimits = { timeoutMs: options.timeoutMs, maxResponseBytes: options.maxResponseBytes, allowlist: options.allowlist ?? [], lookup: options.lookup ?? lookupAllAddresses };
  const agent = new Agent({
    // Runs at every new connection, never for a pooled one: each connection was checked when it was opened.
    connect: { lookup: createGuardedLookup(limits.lookup, limits.allowlist), timeout: limits.timeoutMs },
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MAX_TIMEOUT_MS,
    connections: options.maxConnectionsPerOrigin ?? DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
    // One request at a time per connection: a slow receiver's answer never holds up another delivery.
    pipelining: 1,
  });
  return {
    send: (webhook) => sendOne(agent, webhook, limits),
    close: () => agent.close(),
  };
}

async function sendOne(agent: Agent, webhook: WebhookRequest, limits: SendLimits): Promise<WebhookSendResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${limits.timeoutMs} ms`));
  }, limits.timeoutMs);
  let status: number | null = null;
  let retryAfterMs: number | null = null;
  const snippet = new SnippetCollector(Math.min(RESPONSE_SNIPPET_BYTES, Math.max(0, limits.maxResponseBytes)));

  try {
    const check = await untilAborted(checkUrl(webhook.url, { lookup: limits.lookup, allowlist: limits.allowlist }), controller.signal);
    if (!check.ok) return failure({ latencyMs: elapsed(), error: check.reason, refused: check.refused ? check.reason : null });

    // No redirect interceptor: a 3xx is handed back as it is and never followed (the target would escape the check).
    // An abort (the timeout, or the body cut short below) destroys the connection, so a half-finished exchange never
    // goes back to the pool. (undici 7 then opens one spare connection to the origin: nodejs/undici#5845.)
    const response = await request(check.url, {
      method: 'POST',
      headers: withDefaultHeaders(webhook.headers),
      body: webhook.body,
      dispatcher: agent,
      signal: controller.signal,
    });
    status = response.statusCode;
    retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    const location = firstHeader(response.headers['location']);
    try {
      await readAtMost(response.body, limits.maxResponseBytes, (chunk) => snippet.add(chunk));
    } catch {
      // The status has been received and decides the outcome; the body is only kept for the log.
    }
    const ok = status >= 200 && status < 300;
    return { ok, status, latencyMs: elapsed(), retryAfterMs, responseSnippet: snippet.text(), error: ok ? null : statusError(status, location), refused: null };
  } catch (error) {
    const refusal = refusalIn(error);
    if (refusal) return failure({ latencyMs: elapsed(), error: refusal, refused: refusal, status, retryAfterMs, responseSnippet: snippet.text() });
    const message = timedOut ? `timed out after ${limits.timeoutMs} ms` : describeError(error);
    return failure({ latencyMs: elapsed(), error: message, status, retryAfterMs, responseSnippet: snippet.text() });
  } finally {
    clearTimeout(timer);
  }
}

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | null {
  const text = firstHeader(value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse reads '-5' or '2' as years; an HTTP date always names its day or month.
  if (!/[a-z]/i.test(text)) return null;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The system resolver, every address (IPv4 and IPv6): the guard must see all of them, not the first. */
export async function lookupAllAddresses(hostname: string): Promise<{ address: string; family: number }[]> {
  return lookupHost(hostname, { all: true });
}

function failure(partial: Partial<WebhookSendResult> & { latencyMs: number; error: string }): WebhookSendResult {
  return { ok: false, status: null, retryAfterMs: null, responseSnippet: '', refused: null, ...partial };
}

function statusError(status: number, location: string | undefined): string {
  if (status >= 300 && status < 400) return `redirect ${status}${location ? ` to ${location}` : ''} not followed: point the webhook at the final URL`;
  return `the receiver answered ${status}`;
}

function withDefaultHeaders(headers: Record<string, string>): Record<string, string> {
  const present = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  return {
    ...(present.has('content-type') ? {} : { 'content-type': 'application/json' }),
    ...(present.has('user-agent') ? {} : { 'user-agent': 'HangSleuth-Webhooks/1' }),
    ...headers,
  };
}

async function readAtMost(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number, onChunk: (chunk: Buffer) => void): Promise<void> {
  let read = 0;
  if (maxBytes <= 0) {
    body.destroy();
    return;
  }
  // Leaving the loop early destroys the body before its end, which aborts the request and drops the connection
  // (never returned to the pool): the rest is never downloaded.
  for await (const chunk of body) {
    const take = Math.min(chunk.length, maxBytes - read);
    onChunk(take === chunk.length ? chunk : chunk.subarray(0, take));
    read += take;
    if (read >= maxBytes) break;
  }
}

class SnippetCollector {
  private readonly decoder = new StringDecoder('utf8');
  private kept = 0;
  private textSoFar = '';
  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    if (this.kept >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.kept);
    this.kept += part.length;
    // StringDecoder holds back a character cut at the limit instead of turning it into U+FFFD.
    this.textSoFar += this.decoder.write(part);
  }

  text(): string {
    return this.textSoFar;
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function refusalIn(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current instanceof RefusedAddressError || current.name === 'RefusedAddressError') return current.message;
  }
  return null;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : error.name;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${code}: ${error.message}${cause}`;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
