/** Cuts text to a length limit, marking the cut; shared by the payloads that must fit a receiver's limits. */
export const TRUNCATION_MARK = '…';

/** At most `maxLength` UTF-16 code units (never more code points than that either), without splitting a surrogate pair. */
export function truncateText(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = Math.max(0, maxLength - TRUNCATION_MARK.length);
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(0, end) + TRUNCATION_MARK;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
