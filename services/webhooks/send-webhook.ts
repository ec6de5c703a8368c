/**
 * One HTTP POST of a webhook. Never throws: every outcome (delivered, refused by the SSRF guard, timed out,
 * answered 5xx, ...) comes back as a value for the delivery log and the retry decision.
 *
 * The SSRF guard runs twice: on the URL before anything is sent (so a refusal is immediate and explained), and
 * again inside the connection's own DNS lookup, so the address connected to is always one that was checked.
 */
import { lookup as lookupHost } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Agent, request } from 'undici';
import { RefusedAddressError, checkUrl, createGuardedLookup, type HostLookup } from './ssrf-guard.ts';

/** How much of the response the delivery log keeps. */
export const RESPONSE_SNIPPET_BYTES = 2048;

export interface SendWebhookOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Everything together: lookup, connect, request, response headers and body. */
  timeoutMs: number;
  /** The response body is read up to this many bytes, then the connection is dropped. */
  maxResponseBytes: number;
  /** CIDRs or exact host names let through despite being private (e.g. `127.0.0.1/32` for a local receiver). */
  allowlist?: readonly string[] | undefined;
  /** Resolves a host name to all its addresses; the system resolver by default. */
  lookup?: HostLookup | undefined;
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

export async function sendWebhook(options: SendWebhookOptions): Promise<WebhookSendResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const allowlist = options.allowlist ?? [];
  const lookup = options.lookup ?? lookupAllAddresses;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${options.timeoutMs} ms`));
  }, options.timeoutMs);
  let agent: Agent | undefined;
  let status: number | null = null;
  let retryAfterMs: number | null = null;
  const snippet = new SnippetCollector(Math.min(RESPONSE_SNIPPET_BYTES, Math.max(0, options.maxResponseBytes)));

  try {
    const check = await untilAborted(checkUrl(options.url, { lookup, allowlist }), controller.signal);
    if (!check.ok) return failure({ latencyMs: elapsed(), error: check.reason, refused: check.refused ? check.reason : null });

    agent = new Agent({
      connect: { lookup: createGuardedLookup(lookup, allowlist), timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    // No redirect interceptor: a 3xx is handed back as it is and never followed (the target would escape the check).
    const response = await request(check.url, {
      method: 'POST',
      headers: withDefaultHeaders(options.headers),
      body: options.body,
      dispatcher: agent,
      signal: controller.signal,
    });
    status = response.statusCode;
    retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    const location = firstHeader(response.headers['location']);
    try {
      await readAtMost(response.body, options.maxResponseBytes, (chunk) => snippet.add(chunk));
    } catch {
      // The status has been received and decides the outcome; the body is only kept for the log.
    }
    const ok = status >= 200 && status < 300;
    return { ok, status, latencyMs: elapsed(), retryAfterMs, responseSnippet: snippet.text(), error: ok ? null : statusError(status, location), refused: null };
  } catch (error) {
    const refusal = refusalIn(error);
    if (refusal) return failure({ latencyMs: elapsed(), error: refusal, refused: refusal, status, retryAfterMs, responseSnippet: snippet.text() });
    const message = timedOut ? `timed out after ${options.timeoutMs} ms` : describeError(error);
    return failure({ latencyMs: elapsed(), error: message, status, retryAfterMs, responseSnippet: snippet.text() });
  } finally {
    clearTimeout(timer);
    if (agent) await agent.destroy().catch(() => undefined);
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
  // Leaving the loop early destroys the body, which drops the connection: the rest is never downloaded.
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
