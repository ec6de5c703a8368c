/**
 * Fleet clusters: one cluster per root cause. A signature seen before joins its cluster (an index by hash); a new
 * one joins the clusters of its near-duplicates: same pattern and module, root frame sets with a Jaccard
 * similarity of at least `similarity` (default 0.5, see docs/patterns.md). Clusters are the connected
 * components of that relation, so membership does not depend on arrival order; when a signature links two
 * clusters they merge, the older id stays and the younger becomes its alias. Pure, in memory: the pipeline
 * persists what it returns.
 */
export interface ClusterSignature {
  hash: string;
  text: string;
  pattern: string;
  module: string | null;
  frameSet: string[];
}

export interface Cluster {
  id: string;
  /** Creation order: the older of two merged clusters keeps its id. */
  sequence: number;
  pattern: string;
  module: string | null;
  signatures: ClusterSignature[];
  aliases: string[];
}

export interface Assignment {
  clusterId: string;
  created: boolean;
  rule: 'exact' | 'near-duplicate' | 'new';
  /** For near-duplicates: the closest signature and its similarity. */
  nearest?: { hash: string; similarity: number };
  /** Clusters merged into this one by this signature (their ids are now aliases). */
  merged: string[];
  /** Which rule placed the signature, and why, in words. */
  explanation: string;
}

export interface ClusterIndexOptions {
  similarity?: number;
  /** Makes cluster ids; the default is `cl-<sequence>`. */
  newId?: (sequence: number) => string;
}

export function jaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const set = new Set(a);
  let shared = 0;
  for (const item of new Set(b)) if (set.has(item)) shared++;
  return shared / (set.size + new Set(b).size - shared);
}

/** A signature already placed, as the placement of a new one sees it. */
export interface PlacedSignature {
  hash: string;
  frameSet: readonly string[];
  /** The cluster it belongs to now (after merges), and that cluster's creation order. */
  clusterId: string;
  clusterSequence: number | bigint;
}

export interface Placement {
  /** The cluster the signature joins; null: it starts a new one. */
  clusterId: string | null;
  nearest?: { hash: string; similarity: number };
  /** Younger clusters the signature links to `clusterId`: they merge into it. */
  merged: string[];
  explanation: string;
}

/** Near-duplicates are only looked for among signatures of the same pattern and blamed module. */
export function bucketKeyOf(signature: Pick<ClusterSignature, 'pattern' | 'module'>): string {
  return `${signature.pattern}|${signature.module ?? ''}`;
}

/**
 * Where a signature not seen before goes, given the signatures of its bucket: the oldest cluster among those
 * holding a near-duplicate (root frames at least `similarity` alike), which absorbs the others; or a new one.
 * Pure: the in-memory index and the database both place signatures with it.
 */
export function placeSignature(signature: ClusterSignature, bucket: readonly PlacedSignature[], similarity: number): Placement {
  const linked = new Map<string, number | bigint>();
  let nearest: Placement['nearest'];
  for (const other of bucket) {
    const likeness = jaccard(signature.frameSet, other.frameSet);
    if (likeness < similarity) continue;
    linked.set(other.clusterId, other.clusterSequence);
    if (!nearest || likeness > nearest.similarity || (likeness === nearest.similarity && other.hash < nearest.hash)) nearest = { hash: other.hash, similarity: likeness };
  }
  const bucketKey = bucketKeyOf(signature);
  if (linked.size === 0) return { clusterId: null, merged: [], explanation: `new: no signature of ${bucketKey} shares ${similarity} of its root frames` };
  const [oldest, ...younger] = [...linked.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([id]) => id);
  return {
    clusterId: oldest!,
    nearest,
    merged: younger,
    explanation:
      `near-duplicate: same ${bucketKey}, root frames ${nearest!.similarity.toFixed(2)} similar to ${nearest!.hash} (threshold ${similarity})` +
      (younger.length > 0 ? `; merged ${younger.join(', ')} into the older ${oldest}` : ''),
  };
}

export class ClusterIndex {
  private readonly byHash = new Map<string, string>();
  private readonly clusters = new Map<string, Cluster>();
  private readonly aliasOf = new Map<string, string>();
  /** Signatures by `pattern|module`: near-duplicates are only looked for there. */
  private readonly buckets = new Map<string, ClusterSignature[]>();
  private sequence = 0;
  private readonly similarity: number;
  private readonly newId: (sequence: number) => string;

