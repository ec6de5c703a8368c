const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * The delay before attempt `attemptsMade + 1`: the schedule's entry with ±10 % jitter (so that receivers coming
 * back are not hit by every sender at once), or the receiver's Retry-After when it asked for one (capped at a day).
 */
export function retryDelay(scheduleMs: readonly number[], attemptsMade: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  if (retryAfterMs !== null && retryAfterMs >= 0) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  const base = scheduleMs[Math.min(attemptsMade - 1, scheduleMs.length - 1)] ?? 0;
  return Math.round(base * (0.9 + 0.2 * random()));
}
