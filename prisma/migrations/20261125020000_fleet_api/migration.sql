-- CreateEnum
CREATE TYPE "rollup_granularity" AS ENUM ('hour', 'day');

-- AlterTable
ALTER TABLE "clusters" ADD COLUMN     "note" TEXT,
ADD COLUMN     "representative_report_id" UUID,
ADD COLUMN     "resolved_in_version" TEXT,
ADD COLUMN     "state_changed_at" TIMESTAMPTZ(3),
ADD COLUMN     "ticket_url" TEXT;

-- CreateTable
CREATE TABLE "cluster_rollups" (
    "cluster_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "granularity" "rollup_granularity" NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "report_count" INTEGER NOT NULL DEFAULT 0,
    "server_count" INTEGER NOT NULL DEFAULT 0,
    "new_server_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "cluster_rollups_pkey" PRIMARY KEY ("cluster_id","granularity","bucket")
);

-- CreateTable
CREATE TABLE "cluster_server_buckets" (
    "cluster_id" UUID NOT NULL,
    "server_id" UUID NOT NULL,
    "granularity" "rollup_granularity" NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cluster_server_buckets_pkey" PRIMARY KEY ("cluster_id","granularity","bucket","server_id")
);

-- CreateIndex
CREATE INDEX "clusters_tenant_id_report_count_idx" ON "clusters"("tenant_id", "report_count" DESC);

-- CreateIndex
CREATE INDEX "cluster_rollups_tenant_id_granularity_bucket_idx" ON "cluster_rollups"("tenant_id", "granularity", "bucket");

-- AddForeignKey
ALTER TABLE "cluster_rollups" ADD CONSTRAINT "cluster_rollups_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster_server_buckets" ADD CONSTRAINT "cluster_server_buckets_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE CASCADE ON UPDATE CASCADE;
