/** The object store against a real S3-protocol endpoint (s3rver): creating its bucket when processes start together. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStoreConfig } from '../../services/config/load-config.ts';
import { startEmbeddedS3, type EmbeddedS3 } from '../../services/storage/embedded-s3.ts';
import { createObjectStore } from '../../services/storage/object-store.ts';

let s3: EmbeddedS3;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'hangsleuth-object-store-'));
  s3 = await startEmbeddedS3({ directory: folder, port: 0 });
});

afterAll(async () => {
  await s3?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

function config(bucket: string): ObjectStoreConfig {
  return { endpoint: s3.endpoint, region: 'us-east-1', bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, partSizeBytes: 5 * 1024 * 1024, embedded: null };
}

describe('ensureBucket', () => {
  it('succeeds in every one of several processes racing to create the same new bucket', async () => {
    const stores = Array.from({ length: 6 }, () => createObjectStore(config('raced-bucket')));
    try {
      const outcomes = await Promise.allSettled(stores.map((store) => store.ensureBucket()));
      expect(outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'ok'))).toEqual(Array(6).fill('ok'));
      await stores[0]!.ping();
      await expect(stores[1]!.ensureBucket()).resolves.toBeUndefined();
    } finally {
      for (const store of stores) store.close();
    }
  });
});
