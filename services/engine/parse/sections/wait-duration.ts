/** `0:04:21:41.110` (d:hh:mm:ss.mmm) → milliseconds. */
export function parseTicksDuration(text: string): number | null {
  const match = /^(\d{1,5}):(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?$/.exec(text);
  if (!match) return null;
  const [, days, hours, minutes, seconds, millis] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000 + Number((millis ?? '0').padEnd(3, '0'));
}

/** MEX's `3s.218`, `2m:05s.100`, `1h:02m:03s.004`, `4d.03:02:01.500` style → milliseconds. */
export function parseMexDuration(text: string): number | null {
  const match = /^(?:(\d+)d[.:])?(?:(\d+)h:)?(?:(\d+)m:)?(\d+)s\.(\d{1,3})$/.exec(text);
  if (!match) return null;
  const [, days, hours, minutes, seconds, millis] = match;
  return (
    (((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes ?? 0)) * 60 + Number(seconds)) * 1000 +
    Number(millis!.padEnd(3, '0'))
  );
}
