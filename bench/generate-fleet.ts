/**
 * Fleet data generator: fills a migrated, empty HangSleuth database with one tenant's history, as the API and the
 * analysis worker would have written it, for the Fleet API benchmark (bench/fleet-api-benchmark.ts).
 *
 *   node bin/run-ts.js bench/generate-fleet.ts --database-url URL [--reports 1000000 --clusters 10000 --servers 5000 --days 90 --seed 1]
 *
 * What it writes (one tenant, default sizes: 1 M reports over 10 k clusters and 5 k servers over 90 days):
 * - reports, status `analysed`, received_at over the last DAYS days (queued/started/finished a moment after);
 * - one analysis per report: the real verdict of `analyzeTranscript(examples/hung-logon-worker-queue.txt)`, its
 *   pattern, blamed module, root frame and signature hash replaced by the cluster's (one variant per signature);
 * - one finding per report, pointing at its signature and cluster;
 * - signatures, 1–3 per cluster: a primary one and near-duplicates (root frames 2/3 alike), never alike across
 *   clusters, so that the worker's placement would have given these very clusters;
 * - and, derived with `INSERT … SELECT … GROUP BY` from the findings and reports inserted (never computed apart):
 *   signatures' first/last seen and placement, clusters (counts, first/last seen, representative = the first
 *   report, signature text = the first signature, `sequence` in order of creation), cluster_servers,
 *   cluster_server_buckets and cluster_rollups (hour and day: reports, distinct servers, servers new to the
 *   cluster), servers (first/last seen, report count).
 *
 * The shape: cluster k (1…CLUSTERS) gets a share ln((k+1)/k) / ln(CLUSTERS+1) of the reports (Zipf-like: the top
 * cluster ~7 %, the ten biggest ~26 %, thousands with a dozen reports), at least one each; a cluster lives from a
 * birth time (most of them old, 10 % born in the last 7 days, three of the big ones incidents of the last 5 days)
 * to now or, for 15 % of the older ones, an earlier end (they are `resolved` a little after their last report),
 * with a density rising or falling over its life, so that growth over a window means something; its reports come
 * from a subset of servers sized to it (the biggest span the whole fleet), skewed inside it. Rows go in in the order
 * the worker would have created them (reports, analyses and findings by received_at; cluster_servers and rollups by
 * their first report), so that time-window scans pay for a realistic physical layout.
 *
 * Everything is set-based SQL through `pg` in one transaction (all or nothing), with deterministic hashes of the
 * row number and the seed for randomness: the same parameters and anchor time give the same rows. While loading,
 * foreign-key triggers are off (session_replication_role = replica, when the role is a superuser: the rows are
 * consistent by construction) and the secondary indexes of the big tables are dropped, then recreated from the
 * very definitions the migrations gave them (`pg_get_indexdef`, read before dropping). A VACUUM ANALYZE follows, as
 * autovacuum would have done on a live database. A marker row (table `bench_fleet_marker`) records the parameters,
 * the anchor time and the timings, so that the benchmark can reuse the database.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { analyzeTranscript, signFinding, summariseModel } from '../services/engine/index.ts';

export interface FleetParameters {
  reports: number;
  clusters: number;
  servers: number;
  days: number;
  seed: number;
}

export const DEFAULT_FLEET_PARAMETERS: FleetParameters = { reports: 1_000_000, clusters: 10_000, servers: 5_000, days: 90, seed: 1 };

export const FLEET_MARKER_TABLE = 'bench_fleet_marker';
export const FLEET_TENANT_NAME = 'fleet-benchmark';

export interface GenerationStep {
  step: string;
  ms: number;
  rows: number | null;
}

export interface GeneratedFleet {
  parameters: FleetParameters;
  /** "Now" of the generated history: its last report is at most this. */
  anchor: Date;
  tenantId: string;
  steps: GenerationStep[];
  totalMs: number;
}

export interface FleetMarker {
  parameters: FleetParameters;
  anchor: Date;
  generatedAt: Date;
  tenantId: string;
  steps: GenerationStep[];
  totalMs: number;
}

type Log = (line: string) => void;

const root = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = 'examples/hung-logon-worker-queue.txt';
/** Tables whose secondary indexes are dropped while loading and recreated afterwards. */
const REINDEXED_TABLES = ['reports', 'analyses', 'findings', 'cluster_rollups'];
/** Tables the generator fills (VACUUM ANALYZE afterwards). */
const FILLED_TABLES = ['tenants', 'servers', 'reports', 'analyses', 'findings', 'signatures', 'clusters', 'cluster_servers', 'cluster_rollups', 'cluster_server_buckets'];

