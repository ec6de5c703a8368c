#!/usr/bin/env node
// Builds the dashboard (web/ → web/dist) with Vite; run by postinstall so that `npm ci` then `npm start` serves it.
// Skipped, with a line saying so, where web/ or Vite is absent (the image's dependency layer; a production install).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
if (!existsSync(new URL('../web/index.html', import.meta.url))) {
  console.log('web/ is not here; the dashboard is not built');
  process.exit(0);
}
let vite;
try {
  vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
} catch {
  console.log('Vite is not installed (a production install); keeping web/dist as it is');
  process.exit(0);
}
const result = spawnSync(process.execPath, [vite, 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
