/** Longer lines are read only up to this many characters. */
export const DEFAULT_MAX_LINE_LENGTH = 4096;

/**
 * Splits text into lines, whatever its line ends (LF, CRLF, CR alone, or mixed), including text that arrives
 * in pieces: a line cut by a piece boundary is completed by the next piece. A line longer than `maxLength` is
 * cut there (and flagged), so one endless line can never grow a string without bound.
 */
export class LineSplitter {
  private carry = '';
  private carryCut = false;
  /** The previous piece ended in CR: an LF at the start of the next one belongs to it. */
  private pendingCr = false;

  constructor(
    private readonly onLine: (line: string, cut: boolean) => void,
    private readonly maxLength = DEFAULT_MAX_LINE_LENGTH,
  ) {}

  push(piece: string): void {
    const length = piece.length;
    let start = this.pendingCr && piece.charCodeAt(0) === 10 ? 1 : 0;
    this.pendingCr = false;
    let first = true;
    // The next LF and CR, each searched again only once passed: linear however the line ends are mixed.
    let nextLf = -2;
    let nextCr = -2;
    while (start < length) {
      if (nextLf !== -1 && nextLf < start) nextLf = piece.indexOf('\n', start);
      if (nextCr !== -1 && nextCr < start) nextCr = piece.indexOf('\r', start);
      const lf = nextLf === -1 ? length : nextLf;
      const cr = nextCr === -1 ? length : nextCr;
      const end = Math.min(lf, cr);
      if (end === length) break;
      this.emitLine(piece.slice(start, end), first);
      first = false;
      if (end === cr) {
        if (end + 1 === length) this.pendingCr = true;
        start = lf === end + 1 ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    if (start < length) this.keep(first ? this.carry + piece.slice(start) : piece.slice(start), first && this.carryCut);
  }

  end(): void {
    if (this.carry.length > 0 || this.carryCut) this.onLine(this.carry, this.carryCut);
    this.carry = '';
    this.carryCut = false;
  }

  private emitLine(segment: string, joinCarry: boolean): void {
    let line = segment;
    let cut = false;
    if (joinCarry && (this.carry.length > 0 || this.carryCut)) {
      line = this.carry + segment;
      cut = this.carryCut;
    }
    if (joinCarry) {
      this.carry = '';
      this.carryCut = false;
    }
    if (line.length > this.maxLength + 1) {
      line = line.slice(0, this.maxLength + 1);
      cut = true;
    }
    this.onLine(line, cut);
  }

  private keep(carry: string, cut: boolean): void {
    if (carry.length > this.maxLength + 1) {
      this.carry = carry.slice(0, this.maxLength + 1);
      this.carryCut = true;
    } else {
      this.carry = carry;
      this.carryCut = cut;
    }
  }
}

/** Calls `onLine` for every line of `text`. */
export function forEachLine(text: string, onLine: (line: string, cut: boolean) => void, maxLength = DEFAULT_MAX_LINE_LENGTH): void {
  const splitter = new LineSplitter(onLine, maxLength);
  splitter.push(text);
  splitter.end();
}
