/**
 * A TCP proxy in front of a real service (PostgreSQL, the S3 endpoint) whose link a test can cut and restore: the
 * outage a client sees when the network between it and a dependency fails, without stopping the dependency.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  /** Whether the link is cut now. */
  readonly isCut: boolean;
  /** Bytes relayed each way so far, and when the last were (Date.now()): lets a test see a dependency answer. */
  readonly traffic: { toTarget: number; fromTarget: number; lastAt: number };
  /**
   * Resets every open connection, both sides (pooled ones too: a PostgreSQL pool's idle connections die as they
   * would in a network failure), and resets every new connection as soon as it is accepted, until `restore()`.
   */
  cut(): void;
  restore(): void;
  /** Resets every connection and stops listening. */
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let isCut = false;
  const traffic = { toTarget: 0, fromTarget: 0, lastAt: 0 };

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ port: targetPort, host: targetHost });
    upstream.on('error', () => undefined);
    clients.add(client);
    upstreams.add(upstream);
    client.on('data', (chunk: Buffer) => {
      traffic.toTarget += chunk.length;
      traffic.lastAt = Date.now();
    });
    upstream.on('data', (chunk: Buffer) => {
      traffic.fromTarget += chunk.length;
      traffic.lastAt = Date.now();
    });
    client.pipe(upstream);
    upstream.pipe(client);
    // A failed side resets the other; a side that ends cleanly ends the other (pipe) once its data is flushed.
    client.on('close', (hadError) => {
      clients.delete(client);
      if (hadError) upstream.destroy();
    });
    upstream.on('close', (hadError) => {
      upstreams.delete(upstream);
      if (hadError && !client.destroyed) client.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);

  const resetAll = () => {
    for (const client of clients) if (!client.destroyed) client.resetAndDestroy();
    for (const upstream of upstreams) upstream.destroy();
    clients.clear();
    upstreams.clear();
  };

  return {
    port: (server.address() as AddressInfo).port,
    get isCut() {
      return isCut;
    },
    get traffic() {
      return { ...traffic };
    },
    cut() {
      isCut = true;
      resetAll();
    },
    restore() {
      isCut = false;
    },
    async close() {
      isCut = true;
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
