/** Signatures as a receiver checks them: with the reference Standard Webhooks library, not with our own code. */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, signMessage } from '../../services/webhooks/sign-message.ts';

const body = JSON.stringify({ type: 'cluster.created', schema: 'hangsleuth.webhook/1', timestamp: '2026-11-25T10:00:00.000Z', data: { cluster: { id: 'c1' } } });

describe('signMessage', () => {
  it('produces the three Standard Webhooks headers, which the reference library verifies', () => {
    const secret = generateSecret();
    const now = new Date();
    const headers = signMessage({ id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', timestamp: now, body, secrets: [secret] });
    expect(headers['webhook-id']).toBe('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification when the body was changed by a single byte', () => {
    const secret = generateSecret();
    const headers = signMessage({ id: 'msg_1', timestamp: new Date(), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body.replace('c1', 'c2'), { ...headers })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(WebhookVerificationError);
  });

  it('fails verification with another secret', () => {
    const headers = signMessage({ id: 'msg_1', timestamp: new Date(), body, secrets: [generateSecret()] });
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it('is refused when the timestamp is older than the 5-minute tolerance, and accepted just inside it', () => {
    const secret = generateSecret();
    const stale = signMessage({ id: 'msg_1', timestamp: new Date(Date.now() - 6 * 60_000), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, { ...stale })).toThrow(/too old/);
    const future = signMessage({ id: 'msg_1', timestamp: new Date(Date.now() + 6 * 60_000), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, { ...future })).toThrow(/too new/);
    const recent = signMessage({ id: 'msg_1', timestamp: new Date(Date.now() - 4 * 60_000), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, { ...recent })).not.toThrow();
  });

  it('signs with every secret during a rotation, so a receiver holding either one verifies', () => {
    const current = generateSecret();
    const previous = generateSecret();
    const headers = signMessage({ id: 'msg_rotating', timestamp: new Date(), body, secrets: [current, previous] });
    const signatures = headers['webhook-signature'].split(' ');
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,/);
    expect(() => new Webhook(current).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(previous).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it('refuses no secret, and an id that could shift into the timestamp', () => {
    expect(() => signMessage({ id: 'msg_1', timestamp: new Date(), body, secrets: [] })).toThrow(TypeError);
    expect(() => signMessage({ id: 'msg.1', timestamp: new Date(), body, secrets: [generateSecret()] })).toThrow(TypeError);
  });
});

describe('generateSecret', () => {
  it('is whsec_ and the base64 of 24 to 32 random bytes, different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => generateSecret()));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    }
    expect(Buffer.from(generateSecret(24).slice(6), 'base64')).toHaveLength(24);
    expect(() => generateSecret(16)).toThrow(RangeError);
    expect(() => generateSecret(33)).toThrow(RangeError);
  });
});
