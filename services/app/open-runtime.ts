/** The shared connections of a process: logger, PostgreSQL, object storage (embedded s3rver when none is configured). */
import type { Config } from '../config/load-config.ts';
import { createDatabase, type Database } from '../db/create-prisma-client.ts';
import { createLogger, type Logger } from '../logging/create-logger.ts';
import { startEmbeddedS3, type EmbeddedS3 } from '../storage/embedded-s3.ts';
import { createObjectStore, type ObjectStore } from '../storage/object-store.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  db: Database;
  objectStore: ObjectStore;
  /** Set when this process serves the local object store itself. */
  embeddedS3: EmbeddedS3 | null;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Overrides the logger (tests pass a silent one). */
  logger?: Logger;
  /** Serve the embedded object store from this process when the configuration asks for it (default true). */
  serveEmbeddedS3?: boolean;
}

export async function openRuntime(config: Config, name: string, options: RuntimeOptions = {}): Promise<Runtime> {
  const logger = options.logger ?? createLogger(config.logLevel, name);
  const embedded = config.objectStore.embedded;
  const embeddedS3 = embedded && options.serveEmbeddedS3 !== false ? await startEmbeddedS3(embedded) : null;
  const endpoint = embeddedS3?.endpoint ?? config.objectStore.endpoint ?? (embedded ? `http://127.0.0.1:${embedded.port}` : undefined);
  const objectStore = createObjectStore(config.objectStore, endpoint);
  const db = createDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  try {
    await objectStore.ensureBucket();
  } catch (error) {
    await db.$disconnect();
    objectStore.close();
    await embeddedS3?.close();
    throw error;
  }
  if (embeddedS3) logger.info({ endpoint: embeddedS3.endpoint, directory: embedded!.directory }, 'embedded S3-protocol endpoint (s3rver) started');
  return {
    config,
    logger,
    db,
    objectStore,
    embeddedS3,
    async close() {
      await db.$disconnect();
      objectStore.close();
      await embeddedS3?.close();
    },
  };
}
