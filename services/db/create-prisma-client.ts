import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.ts';

export type Database = PrismaClient;
export { Prisma } from './generated/client.ts';
export type { ReportStatus, ApiKeyScope } from './generated/client.ts';

export interface DatabaseOptions {
  url: string;
  poolSize: number;
}

/** Prisma Client over node-postgres (Prisma 7 driver adapter); one pool per process. */
export function createDatabase(options: DatabaseOptions): Database {
  const adapter = new PrismaPg({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis: 5000 });
  return new PrismaClient({ adapter });
}
