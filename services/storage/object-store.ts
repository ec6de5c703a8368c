/** Transcripts in S3-compatible object storage (AWS S3, MinIO, R2, s3rver): the only module that talks S3. */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { ObjectStoreConfig } from '../config/load-config.ts';

export interface ObjectStore {
  readonly bucket: string;
  /** Streams `body` to `key` (multipart above one part); resolves once the object is durably stored. */
  put(key: string, body: Readable, contentType: string): Promise<void>;
  /** The object as a stream, or null when it does not exist. */
  open(key: string): Promise<{ body: Readable; byteLength: number | undefined } | null>;
  /** The whole object in memory; refuses objects larger than `maxBytes`. */
  read(key: string, maxBytes: number): Promise<Buffer>;
  delete(key: string): Promise<void>;
  deleteMany(keys: string[]): Promise<void>;
  /** One page of keys under `prefix` in key order, after `startAfter`, with their last-modified times. */
  list(prefix: string, startAfter?: string): Promise<{ objects: { key: string; lastModified: Date }[]; more: boolean }>;
  /** Creates the bucket when it does not exist. */
  ensureBucket(): Promise<void>;
  /** Throws when the store cannot be reached (readiness checks). */
  ping(): Promise<void>;
  close(): void;
}

export class ObjectTooLargeError extends Error {
  override readonly name = 'ObjectTooLargeError';
}

export class ObjectMissingError extends Error {
  override readonly name = 'ObjectMissingError';
}

export function createObjectStore(config: ObjectStoreConfig, endpoint = config.endpoint): ObjectStore {
  const client = new S3Client({
    endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: config.accessKeyId && config.secretAccessKey ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
    // A store that does not answer must fail the request, not hold it: the API answers 503 and the worker retries.
    requestHandler: { connectionTimeout: 5000, requestTimeout: 120_000 },
    maxAttempts: 3,
    // The API hashes every upload (SHA-256) itself; the SDK's extra CRC32 of every body and answer only costs CPU.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // S3 errors do not say which call failed; the logs should.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof Error) error.message = `${context.commandName ?? 'S3 call'}: ${error.message}`;
        throw error;
      }
    },
    { step: 'initialize', name: 'nameFailedCommand' },
  );
  const bucket = config.bucket;

  return {
    bucket,
    async put(key, body, contentType) {
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
        partSize: config.partSizeBytes,
        queueSize: 2,
        leavePartsOnError: false,
      });
      await upload.done();
    },
    async open(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: answer.Body as Readable, byteLength: answer.ContentLength };
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    async read(key, maxBytes) {
      const object = await this.open(key);
      if (!object) throw new ObjectMissingError(`object ${key} does not exist in bucket ${bucket}`);
      if (object.byteLength !== undefined && object.byteLength > maxBytes) {
        object.body.destroy();
        throw new ObjectTooLargeError(`object ${key} holds ${object.byteLength} bytes, more than ${maxBytes}`);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of object.body) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) {
          object.body.destroy();
          throw new ObjectTooLargeError(`object ${key} is larger than ${maxBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks, total);
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async deleteMany(keys) {
      for (let start = 0; start < keys.length; start += 1000) {
        const batch = keys.slice(start, start + 1000);
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true } }));
      }
    },
    async list(prefix, startAfter) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: 1000 }));
      return {
        objects: (page.Contents ?? []).filter((item) => item.Key !== undefined).map((item) => ({ key: item.Key!, lastModified: item.LastModified ?? new Date(0) })),
        more: page.IsTruncated === true,
      };
    },
    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        if (httpStatusOf(error) !== 404) throw error;
        try {
          await client.send(new CreateBucketCommand({ Bucket: bucket }));
        } catch (createError) {
          // Processes starting together race to create it: whichever lost finds it there (s3rver answers the
          // loser BucketAlreadyExists, S3 BucketAlreadyOwnedByYou). A bucket someone else owns still fails here.
          if (httpStatusOf(createError) !== 409) throw createError;
          await client.send(new HeadBucketCommand({ Bucket: bucket }));
        }
      }
    },
    async ping() {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },
    close() {
      client.destroy();
    },
  };
}

/** The HTTP status of an AWS SDK error, when the service answered. */
function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
