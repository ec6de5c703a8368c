#!/usr/bin/env node
// `prisma generate` (run by postinstall): writes Prisma Client to services/db/generated from prisma/schema.prisma.
// Generate never runs Prisma's schema engine, but the CLI insists on locating it and would download it from a
// host some machines cannot reach; pointing the variable at any path skips that download.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cli;
try {
  cli = require.resolve('prisma/build/index.js');
} catch {
  // A production install (--omit=dev) has no Prisma CLI: the client was generated when the image was built.
  console.log('prisma CLI not installed; keeping the generated client as it is');
  process.exit(0);
}
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const result = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
