/**
 * Stores one report's analysis in one transaction: the analysis row, its findings, their signatures and their
 * clusters (with each cluster's servers and counts), and the report's new status. The report row is locked first,
 * so a job run twice (a worker died after committing, or two workers raced) leaves exactly one analysis.
 */
import { placeSignature, bucketKeyOf, type HangSignature, type ModelSummary, type Verdict } from '../engine/index.ts';
import type { Database } from '../db/create-prisma-client.ts';
import { Prisma } from '../db/create-prisma-client.ts';
import { bucketStart } from '../fleet/buckets.ts';
import { planReportEvents } from '../webhooks/plan-cluster-events.ts';

type Transaction = Prisma.TransactionClient;

export interface AnalysisToRecord {
  reportId: string;
  verdict: Verdict;
  /** One per verdict finding, in the same order. */
  signatures: HangSignature[];
  modelSummary: ModelSummary;
  engineVersion: string;
  durationMs: number;
  /** Near-duplicate threshold of the clustering (Jaccard of root frame sets). */
  similarity: number;
}

export interface ClusterTouch {
  clusterId: string;
  /** The cluster did not exist before this report. */
  created: boolean;
  /** This report's server had not been seen in the cluster before. */
  newServer: boolean;
  serverCount: number;
  /** The cluster was resolved and this report, received after that, reopened it. */
  regressed: boolean;
  /** Younger clusters merged into this one by this report's signatures. */
  merged: string[];
}

export type RecordOutcome =
  | { status: 'recorded'; tenantId: string; analysisId: string; clusters: ClusterTouch[]; /** Webhook messages planned with it, to enqueue. */ webhookMessageIds: string[] } | { status: 'already-analysed' } | { status: 'report-missing' };

export async function recordAnalysis(db: Database, input: AnalysisToRecord): Promise<RecordOutcome> {
  return db.$transaction(async (tx) => recordInTransaction(tx, input), { maxWait: 10_000, timeout: 60_000 });
}

async function recordInTransaction(tx: Transaction, input: AnalysisToRecord): Promise<RecordOutcome> {
  const [report] = await tx.$queryRaw<{ tenant_id: string; server_id: string; status: string; received_at: Date }[]>`
    SELECT tenant_id, server_id, status::text AS status, received_at FROM reports WHERE id = ${input.reportId}::uuid FOR UPDATE`;
  if (!report) return { status: 'report-missing' };
  if (report.status === 'analysed') return { status: 'already-analysed' };
  const { tenant_id: tenantId, server_id: serverId, received_at: seenAt } = report;

  // No analysis can exist yet: it is written with status `analysed`, in this transaction, under this row lock.
  const analysis = await tx.analysis.create({
    data: {
      reportId: input.reportId,
      tenantId,
      verdictKind: input.verdict.verdict,
      summary: input.verdict.summary,
      verdict: input.verdict as unknown as Prisma.InputJsonValue,
      modelSummary: input.modelSummary as unknown as Prisma.InputJsonValue,
      engineVersion: input.engineVersion,
      rulesVersion: input.signatures[0]?.rulesVersion ?? 'none',
      durationMs: Math.round(input.durationMs),
    },
    select: { id: true },
  });

  const placements = new Map<string, { created: boolean; merged: string[] }>();
  for (const [ordinal, finding] of input.verdict.findings.entries()) {
    const signature = input.signatures[ordinal];
    if (!signature) throw new Error(`finding ${ordinal} of report ${input.reportId} has no signature`);
    const placed = await placeInCluster(tx, tenantId, signature, seenAt, input.similarity);
    const previous = placements.get(placed.clusterId);
    placements.set(placed.clusterId, { created: (previous?.created ?? false) || placed.created, merged: [...(previous?.merged ?? []), ...placed.merged] });
    await tx.finding.create({
      data: {
        analysisId: analysis.id,
        reportId: input.reportId,
        tenantId,
        serverId,
        ordinal,
        pattern: finding.pattern,
        blamedModule: finding.blamedModule,
        confidence: finding.confidence,
        summary: finding.summary,
        signatureId: placed.signatureId,
        clusterId: placed.clusterId,
      },
      select: { id: true },
    });
  }

  const clusters: ClusterTouch[] = [];
  for (const [clusterId, placement] of placements) {
    const counted = await countReportInCluster(tx, { clusterId, serverId, tenantId, seenAt, reportId: input.reportId, created: placement.created });
    clusters.push({ clusterId, ...placement, ...counted });
  }
  const webhookMessageIds = await planReportEvents(tx, { tenantId, reportId: input.reportId, serverId, seenAt, summary: input.verdict.summary }, clusters);
  await tx.report.update({ where: { id: input.reportId }, data: { status: 'analysed', finishedAt: new Date(), errorCode: null, error: null }, select: { id: true } });
  return { status: 'recorded', tenantId, analysisId: analysis.id, clusters, webhookMessageIds };
}

