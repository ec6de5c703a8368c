import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeTranscript, type Verdict } from '../../services/engine/index.ts';
import { REPO_ROOT } from '../support/shared-corpus.ts';

/** Hand-written kd transcripts (test/fixtures/patterns) for the patterns the public corpus lacks. */
const verdictOf = (name: string): Verdict => analyzeTranscript(readFileSync(join(REPO_ROOT, 'test/fixtures/patterns', name))).verdict;

describe('patterns the corpus lacks, from hand-written transcripts', () => {
  it('orphaned lock: an ERESOURCE held by a thread the transcript never shows', () => {
    const verdict = verdictOf('orphaned-lock.txt');
    expect(verdict.verdict).toBe('hang');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'orphaned-lock', rootBlocker: { id: 'fffffa8054d0e060' }, collateral: { threads: 1 } });
    expect(finding!.missing.map((hop) => hop.command)).toContain('!thread fffffa8054d0e060');
    expect(finding!.chain[0]!.evidence.map((line) => line.text)).toContainEqual(expect.stringContaining('fffffa8055a3c660'));
  });

  it('long wait in a third-party driver: three hours in a file-system filter with no symbols', () => {
    const [finding] = verdictOf('third-party-long-wait.txt').findings;
    expect(finding).toMatchObject({ pattern: 'third-party-long-wait', blamedModule: 'AcmeAVFilter', rootBlocker: { id: 'fffffa8061c2d060', waitedMs: 3 * 3600 * 1000 } });
    expect(finding!.rootBlocker.frames[0]).toBe('AcmeAVFilter+0x6f6c');
  });

  it('remote file I/O: a logon thread stuck in the redirector for two hours', () => {
    const [finding] = verdictOf('remote-file-io.txt').findings;
    expect(finding).toMatchObject({ pattern: 'remote-file-io', blamedModule: 'rdbss', rootBlocker: { id: 'fffffa8064b5a060' } });
  });

  it('CPU stall: bugcheck 0x101 names the module', () => {
    const [finding] = verdictOf('clock-watchdog-101.txt').findings;
    expect(finding).toMatchObject({ pattern: 'cpu-dpc-stall', blamedModule: 'ContosoNic', confidence: 'high' });
  });

  it('interrupt storm: a 0x133 whose stalled processor runs an interrupt service routine', () => {
    const [finding] = verdictOf('interrupt-storm-133.txt').findings;
    expect(finding).toMatchObject({ pattern: 'interrupt-storm', blamedModule: 'ContosoNic', confidence: 'high' });
    expect(finding!.missing.map((hop) => hop.command)).toContain('!idt');
  });

  it('groups collateral threads stuck the same way (the seed-shaped example)', () => {
    const [finding] = analyzeTranscript(readFileSync(join(REPO_ROOT, 'examples/hung-logon-worker-queue.txt'))).verdict.findings;
    const total = finding!.collateral.groups.reduce((sum, group) => sum + group.threads, 0);
    expect(total).toBe(finding!.collateral.threads + 1);
    expect(finding!.collateral.groups.every((group) => group.threads >= 1)).toBe(true);
  });

  it('reader/writer lock: two spooler threads wait for an SRW lock whose owner is not recorded', () => {
    const verdict = verdictOf('srw-lock-contention.txt');
    expect(verdict.verdict).toBe('hang');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'lock-contention', blamedModule: 'ContosoPrintFilter', rootBlocker: { kind: 'lock', id: '000001d24e7a2c30' } });
    expect(finding!.collateral.threads).toBe(1);
    expect(finding!.signature!.text).toBe('lock-contention | ContosoPrintFilter | ContosoPrintFilter!CpfQueueJob');
    expect(finding!.chain[0]!.evidence[0]!.text).toContain('RtlAcquireSRWLockExclusive');
  });

  it('user-mode !analyze -hang: the BLOCKING_THREAD it names starts the chain', () => {
    const [finding] = verdictOf('analyze-hang-user-mode.txt').findings;
    expect(finding).toMatchObject({ blamedModule: 'ContosoLicense', confidence: 'high', rootBlocker: { id: 'user:1a2c' } });
    expect(finding!.chain[0]).toMatchObject({ relation: 'names', to: 'thread:user:1a2c' });
    expect(finding!.signature!.text).toBe('third-party-long-wait | ContosoLicense | ContosoLicense!LicCheckOnline');
  });

  it('no hang: a thread waiting one second for an ALPC reply is a busy system, not a hung one', () => {
    const verdict = verdictOf('short-alpc-wait.txt');
    expect(verdict.verdict).toBe('no-hang');
  });
});
