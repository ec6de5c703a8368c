/**
 * The webhook sender against real HTTP receivers on loopback, and the SSRF guard. Nothing here ever sends a
 * packet beyond loopback: `net.connect` is wrapped so that any other destination throws before a socket exists,
 * and the refused cases assert that it was not even called. Most cases send once through a sender of their own;
 * the pooling cases send several times through one, as the worker does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createWebhookSender, parseRetryAfter, type WebhookRequest, type WebhookSender, type WebhookSenderOptions } from '../../services/webhooks/send-webhook.ts';
import { checkAddress, checkUrl, createGuardedLookup, isAllowlistEntry, type HostLookup, type ResolvedAddress } from '../../services/webhooks/ssrf-guard.ts';

const LOOPBACK_ALLOWED = ['127.0.0.1/32', '::1/128'];

interface Receiver {
  url: string;
  port: number;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  connections: number;
  /** Responses the receiver saw closed before it finished writing them. */
  abortedResponses: number;
  close(): Promise<void>;
}

const receivers: Receiver[] = [];

async function startReceiver(handle: (request: IncomingMessage, response: ServerResponse, body: string) => void, host = '127.0.0.1'): Promise<Receiver> {
  const server: Server = createServer();
  const receiver: Receiver = {
    url: '',
    port: 0,
    requests: [],
    connections: 0,
    abortedResponses: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('connection', () => {
    receiver.connections += 1;
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
      response.on('close', () => {
        if (!response.writableFinished) receiver.abortedResponses += 1;
      });
      handle(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://${host.includes(':') ? `[${host}]` : host}:${receiver.port}`;
  receivers.push(receiver);
  return receiver;
}

const answer =
  (status: number, body = '', headers: Record<string, string> = {}) =>
  (_request: IncomingMessage, response: ServerResponse) =>
    response.writeHead(status, headers).end(body);

const senders: WebhookSender[] = [];

/** A sender closed after the test; no allowlist unless given. */
function openSender(options: Partial<WebhookSenderOptions> = {}): WebhookSender {
  const sender = createWebhookSender({ timeoutMs: 2000, maxResponseBytes: 64 * 1024, ...options });
  senders.push(sender);
  return sender;
}

/** One send through a sender of its own that lets loopback through. */
function send({ url, headers = { 'webhook-id': 'msg_test' }, body = '{"type":"cluster.created"}', ...options }: Partial<WebhookSenderOptions & WebhookRequest> & { url: string }) {
  return openSender({ allowlist: LOOPBACK_ALLOWED, ...options }).send({ url, headers, body });
}

/**
 * One of several sends through `sender`, a few milliseconds after the previous one as in the worker (each delivery
 * starts with a database read). Sent back to back in one turn of the event loop, the next would find the last
 * connection not yet handed back to the pool (undici does that a turn later) and open another.
 */
async function sendNext(sender: WebhookSender, url: string) {
  await sleep(5);
  return sender.send({ url, headers: { 'webhook-id': 'msg_test' }, body: '{}' });
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
let connectSpy: MockInstance<typeof net.connect>;

beforeEach(() => {
  const originalConnect = net.connect.bind(net) as (...args: unknown[]) => net.Socket;
  // Host names are let through: in these tests they only resolve through injected lookups, checked by the guard.
  connectSpy = vi.spyOn(net, 'connect').mockImplementation(((...args: unknown[]) => {
    const target = args[0] as { host?: string };
    const host = target.host ?? '';
    if (net.isIP(host) !== 0 && !isLoopback(host)) throw new Error(`test safety net: no connection to ${host}`);
    return originalConnect(...args);
  }) as typeof net.connect);
});

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(senders.splice(0).map((sender) => sender.close()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

describe('sending to a receiver on loopback (allowlisted)', () => {
  it('delivers with a 2xx: ok, status, latency, the body and headers as given', async () => {
    const receiver = await startReceiver(answer(202, 'accepted'));
    const result = await send({ url: `${receiver.url}/hooks`, headers: { 'webhook-id': 'msg_1', 'x-extra': 'yes' } });
    expect(result).toMatchObject({ ok: true, status: 202, responseSnippet: 'accepted', error: null, refused: null, retryAfterMs: null });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.latencyMs).toBeLessThan(2000);
    // The safety net sits in the path of every connection: its silence in the refused cases below means something.
    expect(connectSpy).toHaveBeenCalledTimes(1);
    expect(receiver.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: '/hooks', body: '{"type":"cluster.created"}', headers: expect.objectContaining({ 'webhook-id': 'msg_1', 'x-extra': 'yes', 'content-type': 'application/json' }) }),
    ]);
  });

  it('reports a 500 as not ok, with the response for the log', async () => {
    const receiver = await startReceiver(answer(500, 'database down'));
    const result = await send({ url: receiver.url });
    expect(result).toMatchObject({ ok: false, status: 500, responseSnippet: 'database down', refused: null });
    expect(result.error).toContain('500');
  });

  it('reports 410 Gone as it is (the caller disables the endpoint)', async () => {
    const receiver = await startReceiver(answer(410));
    expect(await send({ url: receiver.url })).toMatchObject({ ok: false, status: 410, refused: null });
  });

  it('parses Retry-After in seconds from the response', async () => {
    const receiver = await startReceiver(answer(503, '', { 'retry-after': '120' }));
    expect(await send({ url: receiver.url })).toMatchObject({ ok: false, status: 503, retryAfterMs: 120_000 });
  });

  it('parses Retry-After as an HTTP date', async () => {
    const inTwoMinutes = new Date(Math.floor(Date.now() / 1000) * 1000 + 120_000).toUTCString();
    const receiver = await startReceiver(answer(429, '', { 'retry-after': inTwoMinutes }));
    const result = await send({ url: receiver.url });
    expect(result.status).toBe(429);
    expect(result.retryAfterMs).toBeGreaterThan(115_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('times out a receiver that never answers, without delaying a send running beside it', async () => {
    const hanging = await startReceiver(() => undefined);
    const fast = await startReceiver(answer(200, 'ok'));
    const timeoutMs = 1000;
    const started = Date.now();
    const finishedAt: Record<string, number> = {};
    const [slowResult, fastResult] = await Promise.all([
      send({ url: hanging.url, timeoutMs }).then((result) => ((finishedAt.slow = Date.now() - started), result)),
      send({ url: fast.url, timeoutMs }).then((result) => ((finishedAt.fast = Date.now() - started), result)),
    ]);
    expect(fastResult).toMatchObject({ ok: true, status: 200 });
    expect(finishedAt.fast).toBeLessThan(timeoutMs);
    expect(finishedAt.fast).toBeLessThan(finishedAt.slow ?? 0);
    expect(slowResult).toMatchObject({ ok: false, status: null, refused: null });
    expect(slowResult.error).toMatch(/timed out after 1000 ms/);
    expect(finishedAt.slow).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(finishedAt.slow).toBeLessThan(timeoutMs + 1000);
    expect(hanging.requests).toHaveLength(1);
  });

  it('times out a receiver that sends headers and then stalls the body mid-way', async () => {
    const receiver = await startReceiver((_request, response) => {
      response.writeHead(500);
      response.write('partial');
    });
    const started = Date.now();
    const result = await send({ url: receiver.url, timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result).toMatchObject({ ok: false, status: 500, responseSnippet: 'partial' });
  });

  it('reads a huge response only up to maxResponseBytes, then drops the connection', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const receiver = await startReceiver((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      // Endless body: only the sender hanging up ends it.
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) written += chunk.length;
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    const small = await send({ url: receiver.url, maxResponseBytes: 1000, timeoutMs: 5000 });
    expect(small).toMatchObject({ ok: true, status: 200, error: null });
    expect(small.responseSnippet).toBe('x'.repeat(1000));
    expect(small.latencyMs).toBeLessThan(2000);

    const larger = await send({ url: receiver.url, maxResponseBytes: 256 * 1024, timeoutMs: 5000 });
    expect(larger.ok).toBe(true);
    expect(larger.responseSnippet).toHaveLength(2048);
    expect(larger.latencyMs).toBeLessThan(2000);
    await vi.waitFor(() => expect(receiver.abortedResponses).toBe(2));
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('does not follow a redirect, not even to an allowed address', async () => {
    const target = await startReceiver(answer(200));
    const redirecting = await startReceiver(answer(302, '', { location: `${target.url}/elsewhere` }));
    const result = await send({ url: redirecting.url });
    expect(result).toMatchObject({ ok: false, status: 302, refused: null });
    expect(result.error).toContain('not followed');
    expect(redirecting.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    expect(target.connections).toBe(0);
  });

  it('reports a closed port as an error, not a refusal', async () => {
    const receiver = await startReceiver(answer(200));
    const { port } = receiver;
    await receiver.close();
    receivers.splice(receivers.indexOf(receiver), 1);
    const result = await send({ url: `http://127.0.0.1:${port}/` });
    expect(result).toMatchObject({ ok: false, status: null, refused: null });
    expect(result.error).toContain('ECONNREFUSED');
  });
});

describe('the sender refuses internal destinations before sending anything', () => {
  async function expectRefusedAtOnce(url: string, lookup?: HostLookup) {
    const started = Date.now();
    const result = await openSender({ timeoutMs: 5000, maxResponseBytes: 1024, lookup }).send({ url, headers: {}, body: '{}' });
    expect(Date.now() - started).toBeLessThan(500);
    expect(result.ok).toBe(false);
    expect(result.status).toBeNull();
    expect(result.refused).toEqual(expect.any(String));
    expect(result.error).toBe(result.refused);
    expect(connectSpy).not.toHaveBeenCalled();
    return result;
  }

  it('refuses http://127.0.0.1:<port>: the receiver sees no connection', async () => {
    const receiver = await startReceiver(answer(200));
    const result = await expectRefusedAtOnce(`${receiver.url}/hooks`);
    expect(result.refused).toContain('loopback');
    expect(receiver.connections).toBe(0);
  });

  it('refuses http://[::1]:<port>: the receiver sees no connection', async () => {
    const receiver = await startReceiver(answer(200), '::1');
    const result = await expectRefusedAtOnce(`${receiver.url}/hooks`);
    expect(result.refused).toContain('loopback');
    expect(receiver.connections).toBe(0);
  });

  it('refuses a literal private or metadata address without a lookup', async () => {
    const lookup = vi.fn<HostLookup>(async () => []);
    expect((await expectRefusedAtOnce('http://169.254.169.254/latest/meta-data/', lookup)).refused).toContain('link-local');
    expect((await expectRefusedAtOnce('http://10.0.0.1/', lookup)).refused).toContain('private');
    expect((await expectRefusedAtOnce('http://[::ffff:127.0.0.1]:8080/', lookup)).refused).toContain('loopback');
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses a host name that resolves to a private address', async () => {
    const lookup = vi.fn<HostLookup>(async () => [{ address: '10.1.2.3', family: 4 }]);
    const result = await expectRefusedAtOnce('https://hooks.example.test/in', lookup);
    expect(result.refused).toContain('10.1.2.3');
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(lookup).toHaveBeenCalledWith('hooks.example.test');
  });

  it('refuses a host name that resolves to a public and a private address', async () => {
    const lookup = vi.fn<HostLookup>(async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '192.168.1.20', family: 4 },
    ]);
    const result = await expectRefusedAtOnce('https://mixed.example.test/in', lookup);
    expect(result.refused).toContain('192.168.1.20');
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('refuses other schemes and URLs with credentials', async () => {
    expect((await expectRefusedAtOnce('ftp://files.example.test/')).refused).toContain('scheme');
    expect((await expectRefusedAtOnce('file:///etc/passwd')).refused).toContain('scheme');
    expect((await expectRefusedAtOnce('https://user:secret@hooks.example.test/')).refused).toContain('credentials');
    expect((await expectRefusedAtOnce('not a url')).refused).toContain('not a valid URL');
  });

  it('checks again at connect time: an answer that changes after the check (DNS rebinding) is refused', async () => {
    const inside = await startReceiver(answer(200), '127.0.0.2');
    const answers: ResolvedAddress[][] = [[{ address: '127.0.0.1', family: 4 }], [{ address: '127.0.0.2', family: 4 }]];
    const lookup = vi.fn<HostLookup>(async () => answers.shift() ?? []);
    const result = await openSender({ maxResponseBytes: 1024, allowlist: ['127.0.0.1/32'], lookup }).send({ url: `http://rebind.example.test:${inside.port}/`, headers: {}, body: '{}' });
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.refused).toContain('127.0.0.2');
    expect(connectSpy).toHaveBeenCalledTimes(1);
    expect(inside.connections).toBe(0);
  });

  it('connects through the guarded lookup when the host name resolves to an allowed address', async () => {
    const receiver = await startReceiver(answer(200, 'hello'), '127.0.0.2');
    const lookup = vi.fn<HostLookup>(async () => [{ address: '127.0.0.2', family: 4 }]);
    const result = await openSender({ maxResponseBytes: 1024, allowlist: ['127.0.0.0/8'], lookup }).send({ url: `http://allowed.example.test:${receiver.port}/`, headers: {}, body: '{}' });
    expect(result).toMatchObject({ ok: true, status: 200, responseSnippet: 'hello' });
    expect(receiver.requests).toHaveLength(1);
  });

  it('lets an allowlisted host name through whatever it resolves to', async () => {
    const receiver = await startReceiver(answer(204));
    const sender = openSender({ maxResponseBytes: 1024, allowlist: ['receiver.internal'], lookup: async () => [{ address: '127.0.0.1', family: 4 }] });
    const result = await sender.send({ url: `http://Receiver.Internal.:${receiver.port}/`, headers: {}, body: '{}' });
    expect(result).toMatchObject({ ok: true, status: 204 });
  });

  it('reports a failed lookup as an error to retry, not a refusal', async () => {
    const lookup: HostLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example.test'), { code: 'ENOTFOUND' });
    };
    const result = await openSender({ maxResponseBytes: 1024, lookup }).send({ url: 'https://nowhere.example.test/', headers: {}, body: '{}' });
    expect(result).toMatchObject({ ok: false, status: null, refused: null });
    expect(result.error).toContain('ENOTFOUND');
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('times out a lookup that never answers', async () => {
    const result = await openSender({ timeoutMs: 300, maxResponseBytes: 1024, lookup: () => new Promise(() => undefined) }).send({ url: 'https://slow-dns.example.test/', headers: {}, body: '{}' });
    expect(result).toMatchObject({ ok: false, status: null, refused: null, error: 'timed out after 300 ms' });
  });
});

describe('one sender, many sends: pooled keep-alive connections', () => {
  /**
   * After a dropped connection, the next send opens a new one (undici 7 also reconnects once, for nothing, after an
   * aborted response: nodejs/undici#5845), and the sends after it reuse that one.
   */
  async function expectNewConnectionThenPooled(sender: WebhookSender, receiver: Receiver) {
    expect(await sendNext(sender, `${receiver.url}/`)).toMatchObject({ ok: true, status: 200, responseSnippet: 'ok', error: null });
    const afterDrop = receiver.connections;
    expect(afterDrop).toBeGreaterThanOrEqual(2);
    for (let index = 0; index < 3; index++) expect(await sendNext(sender, `${receiver.url}/`)).toMatchObject({ ok: true, status: 200 });
    expect(receiver.connections).toBe(afterDrop);
  }

  it('sends one after another over one TCP connection, whatever the answers', async () => {
    const receiver = await startReceiver((request, response) => {
      const status = Number(request.url?.slice(1)) || 200;
      response.writeHead(status).end(`answered ${status}`);
    });
    const sender = openSender({ allowlist: LOOPBACK_ALLOWED });
    const results = [];
    for (const path of ['/200', '/500', '/202', '/410', '/200']) results.push(await sendNext(sender, `${receiver.url}${path}`));
    expect(results.map((result) => result.status)).toEqual([200, 500, 202, 410, 200]);
    expect(results[1]?.responseSnippet).toBe('answered 500');
    expect(receiver.requests).toHaveLength(5);
    expect(receiver.connections).toBe(1);
    expect(connectSpy).toHaveBeenCalledTimes(1);
  });

  it('still refuses a host that resolves inside at connect time, with connections to an allowed host pooled', async () => {
    const receiver = await startReceiver(answer(200));
    const inside = await startReceiver(answer(200), '127.0.0.2');
    // rebind.example.test passes the per-send check (127.0.0.1) and resolves inside when its connection is opened.
    const rebindAnswers = ['127.0.0.1', '127.0.0.2'];
    const lookup = vi.fn<HostLookup>(async (host) => [{ address: host === 'allowed.example.test' ? '127.0.0.1' : (rebindAnswers.shift() ?? '127.0.0.2'), family: 4 }]);
    const sender = openSender({ allowlist: ['127.0.0.1/32'], lookup });
    const allowed = `http://allowed.example.test:${receiver.port}/`;

    expect(await sendNext(sender, allowed)).toMatchObject({ ok: true });
    expect(await sendNext(sender, allowed)).toMatchObject({ ok: true });
    const refused = await sendNext(sender, `http://rebind.example.test:${inside.port}/`);
    expect(refused).toMatchObject({ ok: false, status: null });
    expect(refused.refused).toContain('127.0.0.2');
    expect(inside.connections).toBe(0);
    expect(await sendNext(sender, allowed)).toMatchObject({ ok: true });
    expect(receiver.connections).toBe(1);
  });

  it('checks a new connection to an origin whose pooled connection is busy', async () => {
    const receiver = await startReceiver((request, response) => {
      setTimeout(() => response.writeHead(200).end(), request.url === '/slow' ? 300 : 0);
    });
    // Lookups 1-4: the first send's check and connection, the second's and third's checks. The fifth is the third
    // send's new connection (the pooled one is busy with the second), and by then the name points inside.
    let lookups = 0;
    const lookup: HostLookup = async () => [{ address: ++lookups <= 4 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    const sender = openSender({ allowlist: ['127.0.0.1/32'], lookup });
    const origin = `http://hooks.example.test:${receiver.port}`;

    expect(await sendNext(sender, `${origin}/`)).toMatchObject({ ok: true });
    const slow = sendNext(sender, `${origin}/slow`);
    await vi.waitFor(() => expect(receiver.requests).toHaveLength(2));
    const third = await sendNext(sender, `${origin}/`);
    expect(third).toMatchObject({ ok: false, status: null });
    expect(third.refused).toContain('127.0.0.2');
    expect(await slow).toMatchObject({ ok: true });
    expect(lookups).toBe(5);
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.connections).toBe(1);
  });

  it('drops the connection of an over-limit response and sends the next over a new one', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const receiver = await startReceiver((request, response) => {
      if (request.url !== '/huge') return response.writeHead(200).end('ok');
      response.writeHead(200);
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    const sender = openSender({ allowlist: LOOPBACK_ALLOWED, maxResponseBytes: 1000 });

    expect(await sendNext(sender, `${receiver.url}/`)).toMatchObject({ ok: true, responseSnippet: 'ok' });
    const huge = await sendNext(sender, `${receiver.url}/huge`);
    expect(huge).toMatchObject({ ok: true, status: 200, responseSnippet: 'x'.repeat(1000) });
    await vi.waitFor(() => expect(receiver.abortedResponses).toBe(1));
    await expectNewConnectionThenPooled(sender, receiver);
  });

  it('drops the connection of a timed-out send and sends the next over a new one', async () => {
    const receiver = await startReceiver((request, response) => {
      if (request.url !== '/hang') response.writeHead(200).end('ok');
    });
    const sender = openSender({ allowlist: LOOPBACK_ALLOWED, timeoutMs: 300 });

    expect(await sendNext(sender, `${receiver.url}/`)).toMatchObject({ ok: true });
    expect(await sendNext(sender, `${receiver.url}/hang`)).toMatchObject({ ok: false, status: null, error: 'timed out after 300 ms' });
    await vi.waitFor(() => expect(receiver.abortedResponses).toBe(1));
    await expectNewConnectionThenPooled(sender, receiver);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');
  it.each([
    ['120', 120_000],
    ['0', 0],
    ['Wed, 25 Nov 2026 10:05:00 GMT', 300_000],
    ['Wed, 25 Nov 2026 09:00:00 GMT', 0],
    ['soon', null],
    ['-5', null],
    ['', null],
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
  it('reads the first of repeated headers and nothing from none', () => {
    expect(parseRetryAfter(['7', '9'], now)).toBe(7000);
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('checkAddress', () => {
  const refused: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['fec0::1', 'site-local'],
    ['2001:db8::1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'NAT64'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:a00:1::1', '6to4'],
    ['2002:7f00:1::', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['::7f00:1', 'not global unicast'],
    ['::127.0.0.1', 'loopback'],
    ['100::1', 'discard'],
    ['example.com', 'not an IP address'],
    ['0x7f.1', 'not an IP address'],
    ['2130706433', 'not an IP address'],
  ];
  it.each(refused)('refuses %s (%s)', (address, why) => {
    const check = checkAddress(address);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toContain(why);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'allows the public address %s',
    (address) => {
      expect(checkAddress(address)).toEqual({ ok: true });
    },
  );

  it('lets the allowlist open exact ranges, including IPv4-mapped forms of them', () => {
    expect(checkAddress('127.0.0.1', ['127.0.0.1/32'])).toEqual({ ok: true });
    expect(checkAddress('::ffff:127.0.0.1', ['127.0.0.1/32'])).toEqual({ ok: true });
    expect(checkAddress('127.0.0.2', ['127.0.0.1/32']).ok).toBe(false);
    expect(checkAddress('10.20.30.40', ['10.20.0.0/16'])).toEqual({ ok: true });
    expect(checkAddress('10.21.0.1', ['10.20.0.0/16']).ok).toBe(false);
    expect(checkAddress('::1', ['::1/128'])).toEqual({ ok: true });
    expect(checkAddress('fd00::5', ['fd00::/8'])).toEqual({ ok: true });
    expect(checkAddress('192.168.0.9', ['192.168.0.9'])).toEqual({ ok: true });
    expect(checkAddress('192.168.0.9', ['receiver.internal']).ok).toBe(false);
  });

  it('tells which allowlist entries are valid', () => {
    for (const entry of ['127.0.0.1/32', '::1/128', '10.0.0.0/8', '192.168.0.9', 'receiver.internal', 'hooks.example.com.']) expect(isAllowlistEntry(entry), entry).toBe(true);
    for (const entry of ['', 'http://x', '10.0.0.0/33', 'a b', '*.example.com']) expect(isAllowlistEntry(entry), entry).toBe(false);
  });
});

describe('checkUrl', () => {
  const lookupOf =
    (...addresses: string[]): HostLookup =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('returns every resolved address of an allowed host', async () => {
    const check = await checkUrl('https://hooks.example.com:8443/in?x=1', { lookup: lookupOf('93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c') });
    expect(check).toMatchObject({ ok: true, hostname: 'hooks.example.com', addresses: [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }] });
  });

  it('refuses when any address is internal, whichever comes first', async () => {
    for (const addresses of [['10.0.0.1', '8.8.8.8'], ['8.8.8.8', '10.0.0.1'], ['2606:4700::1', 'fd00::1']]) {
      const check = await checkUrl('https://hooks.example.com/', { lookup: lookupOf(...addresses) });
      expect(check.ok, addresses.join(',')).toBe(false);
    }
  });

  it('normalises literal IPv4 spellings the URL parser accepts before checking them', async () => {
    for (const url of ['http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://127.1/']) {
      const check = await checkUrl(url, { lookup: lookupOf('8.8.8.8') });
      expect(check.ok ? '' : check.reason, url).toContain('loopback');
    }
  });

  it('refuses a host that resolves to nothing as a lookup failure', async () => {
    expect(await checkUrl('https://empty.example.com/', { lookup: lookupOf() })).toMatchObject({ ok: false, refused: false });
  });
});

describe('createGuardedLookup (the connect-time check)', () => {
  const call = (lookup: ReturnType<typeof createGuardedLookup>, host: string, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: Error | null; address: unknown; family?: number | undefined }>((resolve) =>
      lookup(host, options, (error, address, family) => resolve({ error, address, family })),
    );
  const resolver: HostLookup = async () => [
    { address: '93.184.215.14', family: 4 },
    { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
  ];

  it('answers in both of net.connect styles, filtered by family', async () => {
    const lookup = createGuardedLookup(resolver);
    expect(await call(lookup, 'hooks.example.com', { all: true })).toMatchObject({ error: null, address: [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }] });
    expect(await call(lookup, 'hooks.example.com', { family: 6 })).toMatchObject({ error: null, address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 });
    expect(await call(lookup, 'hooks.example.com', {})).toMatchObject({ error: null, address: '93.184.215.14', family: 4 });
  });

  it('fails with a RefusedAddressError when any address is internal', async () => {
    const lookup = createGuardedLookup(async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ]);
    const { error } = await call(lookup, 'hooks.example.com', { all: true });
    expect(error?.name).toBe('RefusedAddressError');
    expect(error?.message).toContain('169.254.169.254');
  });
});