interface PlacedFinding {
  clusterId: string;
  signatureId: string;
  created: boolean;
  merged: string[];
}

/**
 * A signature seen before keeps its cluster; a new one is placed among its bucket's signatures by the engine's
 * `placeSignature`. Placement in a bucket is serialised by an advisory lock, so concurrent workers agree.
 */
async function placeInCluster(tx: Transaction, tenantId: string, signature: HangSignature, seenAt: Date, similarity: number): Promise<PlacedFinding> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${tenantId}|${bucketKeyOf(signature)}`}, 0))`;
  const [known] = await tx.$queryRaw<{ id: string; cluster_id: string }[]>`
    UPDATE signatures SET last_seen_at = GREATEST(last_seen_at, ${seenAt})
    WHERE tenant_id = ${tenantId}::uuid AND hash = ${signature.hash}
    RETURNING id::text, cluster_id::text`;
  if (known) return { clusterId: known.cluster_id, signatureId: known.id, created: false, merged: [] };

  const bucket = await tx.signature.findMany({
    where: { tenantId, pattern: signature.pattern, blamedModule: signature.module },
    select: { hash: true, frameSet: true, clusterId: true, cluster: { select: { sequence: true } } },
  });
  const placement = placeSignature(
    signature,
    bucket.map((other) => ({ hash: other.hash, frameSet: other.frameSet, clusterId: other.clusterId, clusterSequence: other.cluster.sequence })),
    similarity,
  );
  let clusterId = placement.clusterId;
  if (clusterId === null) {
    const cluster = await tx.cluster.create({
      data: { tenantId, pattern: signature.pattern, blamedModule: signature.module, signatureText: signature.text, aliases: [], firstSeenAt: seenAt, lastSeenAt: seenAt },
      select: { id: true },
    });
    clusterId = cluster.id;
  }
  for (const younger of placement.merged) await mergeCluster(tx, younger, clusterId);
  const created = await tx.signature.create({
    data: {
      tenantId,
      hash: signature.hash,
      text: signature.text,
      rulesVersion: signature.rulesVersion,
      pattern: signature.pattern,
      blamedModule: signature.module,
      frameSet: signature.frameSet,
      notes: signature.notes,
      clusterId,
      placement: placement.explanation,
      firstSeenAt: seenAt,
      lastSeenAt: seenAt,
    },
    select: { id: true },
  });
  return { clusterId, signatureId: created.id, created: placement.clusterId === null, merged: placement.merged };
}