const PATTERNS: [string, number][] = [
  ['worker-queue-starvation', 0.4],
  ['pending-irp', 0.15],
  ['deadlock', 0.1],
  ['lock-contention', 0.08],
  ['alpc-wait-chain', 0.07],
  ['remote-file-io', 0.06],
  ['third-party-long-wait', 0.05],
  ['cpu-dpc-stall', 0.04],
  ['orphaned-lock', 0.03],
  ['interrupt-storm', 0.02],
];
const COMPANIES = ['Fabrikam', 'Contoso', 'Litware', 'AdventureWorks', 'Tailspin', 'Northwind', 'Woodgrove', 'FourthCoffee', 'WideWorld', 'Proseware', 'Lucerne', 'Margie', 'Trey', 'Wingtip', 'Humongous', 'Coho', 'Relecloud', 'Datum', 'Graphic', 'BlueYonder'];
const MODULE_SUFFIXES = ['DSM', 'Flt', 'AV', 'Net', 'Bkp', 'Vss', 'Edr', 'Vpn', 'Dlp', 'Mon', 'Cbt', 'Ndis', 'Hid', 'Crypt', 'Sync'];
const SYSTEM_MODULES = ['ntfs', 'fltmgr', 'storport', 'mpio', 'tcpip', 'afd', 'rdbss', 'mrxsmb', 'srv2', 'ndis', 'volsnap', 'partmgr', 'disk', 'classpnp', 'ksecdd', 'cng', 'ci', 'win32kfull', 'rpcrt4', 'combase', 'ntdll', 'kernelbase', 'lsasrv', 'sspicli', 'winhttp', 'http', 'netio', 'fwpkclnt', 'volmgr', 'refs', 'dfsc', 'msrpc'];
const ROUTINES = ['CommonCreate', 'PerformPreCallbacks', 'UnitCompleteRequest', 'PathVerify', 'ReceiveData', 'SendComplete', 'WaitForStableCondition', 'ProcessIrp', 'DispatchRequest', 'FlushBuffers', 'AcquireResource', 'ReleaseResource', 'QueryInformation', 'SetInformation', 'ReadWrite', 'CloseHandle', 'CompleteRequest', 'StartIo', 'IssueRequest', 'CheckAccess', 'VerifyImage', 'DeviceControl', 'CleanupFile', 'LockControl', 'PnpStart', 'PowerDispatch', 'HandleTimeout', 'RetryRequest', 'QueueWork', 'DrainQueue', 'ResetBus', 'HandleInterrupt'];
const SITES = ['par', 'fra', 'nyc', 'sgp', 'syd'];
const ROLES = ['rds', 'sql', 'app', 'web', 'fs', 'dc', 'exch', 'cas'];
const OS_VERSIONS = ['10.0.14393', '10.0.17763', '10.0.20348', '6.3.9600'];

/** The real verdict the analyses are made of, and the tokens of it that are replaced per signature. */
interface VerdictTemplate {
  json: string;
  pattern: string;
  module: string;
  frames: string;
  hash: string;
  modelSummary: string;
  rulesVersion: string;
}

function verdictTemplate(): VerdictTemplate {
  const { model, verdict } = analyzeTranscript(readFileSync(`${root}${EXAMPLE}`));
  const finding = verdict.findings[0];
  if (verdict.findings.length !== 1 || !finding) throw new Error(`${EXAMPLE}: expected a verdict of one finding, got ${verdict.findings.length}`);
  const signature = signFinding(finding);
  if (!signature.module) throw new Error(`${EXAMPLE}: the finding blames no module`);
  return {
    json: JSON.stringify(verdict),
    pattern: finding.pattern,
    module: signature.module,
    frames: signature.text.split(' | ')[2] ?? '',
    hash: signature.hash,
    modelSummary: JSON.stringify(summariseModel(model)),
    rulesVersion: signature.rulesVersion,
  };
}

function engineVersion(): string {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  return `hangsleuth/${version}`;
}

function checkParameters(parameters: FleetParameters): void {
  for (const [name, value] of Object.entries(parameters)) {
    if (!Number.isSafeInteger(value) || value < (name === 'seed' ? 0 : 1)) throw new Error(`${name} must be a ${name === 'seed' ? 'non-negative' : 'positive'} integer, not ${value}`);
  }
  if (parameters.reports < Math.max(parameters.clusters, parameters.servers)) throw new Error('reports must be at least as many as clusters and as servers (each gets one)');
  if (parameters.servers > 99_999) throw new Error('at most 99,999 servers');
}

/** Literal SQL of a validated integer. */
const int = (value: number): string => {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
};
const textArray = (values: string[]): string => `ARRAY[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(', ')}]::text[]`;

/**
 * Generates the fleet into `databaseUrl`, which must be migrated and hold no report. Returns the timings of the
 * steps (also written to the marker table).
 */
