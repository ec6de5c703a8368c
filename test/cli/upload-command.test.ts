import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { retryDelayMs } from '../../services/cli/api-client.ts';
import { main } from '../../services/cli/main.ts';
import { runUpload } from '../../services/cli/upload-command.ts';
import { analyzeTranscript } from '../../services/engine/index.ts';

const KEY = 'good-key';
const ENV = { HANGSLEUTH_API_KEY: KEY };
const VERDICT = analyzeTranscript(readFileSync(new URL('../../examples/hung-logon-worker-queue.txt', import.meta.url))).verdict;

interface Received {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How the fake API answers one upload: `reset` drops the connection once the body is in; `early` answers before reading it. */
type UploadPlan = 'accept' | 'reset' | { status: number; title: string; detail: string; early?: boolean; retryAfter?: string };
type ReportPlan = 'queued' | 'analysing' | 'analysed' | { failed: { code: string; message: string } };

/** A minimal HangSleuth API on a real socket: it records what it received and answers from per-test plans. */
class FakeApi {
  readonly received: Received[] = [];
  uploadPlans: UploadPlan[] = ['accept'];
  reportPlans: ReportPlan[] = ['queued', 'analysed'];
  #reportsById = new Map<string, number>();
  #idsByKey = new Map<string, string>();
  #server: Server = createServer((request, response) => {
    const url = new URL(request.url!, this.url);
    const chunks: Buffer[] = [];
    const record = () => this.received.push({ method: request.method!, url, headers: request.headers, body: Buffer.concat(chunks) });
    if (request.headers.authorization !== `Bearer ${KEY}`) {
      request.resume();
      return problem(response, { status: 401, title: 'Unauthorized', detail: 'the API key is not valid' });
    }
    if (request.method === 'POST' && url.pathname === '/v1/reports') {
      const plan = this.uploadPlans.length > 1 ? this.uploadPlans.shift()! : this.uploadPlans[0]!;
      if (typeof plan === 'object' && plan.early) {
        record();
        response.setHeader('Connection', 'close');
        return problem(response, plan);
      }
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        record();
        if (plan === 'reset') request.socket.destroy();
        else if (plan === 'accept') this.#accept(url, request.headers, Buffer.concat(chunks), response);
        else problem(response, plan);
      });
      return;
    }
    record();
    const id = url.pathname.match(/^\/v1\/reports\/([^/]+)$/)?.[1];
    const polls = id === undefined ? undefined : this.#reportsById.get(id);
    if (id === undefined || polls === undefined) return problem(response, { status: 404, title: 'Not Found', detail: 'no such report' });
    this.#reportsById.set(id, polls + 1);
    json(response, 200, this.#report(id, this.reportPlans[Math.min(polls, this.reportPlans.length - 1)]!));
  });

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get uploads(): Received[] {
    return this.received.filter((request) => request.method === 'POST');
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  reset(): void {
    this.received.length = 0;
    this.#idsByKey.clear();
    this.#reportsById.clear();
    this.uploadPlans = ['accept'];
    this.reportPlans = ['queued', 'analysed'];
  }

  #accept(url: URL, headers: IncomingHttpHeaders, body: Buffer, response: ServerResponse): void {
    const key = String(headers['idempotency-key']);
    const duplicate = this.#idsByKey.has(key);
    const id = this.#idsByKey.get(key) ?? `report-${this.#idsByKey.size + 1}`;
    this.#idsByKey.set(key, id);
    this.#reportsById.set(id, 0);
    json(response, duplicate ? 200 : 202, {
      id,
      status: 'received',
      server: url.searchParams.get('server'),
      contentSha256: createHash('sha256').update(body).digest('hex'),
      byteSize: body.length,
      receivedAt: '2025-01-01T00:00:00.000Z',
      duplicate,
      links: { self: `${this.url}/v1/reports/${id}`, transcript: `${this.url}/v1/reports/${id}/transcript` },
    });
  }

  #report(id: string, plan: ReportPlan) {
    const analysed = plan === 'analysed';
    return {
      id,
      status: typeof plan === 'string' ? plan : 'failed',
      error: typeof plan === 'object' ? plan.failed : null,
      verdict: analysed ? VERDICT : null,
      findings: analysed
        ? VERDICT.findings.map((finding, index) => ({
            pattern: finding.pattern,
            blamedModule: finding.blamedModule,
            confidence: finding.confidence,
            summary: finding.summary,
            signature: finding.signature ? { hash: finding.signature.hash, text: finding.signature.text } : null,
            cluster: { id: `cluster-${index + 1}`, link: `${this.url}/v1/clusters/cluster-${index + 1}` },
          }))
        : [],
      links: { self: `${this.url}/v1/reports/${id}` },
    };
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function problem(response: ServerResponse, { status, title, detail, retryAfter }: { status: number; title: string; detail: string; retryAfter?: string }): void {
  const body = { type: `https://hangsleuth.dev/problems/${status}`, title, status, detail, code: `http-${status}` };
  if (retryAfter !== undefined) response.setHeader('Retry-After', retryAfter);
  response.writeHead(status, { 'Content-Type': 'application/problem+json' }).end(JSON.stringify(body));
}

