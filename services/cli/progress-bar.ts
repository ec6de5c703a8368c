/** The upload progress line on a terminal: `uploading name.txt  [#####-----]  42%  12.3/29.1 MiB  8.4 MiB/s`. */

const KIB = 1024;
const MIB = 1024 * 1024;
const MIN_BAR_CELLS = 10;
const MAX_BAR_CELLS = 30;
const REDRAW_INTERVAL_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

export interface ProgressFrame {
  label: string;
  sent: number;
  total: number;
  elapsedMs: number;
  /** Columns of the terminal: the line keeps the last one free, so the terminal never wraps it. */
  width: number;
}

export function renderProgress({ label, sent, total, elapsedMs, width }: ProgressFrame): string {
  const fraction = total > 0 ? Math.min(sent / total, 1) : 1;
  const unit = total >= MIB ? { size: MIB, name: 'MiB' } : { size: KIB, name: 'KiB' };
  const amount = (bytes: number) => (bytes / unit.size).toFixed(1);
  const rate = elapsedMs > 0 ? `  ${formatRate((sent * 1000) / elapsedMs)}` : '';
  // Floored, so 100% appears only once every byte is sent.
  const stats = `${Math.floor(fraction * 100)}%  ${amount(sent)}/${amount(total)} ${unit.name}${rate}`;

  const room = width - 1 - `uploading   []  ${stats}`.length;
  const shownLabel = label.length > room - MIN_BAR_CELLS ? shorten(label, room - MIN_BAR_CELLS) : label;
  const cells = Math.max(MIN_BAR_CELLS, Math.min(MAX_BAR_CELLS, room - shownLabel.length));
  const filled = Math.floor(fraction * cells);
  return `uploading ${shownLabel}  [${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]  ${stats}`;
}

function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond >= MIB ? `${(bytesPerSecond / MIB).toFixed(1)} MiB/s` : `${(bytesPerSecond / KIB).toFixed(1)} KiB/s`;
}

function shorten(label: string, length: number): string {
  const keep = Math.max(length, 4) - 1;
  return `${label.slice(0, keep)}…`;
}

/** The part of a terminal stream the bar uses (process.stderr fits). */
export interface ProgressTerminal {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

/** Redraws the line in place with `\r`, at most 10 times a second, and wipes it on `clear()`. */
export class ProgressBar {
  readonly #terminal: ProgressTerminal;
  readonly #label: string;
  readonly #total: number;
  readonly #now: () => number;
  #startedAt: number;
  #lastDrawAt = Number.NEGATIVE_INFINITY;
  #drawn = false;

  /** Null when the stream is not a terminal: a log file or a pipe gets no progress lines. */
  static forTerminal(terminal: ProgressTerminal, label: string, total: number, now: () => number = () => performance.now()): ProgressBar | null {
    return terminal.isTTY ? new ProgressBar(terminal, label, total, now) : null;
  }

  private constructor(terminal: ProgressTerminal, label: string, total: number, now: () => number) {
    this.#terminal = terminal;
    this.#label = label;
    this.#total = total;
    this.#now = now;
    this.#startedAt = now();
  }

  update(sent: number): void {
    const now = this.#now();
    if (now - this.#lastDrawAt < REDRAW_INTERVAL_MS) return;
    this.#lastDrawAt = now;
    this.#drawn = true;
    const line = renderProgress({ label: this.#label, sent, total: this.#total, elapsedMs: now - this.#startedAt, width: this.#terminal.columns || 80 });
    this.#terminal.write(`${CLEAR_LINE}${line}`);
  }

  /** After a failed attempt: wipe the line and measure the rate from now. */
  restart(): void {
    this.clear();
    this.#startedAt = this.#now();
    this.#lastDrawAt = Number.NEGATIVE_INFINITY;
  }

  clear(): void {
    if (this.#drawn) this.#terminal.write(CLEAR_LINE);
    this.#drawn = false;
  }
}
