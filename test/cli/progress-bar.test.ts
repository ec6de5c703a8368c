import { describe, expect, it } from 'vitest';
import { ProgressBar, renderProgress } from '../../services/cli/progress-bar.ts';

const MIB = 1024 * 1024;

describe('renderProgress', () => {
  it('shows the bar, the percentage, the amounts and the rate', () => {
    const line = renderProgress({ label: 'name.txt', sent: 12.3 * MIB, total: 29.1 * MIB, elapsedMs: 1464, width: 66 });
    expect(line).toBe('uploading name.txt  [#####-------]  42%  12.3/29.1 MiB  8.4 MiB/s');
    expect(line.length).toBe(65);
  });

  it('keeps the bar between 10 and 30 cells and the line inside the terminal', () => {
    const wide = renderProgress({ label: 'a.txt', sent: MIB, total: 2 * MIB, elapsedMs: 1000, width: 200 });
    expect(wide).toContain(`[${'#'.repeat(15)}${'-'.repeat(15)}]`);
    const narrow = renderProgress({ label: 'a.txt', sent: MIB, total: 2 * MIB, elapsedMs: 1000, width: 40 });
    expect(narrow).toContain(`[${'#'.repeat(5)}${'-'.repeat(5)}]`);
  });

  it('shortens a long label rather than wrap the line', () => {
    const label = `${'very-long-transcript-name-'.repeat(4)}.txt`;
    const line = renderProgress({ label, sent: 0, total: 10 * MIB, elapsedMs: 0, width: 80 });
    expect(line.length).toBe(79);
    expect(line).toMatch(/^uploading very-long-transcript-name-.*… {2}\[-{10}\] {2}0% {2}0\.0\/10\.0 MiB$/);
  });

  it('counts small files in KiB and reaches 100% only when every byte is sent', () => {
    expect(renderProgress({ label: 'x', sent: 1023, total: 1024, elapsedMs: 2000, width: 80 })).toContain('99%  1.0/1.0 KiB  0.5 KiB/s');
    expect(renderProgress({ label: 'x', sent: 1024, total: 1024, elapsedMs: 2000, width: 80 })).toContain('[##############################]  100%');
    expect(renderProgress({ label: 'x', sent: 0, total: 0, elapsedMs: 0, width: 80 })).toContain('100%  0.0/0.0 KiB');
  });
});

describe('ProgressBar', () => {
  function fakeTerminal(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, terminal: { isTTY, columns: 80, write: (text: string) => writes.push(text) > 0 } };
  }

  it('draws nothing when the stream is not a terminal', () => {
    const { terminal } = fakeTerminal(false);
    expect(ProgressBar.forTerminal(terminal, 'a.txt', 100)).toBeNull();
  });

  it('redraws in place at most every 100 ms and wipes the line at the end', () => {
    const { writes, terminal } = fakeTerminal(true);
    let now = 0;
    const bar = ProgressBar.forTerminal(terminal, 'a.txt', 4 * MIB, () => now)!;
    bar.update(0);
    now = 50;
    bar.update(MIB);
    now = 100;
    bar.update(2 * MIB);
    now = 150;
    bar.update(3 * MIB);
    bar.clear();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toBe(`\r\x1b[2K${renderProgress({ label: 'a.txt', sent: 0, total: 4 * MIB, elapsedMs: 0, width: 80 })}`);
    expect(writes[1]).toContain('50%  2.0/4.0 MiB  20.0 MiB/s');
    expect(writes[2]).toBe('\r\x1b[2K');
  });

  it('measures the rate afresh after a restart', () => {
    const { writes, terminal } = fakeTerminal(true);
    let now = 0;
    const bar = ProgressBar.forTerminal(terminal, 'a.txt', 4 * MIB, () => now)!;
    bar.update(MIB);
    now = 5000;
    bar.restart();
    now = 6000;
    bar.update(MIB);
    expect(writes.at(-2)).toBe('\r\x1b[2K');
    expect(writes.at(-1)).toContain('1.0 MiB/s');
  });
});
