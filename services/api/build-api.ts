/** The HTTP API (Fastify): routes, content types, authentication, and errors as problem+json at this edge only. */
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from 'fastify-type-provider-zod';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Database } from '../db/create-prisma-client.ts';
import type { Logger } from '../logging/create-logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { AnalysisQueue } from '../queue/analysis-queue.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { AppError, isAppError, toProblem, type AppErrorCode } from './app-error.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import packageJson from '../../package.json' with { type: 'json' };
import { createApiKeyAuthenticator } from '../auth/api-key-authenticator.ts';
import { createFleetCache } from '../fleet/fleet-cache.ts';
import { InvalidCursorError } from '../fleet/paging.ts';
import { registerWebhookRoutes, type WebhookApiOptions } from './routes/webhook-routes.ts';
import { registerClusterRoutes } from './routes/cluster-routes.ts';
import { registerFleetRoutes } from './routes/fleet-routes.ts';
import { describeUploadBody } from './openapi.ts';
import { registerHealthRoutes } from './routes/health-routes.ts';
import { registerMetricsRoutes } from './routes/metrics-routes.ts';
import { RAW_TRANSCRIPT_TYPES, registerReportRoutes } from './routes/report-routes.ts';
import { WEB_DIST_DIRECTORY, registerWebRoutes } from './routes/web-routes.ts';

export interface ApiDependencies {
  db: Database;
  objectStore: ObjectStore;
  queue: AnalysisQueue;
  redis: Redis;
  logger: Logger;
  maxUploadBytes: number;
  dedupeWindowMs: number;
  /** Base of the links in answers; unset: taken from the request's Host. */
  publicUrl: string | undefined;
  webhooks: WebhookApiOptions;
  /** How long a verified API key is remembered (API_KEY_CACHE_TTL_MS); 0: every request looks it up. */
  apiKeyCacheTtlMs?: number;
  /** Seconds-old fleet answers for identical requests (FLEET_CACHE_TTL_MS); 0 turns it off. */
  fleetCacheTtlMs?: number;
  /** Unset: no /metrics route and nothing recorded (METRICS_ENABLED=false). */
  metrics?: Metrics | undefined;
}

const JSON_BODY_LIMIT = 1024 * 1024;

export async function buildApi(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: JSON_BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    // Uploads of hundreds of MiB over slow links: no overall request timeout, but a socket idle for two minutes
    // (a client gone without a word) is closed.
    requestTimeout: 0,
    connectionTimeout: 120_000,
    keepAliveTimeout: 65_000,
  });

  if (deps.metrics) registerMetricsRoutes(app, deps.metrics);
  app.setValidatorCompiler(validatorCompiler);
  // Answers are built from typed code, so they are not validated again on the way out: zod's output check cost
  // more CPU than the queries behind the fleet's larger answers. The schemas still document them (OpenAPI).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'HangSleuth API', version: packageJson.version, description: 'Hang triage for Windows servers: upload kd/WinDbg transcripts, read verdicts, fleet clusters and trends.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: `Authorization: Bearer hs_…`' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    // Shared schemas (those with a zod `id`) become components; then the upload's body is described.
    transformObject: (documentObject) => describeUploadBody(jsonSchemaTransformObject(documentObject) as Record<string, unknown>),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerSecurityHeaders(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Transcripts are streamed to object storage as they arrive, never buffered: the parser hands the raw stream on.
  app.addContentTypeParser(RAW_TRANSCRIPT_TYPES, (_request, payload, done) => done(null, payload));
  await app.register(multipart, { limits: { fileSize: deps.maxUploadBytes + 1, files: 1, fields: 20, fieldSize: 4096, parts: 25 } });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code, detail: appError.message }, 'request refused');
    if (appError.code === 'dependency-unavailable') reply.header('retry-after', '5');
    // A refused upload may still be streaming in: close the connection instead of reading the rest.
    if (appError.status === 413 || !request.raw.complete) reply.header('connection', 'close');
    return reply.code(appError.status).type('application/problem+json').send(toProblem(appError, request.url));
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = toProblem(new AppError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`), request.url);
    return reply.code(404).type('application/problem+json').send(problem);
  });

  app.decorate('authenticateKey', createApiKeyAuthenticator(deps.db, { ttlMs: deps.apiKeyCacheTtlMs ?? 0 }));
  const baseUrlOf = (request: FastifyRequest) => deps.publicUrl ?? `${request.protocol}://${request.host}`;
  await registerHealthRoutes(app, deps);
  await registerReportRoutes(app, { deps, baseUrlOf, metrics: deps.metrics });
  const fleetCache = createFleetCache({ ttlMs: deps.fleetCacheTtlMs ?? 0 });
  await registerClusterRoutes(app, { db: deps.db, baseUrlOf, cache: fleetCache, enqueueWebhooks: (messageIds) => deps.webhooks.enqueue(messageIds) });
  await registerWebhookRoutes(app, { db: deps.db, baseUrlOf, webhooks: deps.webhooks });
  await registerFleetRoutes(app, { db: deps.db, baseUrlOf, cache: fleetCache });
  await registerWebRoutes(app, { directory: WEB_DIST_DIRECTORY });
  return app;
}

const FASTIFY_STATUS_CODES: Partial<Record<number, AppErrorCode>> = {
  400: 'bad-request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/** Fastify's own errors (415 for an unknown content type, 413, bad JSON...) keep their status in our format. */
function toAppError(error: FastifyError): AppError {
  if (isAppError(error)) return error;
  if (error instanceof InvalidCursorError) return new AppError('bad-request', error.message);
  const status = error.statusCode ?? 500;
  const code = FASTIFY_STATUS_CODES[status];
  if (code === 'unsupported-media-type') {
    return new AppError(code, `send the transcript as ${RAW_TRANSCRIPT_TYPES.join(', ')} or multipart/form-data`);
  }
  if (code === 'payload-too-large') return new AppError(code, error.message);
  if (code) return new AppError(code, error.message);
  return new AppError('internal', 'an unexpected error occurred', { cause: error });
}
