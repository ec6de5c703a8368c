/**
 * The dashboard (web/, built by `npm run build:web` into web/dist) served at `/`: its files as they are, and
 * index.html for a browser's navigation (Accept: text/html) to any other path outside the API's own (the
 * single-page app's routes). Unknown /v1 paths, and any other request that is not a page load, keep the API's
 * problem+json 404. Without a build, `/` says how to make one (503).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** web/dist at the repository's root, seen from services/api/routes. */
export const WEB_DIST_DIRECTORY = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

export interface WebRouteOptions {
  /** The built dashboard: index.html and assets/. */
  directory: string;
}

/** Paths of the API and of the operators' endpoints: never answered with the dashboard (even when disabled, as /metrics can be). */
const API_PATHS = /^(v1|metrics|healthz|readyz|docs|openapi\.json)(\/|$)/;

const NOT_BUILT = 'The HangSleuth dashboard is not built: run `npm run build:web` (it writes web/dist), then restart the service. The API itself is up at /v1 and documented at /docs.\n';

export async function registerWebRoutes(app: FastifyInstance, { directory }: WebRouteOptions): Promise<void> {
  // serve: false: no wildcard route of the plugin's own; the one below decides between a file and index.html.
  await app.register(fastifyStatic, { root: directory, serve: false, index: false });

  let built = false;
  const isBuilt = async () => {
    if (built) return true;
    built = await stat(join(directory, 'index.html')).then((info) => info.isFile(), () => false);
    return built;
  };

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    if (API_PATHS.test(path)) return reply.callNotFound();
    const isFile = /\.[A-Za-z0-9]+$/.test(path);
    const isPageLoad = path === '' || (request.headers.accept ?? '').includes('text/html');
    if (!isFile && !isPageLoad) return reply.callNotFound();
    if (!(await isBuilt())) return reply.code(503).header('retry-after', '60').type('text/plain; charset=utf-8').send(NOT_BUILT);
    // A path whose last segment has an extension is a file: sent as it is, or the API's 404 when absent.
    if (isFile) {
      const hashed = path.startsWith('assets/');
      return reply.sendFile(path, { maxAge: hashed ? 365 * 86_400_000 : 0, immutable: hashed, cacheControl: true });
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
