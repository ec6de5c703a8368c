/** A minimal HTTP server for processes without an API (the worker): GET /metrics and GET /healthz, nothing else. */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  metricsUrl: string;
  close(): Promise<void>;
}

export async function startMetricsServer(registry: Registry, listen: { host: string; port: number }): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
    if (path === '/healthz') return answer(response, 200, 'application/json', '{"status":"ok"}');
    if (path !== '/metrics') return answer(response, 404, 'text/plain', 'not found\n');
    registry.metrics().then(
      (text) => answer(response, 200, registry.contentType, text),
      (error: unknown) => answer(response, 500, 'text/plain', `metrics could not be collected: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    metricsUrl: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}/metrics`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Prometheus keeps its connection alive between scrapes; close() alone would wait for it.
      server.closeAllConnections();
      await closed;
    },
  };
}

function answer(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
