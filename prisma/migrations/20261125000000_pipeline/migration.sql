-- CreateEnum
CREATE TYPE "api_key_scope" AS ENUM ('upload', 'read', 'admin');

-- CreateEnum
CREATE TYPE "report_status" AS ENUM ('received', 'queued', 'analysing', 'analysed', 'failed');

-- CreateEnum
CREATE TYPE "cluster_state" AS ENUM ('open', 'acknowledged', 'resolved', 'regressed');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scopes" "api_key_scope"[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "servers" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "report_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "servers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reports" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "server_id" UUID NOT NULL,
    "status" "report_status" NOT NULL DEFAULT 'received',
    "content_sha256" TEXT NOT NULL,
    "byte_size" BIGINT NOT NULL,
    "object_key" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "file_name" TEXT,
    "idempotency_key" TEXT,
    "ticket_id" TEXT,
    "os_version" TEXT,
    "collected_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error_code" TEXT,
    "error" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queued_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analyses" (
    "id" UUID NOT NULL,
    "report_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "verdict_kind" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "verdict" JSONB NOT NULL,
    "model_summary" JSONB NOT NULL,
    "engine_version" TEXT NOT NULL,
    "rules_version" TEXT NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "analyses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "findings" (
    "id" UUID NOT NULL,
    "analysis_id" UUID NOT NULL,
    "report_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "server_id" UUID NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "pattern" TEXT NOT NULL,
    "blamed_module" TEXT,
    "confidence" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "signature_id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "findings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signatures" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "hash" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "rules_version" TEXT NOT NULL,
    "pattern" TEXT NOT NULL,
    "blamed_module" TEXT,
    "frame_set" TEXT[],
    "notes" TEXT[],
    "cluster_id" UUID NOT NULL,
    "placement" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signatures_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "clusters" (
    "id" UUID NOT NULL,
    "sequence" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "pattern" TEXT NOT NULL,
    "blamed_module" TEXT,
    "signature_text" TEXT NOT NULL,
    "aliases" UUID[],
    "merged_into_id" UUID,
    "state" "cluster_state" NOT NULL DEFAULT 'open',
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "server_count" INTEGER NOT NULL DEFAULT 0,
    "report_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clusters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cluster_servers" (
    "cluster_id" UUID NOT NULL,
    "server_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "report_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "cluster_servers_pkey" PRIMARY KEY ("cluster_id","server_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_name_key" ON "tenants"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");

-- CreateIndex
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys"("tenant_id");

-- CreateIndex
CREATE INDEX "servers_tenant_id_last_seen_at_idx" ON "servers"("tenant_id", "last_seen_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "servers_tenant_id_name_key" ON "servers"("tenant_id", "name");

-- CreateIndex
CREATE INDEX "reports_tenant_id_server_id_content_sha256_received_at_idx" ON "reports"("tenant_id", "server_id", "content_sha256", "received_at" DESC);

-- CreateIndex
CREATE INDEX "reports_server_id_received_at_idx" ON "reports"("server_id", "received_at" DESC);

-- CreateIndex
CREATE INDEX "reports_tenant_id_received_at_idx" ON "reports"("tenant_id", "received_at" DESC);

-- CreateIndex
CREATE INDEX "reports_status_updated_at_idx" ON "reports"("status", "updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "reports_tenant_id_idempotency_key_key" ON "reports"("tenant_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "analyses_report_id_key" ON "analyses"("report_id");

-- CreateIndex
CREATE INDEX "findings_cluster_id_created_at_idx" ON "findings"("cluster_id", "created_at" DESC);

-- CreateIndex
CREATE INDEX "findings_report_id_idx" ON "findings"("report_id");

-- CreateIndex
CREATE INDEX "findings_tenant_id_created_at_idx" ON "findings"("tenant_id", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "findings_analysis_id_ordinal_key" ON "findings"("analysis_id", "ordinal");

-- CreateIndex
CREATE INDEX "signatures_tenant_id_pattern_blamed_module_idx" ON "signatures"("tenant_id", "pattern", "blamed_module");

-- CreateIndex
CREATE INDEX "signatures_cluster_id_idx" ON "signatures"("cluster_id");

-- CreateIndex
CREATE UNIQUE INDEX "signatures_tenant_id_hash_key" ON "signatures"("tenant_id", "hash");

-- CreateIndex
CREATE INDEX "clusters_tenant_id_server_count_idx" ON "clusters"("tenant_id", "server_count" DESC);

-- CreateIndex
CREATE INDEX "clusters_tenant_id_last_seen_at_idx" ON "clusters"("tenant_id", "last_seen_at" DESC);

-- CreateIndex
CREATE INDEX "clusters_tenant_id_pattern_blamed_module_idx" ON "clusters"("tenant_id", "pattern", "blamed_module");

-- CreateIndex
CREATE UNIQUE INDEX "clusters_sequence_key" ON "clusters"("sequence");

-- CreateIndex
CREATE INDEX "cluster_servers_server_id_idx" ON "cluster_servers"("server_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "servers" ADD CONSTRAINT "servers_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reports" ADD CONSTRAINT "reports_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reports" ADD CONSTRAINT "reports_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "servers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "analyses" ADD CONSTRAINT "analyses_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "findings" ADD CONSTRAINT "findings_analysis_id_fkey" FOREIGN KEY ("analysis_id") REFERENCES "analyses"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "findings" ADD CONSTRAINT "findings_report_id_fkey" FOREIGN KEY ("report_id") REFERENCES "reports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "findings" ADD CONSTRAINT "findings_signature_id_fkey" FOREIGN KEY ("signature_id") REFERENCES "signatures"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "findings" ADD CONSTRAINT "findings_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signatures" ADD CONSTRAINT "signatures_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signatures" ADD CONSTRAINT "signatures_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster_servers" ADD CONSTRAINT "cluster_servers_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster_servers" ADD CONSTRAINT "cluster_servers_server_id_fkey" FOREIGN KEY ("server_id") REFERENCES "servers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