export async function generateFleet(databaseUrl: string, parameters: FleetParameters = DEFAULT_FLEET_PARAMETERS, options: { anchor?: Date; log?: Log } = {}): Promise<GeneratedFleet> {
  checkParameters(parameters);
  const log = options.log ?? ((line: string) => process.stderr.write(`generate-fleet: ${line}\n`));
  const anchor = new Date(Math.floor((options.anchor ?? new Date()).getTime()));
  const { reports: R, clusters: C, servers: S, days: D, seed } = parameters;
  const template = verdictTemplate();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const steps: GenerationStep[] = [];
  const started = performance.now();
  const step = async (name: string, sql: string, values: unknown[] = []): Promise<number | null> => {
    const at = performance.now();
    const result = await client.query(sql, values);
    const ms = performance.now() - at;
    const rows = result.command === 'INSERT' || result.command === 'UPDATE' || result.command === 'SELECT' || result.command === 'CREATE' ? result.rowCount : null;
    steps.push({ step: name, ms, rows });
    log(`${name}: ${(ms / 1000).toFixed(1)} s${rows !== null ? `, ${rows.toLocaleString('en-US')} rows` : ''}`);
    return rows;
  };
  try {
    const existing = await client.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM reports LIMIT 1) AS any_report`).catch((error: Error) => {
      throw new Error(`the database is not migrated (${error.message}); run migrateDatabase first`);
    });
    if (Number(existing.rows[0]!.n) > 0) throw new Error('the database already holds reports: generate into an empty, migrated database');
    const { rows: roles } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    const superuser = roles[0]?.rolsuper === true;

    await client.query('BEGIN');
    // Session settings for a bulk load, for this transaction only. lz4 makes TOASTing a million verdicts cheap
    // (a column compression setting of the session, not of the schema: pglz rows read back the same).
    await client.query(`SET LOCAL TimeZone = 'UTC'`);
    await client.query(`SET LOCAL work_mem = '256MB'`);
    await client.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    await client.query(`SET LOCAL synchronous_commit = off`);
    await client.query(`SET LOCAL default_toast_compression = 'lz4'`).catch(async () => {
      throw new Error('this PostgreSQL has no lz4: set default_toast_compression by hand and retry');
    });
    if (superuser) await client.query(`SET LOCAL session_replication_role = replica`);
    else log('not a superuser: foreign-key triggers stay on (slower)');
    await client.query(`SET LOCAL temp_buffers = '1GB'`).catch(() => undefined);

    // Deterministic randomness: u(i, salt) in [0, 1), from a hash of the row number, the salt and the seed.
    await client.query(`CREATE FUNCTION pg_temp.u(i bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT (hashint8extended(i, ${int(seed)}::bigint * 1000 + salt) & 4503599627370495)::float8 / 4503599627370496.0 $$`);
    // A version-4-shaped UUID from a name (the API's schemas validate UUIDs).
    await client.query(`CREATE FUNCTION pg_temp.uuid_of(kind text, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
      $$ SELECT overlay(overlay(md5('${int(seed)}/' || kind || '/' || n) placing '4' from 13 for 1) placing '8' from 17 for 1)::uuid $$`);

    const tenantId = (await client.query<{ id: string }>(`SELECT pg_temp.uuid_of('tenant', 0)::text AS id`)).rows[0]!.id;
    const anchorSql = `'${anchor.toISOString()}'::timestamptz`;
    const spanSql = `interval '${int(D)} days'`;

    // Secondary indexes off while loading: their definitions as the migrations made them, to recreate afterwards.
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ANY($1::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname`,
      [REINDEXED_TABLES],
    );
    await step(`drop ${indexes.length} secondary indexes of ${REINDEXED_TABLES.join(', ')}`, indexes.map((index) => `DROP INDEX ${pg.escapeIdentifier(index.name)};`).join('\n') || 'SELECT 1');

    await step('tenant', `INSERT INTO tenants (id, name, created_at) VALUES ($1::uuid, $2, ${anchorSql} - ${spanSql} - interval '1 day')`, [tenantId, FLEET_TENANT_NAME]);

    await step(
      'plan: servers',
      `CREATE TEMP TABLE gen_servers AS
       SELECT s, pg_temp.uuid_of('server', s) AS id,
              (${textArray(SITES)})[1 + s % ${SITES.length}] || '-' || (${textArray(ROLES)})[1 + (s / ${SITES.length}) % ${ROLES.length}] || '-' || lpad(s::text, 5, '0') AS name,
              (${textArray(OS_VERSIONS)})[1 + floor(${OS_VERSIONS.length} * power(pg_temp.u(s, 101), 2))::int] AS os_version
         FROM generate_series(0, ${int(S - 1)}) AS s`,
    );
    await client.query('CREATE UNIQUE INDEX ON gen_servers (s)');

    // Clusters: pattern, module, life span, density shape, server subset, signatures; then frames unique per
    // (pattern, module) bucket: 3 per cluster from a pool of frames, at a per-bucket offset.
    const patternCase = (() => {
      let cumulative = 0;
      const arms = PATTERNS.map(([pattern, share]) => {
        cumulative += share;
        return `WHEN u_pattern < ${cumulative.toFixed(4)} THEN '${pattern}'`;
      });
      return `CASE ${arms.join(' ')} ELSE '${PATTERNS[0]![0]}' END`;
    })();
    const modules = COMPANIES.length * MODULE_SUFFIXES.length;
    const frames = SYSTEM_MODULES.flatMap((module) => ROUTINES.map((routine) => `${module}!${module.charAt(0).toUpperCase()}${module.slice(1)}${routine}`));
    await step(
      'plan: clusters',
      `CREATE TEMP TABLE gen_clusters AS
       WITH drawn AS (
         SELECT k, pg_temp.u(k, 1) AS u_pattern, pg_temp.u(k, 2) AS u_module, pg_temp.u(k, 3) AS u_age, pg_temp.u(k, 4) AS u_kind,
                pg_temp.u(k, 5) AS u_death, pg_temp.u(k, 6) AS u_shape, pg_temp.u(k, 7) AS u_nsig, pg_temp.u(k, 8) AS u_ratio,
                pg_temp.u(k, 9) AS u_offset, pg_temp.u(k, 10) AS u_end, pg_temp.u(k, 11) AS u_state
           FROM generate_series(1, ${int(C)}) AS k
       ), shaped AS (
         SELECT k, u_state, ${patternCase} AS pattern,
                floor(${modules} * power(u_module, 1.5))::int AS module_index,
                -- when in the window the cluster was first hit (0 = DAYS ago, 1 = now)
                greatest(0, CASE WHEN k IN (3, 8, 15) THEN 1 - least(1, 5.0 / ${int(D)}) * (0.2 + 0.8 * u_age)
                     WHEN k <= 20 THEN 0.05 * u_age
                     WHEN u_kind < 0.6 THEN 0.9 * u_age * u_age
                     WHEN u_kind < 0.9 THEN 0.97 * u_age
                     ELSE 1 - least(1, 7.0 / ${int(D)}) * u_age END) AS born_at,
                u_death, u_end, u_shape, u_nsig, u_ratio, u_offset,
                ${int(R)} * ln((k + 1)::float8 / k) / ln(${int(C)} + 1.0) AS expected_reports
           FROM drawn
       ), lived AS (
         SELECT *, CASE WHEN k > 20 AND born_at < 0.66 AND u_death < 0.15 THEN born_at + (1 - born_at) * (0.2 + 0.6 * u_end) ELSE 1 END AS died_at
           FROM shaped
       )
       SELECT k, pg_temp.uuid_of('cluster', k) AS id, pattern,
              (${textArray(COMPANIES)})[1 + module_index % ${COMPANIES.length}] || (${textArray(MODULE_SUFFIXES)})[1 + (module_index / ${COMPANIES.length}) % ${MODULE_SUFFIXES.length}] AS module,
              ${anchorSql} - ${spanSql} + ${spanSql} * born_at AS born,
              ${anchorSql} - ${spanSql} + ${spanSql} * died_at AS died,
              died_at < 1 AS ended,
              0.5 + u_shape AS shape,
              1 + (u_nsig < 0.35)::int + (u_nsig < 0.12)::int AS nsig,
              least(${int(S)}, greatest(1, ceil(expected_reports / (2 + 18 * u_ratio))))::int AS span,
              floor(${int(S)} * u_offset)::int AS server_offset,
              u_state
         FROM lived`,
    );
    await client.query('CREATE UNIQUE INDEX ON gen_clusters (k)');
    await step(
      'plan: signatures',
      `CREATE TEMP TABLE gen_signatures AS
       WITH placed AS (
         SELECT c.*, row_number() OVER (PARTITION BY pattern, module ORDER BY k) - 1 AS rank_in_bucket,
                floor(${frames.length} * pg_temp.u(hashtext(pattern || '|' || module), 12))::int AS bucket_offset
           FROM gen_clusters c
       ), variants AS (
         SELECT p.k, p.id AS cluster_id, p.pattern, p.module, j, p.rank_in_bucket,
                frames[1 + (p.bucket_offset + 3 * p.rank_in_bucket) % ${frames.length}] AS primary_frame,
                frames[1 + (p.bucket_offset + 3 * p.rank_in_bucket + j) % ${frames.length}] AS own_frame
           FROM placed p CROSS JOIN LATERAL generate_series(0, p.nsig - 1) AS j CROSS JOIN (SELECT ${textArray(frames)} AS frames) AS pool
       )
       SELECT k, j, cluster_id, pg_temp.uuid_of('signature', k * 4 + j) AS id, pattern, module, own_frame AS frame,
              pattern || ' | ' || module || ' | ' || own_frame AS text,
              left(encode(sha256(convert_to(pattern || ' | ' || module || ' | ' || own_frame, 'UTF8')), 'hex'), 16) AS hash,
              ARRAY(SELECT x FROM unnest(CASE WHEN j = 0 THEN ARRAY[module, primary_frame] ELSE ARRAY[module, primary_frame, own_frame] END) AS x ORDER BY x COLLATE "C") AS frame_set,
              rank_in_bucket
         FROM variants`,
    );
    await client.query('CREATE UNIQUE INDEX ON gen_signatures (k, j)');
    const { rows: sizes } = await client.query<{ biggest: number; texts: string; signatures: string }>(
      `SELECT (SELECT max(rank_in_bucket) + 1 FROM gen_signatures)::int AS biggest, count(DISTINCT text) AS texts, count(*) AS signatures FROM gen_signatures`,
    );
    if (sizes[0]!.biggest * 3 > frames.length || sizes[0]!.texts !== sizes[0]!.signatures) {
      throw new Error(`signature plan: a (pattern, module) bucket holds ${sizes[0]!.biggest} clusters, more than ${Math.floor(frames.length / 3)} (distinct texts ${sizes[0]!.texts} of ${sizes[0]!.signatures})`);
    }

    // One verdict per signature: the real one with its pattern, module, root frame and signature hash replaced.
    await step(
      'plan: verdicts (one per signature)',
      `CREATE TEMP TABLE gen_verdicts AS
       SELECT k, j, v AS verdict, v->>'verdict' AS verdict_kind, v->>'summary' AS summary,
              v->'findings'->0->>'summary' AS finding_summary, v->'findings'->0->>'confidence' AS confidence
         FROM (SELECT k, j, replace(replace(replace(replace($1::text, $2::text, pattern), $3::text, module), $4::text, frame), $5::text, hash)::jsonb AS v
                 FROM gen_signatures) AS substituted`,
      [template.json, template.pattern, template.module, template.frames, template.hash],
    );
    await client.query('CREATE UNIQUE INDEX ON gen_verdicts (k, j)');

    // Reports: the first CLUSTERS go one to each cluster, the first SERVERS one to each server; the rest by draw.
    await step(
      'plan: reports',
      `CREATE TEMP TABLE gen_reports AS
       WITH drawn AS (
         SELECT i, CASE WHEN i < ${int(C)} THEN i + 1 ELSE least(${int(C)}, floor(exp(pg_temp.u(i, 21) * ln(${int(C)} + 1.0))))::int END AS k
           FROM generate_series(0, ${int(R - 1)}) AS i
       ), timed AS (
         SELECT d.i, d.k, c.id AS cluster_id,
                CASE WHEN d.i < ${int(S)} THEN d.i ELSE (c.server_offset + floor(c.span * power(pg_temp.u(d.i, 22), 1.5))::int) % ${int(S)} END AS s,
                floor(c.nsig * power(pg_temp.u(d.i, 23), 2))::int AS j,
                (c.born + (c.died - c.born) * power(pg_temp.u(d.i, 24), c.shape))::timestamptz(3) AS t
           FROM drawn d JOIN gen_clusters c ON c.k = d.k
       )
       SELECT i, k, cluster_id, s, j, t, pg_temp.uuid_of('report', i) AS id,
              (t + interval '1 ms' * (20 + floor(180 * pg_temp.u(i, 25))))::timestamptz(3) AS queued,
              (t + interval '1 ms' * (20 + floor(180 * pg_temp.u(i, 25)) + 50 + floor(3000 * power(pg_temp.u(i, 26), 3))))::timestamptz(3) AS started,
              (t + interval '1 ms' * (20 + floor(180 * pg_temp.u(i, 25)) + 50 + floor(3000 * power(pg_temp.u(i, 26), 3)) + 80 + floor(520 * pg_temp.u(i, 27))))::timestamptz(3) AS finished
         FROM timed
        ORDER BY t, i`,
    );

    await step(
      'reports',
      `INSERT INTO reports (id, tenant_id, server_id, status, content_sha256, byte_size, object_key, content_type, file_name, idempotency_key, ticket_id,
                            os_version, collected_at, attempts, error_code, error, received_at, queued_at, started_at, finished_at, updated_at)
       SELECT r.id, $1::uuid, sv.id, 'analysed', encode(sha256(uuid_send(r.id)), 'hex'),
              round(exp(ln(40000) + 4.5 * pg_temp.u(r.i, 31)))::bigint, 'transcripts/' || $1 || '/' || r.id, 'text/plain',
              CASE WHEN pg_temp.u(r.i, 32) < 0.7 THEN 'kd-' || sv.name || '.txt' END, NULL,
              CASE WHEN pg_temp.u(r.i, 33) < 0.05 THEN 'INC' || (1000000 + r.i) END,
              sv.os_version, r.t - interval '1 s' * (30 + floor(900 * pg_temp.u(r.i, 34))), 1, NULL, NULL,
              r.t, r.queued, r.started, r.finished, r.finished
         FROM gen_reports r JOIN gen_servers sv ON sv.s = r.s
        ORDER BY r.t, r.i`,
      [tenantId],
    );
    await step(
      'analyses',
      `INSERT INTO analyses (id, report_id, tenant_id, verdict_kind, summary, verdict, model_summary, engine_version, rules_version, duration_ms, created_at)
       SELECT pg_temp.uuid_of('analysis', r.i), r.id, $1::uuid, v.verdict_kind, v.summary, v.verdict, $2::jsonb, $3, $4,
              5 + floor(90 * power(pg_temp.u(r.i, 35), 2))::int, r.finished
         FROM gen_reports r JOIN gen_verdicts v ON v.k = r.k AND v.j = r.j
        ORDER BY r.t, r.i`,
      [tenantId, template.modelSummary, engineVersion(), template.rulesVersion],
    );
    await step(
      'findings',
      `INSERT INTO findings (id, analysis_id, report_id, tenant_id, server_id, ordinal, pattern, blamed_module, confidence, summary, signature_id, cluster_id, created_at)
       SELECT pg_temp.uuid_of('finding', r.i), pg_temp.uuid_of('analysis', r.i), r.id, $1::uuid, pg_temp.uuid_of('server', r.s), 0,
              g.pattern, g.module, v.confidence, v.finding_summary, g.id, g.cluster_id, r.finished
         FROM gen_reports r JOIN gen_signatures g ON g.k = r.k AND g.j = r.j JOIN gen_verdicts v ON v.k = r.k AND v.j = r.j
        ORDER BY r.t, r.i`,
      [tenantId],
    );

    // Everything below is derived from the rows inserted above.
    await step(
      'derive: what each finding saw (findings ⋈ reports)',
      `CREATE TEMP TABLE gen_seen AS
       SELECT f.cluster_id, f.server_id, f.signature_id, f.report_id, r.received_at, r.finished_at
         FROM findings f JOIN reports r ON r.id = f.report_id
        WHERE f.tenant_id = $1::uuid`,
      [tenantId],
    );
    await step(
      'derive: cluster_servers',
      `INSERT INTO cluster_servers (cluster_id, server_id, tenant_id, first_seen_at, last_seen_at, report_count)
       SELECT cluster_id, server_id, $1::uuid, min(received_at), max(received_at), count(DISTINCT report_id)
         FROM gen_seen GROUP BY cluster_id, server_id ORDER BY min(received_at), cluster_id, server_id`,
      [tenantId],
    );
    await step(
      'derive: cluster_server_buckets (hour, day)',
      `INSERT INTO cluster_server_buckets (cluster_id, server_id, granularity, bucket)
       SELECT cluster_id, server_id, granularity, bucket FROM (
         SELECT DISTINCT cluster_id, server_id, 'hour'::rollup_granularity AS granularity, date_trunc('hour', received_at) AS bucket FROM gen_seen
         UNION ALL
         SELECT DISTINCT cluster_id, server_id, 'day'::rollup_granularity, date_trunc('day', received_at) FROM gen_seen) AS seen
       ORDER BY cluster_id, granularity, bucket, server_id`,
    );
    // Rows in the order the worker would have created them (at the first report of each bucket), hourly and daily
    // interleaved: the heap's physical order is what time-window scans pay for.
    const rollupsOf = (granularity: string) => `
      SELECT counted.cluster_id, '${granularity}'::rollup_granularity AS granularity, counted.bucket, counted.reports, counted.servers,
             coalesce(fresh.servers, 0) AS new_servers, counted.first_at
        FROM (SELECT cluster_id, date_trunc('${granularity}', received_at) AS bucket, count(DISTINCT report_id) AS reports,
                     count(DISTINCT server_id) AS servers, min(received_at) AS first_at
                FROM gen_seen GROUP BY 1, 2) AS counted
        LEFT JOIN (SELECT cluster_id, date_trunc('${granularity}', first_seen_at) AS bucket, count(*) AS servers
                     FROM cluster_servers WHERE tenant_id = $1::uuid GROUP BY 1, 2) AS fresh
          ON fresh.cluster_id = counted.cluster_id AND fresh.bucket = counted.bucket`;
    await step(
      'derive: cluster_rollups (hour, day)',
      `INSERT INTO cluster_rollups (cluster_id, tenant_id, granularity, bucket, report_count, server_count, new_server_count)
       SELECT cluster_id, $1::uuid, granularity, bucket, reports, servers, new_servers
         FROM (${rollupsOf('hour')} UNION ALL ${rollupsOf('day')}) AS rollups
        ORDER BY first_at, cluster_id, granularity`,
      [tenantId],
    );
    await step(
      'derive: clusters',
      `INSERT INTO clusters (id, tenant_id, pattern, blamed_module, signature_text, aliases, merged_into_id, state, state_changed_at, resolved_in_version, note, ticket_url,
                             representative_report_id, first_seen_at, last_seen_at, server_count, report_count, created_at, updated_at)
       SELECT c.id, $1::uuid, c.pattern, c.module, first_signature.text, '{}', NULL, triage.state::cluster_state, triage.changed_at,
              CASE WHEN triage.state = 'resolved' THEN '4.' || (c.k % 7) || '.' || (c.k % 13) END,
              CASE WHEN triage.state = 'acknowledged' THEN 'Vendor case opened with ' || c.module END,
              CASE WHEN triage.state <> 'open' THEN 'https://tickets.example.com/browse/HANG-' || c.k END,
              first_report.report_id, seen.first_seen, seen.last_seen, servers.count, seen.reports, first_report.finished_at,
              greatest(seen.last_finished, triage.changed_at)
         FROM gen_clusters c
         JOIN (SELECT cluster_id, min(received_at) AS first_seen, max(received_at) AS last_seen, max(finished_at) AS last_finished, count(DISTINCT report_id) AS reports
                 FROM gen_seen GROUP BY cluster_id) AS seen ON seen.cluster_id = c.id
         JOIN (SELECT cluster_id, count(*)::int AS count FROM cluster_servers WHERE tenant_id = $1::uuid GROUP BY cluster_id) AS servers ON servers.cluster_id = c.id
         JOIN (SELECT DISTINCT ON (cluster_id) cluster_id, report_id, signature_id, finished_at FROM gen_seen ORDER BY cluster_id, received_at, report_id) AS first_report
           ON first_report.cluster_id = c.id
         JOIN gen_signatures AS first_signature ON first_signature.id = first_report.signature_id
         CROSS JOIN LATERAL (
           SELECT CASE WHEN c.ended AND seen.last_seen + interval '1 hour' * (2 + 70 * c.u_state) <= ${anchorSql} THEN 'resolved'
                       WHEN c.u_state < 0.08 THEN 'acknowledged' ELSE 'open' END AS state) AS decided
         CROSS JOIN LATERAL (
           SELECT decided.state,
                  CASE decided.state WHEN 'resolved' THEN (seen.last_seen + interval '1 hour' * (2 + 70 * c.u_state))::timestamptz(3)
                                     WHEN 'acknowledged' THEN (seen.first_seen + (seen.last_seen - seen.first_seen) * 0.3)::timestamptz(3) END AS changed_at) AS triage
        ORDER BY seen.first_seen, c.k`,
      [tenantId],
    );
    await step(
      'derive: signatures',
      `INSERT INTO signatures (id, tenant_id, hash, text, rules_version, pattern, blamed_module, frame_set, notes, cluster_id, placement, first_seen_at, last_seen_at)
       SELECT g.id, $1::uuid, g.hash, g.text, $2, g.pattern, g.module, g.frame_set,
              ARRAY['module: ' || g.module, 'root-frames: kept 1, skipped 0 wait/dispatch frame(s)'], g.cluster_id,
              CASE WHEN g.text = c.signature_text THEN 'new: no signature of ' || g.pattern || '|' || g.module || ' shares 0.5 of its root frames'
                   ELSE 'near-duplicate: same ' || g.pattern || '|' || g.module || ', root frames '
                        || to_char(cardinality(ARRAY(SELECT unnest(g.frame_set) INTERSECT SELECT unnest(first.frame_set)))::float8
                                   / cardinality(ARRAY(SELECT unnest(g.frame_set) UNION SELECT unnest(first.frame_set))), 'FM0.00')
                        || ' similar to ' || first.hash || ' (threshold 0.5)' END,
              seen.first_seen, seen.last_seen
         FROM gen_signatures g
         JOIN (SELECT signature_id, min(received_at) AS first_seen, max(received_at) AS last_seen FROM gen_seen GROUP BY signature_id) AS seen ON seen.signature_id = g.id
         JOIN clusters c ON c.id = g.cluster_id
         JOIN gen_signatures first ON first.cluster_id = g.cluster_id AND first.text = c.signature_text
        ORDER BY seen.first_seen`,
      [tenantId, template.rulesVersion],
    );
    await step(
      'derive: servers',
      `INSERT INTO servers (id, tenant_id, name, first_seen_at, last_seen_at, report_count)
       SELECT sv.id, $1::uuid, sv.name, seen.first_seen, seen.last_seen, seen.reports
         FROM gen_servers sv
         JOIN (SELECT server_id, min(received_at) AS first_seen, max(received_at) AS last_seen, count(*)::int AS reports
                 FROM reports WHERE tenant_id = $1::uuid GROUP BY server_id) AS seen ON seen.server_id = sv.id
        ORDER BY seen.first_seen`,
      [tenantId],
    );

    await client.query(`SET LOCAL max_parallel_maintenance_workers = 1`);
    for (const index of indexes) await step(`recreate index ${index.name}`, index.definition);

    const totalMs = performance.now() - started;
    await client.query(`CREATE TABLE IF NOT EXISTS ${FLEET_MARKER_TABLE} (
      parameters jsonb NOT NULL, anchor timestamptz(3) NOT NULL, generated_at timestamptz(3) NOT NULL DEFAULT now(),
      tenant_id uuid NOT NULL, steps jsonb NOT NULL, total_ms double precision NOT NULL)`);
    await client.query(`DELETE FROM ${FLEET_MARKER_TABLE}`);
    await client.query(`INSERT INTO ${FLEET_MARKER_TABLE} (parameters, anchor, tenant_id, steps, total_ms) VALUES ($1, $2, $3, $4, $5)`, [
      JSON.stringify(parameters),
      anchor,
      tenantId,
      JSON.stringify(steps),
      totalMs,
    ]);
    const commitAt = performance.now();
    await client.query('COMMIT');
    steps.push({ step: 'commit', ms: performance.now() - commitAt, rows: null });
    log(`commit: ${((performance.now() - commitAt) / 1000).toFixed(1)} s`);

    // As autovacuum would have on a live database: visibility map (index-only scans) and planner statistics.
    await step('VACUUM (ANALYZE) of the filled tables', `VACUUM (ANALYZE, PROCESS_TOAST FALSE) ${FILLED_TABLES.join(', ')}`);
    const total = performance.now() - started;
    await client.query(`UPDATE ${FLEET_MARKER_TABLE} SET steps = $1, total_ms = $2`, [JSON.stringify(steps), total]);
    log(`done in ${(total / 1000).toFixed(1)} s`);
    return { parameters, anchor, tenantId, steps, totalMs: total };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** The marker the generator left, or null when there is none (or no such table). */
export async function readFleetMarker(client: pg.ClientBase): Promise<FleetMarker | null> {
  const exists = await client.query<{ table: string | null }>(`SELECT to_regclass($1)::text AS table`, [FLEET_MARKER_TABLE]);
  if (!exists.rows[0]?.table) return null;
  const { rows } = await client.query<{ parameters: FleetParameters; anchor: Date; generated_at: Date; tenant_id: string; steps: GenerationStep[]; total_ms: number }>(
    `SELECT parameters, anchor, generated_at, tenant_id::text AS tenant_id, steps, total_ms FROM ${FLEET_MARKER_TABLE} LIMIT 1`,
  );
  const row = rows[0];
  return row ? { parameters: row.parameters, anchor: row.anchor, generatedAt: row.generated_at, tenantId: row.tenant_id, steps: row.steps, totalMs: row.total_ms } : null;
}

export function sameParameters(a: FleetParameters, b: FleetParameters): boolean {
  return a.reports === b.reports && a.clusters === b.clusters && a.servers === b.servers && a.days === b.days && a.seed === b.seed;
}

export interface ConsistencyReport {
  /** Clusters whose figures were compared. */
  clustersChecked: number;
  /** Rollup buckets whose distinct-server count was recounted. */
  bucketsChecked: number;
  totals: { reports: number; analyses: number; clusters: number; servers: number };
  problems: string[];
  ms: number;
}

/**
 * Cheap consistency check of a generated (or worker-written) fleet: for the biggest clusters and a sample of the
 * others, the hour and day rollups add up to the report count, server_count is the number of cluster_servers rows,
 * their report counts add up too, the first/last seen times agree, the findings of the cluster number its reports,
 * the new servers of the day rollups add up to server_count; for a sample of rollup buckets, server_count is the
 * number of servers listed in cluster_server_buckets; servers' report counts add up to the reports; one analysis
 * per report. Index lookups only, so well under a second at 1 M reports.
 */
export async function checkFleetConsistency(client: pg.ClientBase, tenantId: string, sample = 50): Promise<ConsistencyReport> {
  const started = performance.now();
  const problems: string[] = [];
  const { rows: clusters } = await client.query<{
    id: string;
    report_count: number;
    server_count: number;
    hour_reports: number | null;
    day_reports: number | null;
    day_new_servers: number | null;
    member_rows: number;
    member_reports: number | null;
    member_first: Date | null;
    member_last: Date | null;
    first_seen_at: Date;
    last_seen_at: Date;
    findings: number;
  }>(
    `WITH sampled AS (
         (SELECT id FROM clusters WHERE tenant_id = $1::uuid AND merged_into_id IS NULL ORDER BY report_count DESC LIMIT 5)
         UNION
         (SELECT id FROM clusters WHERE tenant_id = $1::uuid AND merged_into_id IS NULL ORDER BY md5(id::text || $2::text) LIMIT $3)
       )
       SELECT c.id, c.report_count, c.server_count, c.first_seen_at, c.last_seen_at,
              (SELECT sum(report_count)::int FROM cluster_rollups r WHERE r.cluster_id = c.id AND r.granularity = 'hour') AS hour_reports,
              (SELECT sum(report_count)::int FROM cluster_rollups r WHERE r.cluster_id = c.id AND r.granularity = 'day') AS day_reports,
              (SELECT sum(new_server_count)::int FROM cluster_rollups r WHERE r.cluster_id = c.id AND r.granularity = 'day') AS day_new_servers,
              (SELECT count(*)::int FROM cluster_servers m WHERE m.cluster_id = c.id) AS member_rows,
              (SELECT sum(report_count)::int FROM cluster_servers m WHERE m.cluster_id = c.id) AS member_reports,
              (SELECT min(first_seen_at) FROM cluster_servers m WHERE m.cluster_id = c.id) AS member_first,
              (SELECT max(last_seen_at) FROM cluster_servers m WHERE m.cluster_id = c.id) AS member_last,
              (SELECT count(*)::int FROM findings f WHERE f.cluster_id = c.id) AS findings
       FROM clusters c JOIN sampled USING (id)`,
    [tenantId, String(Date.now()), sample],
  );
  for (const row of clusters) {
    const expect = (what: string, actual: unknown, expected: unknown) => {
      const a = actual instanceof Date ? actual.getTime() : actual;
      const e = expected instanceof Date ? expected.getTime() : expected;
      if (a !== e) problems.push(`cluster ${row.id}: ${what} is ${String(actual instanceof Date ? actual.toISOString() : actual)}, expected ${String(expected instanceof Date ? expected.toISOString() : expected)}`);
    };
    expect('sum of hourly rollup reports', row.hour_reports, row.report_count);
    expect('sum of daily rollup reports', row.day_reports, row.report_count);
    expect('sum of daily rollup new servers', row.day_new_servers, row.server_count);
    expect('cluster_servers rows', row.member_rows, row.server_count);
    expect('sum of cluster_servers reports', row.member_reports, row.report_count);
    expect('first cluster_servers sighting', row.member_first, row.first_seen_at);
    expect('last cluster_servers sighting', row.member_last, row.last_seen_at);
    // One finding per report here (the generator's verdicts have one), so the findings number the reports.
    expect('findings in it', row.findings, row.report_count);
  }
  const { rows: buckets } = await client.query<{ cluster_id: string; granularity: string; bucket: Date; server_count: number; listed: number }>(
    `SELECT r.cluster_id, r.granularity::text AS granularity, r.bucket, r.server_count,
            (SELECT count(*)::int FROM cluster_server_buckets b WHERE b.cluster_id = r.cluster_id AND b.granularity = r.granularity AND b.bucket = r.bucket) AS listed
       FROM cluster_rollups r WHERE r.cluster_id = ANY($1::uuid[])
      ORDER BY md5(r.cluster_id::text || r.granularity::text || r.bucket::text) LIMIT 200`,
    [clusters.map((row) => row.id)],
  );
  for (const row of buckets) {
    if (row.server_count !== row.listed) problems.push(`cluster ${row.cluster_id}, ${row.granularity} ${row.bucket.toISOString()}: server_count ${row.server_count}, ${row.listed} servers listed`);
  }
  const { rows: totals } = await client.query<{ reports: number; analyses: number; clusters: number; servers: number; server_reports: number; cluster_reports: number }>(
    `SELECT (SELECT count(*)::int FROM reports WHERE tenant_id = $1::uuid) AS reports,
            (SELECT count(*)::int FROM analyses WHERE tenant_id = $1::uuid) AS analyses,
            (SELECT count(*)::int FROM clusters WHERE tenant_id = $1::uuid AND merged_into_id IS NULL) AS clusters,
            (SELECT count(*)::int FROM servers WHERE tenant_id = $1::uuid) AS servers,
            (SELECT sum(report_count)::int FROM servers WHERE tenant_id = $1::uuid) AS server_reports,
            (SELECT sum(report_count)::int FROM clusters WHERE tenant_id = $1::uuid) AS cluster_reports`,
    [tenantId],
  );
  const total = totals[0]!;
  if (total.server_reports !== total.reports) problems.push(`servers' report counts add up to ${total.server_reports}, not the ${total.reports} reports`);
  if (total.analyses !== total.reports) problems.push(`${total.analyses} analyses for ${total.reports} reports`);
  if (clusters.length === 0) problems.push('no cluster to check');
  return {
    clustersChecked: clusters.length,
    bucketsChecked: buckets.length,
    totals: { reports: total.reports, analyses: total.analyses, clusters: total.clusters, servers: total.servers },
    problems,
    ms: performance.now() - started,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Standalone

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const parameters = { ...DEFAULT_FLEET_PARAMETERS };
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      'database-url': { type: 'string' },
      reports: { type: 'string' },
      clusters: { type: 'string' },
      servers: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const databaseUrl = values['database-url'] ?? process.env['DATABASE_URL'] ?? '';
  for (const name of ['reports', 'clusters', 'servers', 'days', 'seed'] as const) {
    const value = values[name];
    if (value !== undefined) parameters[name] = Number(value);
  }
  if (!databaseUrl) throw new Error('--database-url URL (or DATABASE_URL) is required: a migrated, empty database');
  const generated = await generateFleet(databaseUrl, parameters);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const check = await checkFleetConsistency(client, generated.tenantId);
    process.stderr.write(`generate-fleet: consistency check of ${check.clustersChecked} clusters and ${check.bucketsChecked} buckets in ${check.ms.toFixed(0)} ms: ${check.problems.length === 0 ? 'OK' : `${check.problems.length} problems`}\n`);
    for (const problem of check.problems.slice(0, 20)) process.stderr.write(`  ${problem}\n`);
    process.stdout.write(`${JSON.stringify({ ...generated, check }, null, 2)}\n`);
    if (check.problems.length > 0) process.exitCode = 1;
  } finally {
    await client.end();
  }
}
