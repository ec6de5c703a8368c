/** Time buckets of the fleet's rollups and trends, in UTC. */
export const ROLLUP_GRANULARITIES = ['hour', 'day'] as const;
export type Granularity = (typeof ROLLUP_GRANULARITIES)[number];

const BUCKET_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

export function bucketMs(granularity: Granularity): number {
  return BUCKET_MS[granularity];
}

export function bucketStart(at: Date, granularity: Granularity): Date {
  const size = BUCKET_MS[granularity];
  return new Date(Math.floor(at.getTime() / size) * size);
}

/** Every bucket start from the one holding `from` up to the one holding `to`, oldest first. */
export function bucketsBetween(from: Date, to: Date, granularity: Granularity): Date[] {
  const size = BUCKET_MS[granularity];
  const buckets: Date[] = [];
  for (let at = bucketStart(from, granularity).getTime(); at <= to.getTime(); at += size) buckets.push(new Date(at));
  return buckets;
}
