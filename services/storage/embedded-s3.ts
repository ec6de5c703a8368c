/**
 * The local default object store: s3rver serving the S3 protocol from a folder, for `npm start` and the tests.
 * Production configures a real endpoint (S3_ENDPOINT or S3_REGION) and never starts this.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
}

export async function startEmbeddedS3(options: { directory: string; port: number; host?: string }): Promise<EmbeddedS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({ port: options.port, address: options.host ?? '127.0.0.1', directory: options.directory, silent: true });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${address.address}:${address.port}`,
    close: () => server.close(),
  };
}