/** `from` becomes an alias of the older `into`: its signatures, findings and servers move over. */
async function mergeCluster(tx: Transaction, from: string, into: string): Promise<void> {
  await tx.$executeRaw`UPDATE signatures SET cluster_id = ${into}::uuid WHERE cluster_id = ${from}::uuid`;
  await tx.$executeRaw`UPDATE findings SET cluster_id = ${into}::uuid WHERE cluster_id = ${from}::uuid`;
  await tx.$executeRaw`
    INSERT INTO cluster_servers (cluster_id, server_id, tenant_id, first_seen_at, last_seen_at, report_count)
    SELECT ${into}::uuid, server_id, tenant_id, first_seen_at, last_seen_at, report_count FROM cluster_servers WHERE cluster_id = ${from}::uuid
    ON CONFLICT (cluster_id, server_id) DO UPDATE SET
      first_seen_at = LEAST(cluster_servers.first_seen_at, EXCLUDED.first_seen_at),
      last_seen_at = GREATEST(cluster_servers.last_seen_at, EXCLUDED.last_seen_at),
      report_count = cluster_servers.report_count + EXCLUDED.report_count`;
  await tx.$executeRaw`DELETE FROM cluster_servers WHERE cluster_id = ${from}::uuid`;
  await tx.$executeRaw`
    INSERT INTO cluster_server_buckets (cluster_id, server_id, granularity, bucket)
    SELECT ${into}::uuid, server_id, granularity, bucket FROM cluster_server_buckets WHERE cluster_id = ${from}::uuid
    ON CONFLICT DO NOTHING`;
  await tx.$executeRaw`
    INSERT INTO cluster_rollups (cluster_id, tenant_id, granularity, bucket, report_count, server_count, new_server_count)
    SELECT ${into}::uuid, tenant_id, granularity, bucket, report_count, 0, new_server_count FROM cluster_rollups WHERE cluster_id = ${from}::uuid
    ON CONFLICT (cluster_id, granularity, bucket) DO UPDATE SET
      report_count = cluster_rollups.report_count + EXCLUDED.report_count,
      new_server_count = cluster_rollups.new_server_count + EXCLUDED.new_server_count`;
  // A server seen in both clusters in one bucket counts once: recount the buckets the younger cluster touched.
  await tx.$executeRaw`
    UPDATE cluster_rollups AS rollup SET server_count = (
      SELECT count(*) FROM cluster_server_buckets AS seen
      WHERE seen.cluster_id = rollup.cluster_id AND seen.granularity = rollup.granularity AND seen.bucket = rollup.bucket)
    WHERE rollup.cluster_id = ${into}::uuid
      AND (rollup.granularity, rollup.bucket) IN (SELECT granularity, bucket FROM cluster_rollups WHERE cluster_id = ${from}::uuid)`;
  await tx.$executeRaw`DELETE FROM cluster_rollups WHERE cluster_id = ${from}::uuid`;
  await tx.$executeRaw`DELETE FROM cluster_server_buckets WHERE cluster_id = ${from}::uuid`;
  await tx.$executeRaw`
    UPDATE clusters AS target SET
      aliases = array_cat(array_append(target.aliases, source.id), source.aliases),
      first_seen_at = LEAST(target.first_seen_at, source.first_seen_at),
      last_seen_at = GREATEST(target.last_seen_at, source.last_seen_at),
      report_count = target.report_count + source.report_count,
      server_count = (SELECT count(*) FROM cluster_servers WHERE cluster_id = ${into}::uuid),
      updated_at = now()
    FROM clusters AS source WHERE target.id = ${into}::uuid AND source.id = ${from}::uuid`;
  await tx.$executeRaw`UPDATE clusters SET merged_into_id = ${into}::uuid, aliases = '{}', server_count = 0, report_count = 0, updated_at = now() WHERE id = ${from}::uuid`;
}

interface ReportInCluster {
  clusterId: string;
  serverId: string;
  tenantId: string;
  seenAt: Date;
  reportId: string;
  /** The cluster was created for this report: it becomes the cluster's representative. */
  created: boolean;
}

/**
 * One report counts once per cluster, however many of its findings landed there: the cluster's server membership
 * and counts, and its hourly and daily rollups (one more report; one more distinct server in a bucket whose server
 * list did not hold this server yet), in one statement. A resolved cluster seen again in a report received after
 * its resolution is `regressed`.
 */