  constructor(options: ClusterIndexOptions = {}) {
    this.similarity = options.similarity ?? 0.5;
    this.newId = options.newId ?? ((sequence) => `cl-${sequence}`);
  }

  /** The cluster a (possibly old, merged) id stands for now. */
  resolve(id: string): Cluster | undefined {
    let current = id;
    for (let hops = 0; this.aliasOf.has(current) && hops < 1000; hops++) current = this.aliasOf.get(current)!;
    return this.clusters.get(current);
  }

  clusterOf(hash: string): Cluster | undefined {
    const id = this.byHash.get(hash);
    return id === undefined ? undefined : this.resolve(id);
  }

  all(): Cluster[] {
    return [...this.clusters.values()].sort((a, b) => a.sequence - b.sequence);
  }

  assign(signature: ClusterSignature): Assignment {
    const known = this.clusterOf(signature.hash);
    if (known) return { clusterId: known.id, created: false, rule: 'exact', merged: [], explanation: `exact: signature ${signature.hash} is already in ${known.id}` };
    const bucketKey = bucketKeyOf(signature);
    const bucket = this.buckets.get(bucketKey) ?? [];
    const candidates = bucket.map((other) => {
      const cluster = this.clusterOf(other.hash)!;
      return { hash: other.hash, frameSet: other.frameSet, clusterId: cluster.id, clusterSequence: cluster.sequence };
    });
    const placement = placeSignature(signature, candidates, this.similarity);
    bucket.push(signature);
    this.buckets.set(bucketKey, bucket);
    if (placement.clusterId === null) {
      const cluster: Cluster = { id: this.newId(++this.sequence), sequence: this.sequence, pattern: signature.pattern, module: signature.module, signatures: [signature], aliases: [] };
      this.clusters.set(cluster.id, cluster);
      this.byHash.set(signature.hash, cluster.id);
      return { clusterId: cluster.id, created: true, rule: 'new', merged: [], explanation: placement.explanation };
    }
    const oldest = this.clusters.get(placement.clusterId)!;
    for (const id of placement.merged) this.merge(oldest, this.clusters.get(id)!);
    oldest.signatures.push(signature);
    this.byHash.set(signature.hash, oldest.id);
    return { clusterId: oldest.id, created: false, rule: 'near-duplicate', nearest: placement.nearest, merged: placement.merged, explanation: placement.explanation };
  }

  /**
   * After a change of signature rules: the finding once signed `oldHash` now signs `signature`. The new hash
   * joins the old one's cluster, so an upgrade never sprays findings into new clusters.
   */
  resign(oldHash: string, signature: ClusterSignature): { clusterId: string; merged: string[]; explanation: string } {
    const cluster = this.clusterOf(oldHash);
    if (!cluster) {
      const assignment = this.assign(signature);
      return { clusterId: assignment.clusterId, merged: assignment.merged, explanation: `re-sign: ${oldHash} was unknown; ${assignment.explanation}` };
    }
    const existing = this.clusterOf(signature.hash);
    const merged: string[] = [];
    if (existing && existing.id !== cluster.id) {
      const [older, younger] = existing.sequence < cluster.sequence ? [existing, cluster] : [cluster, existing];
      this.merge(older, younger);
      merged.push(younger.id);
    }
    const target = this.resolve(cluster.id)!;
    if (!existing) {
      target.signatures.push(signature);
      const bucketKey = bucketKeyOf(signature);
      this.buckets.set(bucketKey, [...(this.buckets.get(bucketKey) ?? []), signature]);
    }
    this.byHash.set(signature.hash, target.id);
    return {
      clusterId: target.id,
      merged,
      explanation: `re-sign: ${signature.hash} (${signature.text}) replaces ${oldHash} in ${target.id}${merged.length > 0 ? `; merged ${merged.join(', ')}` : ''}`,
    };
  }

  private merge(into: Cluster, from: Cluster): void {
    if (into.id === from.id) return;
    into.signatures.push(...from.signatures);
    into.aliases.push(from.id, ...from.aliases);
    this.clusters.delete(from.id);
    this.aliasOf.set(from.id, into.id);
  }
}
