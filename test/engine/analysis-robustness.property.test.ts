import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeTranscript, isTranscriptError, type Verdict } from '../../services/engine/index.ts';
import { EXAMPLE_FILE, REPO_ROOT } from '../support/shared-corpus.ts';

/** Lines of our own transcripts: material for hostile mixtures that still look like debugger output. */
const SOURCE_LINES = [EXAMPLE_FILE, ...readdirSync(join(REPO_ROOT, 'test/fixtures/patterns')).map((name) => join(REPO_ROOT, 'test/fixtures/patterns', name))]
  .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
  .filter((line) => line.trim().length > 0);

function analyse(text: string): Verdict | null {
  try {
    return analyzeTranscript(text).verdict;
  } catch (error) {
    if (isTranscriptError(error)) return null;
    throw error;
  }
}

function expectWellFormed(verdict: Verdict): void {
  expect(['hang', 'no-hang', 'inconclusive']).toContain(verdict.verdict);
  for (const finding of verdict.findings) {
    expect(finding.signature?.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(finding.signature!.text.length).toBeLessThanOrEqual(255);
    for (const step of finding.chain) for (const evidence of step.evidence) expect(evidence.line).toBeGreaterThan(0);
  }
  expect(JSON.parse(JSON.stringify(verdict))).toEqual(verdict);
}

describe('the analysis never throws and is deterministic', () => {
  it('on shuffled, duplicated and truncated mixtures of real debugger lines', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(SOURCE_LINES.length - 1), { minLength: 1, maxLength: 400 }), fc.nat(200), (picks, cut) => {
        const text = picks.map((index) => SOURCE_LINES[index]!.slice(0, Math.max(1, SOURCE_LINES[index]!.length - (cut % 7)))).join('\n');
        const first = analyse(text);
        const second = analyse(text);
        expect(second).toEqual(first);
        if (first) expectWellFormed(first);
      }),
      { numRuns: 150 },
    );
  });

  it('on lines with garbage injected (prompts, brackets, backticks, huge numbers)', () => {
    const garbage = fc.constantFrom('>', '<', '`', '!', ':', '[', ']', 'ffffffffffffffffff', '0x', 'THREAD ', 'Irp is active with 99999 stacks 0 is current', '+0x', '\u0000', '\t', '…');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(SOURCE_LINES.length - 1), garbage, fc.nat(80)), { minLength: 1, maxLength: 200 }), (edits) => {
        const text = edits
          .map(([index, junk, at]) => {
            const line = SOURCE_LINES[index]!;
            const position = at % (line.length + 1);
            return line.slice(0, position) + junk + line.slice(position);
          })
          .join('\n');
        const verdict = analyse(text);
        if (verdict) expectWellFormed(verdict);
      }),
      { numRuns: 150 },
    );
  });

  it('on a deadlock cycle through 2,000 threads and 2,000 locks', () => {
    const lines: string[] = ['0: kd> !locks'];
    const count = 2000;
    const address = (index: number) => `fffffa80${(0x40000000 + index * 0x400).toString(16)}`;
    const lock = (index: number) => `fffffa80${(0x20000000 + index * 0x100).toString(16)}`;
    for (let index = 0; index < count; index++) {
      lines.push(`Resource @ 0x${lock(index)}    Exclusively owned`, `     Threads: ${address(index)}-01<*>`, '     Threads Waiting On Exclusive Access:', `              ${address((index + 1) % count)}`);
    }
    const verdict = analyse(lines.join('\n'))!;
    expectWellFormed(verdict);
    expect(verdict.findings[0]?.pattern).toBe('deadlock');
    expect(verdict.findings[0]?.cycle?.length).toBe(2 * count);
  });
});
