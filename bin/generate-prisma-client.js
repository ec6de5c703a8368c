#!/usr/bin/env node
// `prisma generate` (run by postinstall): writes Prisma Client to services/db/generated from prisma/schema.prisma.
// Generate never runs Prisma's schema engine, but the CLI insists on locating it and would download it from a
// host some machines cannot reach; pointing the variable at any path skips that download.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js');
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const result = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
