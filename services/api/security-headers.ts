/**
 * Security headers on the pages (helmet): the dashboard and the API reference may only load their own scripts,
 * styles and data, may not be framed (clickjacking), and content types are never sniffed. The API key lives in the
 * dashboard's sessionStorage, so a script injected from elsewhere must have nowhere to run.
 *
 * They go on what a browser renders as a page: the dashboard, its files and /docs. The API's JSON answers, the
 * health and metrics endpoints skip them: setting a dozen headers cost a quarter of a small answer's throughput,
 * and a JSON answer is never a page that runs scripts. Helmet's middleware is built once (@fastify/helmet builds it
 * anew for every request).
 */
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** The API and the operators' endpoints: answers for programs, never rendered as pages. */
const NOT_PAGES = /^\/(v1|healthz|readyz|metrics|openapi\.json)(\/|\?|$)/;

/** Registered after @fastify/swagger-ui, whose `swaggerCSP` lists the hashes of the reference page's inline code. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  const swaggerCsp = (app as FastifyInstance & { swaggerCSP?: { script: string[]; style: string[] } }).swaggerCSP ?? { script: [], style: [] };
  const setHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...swaggerCsp.script],
        // Cytoscape.js (the chain graph) and Swagger UI inject <style> elements at run time. Styles cannot run code;
        // scripts stay strictly 'self'.
        styleSrc: ["'self'", "'unsafe-inline'", ...swaggerCsp.style],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        // The service may be reached over plain HTTP (locally, or behind a proxy that terminates TLS): upgrading the
        // page's own requests to HTTPS would break it there.
        upgradeInsecureRequests: null,
      },
    },
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (NOT_PAGES.test(request.url)) done();
    else setHeaders(request.raw, reply.raw, () => done());
  });
}
