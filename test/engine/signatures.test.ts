import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeTranscript, signFinding, type HangSignature } from '../../services/engine/index.ts';
import { derivedCopies } from '../support/derived-copies.ts';
import { rerandomise } from '../support/rerandomise.ts';
import { EXAMPLE_FILE, SEED_FILE, corpusFiles, sharedAvailable } from '../support/shared-corpus.ts';

const signatureOf = (input: Uint8Array | string): HangSignature | null => {
  const [finding] = analyzeTranscript(input).verdict.findings;
  return finding ? signFinding(finding) : null;
};

describe('hang signatures', () => {
  it('names the pattern, the blamed module and the first explaining frame at the root', () => {
    const signature = signatureOf(readFileSync(EXAMPLE_FILE))!;
    expect(signature.text).toBe('worker-queue-starvation | FabrikamDSM | mpio!MPIOPathVerify');
    expect(signature.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(signature.rulesVersion).toBe('sig-1');
    expect(signature.notes.join('\n')).toMatch(/skipped \d+ wait\/dispatch frame/);
  });

  it('a different blamed module is a different signature (the seed case is MyBadDSM, the example FabrikamDSM)', () => {
    if (!sharedAvailable) return;
    const seed = signatureOf(readFileSync(SEED_FILE))!;
    expect(seed.text).toBe('worker-queue-starvation | MyBadDSM | mpio!MPIOPathVerify');
    expect(seed.hash).not.toBe(signatureOf(readFileSync(EXAMPLE_FILE))!.hash);
  });
});

describe.skipIf(!sharedAvailable)('signatures across the seed case and the corpus', () => {
  const cases = sharedAvailable ? [SEED_FILE, EXAMPLE_FILE, ...corpusFiles()] : [];
  const signed = cases
    .map((file) => ({ file, text: readFileSync(file, 'utf8'), signature: signatureOf(readFileSync(file)) }))
    .filter((entry) => entry.signature !== null);

  it('no two different root causes share a signature', () => {
    const hashes = signed.map((entry) => entry.signature!.hash);
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(signed.length).toBeGreaterThanOrEqual(11);
  });

  it.each(signed.map((entry) => [entry.file.split('/').pop()!, entry] as const))(
    '%s keeps its signature on 50 re-randomised copies (addresses, Cids, then reordered, without prose, CRLF, UTF-16, gzip)',
    (_name, entry) => {
      const variants = (text: string) => derivedCopies(text);
      for (let copy = 0; copy < 50; copy++) {
        const redrawn = rerandomise(entry.text, 1000 + copy);
        const layouts = variants(redrawn);
        const layout = layouts[copy % layouts.length]!;
        expect(signatureOf(layout.bytes)?.text, `copy ${copy} (${layout.name})`).toBe(entry.signature!.text);
      }
    },
  );

  it('the seed printed without its !stacks block is the same root cause', () => {
    const text = readFileSync(SEED_FILE, 'utf8');
    const lines = text.split('\n');
    const start = lines.findIndex((line) => line.startsWith('1: kd> !stacks 0 mrxsmb'));
    const end = lines.findIndex((line, index) => index > start && line.startsWith('1: kd> '));
    const without = [...lines.slice(0, start), ...lines.slice(end)].join('\n');
    expect(signatureOf(without)!.hash).toBe(signatureOf(text)!.hash);
  });
});
