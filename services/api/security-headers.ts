/**
 * Security headers on every answer (helmet): the dashboard and the API reference may only load their own scripts,
 * styles and data, may not be framed (clickjacking), and content types are never sniffed. The API key lives in the
 * dashboard's sessionStorage, so a script injected from elsewhere must have nowhere to run.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/** Registered after @fastify/swagger-ui, whose `swaggerCSP` lists the hashes of the reference page's inline code. */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  const swaggerCsp = (app as FastifyInstance & { swaggerCSP?: { script: string[]; style: string[] } }).swaggerCSP ?? { script: [], style: [] };
  await app.register(helmet, {
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
    // The OpenAPI document and the API's answers are read by tools on other origins too.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  });
}
