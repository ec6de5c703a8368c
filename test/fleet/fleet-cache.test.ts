import { describe, expect, it } from 'vitest';
import { createFleetCache } from '../../services/fleet/fleet-cache.ts';

describe('the fleet cache', () => {
  it('computes once for concurrent and repeated identical requests within its TTL, per tenant', async () => {
    const cache = createFleetCache({ ttlMs: 60_000 });
    let computed = 0;
    const compute = async () => ({ value: ++computed });
    const answers = await Promise.all([cache.get('a', '/v1/trends', compute), cache.get('a', '/v1/trends', compute), cache.get('a', '/v1/trends', compute)]);
    expect(answers.map((answer) => answer.value)).toEqual([1, 1, 1]);
    expect((await cache.get('b', '/v1/trends', compute)).value).toBe(2);
    expect((await cache.get('a', '/v1/trends?window=1d', compute)).value).toBe(3);
  });

  it("drops a tenant's answers on invalidation, and never keeps a failure", async () => {
    const cache = createFleetCache({ ttlMs: 60_000 });
    let computed = 0;
    const compute = async () => ({ value: ++computed });
    await cache.get('a', '/x', compute);
    await cache.get('b', '/x', compute);
    cache.invalidateTenant('a');
    expect((await cache.get('a', '/x', compute)).value).toBe(3);
    expect((await cache.get('b', '/x', compute)).value).toBe(2);
    await expect(cache.get('a', '/fails', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect((await cache.get('a', '/fails', compute)).value).toBe(4);
  });

  it('serves an answer past its TTL while one refresh runs, then the refreshed one; nothing with a TTL of 0', async () => {
    let clock = 0;
    const cache = createFleetCache({ ttlMs: 1000, now: () => clock });
    let computed = 0;
    const compute = async () => ({ value: ++computed });
    await cache.get('a', '/x', compute);
    clock = 1500;
    const stale = await Promise.all([cache.get('a', '/x', compute), cache.get('a', '/x', compute)]);
    expect(stale.map((answer) => answer.value)).toEqual([1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(computed).toBe(2);
    expect((await cache.get('a', '/x', compute)).value).toBe(2);
    const off = createFleetCache({ ttlMs: 0 });
    await off.get('a', '/x', compute);
    expect((await off.get('a', '/x', compute)).value).toBe(4);
  });
});
