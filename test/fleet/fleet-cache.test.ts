import { describe, expect, it } from 'vitest';
import { createFleetCache, serializeAnswer, type SerializedAnswer } from '../../services/fleet/fleet-cache.ts';

const valueOf = (answer: SerializedAnswer): number => (JSON.parse(answer.json) as { value: number }).value;

describe('the fleet cache', () => {
  it('computes once for concurrent and repeated identical requests within its TTL, per tenant', async () => {
    const cache = createFleetCache({ ttlMs: 60_000 });
    let computed = 0;
    const compute = async () => ({ value: ++computed });
    const answers = await Promise.all([cache.get('a', '/v1/trends', compute), cache.get('a', '/v1/trends', compute), cache.get('a', '/v1/trends', compute)]);
    expect(answers.map(valueOf)).toEqual([1, 1, 1]);
    expect(valueOf(await cache.get('b', '/v1/trends', compute))).toBe(2);
    expect(valueOf(await cache.get('a', '/v1/trends?window=1d', compute))).toBe(3);
  });

  it("drops a tenant's answers on invalidation, and never keeps a failure", async () => {
    const cache = createFleetCache({ ttlMs: 60_000 });
    let computed = 0;
    const compute = async () => ({ value: ++computed });
    await cache.get('a', '/x', compute);
    await cache.get('b', '/x', compute);
    cache.invalidateTenant('a');
    expect(valueOf(await cache.get('a', '/x', compute))).toBe(3);
    expect(valueOf(await cache.get('b', '/x', compute))).toBe(2);
    await expect(cache.get('a', '/fails', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(valueOf(await cache.get('a', '/fails', compute))).toBe(4);
  });

  it('serves an answer past its TTL while one refresh runs, then the refreshed one; nothing with a TTL of 0', async () => {
    let clock = 0;
    const cache = createFleetCache({ ttlMs: 1000, now: () => clock });
    let computed = 0;
    const compute = async () => ({ value: ++computed });
    await cache.get('a', '/x', compute);
    clock = 1500;
    const stale = await Promise.all([cache.get('a', '/x', compute), cache.get('a', '/x', compute)]);
    expect(stale.map(valueOf)).toEqual([1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(computed).toBe(2);
    expect(valueOf(await cache.get('a', '/x', compute))).toBe(2);
    const off = createFleetCache({ ttlMs: 0 });
    await off.get('a', '/x', compute);
    expect(valueOf(await off.get('a', '/x', compute))).toBe(4);
  });

  it('keeps answers serialised, with a tag that changes with the bytes and only with them', async () => {
    const cache = createFleetCache({ ttlMs: 60_000 });
    const first = await cache.get('a', '/x', async () => ({ items: [1, 2], note: 'é' }));
    expect(first.json).toBe('{"items":[1,2],"note":"é"}');
    expect(first.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(serializeAnswer({ items: [1, 2], note: 'é' }).etag).toBe(first.etag);
    expect(serializeAnswer({ items: [1, 3], note: 'é' }).etag).not.toBe(first.etag);
  });
});
