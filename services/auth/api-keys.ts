/**
 * API keys: `hs_<prefix>_<secret>`. The prefix finds the row; only the SHA-256 of the whole key is stored (the
 * secret is 256 random bits, so a fast hash is the right one, as for GitHub's and Stripe's tokens), compared in
 * constant time. The plain key exists once, in the answer that issues it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyScope, Database } from '../db/create-prisma-client.ts';

export const API_KEY_SCOPES = ['upload', 'read', 'admin'] as const satisfies readonly ApiKeyScope[];
const KEY_PATTERN = /^hs_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  id: string;
  key: string;
  prefix: string;
  scopes: ApiKeyScope[];
}

export interface Caller {
  tenantId: string;
  keyId: string;
  scopes: ReadonlySet<ApiKeyScope>;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function issueApiKey(db: Database, tenantId: string, name: string, scopes: ApiKeyScope[]): Promise<IssuedApiKey> {
  const prefix = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').slice(0, 12);
  const key = `hs_${prefix}_${randomBytes(32).toString('base64url')}`;
  const row = await db.apiKey.create({ data: { tenantId, name, prefix, secretHash: hashApiKey(key), scopes } });
  return { id: row.id, key, prefix, scopes };
}

/** The caller a key stands for, or null for a malformed, unknown, revoked or wrong key. */
export async function authenticateApiKey(db: Database, key: string): Promise<Caller | null> {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const row = await db.apiKey.findUnique({ where: { prefix: match[1]! } });
  if (!row || row.revokedAt) return null;
  const expected = Buffer.from(row.secretHash, 'hex');
  const actual = Buffer.from(hashApiKey(key), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  return { tenantId: row.tenantId, keyId: row.id, scopes: new Set(row.scopes) };
}

export async function revokeApiKey(db: Database, keyId: string): Promise<void> {
  await db.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
}
