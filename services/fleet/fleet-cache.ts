/**
 * A short-lived cache of the fleet's read answers (cluster lists, details, trends, server histories), per tenant
 * and URL. Dashboards and on-call tools poll the same few URLs; aggregates a few seconds old are as useful and
 * cost one query instead of one per poller. Concurrent misses share one computation. A tenant's triage changes
 * drop its entries at once.
 */
import { LRUCache } from 'lru-cache';

export interface FleetCache {
  get<T extends object>(tenantId: string, key: string, compute: () => Promise<T>): Promise<T>;
  invalidateTenant(tenantId: string): void;
}

export function createFleetCache(options: { ttlMs: number; maxEntries?: number }): FleetCache {
  if (options.ttlMs <= 0) return { get: (_tenantId, _key, compute) => compute(), invalidateTenant: () => undefined };
  const entries = new LRUCache<string, Promise<object>>({ max: options.maxEntries ?? 5000, ttl: options.ttlMs });
  return {
    get<T extends object>(tenantId: string, key: string, compute: () => Promise<T>): Promise<T> {
      const cacheKey = `${tenantId}\u0000${key}`;
      const cached = entries.get(cacheKey);
      if (cached) return cached as Promise<T>;
      const pending = compute();
      entries.set(cacheKey, pending);
      // A failed computation is not an answer to keep.
      pending.catch(() => entries.delete(cacheKey));
      return pending;
    },
    invalidateTenant(tenantId) {
      const prefix = `${tenantId}\u0000`;
      for (const key of entries.keys()) if (key.startsWith(prefix)) entries.delete(key);
    },
  };
}