async function countReportInCluster(tx: Transaction, report: ReportInCluster): Promise<{ newServer: boolean; serverCount: number; regressed: boolean }> {
  const { clusterId, serverId, tenantId, seenAt } = report;
  const hour = bucketStart(seenAt, 'hour');
  const day = bucketStart(seenAt, 'day');
  const [counted] = await tx.$queryRaw<{ inserted: boolean; server_count: number; regressed: boolean }[]>`
    WITH membership AS (
      INSERT INTO cluster_servers (cluster_id, server_id, tenant_id, first_seen_at, last_seen_at, report_count)
      VALUES (${clusterId}::uuid, ${serverId}::uuid, ${tenantId}::uuid, ${seenAt}, ${seenAt}, 1)
      ON CONFLICT (cluster_id, server_id) DO UPDATE SET
        first_seen_at = LEAST(cluster_servers.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(cluster_servers.last_seen_at, EXCLUDED.last_seen_at),
        report_count = cluster_servers.report_count + 1
      RETURNING (xmax = 0) AS inserted),
    previous AS (SELECT state, state_changed_at FROM clusters WHERE id = ${clusterId}::uuid FOR UPDATE),
    reopens AS (SELECT state = 'resolved' AND (state_changed_at IS NULL OR state_changed_at < ${seenAt}) AS regressed FROM previous),
    cluster AS (
      UPDATE clusters SET
        report_count = report_count + 1,
        server_count = server_count + (SELECT CASE WHEN inserted THEN 1 ELSE 0 END FROM membership),
        first_seen_at = LEAST(first_seen_at, ${seenAt}),
        last_seen_at = GREATEST(last_seen_at, ${seenAt}),
        state = CASE WHEN (SELECT regressed FROM reopens) THEN 'regressed'::cluster_state ELSE state END,
        state_changed_at = CASE WHEN (SELECT regressed FROM reopens) THEN now() ELSE state_changed_at END,
        representative_report_id = CASE WHEN ${report.created} THEN ${report.reportId}::uuid ELSE representative_report_id END,
        updated_at = now()
      WHERE id = ${clusterId}::uuid
      RETURNING server_count),
    seen AS (
      INSERT INTO cluster_server_buckets (cluster_id, server_id, granularity, bucket)
      VALUES (${clusterId}::uuid, ${serverId}::uuid, 'hour', ${hour}), (${clusterId}::uuid, ${serverId}::uuid, 'day', ${day})
      ON CONFLICT DO NOTHING
      RETURNING granularity),
    fresh AS (SELECT CASE WHEN inserted THEN 1 ELSE 0 END AS servers FROM membership),
    rollups AS (
      INSERT INTO cluster_rollups (cluster_id, tenant_id, granularity, bucket, report_count, server_count, new_server_count)
      VALUES
        (${clusterId}::uuid, ${tenantId}::uuid, 'hour', ${hour}, 1, (SELECT count(*) FROM seen WHERE granularity = 'hour'), (SELECT servers FROM fresh)),
        (${clusterId}::uuid, ${tenantId}::uuid, 'day', ${day}, 1, (SELECT count(*) FROM seen WHERE granularity = 'day'), (SELECT servers FROM fresh))
      ON CONFLICT (cluster_id, granularity, bucket) DO UPDATE SET
        report_count = cluster_rollups.report_count + 1,
        server_count = cluster_rollups.server_count + EXCLUDED.server_count,
        new_server_count = cluster_rollups.new_server_count + EXCLUDED.new_server_count)
    SELECT (SELECT inserted FROM membership) AS inserted, (SELECT server_count FROM cluster) AS server_count, (SELECT regressed FROM reopens) AS regressed`;
  return { newServer: counted?.inserted ?? false, serverCount: counted?.server_count ?? 0, regressed: counted?.regressed ?? false };
}
