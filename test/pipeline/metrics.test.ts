import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, QUEUE_STATES } from '../../services/metrics/metrics.ts';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import { getJson, startPipeline, upload, waitForReports, type Pipeline } from '../support/pipeline-harness.ts';

// ---------------------------------------------------------------------------------------------------------------
// The Prometheus text exposition format, parsed (https://prometheus.io/docs/instrumenting/exposition_formats/)

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: match[1]!, labels: parseLabels(match[2] ?? ''), value: parseValue(match[3]!) });
  }
  return { types, samples };
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const at = LABEL_PAIR.lastIndex;
    const pair = LABEL_PAIR.exec(text);
    if (!pair) throw new Error(`bad labels at ${at}: ${text}`);
    labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
  }
  return labels;
}

/** As Prometheus reads it (Go's ParseFloat): NaN and Inf in any case; prom-client writes `Nan`. */
function parseValue(text: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) return special[2]!.toLowerCase() === 'nan' ? Number.NaN : special[1] === '-' ? -Infinity : Infinity;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad sample value ${text}`);
  return value;
}

function samplesOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The one sample of `name` with exactly these labels' values (others may be present), or undefined. */
function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samplesOf(exposition, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(url: string): Promise<{ response: Response; exposition: Exposition }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return { response, exposition: parseExposition(await response.text()) };
}

// ---------------------------------------------------------------------------------------------------------------

const HTTP = 'hangsleuth_http_request_duration_seconds';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('metrics of a running pipeline', () => {
  let pipeline: Pipeline;
  let key: string;
  let transcript: Buffer;
  let binary: Buffer;

  beforeAll(async () => {
    pipeline = await startPipeline();
    key = (await pipeline.createTenant()).key;
    transcript = Buffer.concat([await readFile(EXAMPLE_FILE), Buffer.from(`\n$$ ${randomBytes(8).toString('hex')}\n`)]);
    binary = randomBytes(64 * 1024);
    binary[0] = 0; // never a gzip header
  });
  afterAll(async () => pipeline?.close());

  it('serves on the API: latency by route pattern, upload bytes, receipts, the queue gauge and process metrics', async () => {
    const accepted = await upload(pipeline, key, transcript, { server: 'METRICS-1' });
    const binaryUpload = await upload(pipeline, key, binary, { server: 'METRICS-2', contentType: 'application/octet-stream' });
    expect([accepted.status, binaryUpload.status]).toEqual([202, 202]);
    const id = accepted.body.id as string;
    const statuses = await waitForReports(pipeline, [id, binaryUpload.body.id as string]);
    expect([...statuses.values()].sort()).toEqual(['analysed', 'failed']);

    expect((await getJson(`${pipeline.api.url}/v1/reports/${id}`, key)).status).toBe(200);
    expect((await getJson(`${pipeline.api.url}/v1/reports/${randomUUID()}`, key)).status).toBe(404);
    expect((await getJson(`${pipeline.api.url}/no/such/route/${id}?x=1`, key)).status).toBe(404);
    expect((await upload(pipeline, key, '\u0089PNG', { contentType: 'image/png' })).status).toBe(415);

    const { response, exposition } = await scrape(`${pipeline.api.url}/metrics`);
    expect(response.headers.get('content-type')).toBe(pipeline.api.metrics!.registry.contentType);

    expect(exposition.types.get(HTTP)).toBe('histogram');
    expect(valueOf(exposition, `${HTTP}_count`, { method: 'GET', route: '/v1/reports/:id', status_code: '200' })).toBe(1);
    expect(valueOf(exposition, `${HTTP}_count`, { method: 'GET', route: '/v1/reports/:id', status_code: '404' })).toBe(1);
    expect(valueOf(exposition, `${HTTP}_count`, { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(valueOf(exposition, `${HTTP}_count`, { method: 'POST', route: '/v1/reports', status_code: '202' })).toBe(2);
    expect(valueOf(exposition, `${HTTP}_count`, { method: 'POST', route: '/v1/reports', status_code: '415' })).toBe(1);
    expect(valueOf(exposition, `${HTTP}_bucket`, { method: 'POST', route: '/v1/reports', status_code: '202', le: '+Inf' })).toBe(2);
    const routes = new Set(samplesOf(exposition, `${HTTP}_count`).map((sample) => sample.labels.route ?? ''));
    for (const route of routes) expect(route, 'a route label holds a raw URL').toMatch(/^(unmatched|\/[^?]*)$/);
    expect([...routes].filter((route) => UUID.test(route) || route.startsWith('/no/'))).toEqual([]);

    expect(exposition.types.get('hangsleuth_upload_bytes')).toBe('histogram');
    expect(valueOf(exposition, 'hangsleuth_upload_bytes_count')).toBe(2);
    expect(valueOf(exposition, 'hangsleuth_upload_bytes_sum')).toBe(transcript.length + binary.length);

    expect(valueOf(exposition, 'hangsleuth_reports_received_total', { outcome: 'accepted' })).toBe(2);
    expect(valueOf(exposition, 'hangsleuth_reports_received_total', { outcome: 'duplicate' })).toBe(0);
    expect(valueOf(exposition, 'hangsleuth_reports_received_total', { outcome: 'refused' })).toBe(1);

    expect(exposition.types.get('hangsleuth_queue_jobs')).toBe('gauge');
    expect(samplesOf(exposition, 'hangsleuth_queue_jobs').map((sample) => sample.labels.state).sort()).toEqual([...QUEUE_STATES].sort());
    expect(valueOf(exposition, 'hangsleuth_metrics_collect_errors_total', { metric: 'hangsleuth_queue_jobs' })).toBeUndefined();
    // Both jobs finished (a report that failed on bad input is a completed job); BullMQ records it just after the row.
    await expect.poll(async () => valueOf((await scrape(`${pipeline.api.url}/metrics`)).exposition, 'hangsleuth_queue_jobs', { state: 'completed' })).toBe(2);

    expect(valueOf(exposition, 'hangsleuth_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(exposition.types.get('hangsleuth_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('serves on the worker: analysis durations by outcome, failures by reason, the reconciler counter', async () => {
    const metricsUrl = pipeline.worker?.metricsUrl;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const { response, exposition } = await scrape(metricsUrl!);
    expect(response.headers.get('content-type')).toBe(pipeline.worker!.metrics!.registry.contentType);

    expect(exposition.types.get('hangsleuth_analysis_duration_seconds')).toBe('histogram');
    expect(valueOf(exposition, 'hangsleuth_analysis_duration_seconds_count', { outcome: 'analysed' })).toBe(1);
    expect(valueOf(exposition, 'hangsleuth_analysis_duration_seconds_sum', { outcome: 'analysed' })).toBeGreaterThan(0);
    expect(valueOf(exposition, 'hangsleuth_analysis_duration_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(samplesOf(exposition, 'hangsleuth_analysis_failures_total').map(({ labels, value }) => [labels.reason, value])).toEqual([['not-a-text-transcript', 1]]);
    expect(valueOf(exposition, 'hangsleuth_reconciler_requeued_total')).toBe(0);
    // The worker's own registry: the API's requests are not counted here.
    expect(samplesOf(exposition, `${HTTP}_count`)).toEqual([]);

    const origin = new URL(metricsUrl!).origin;
    const health = await fetch(`${origin}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    expect((await fetch(`${origin}/other`)).status).toBe(404);
    expect((await fetch(metricsUrl!, { method: 'POST' })).status).toBe(405);
  });
});

