/**
 * Calls `onLine` for every line of `text`, whatever its line ends (LF, CRLF, CR alone, or mixed).
 * One pass; each line is a slice of the text, so no second copy of it is made.
 */
export function forEachLine(text: string, onLine: (line: string) => void): void {
  const length = text.length;
  let start = 0;
  while (start < length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = length;
    const segment = text.slice(start, end);
    if (segment.indexOf('\r') === -1) {
      onLine(segment);
    } else {
      emitCarriageReturnLines(segment, onLine);
    }
    start = end + 1;
  }
}

function emitCarriageReturnLines(segment: string, onLine: (line: string) => void): void {
  const parts = segment.split('\r');
  // `a\r\n`: the CR belongs to the line end, not a line of its own.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  for (const part of parts) onLine(part);
}
