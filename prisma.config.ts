// The Prisma CLI's configuration (`prisma generate`, `prisma migrate deploy`). The database URL comes from the
// same validated configuration the services use.
import { defineConfig } from 'prisma/config';
import { loadConfig } from './services/config/load-config.ts';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: loadConfig().databaseUrl },
});
