import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyAuthenticator } from '../../services/auth/api-key-authenticator.ts';
import { issueApiKey, revokeApiKey } from '../../services/auth/api-keys.ts';
import { createDatabase, type Database } from '../../services/db/create-prisma-client.ts';
import { createTestDatabase } from '../support/pipeline-harness.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDatabase({ url: database.url, poolSize: 2 });
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

describe('the API key authenticator', () => {
  it('remembers a verified key for its TTL only, and refuses a revoked key once that has passed', async () => {
    const tenant = await db.tenant.create({ data: { name: 'keys' } });
    const issued = await issueApiKey(db, tenant.id, 'k', ['read']);
    const authenticate = createApiKeyAuthenticator(db, { ttlMs: 300 });
    expect(await authenticate(issued.key)).toMatchObject({ tenantId: tenant.id });
    await revokeApiKey(db, issued.id);
    expect(await authenticate(issued.key)).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await authenticate(issued.key)).toBeNull();
  });

  it('never remembers an unknown key, and with a TTL of 0 looks every key up', async () => {
    const tenant = await db.tenant.create({ data: { name: 'keys-2' } });
    const issued = await issueApiKey(db, tenant.id, 'k', ['read']);
    const wrong = `${issued.key.slice(0, -1)}${issued.key.endsWith('A') ? 'B' : 'A'}`;
    const authenticate = createApiKeyAuthenticator(db, { ttlMs: 60_000 });
    expect(await authenticate(wrong)).toBeNull();
    const uncached = createApiKeyAuthenticator(db, { ttlMs: 0 });
    expect(await uncached(issued.key)).not.toBeNull();
    await revokeApiKey(db, issued.id);
    expect(await uncached(issued.key)).toBeNull();
  });
});
