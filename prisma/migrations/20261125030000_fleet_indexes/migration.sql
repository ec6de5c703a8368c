-- CreateIndex
CREATE INDEX "clusters_tenant_id_first_seen_at_idx" ON "clusters"("tenant_id", "first_seen_at" DESC);

-- CreateIndex
CREATE INDEX "cluster_servers_cluster_id_last_seen_at_server_id_idx" ON "cluster_servers"("cluster_id", "last_seen_at" DESC, "server_id");

-- CreateIndex
CREATE INDEX "cluster_rollups_tenant_id_granularity_bucket_cluster_id_rep_idx" ON "cluster_rollups"("tenant_id", "granularity", "bucket", "cluster_id", "report_count");