describe('metrics while Redis is away', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ worker: false, redisUrl: `redis://127.0.0.1:${await closedPort()}` });
  });
  afterAll(async () => pipeline?.close());

  it('still answers /metrics: no queue samples, and each failed read counted', async () => {
    for (const scrapes of [1, 2]) {
      const { exposition } = await scrape(`${pipeline.api.url}/metrics`);
      expect(exposition.types.get('hangsleuth_queue_jobs')).toBe('gauge');
      expect(samplesOf(exposition, 'hangsleuth_queue_jobs')).toEqual([]);
      expect(valueOf(exposition, 'hangsleuth_metrics_collect_errors_total', { metric: 'hangsleuth_queue_jobs' })).toBe(scrapes);
    }
  });

  it('gives up on a queue that does not answer within the timeout', async () => {
    const metrics = createMetrics({ queue: { getJobCounts: () => new Promise(() => undefined) }, queueTimeoutMs: 50 });
    const exposition = parseExposition(await metrics.registry.metrics());
    expect(samplesOf(exposition, 'hangsleuth_queue_jobs')).toEqual([]);
    expect(valueOf(exposition, 'hangsleuth_metrics_collect_errors_total', { metric: 'hangsleuth_queue_jobs' })).toBe(1);
  });
});

describe('METRICS_ENABLED=false', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ env: { METRICS_ENABLED: 'false' } });
  });
  afterAll(async () => pipeline?.close());

  it('serves no /metrics on the API and starts no worker metrics server', async () => {
    expect((await fetch(`${pipeline.api.url}/metrics`)).status).toBe(404);
    expect(pipeline.api.metrics).toBeNull();
    expect(pipeline.worker?.metrics).toBeNull();
    expect(pipeline.worker?.metricsUrl).toBeNull();
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