function captureConsole() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
  return { stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

const api = new FakeApi();
const folder = mkdtempSync(join(tmpdir(), 'hangsleuth-upload-'));
const bigFile = join(folder, 'big-transcript.txt');
const bigContent = randomBytes(3 * 1024 * 1024 + 17);

beforeAll(async () => {
  writeFileSync(bigFile, bigContent);
  await api.listen();
});
afterAll(async () => {
  await api.close();
  rmSync(folder, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  api.reset();
});

const upload = (...extra: string[]) => main(['upload', bigFile, '--server', 'SRV-01', '--url', api.url, ...extra], ENV);

describe('hangsleuth upload', () => {
  it('streams the file byte for byte with the contract headers, then waits for and prints the verdict', async () => {
    const output = captureConsole();
    expect(await upload('--ticket', 'INC-42', '--wait')).toBe(0);

    const [post, ...gets] = api.received;
    expect(post!.method).toBe('POST');
    expect(post!.body.equals(bigContent)).toBe(true);
    expect(post!.headers['content-type']).toBe('application/octet-stream');
    expect(post!.headers['content-length']).toBe(String(bigContent.length));
    expect(post!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(post!.headers['idempotency-key']).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.fromEntries(post!.url.searchParams)).toEqual({ server: 'SRV-01', ticket: 'INC-42', fileName: 'big-transcript.txt' });
    expect(gets.map((get) => `${get.method} ${get.url.pathname}`)).toEqual(['GET /v1/reports/report-1', 'GET /v1/reports/report-1']);

    expect(output.stdout()).toContain('big-transcript.txt (server SRV-01): HANG');
    expect(output.stdout()).toContain(VERDICT.summary);
    expect(output.stdout()).toContain(`1. ${VERDICT.findings[0]!.pattern}`);
    expect(output.stdout()).toContain(`cluster cluster-1 ${api.url}/v1/clusters/cluster-1`);
  });

  it('sends the same Idempotency-Key for the same content and server, and another for another server', async () => {
    const copy = join(folder, 'copy.txt');
    writeFileSync(copy, bigContent);
    const output = captureConsole();
    expect(await upload()).toBe(0);
    expect(await main(['upload', copy, '--server', 'SRV-01', '--url', api.url], ENV)).toBe(0);
    expect(await main(['upload', copy, '--server', 'SRV-02', '--url', api.url], ENV)).toBe(0);

    const [first, again, otherServer] = api.uploads.map((request) => request.headers['idempotency-key']);
    expect(again).toBe(first);
    expect(otherServer).not.toBe(first);
    expect(output.stdout()).toMatch(/^report report-\d+: received\n.*\/v1\/reports\/report-\d+$/m);
    expect(output.stdout()).toContain('(this content was already uploaded for this server)');
  });

  it('prints the receipt as JSON without --wait', async () => {
    const output = captureConsole();
    expect(await upload('--json')).toBe(0);
    const receipt = JSON.parse(output.stdout());
    expect(receipt).toMatchObject({ status: 'received', server: 'SRV-01', byteSize: bigContent.length });
    expect(receipt.contentSha256).toBe(createHash('sha256').update(bigContent).digest('hex'));
    expect(api.received.filter((request) => request.method === 'GET')).toHaveLength(0);
  });

  it('prints the final report as JSON with --wait --json', async () => {
    const output = captureConsole();
    expect(await upload('--wait', '--json')).toBe(0);
    const report = JSON.parse(output.stdout());
    expect(report.status).toBe('analysed');
    expect(report.verdict).toEqual(VERDICT);
    expect(report.findings[0].cluster.link).toMatch(/\/v1\/clusters\/cluster-1$/);
  });

  it('fails with the problem title and detail on a bad key (401), without retrying', async () => {
    const output = captureConsole();
    expect(await main(['upload', bigFile, '--server', 'SRV-01', '--url', api.url], { HANGSLEUTH_API_KEY: 'wrong' })).toBe(1);
    expect(output.stderr()).toBe('hangsleuth: upload failed: 401 Unauthorized: the API key is not valid');
    expect(api.received).toHaveLength(0);
  });

  it('fails on 413 even when the server answers before reading the body', async () => {
    api.uploadPlans = [{ status: 413, title: 'Payload Too Large', detail: 'the largest upload is 1 MiB', early: true }];
    const output = captureConsole();
    expect(await upload()).toBe(1);
    expect(output.stderr()).toBe('hangsleuth: upload failed: 413 Payload Too Large: the largest upload is 1 MiB');
    expect(api.uploads).toHaveLength(1);
  });

  it('retries a 503 with the same Idempotency-Key and the whole body again', async () => {
    api.uploadPlans = [{ status: 503, title: 'Service Unavailable', detail: 'the object store is down', retryAfter: '1' }, 'accept'];
    const output = captureConsole();
    expect(await upload()).toBe(0);
    expect(api.uploads).toHaveLength(2);
    const [failed, retried] = api.uploads;
    expect(retried!.headers['idempotency-key']).toBe(failed!.headers['idempotency-key']);
    expect(retried!.body.equals(bigContent)).toBe(true);
    expect(output.stderr()).toContain('hangsleuth: 503 Service Unavailable; retry 1 of 3 in 1.0 s');
    expect(output.stdout()).toContain('report report-1: received');
  });

  it('retries after the connection drops', async () => {
    api.uploadPlans = ['reset', 'accept'];
    const output = captureConsole();
    expect(await upload()).toBe(0);
    expect(api.uploads).toHaveLength(2);
    expect(output.stderr()).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: .*; retry 1 of 3/);
  });

  it('gives up after three retries of a 503', async () => {
    api.uploadPlans = [{ status: 503, title: 'Service Unavailable', detail: 'the database is down' }];
    const output = captureConsole();
    expect(await upload()).toBe(1);
    expect(api.uploads).toHaveLength(4);
    expect(output.stderr()).toMatch(/hangsleuth: upload failed: 503 Service Unavailable: the database is down$/);
  });

  it('exits 3 with the error code and message when the analysis failed', async () => {
    api.reportPlans = ['analysing', { failed: { code: 'analysis-timeout', message: 'the analysis took longer than 120 s' } }];
    const output = captureConsole();
    expect(await upload('--wait')).toBe(3);
    expect(output.stderr()).toContain('hangsleuth: analysis failed: analysis-timeout: the analysis took longer than 120 s');
  });

  it('exits 4 when the analysis is not done within --timeout', async () => {
    api.reportPlans = ['queued'];
    const output = captureConsole();
    expect(await upload('--wait', '--timeout', '1')).toBe(4);
    expect(api.received.filter((request) => request.method === 'GET').length).toBeGreaterThanOrEqual(2);
    expect(output.stderr()).toMatch(/report report-1 is still queued after 1 s/);
  });

  it('draws the progress bar on a terminal and wipes it at the end', async () => {
    const writes: string[] = [];
    const terminal = { isTTY: true, columns: 100, write: (text: string) => writes.push(text) > 0 };
    captureConsole();
    expect(await runUpload([bigFile, '--server', 'SRV-01', '--url', api.url], ENV, terminal)).toBe(0);
    expect(writes[0]).toMatch(/^\r\x1b\[2Kuploading big-transcript\.txt {2}\[[#-]+\] {2}\d+%/);
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('refuses to run without an API key or a server', async () => {
    const output = captureConsole();
    expect(await main(['upload', bigFile, '--server', 'SRV-01', '--url', api.url], {})).toBe(1);
    expect(output.stderr()).toContain('no API key: pass --key KEY or set HANGSLEUTH_API_KEY');
    expect(await main(['upload', bigFile, '--key', KEY, '--url', api.url], {})).toBe(1);
    expect(output.stderr()).toContain('--server NAME is required');
    expect(api.received).toHaveLength(0);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 500 ms and stops after three retries', () => {
    expect([1, 2, 3, 4].map((retry) => retryDelayMs(retry))).toEqual([500, 1000, 2000, null]);
  });

  it('waits as long as a longer Retry-After asks, up to 30 s', () => {
    expect(retryDelayMs(1, 5000)).toBe(5000);
    expect(retryDelayMs(3, 1000)).toBe(2000);
    expect(retryDelayMs(2, 600_000)).toBe(30_000);
    expect(retryDelayMs(4, 5000)).toBeNull();
  });
});
