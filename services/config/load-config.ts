/**
 * The one place that reads the environment. Every variable is declared here with a default and a one-line
 * description (docs/CONFIGURATION.md is generated from it and checked by a test); the result is one typed,
 * frozen object. A bad value stops the start with every problem listed.
 */
import { z } from 'zod';

const MIB = 1024 * 1024;

const integer = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');
const optionalText = () =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** Variable name → schema, with the description that goes into docs/CONFIGURATION.md. */
export const CONFIG_VARIABLES = {
  HANGSLEUTH_HOST: z.string().default('127.0.0.1').describe('Address the HTTP API listens on.'),
  HANGSLEUTH_PORT: integer(8080, 0, 65535).describe('Port the HTTP API listens on (0 picks a free port).'),
  HANGSLEUTH_PUBLIC_URL: optionalText().describe('Base URL clients reach the API at, used in links; defaults to http://HOST:PORT.'),
  HANGSLEUTH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  DATABASE_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/hangsleuth').describe('PostgreSQL connection URL; the local default database is created on first start.'),
  DATABASE_POOL_SIZE: integer(10, 1, 200).describe('Connections per process in the PostgreSQL pool.'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379').describe('Redis connection URL for the BullMQ queues (redis:// or rediss://).'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('hangsleuth').describe('Prefix of every Redis key the queues use; separate deployments sharing a Redis use different prefixes.'),
  S3_ENDPOINT: optionalText().describe('S3-compatible endpoint (MinIO, R2, ...); unset with S3_REGION unset means an embedded s3rver on LOCAL_S3_DIR.'),
  S3_REGION: optionalText().describe('S3 region; set it (without S3_ENDPOINT) to use AWS S3.'),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{2,62}$/).default('hangsleuth-transcripts').describe('Bucket the transcripts are stored in; created at start if it does not exist.'),
  S3_ACCESS_KEY_ID: optionalText().describe('S3 access key id; unset uses the AWS SDK default credential chain.'),
  S3_SECRET_ACCESS_KEY: optionalText().describe('S3 secret access key.'),
  S3_FORCE_PATH_STYLE: flag(true).describe('Address buckets by path (http://host/bucket/key), as MinIO and s3rver need.'),
  S3_PART_SIZE_MB: integer(8, 5, 512).describe('Part size of multipart uploads to S3, in MiB; bodies larger than one part are uploaded in parts.'),
  LOCAL_S3_DIR: z.string().default('.data/s3').describe('Folder the embedded s3rver keeps objects in (only without S3_ENDPOINT and S3_REGION).'),
  LOCAL_S3_PORT: integer(4569, 0, 65535).describe('Port of the embedded s3rver (0 picks a free port).'),
  MAX_UPLOAD_MB: integer(512, 1, 16384).describe('Largest transcript accepted, in MiB; larger uploads get 413.'),
  DEDUPE_WINDOW_SECONDS: integer(86_400, 0, 31_536_000).describe('The same content for the same server within this window returns the existing report (0 turns it off).'),
  ANALYSIS_CONCURRENCY: integer(2, 1, 64).describe('Transcripts one worker process analyses at once, each in its own worker thread.'),
  ANALYSIS_TIMEOUT_MS: integer(120_000, 100, 3_600_000).describe('Time budget of one analysis; a transcript that exceeds it fails with analysis-timeout.'),
  ANALYSIS_MEMORY_MB: integer(3072, 64, 65_536).describe('Heap budget of one analysis thread; a transcript that exceeds it fails with analysis-out-of-memory.'),
  JOB_ATTEMPTS: integer(5, 1, 100).describe('Attempts of an analysis job on transient errors (S3, PostgreSQL) before the report is marked failed.'),
  JOB_BACKOFF_MS: integer(2000, 10, 600_000).describe('First retry delay of a failed analysis job; doubles at each attempt.'),
  JOB_LOCK_MS: integer(30_000, 1000, 3_600_000).describe('BullMQ lock duration: a job whose worker stops renewing its lock for this long is handed to another worker.'),
  JOB_STALLED_INTERVAL_MS: integer(30_000, 500, 3_600_000).describe('How often workers look for jobs whose worker died.'),
  RECONCILE_INTERVAL_MS: integer(60_000, 200, 86_400_000).describe('How often the reconciler looks for reports that were received but have no job (for example after Redis lost its data).'),
  RECONCILE_GRACE_MS: integer(10_000, 0, 86_400_000).describe('Reports younger than this are left to the normal path by the reconciler.'),
  API_KEY_CACHE_TTL_MS: integer(5000, 0, 60_000).describe('How long the API remembers a verified API key; a revoked key is refused at most this long after its revocation. 0: every request looks its key up.'),
  FLEET_CACHE_TTL_MS: integer(5000, 0, 300_000).describe('How long the API keeps a tenant\'s fleet answers (cluster lists, details, trends, histories) for identical requests; 0 turns it off. Triage changes clear it at once.'),
  WEBHOOK_ALLOWED_HOSTS: z.string().default('').describe('Comma-separated CIDRs or host names webhooks may reach although they are private, loopback or link-local (none by default).'),
  WEBHOOK_TIMEOUT_MS: integer(10_000, 100, 120_000).describe('Time a webhook receiver has to answer one delivery.'),
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .default('5000,300000,1800000,7200000,18000000,36000000,36000000')
    .refine((value) => value.split(',').every((part) => /^\d{1,9}$/.test(part.trim())), 'comma-separated milliseconds')
    .describe('Delays between the attempts of a webhook delivery after the first (immediate) one; Standard Webhooks schedule by default.'),
  WEBHOOK_DISABLE_AFTER_MS: integer(432_000_000, 1000, 31_536_000_000).describe('An endpoint failing every delivery for this long is disabled (the API shows why).'),
  WEBHOOK_CONCURRENCY: integer(32, 1, 1000).describe('Webhook deliveries one worker process sends at once.'),
  WEBHOOK_SECRET_GRACE_MS: integer(86_400_000, 0, 31_536_000_000).describe('After a secret rotation, how long deliveries are also signed with the previous secret.'),
  ORPHAN_SWEEP_INTERVAL_MS: integer(21_600_000, 1000, 604_800_000).describe('How often a worker deletes stored transcripts that no report points at (left when PostgreSQL failed during an upload).'),
  ORPHAN_GRACE_MS: integer(3_600_000, 0, 604_800_000).describe('Stored transcripts younger than this are never swept (their upload may still be writing its row).'),
  METRICS_ENABLED: flag(true).describe('Serve Prometheus metrics: GET /metrics on the API port (without authentication: keep it off public ingress, or set false) and on the worker metrics server.'),
  WORKER_METRICS_PORT: integer(9464, 0, 65535).describe('Port of the worker process metrics server (GET /metrics and /healthz on HANGSLEUTH_HOST; 0 picks a free port). Only with METRICS_ENABLED.'),
} as const;

export type ConfigVariable = keyof typeof CONFIG_VARIABLES;
const environmentSchema = z.object(CONFIG_VARIABLES);

export interface ObjectStoreConfig {
  /** Unset: AWS S3 in `region`, or (when `embedded`) the local s3rver. */
  endpoint: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  partSizeBytes: number;
  /** No endpoint and no region configured: run s3rver in-process on `localDirectory`. */
  embedded: { directory: string; port: number } | null;
}

export interface Config {
  host: string;
  port: number;
  publicUrl: string | undefined;
  logLevel: z.infer<typeof environmentSchema>['HANGSLEUTH_LOG_LEVEL'];
  databaseUrl: string;
  databasePoolSize: number;
  redisUrl: string;
  queuePrefix: string;
  objectStore: ObjectStoreConfig;
  maxUploadBytes: number;
  dedupeWindowMs: number;
  fleetCacheTtlMs: number;
  apiKeyCacheTtlMs: number;
  analysis: { concurrency: number; timeoutMs: number; memoryMb: number };
  jobs: { attempts: number; backoffMs: number; lockMs: number; stalledIntervalMs: number };
  reconciler: { intervalMs: number; graceMs: number; orphanSweepIntervalMs: number; orphanGraceMs: number };
  webhooks: { allowedHosts: string[]; timeoutMs: number; retryScheduleMs: number[]; disableAfterMs: number; concurrency: number; secretGraceMs: number };
  metrics: { enabled: boolean; workerPort: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Parses the environment (by default `process.env`) into the configuration, or throws a ConfigError listing every problem. */
export function loadConfig(environment: Record<string, string | undefined> = process.env, overrides: Partial<Record<ConfigVariable, string>> = {}): Config {
  const parsed = environmentSchema.safeParse({ ...pickDeclared(environment), ...overrides });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const env = parsed.data;
  const embedded = env.S3_ENDPOINT === undefined && env.S3_REGION === undefined;
  return Object.freeze({
    host: env.HANGSLEUTH_HOST,
    port: env.HANGSLEUTH_PORT,
    publicUrl: env.HANGSLEUTH_PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: env.HANGSLEUTH_LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    redisUrl: env.REDIS_URL,
    queuePrefix: env.QUEUE_PREFIX,
    objectStore: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION ?? 'us-east-1',
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID ?? (embedded ? 'S3RVER' : undefined),
      secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? (embedded ? 'S3RVER' : undefined),
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      partSizeBytes: env.S3_PART_SIZE_MB * MIB,
      embedded: embedded ? { directory: env.LOCAL_S3_DIR, port: env.LOCAL_S3_PORT } : null,
    },
    maxUploadBytes: env.MAX_UPLOAD_MB * MIB,
    dedupeWindowMs: env.DEDUPE_WINDOW_SECONDS * 1000,
    fleetCacheTtlMs: env.FLEET_CACHE_TTL_MS,
    apiKeyCacheTtlMs: env.API_KEY_CACHE_TTL_MS,
    analysis: { concurrency: env.ANALYSIS_CONCURRENCY, timeoutMs: env.ANALYSIS_TIMEOUT_MS, memoryMb: env.ANALYSIS_MEMORY_MB },
    jobs: { attempts: env.JOB_ATTEMPTS, backoffMs: env.JOB_BACKOFF_MS, lockMs: env.JOB_LOCK_MS, stalledIntervalMs: env.JOB_STALLED_INTERVAL_MS },
    webhooks: {
      allowedHosts: env.WEBHOOK_ALLOWED_HOSTS.split(',').map((part) => part.trim()).filter(Boolean),
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: env.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map((part) => Number(part.trim())),
      disableAfterMs: env.WEBHOOK_DISABLE_AFTER_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
      secretGraceMs: env.WEBHOOK_SECRET_GRACE_MS,
    },
    reconciler: { intervalMs: env.RECONCILE_INTERVAL_MS, graceMs: env.RECONCILE_GRACE_MS, orphanSweepIntervalMs: env.ORPHAN_SWEEP_INTERVAL_MS, orphanGraceMs: env.ORPHAN_GRACE_MS },
    metrics: { enabled: env.METRICS_ENABLED, workerPort: env.WORKER_METRICS_PORT },
  });
}

function pickDeclared(environment: Record<string, string | undefined>): Record<string, string> {
  const declared: Record<string, string> = {};
  for (const name of Object.keys(CONFIG_VARIABLES)) {
    const value = environment[name];
    if (value !== undefined && value !== '') declared[name] = value;
  }
  return declared;
}

/** The markdown table of every variable, its default and its description (docs/CONFIGURATION.md). */
export function describeConfiguration(): string {
  const rows = Object.entries(CONFIG_VARIABLES).map(([name, schema]) => {
    const fallback = defaultOf(schema);
    return `| \`${name}\` | ${fallback === undefined ? '(unset)' : `\`${fallback}\``} | ${schema.description ?? ''} |`;
  });
  return ['| Variable | Default | What it sets |', '|---|---|---|', ...rows].join('\n');
}

function defaultOf(schema: z.ZodType): string | undefined {
  const result = schema.safeParse(undefined);
  if (!result.success || result.data === undefined) return undefined;
  const raw = (schema as unknown as { def: { defaultValue?: unknown; in?: { def?: { defaultValue?: unknown } } } }).def;
  const fallback = raw.defaultValue ?? raw.in?.def?.defaultValue ?? result.data;
  return String(fallback);
}
