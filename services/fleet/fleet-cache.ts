/**
 * A short-lived cache of the fleet's read answers (cluster lists, details, trends, server histories), per tenant
 * and URL. Dashboards and on-call tools poll the same few URLs; aggregates a few seconds old are as useful and
 * cost one query instead of one per poller. Concurrent misses share one computation; an answer past its TTL is
 * still served (up to STALE_FACTOR × TTL) while one refresh runs, so pollers never all wait on the database at
 * once. A tenant's triage changes drop its entries at once.
 *
 * Answers are kept serialised, with an entity tag of their bytes: a hit costs neither a JSON.stringify of tens of
 * kilobytes nor, for a poller that sends If-None-Match, the body itself.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** An answer as it goes on the wire. */
export interface SerializedAnswer {
  json: string;
  /** A strong entity tag of `json` (quoted, as the ETag header carries it). */
  etag: string;
}

export interface FleetCache {
  get(tenantId: string, key: string, compute: () => Promise<object>): Promise<SerializedAnswer>;
  invalidateTenant(tenantId: string): void;
}

export function serializeAnswer(answer: object): SerializedAnswer {
  const json = JSON.stringify(answer);
  return { json, etag: `"${createHash('sha1').update(json).digest('base64url')}"` };
}

const STALE_FACTOR = 6;

interface Entry {
  answer: Promise<SerializedAnswer>;
  computedAt: number;
  refreshing: boolean;
}

export function createFleetCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }): FleetCache {
  if (options.ttlMs <= 0) return { get: async (_tenantId, _key, compute) => serializeAnswer(await compute()), invalidateTenant: () => undefined };
  const now = options.now ?? Date.now;
  const entries = new LRUCache<string, Entry>({ max: options.maxEntries ?? 5000, ttl: options.ttlMs * STALE_FACTOR, ttlAutopurge: false });

  function start(cacheKey: string, compute: () => Promise<object>, previous?: Entry): Promise<SerializedAnswer> {
    const answer = compute().then(serializeAnswer);
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
    get(tenantId, key, compute) {
      const cacheKey = `${tenantId}\u0000${key}`;
      const entry = entries.get(cacheKey);
      if (!entry) return start(cacheKey, compute);
      if (now() - entry.computedAt >= options.ttlMs && !entry.refreshing) {
        entry.refreshing = true;
        void start(cacheKey, compute, entry).catch(() => undefined);
      }
      return entry.answer;
    },
    invalidateTenant(tenantId) {
      const prefix = `${tenantId}\u0000`;
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
    },
  };
}
