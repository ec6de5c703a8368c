/**
 * Authenticates API keys, remembering a verified key for a few seconds: every API request carries one, and the
 * lookup was the largest share of the database's work under load. A revoked key is refused at the latest
 * `ttlMs` after its revocation; unknown and malformed keys are never remembered (each costs its lookup).
 */
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/create-prisma-client.ts';
import { authenticateApiKey, hashApiKey, type Caller } from './api-keys.ts';

export type ApiKeyAuthenticator = (key: string) => Promise<Caller | null>;

export function createApiKeyAuthenticator(db: Database, options: { ttlMs: number; maxEntries?: number }): ApiKeyAuthenticator {
  if (options.ttlMs <= 0) return (key) => authenticateApiKey(db, key);
  const verified = new LRUCache<string, Caller>({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs });
  return async (key) => {
    // Keyed by the hash: the cache never holds a key in the clear.
    const hash = hashApiKey(key);
    const known = verified.get(hash);
    if (known) return known;
    const caller = await authenticateApiKey(db, key);
    if (caller) verified.set(hash, caller);
    return caller;
  };
}
