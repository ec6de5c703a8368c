/**
 * A short-lived cache of the fleet's read answers (cluster lists, details, trends, server histories), per tenant
 * and URL. Dashboards and on-call tools poll the same few URLs; aggregates a few seconds old are as useful and
 * cost one query instead of one per poller. Concurrent misses share one computation; an answer past its TTL is
 * still served (up to STALE_FACTOR × TTL) while one refresh runs, so pollers never all wait on the database at
 * once. A tenant's triage changes drop its entries at once.
 */
import { LRUCache } from 'lru-cache';

export interface FleetCache {
  get<T extends object>(tenantId: string, key: string, compute: () => Promise<T>): Promise<T>;
  invalidateTenant(tenantId: string): void;
}

const STALE_FACTOR = 6;

interface Entry {
  answer: Promise<object>;
  computedAt: number;
  refreshing: boolean;
}

export function createFleetCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }): FleetCache {
  if (options.ttlMs <= 0) return { get: (_tenantId, _key, compute) => compute(), invalidateTenant: () => undefined };
  const now = options.now ?? Date.now;
  const entries = new LRUCache<string, Entry>({ max: options.maxEntries ?? 5000, ttl: options.ttlMs * STALE_FACTOR, ttlAutopurge: false });

  function start(cacheKey: string, compute: () => Promise<object>, previous?: Entry): Promise<object> {
    const answer = compute();
    const entry: Entry = { answer, computedAt: now(), refreshing: false };
    if (!previous) entries.set(cacheKey, entry);
    answer.then(
      () => entries.set(cacheKey, entry),
      // A failed computation is not an answer to keep; a failed refresh leaves the previous answer to age out.
      () => {
        if (previous) previous.refreshing = false;
        else if (entries.get(cacheKey) === entry) entries.delete(cacheKey);
      },
    );
    return answer;
  }

  return {
    get<T extends object>(tenantId: string, key: string, compute: () => Promise<T>): Promise<T> {
      const cacheKey = `${tenantId}\u0000${key}`;
      const entry = entries.get(cacheKey);
      if (!entry) return start(cacheKey, compute) as Promise<T>;
      if (now() - entry.computedAt >= options.ttlMs && !entry.refreshing) {
        entry.refreshing = true;
        void start(cacheKey, compute, entry).catch(() => undefined);
      }
      return entry.answer as Promise<T>;
    },
    invalidateTenant(tenantId) {
      const prefix = `${tenantId}\u0000`;
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
    },
  };
}
