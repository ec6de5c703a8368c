/**
 * Splits text into lines, whatever its line ends (LF, CRLF, CR alone, or mixed), including text that arrives
 * in pieces: a line cut by a piece boundary is completed by the next piece. Lines are slices of the pieces.
 */
export class LineSplitter {
  private carry = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(piece: string): void {
    const length = piece.length;
    let start = 0;
    while (start < length) {
      const end = piece.indexOf('\n', start);
      if (end === -1) break;
      const segment = start === 0 && this.carry.length > 0 ? this.carry + piece.slice(0, end) : piece.slice(start, end);
      if (start === 0) this.carry = '';
      this.emit(segment);
      start = end + 1;
    }
    if (start < length) this.carry = start === 0 ? this.carry + piece : piece.slice(start);
  }

  end(): void {
    if (this.carry.length > 0) this.emit(this.carry);
    this.carry = '';
  }

  private emit(segment: string): void {
    if (segment.indexOf('\r') === -1) {
      this.onLine(segment);
      return;
    }
    const parts = segment.split('\r');
    // `a\r\n`: the CR belongs to the line end, not a line of its own.
    if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    for (const part of parts) this.onLine(part);
  }
}

/** Calls `onLine` for every line of `text`. */
export function forEachLine(text: string, onLine: (line: string) => void): void {
  const splitter = new LineSplitter(onLine);
  splitter.push(text);
  splitter.end();
}
