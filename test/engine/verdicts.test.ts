import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeTranscript, canonicalAddress, type Finding, type Verdict } from '../../services/engine/index.ts';
import { derivedCopies } from '../support/derived-copies.ts';
import { EXAMPLE_FILE, SEED_FILE, corpusFile, sharedAvailable } from '../support/shared-corpus.ts';

const verdictOf = (bytes: Uint8Array | string): Verdict => analyzeTranscript(bytes).verdict;
const corpusVerdict = (prefix: string): Verdict => verdictOf(readFileSync(corpusFile(prefix)));
const top = (verdict: Verdict): Finding => {
  const finding = verdict.findings[0];
  if (!finding) throw new Error(`no finding; verdict ${verdict.verdict}`);
  return finding;
};
const a = (text: string) => canonicalAddress(text)!;

/** The chain's nodes in order, from the first victim to the root. */
function chainNodes(finding: Finding): string[] {
  return finding.chain.length === 0 ? [] : [finding.chain[0]!.from, ...finding.chain.map((step) => step.to)];
}

function expectInOrder(nodes: string[], expected: string[]): void {
  let at = -1;
  for (const wanted of expected) {
    const next = nodes.findIndex((node, index) => index > at && node === wanted);
    expect(next, `${wanted} after position ${at} in ${nodes.join(' → ')}`).toBeGreaterThan(at);
    at = next;
  }
}

/** What must hold of the seed case (../shared/docs/triage.md, "what an analysis must find"). */
function expectSeedVerdict(verdict: Verdict): void {
  expect(verdict.verdict).toBe('hang');
  const finding = top(verdict);
  expect(finding.pattern).toBe('worker-queue-starvation');
  expect(finding.blamedModule).toBe('MyBadDSM');
  expect(finding.rootBlocker).toMatchObject({ kind: 'thread', id: a('fffffa8030a39720'), process: 'System' });
  expect(finding.rootBlocker.frames.slice(0, 3)).toEqual(['MyBadDSM+0xb698', 'MyBadDSM+0x6a06', 'mpio!MPIOPathVerify+0x14b']);
  expectInOrder(chainNodes(finding), [
    `thread:${a('fffffa8073d3d770')}`, // winlogon
    `alpc-message:${a('fffff8801ffd9cf0')}`,
    `thread:${a('fffffa804e9e5060')}`, // LogonUI
    `alpc-message:${a('fffff8801ffaacf0')}`,
    `thread:${a('fffffa8050910060')}`, // lsm
    `alpc-message:${a('fffff8801fe00cf0')}`,
    `thread:${a('fffffa8051435940')}`, // svchost, in MUP
    `irp:${a('fffffa8073bc65e0')}`,
    'driver:\\filesystem\\mrxsmb',
    `thread:${a('fffffa804ee72bb0')}`, // the redirector
    'driver:\\driver\\smb',
    'work-queue:Delayed',
    `thread:${a('fffffa8030a39720')}`,
  ]);
  const svchost = finding.chain.find((step) => step.to === `thread:${a('fffffa8051435940')}`)!;
  expect(svchost.toLabel).toContain('\\DC005.contoso.com\\PIPE\\lsarpc');
  const queue = finding.chain.find((step) => step.to === 'work-queue:Delayed')!;
  expect(queue.toLabel).toContain('18023 items pending');
  expect(queue.toLabel).toContain('16 dynamic threads');
  expect(finding.missing).toContainEqual({ what: expect.stringContaining('fffffa805180c700'), command: '!thread fffffa805180c700' });
  for (const step of finding.chain) {
    expect(step.evidence.length, `${step.relation} has evidence`).toBeGreaterThan(0);
    for (const evidence of step.evidence) expect(evidence.text.length).toBeGreaterThan(0);
  }
}

describe.skipIf(!sharedAvailable)('verdict of the seed case', () => {
  const text = sharedAvailable ? readFileSync(SEED_FILE, 'utf8') : '';

  it('one root: the Delayed queue starved by worker threads blocked in MyBadDSM, with the whole chain in order', () => {
    const verdict = verdictOf(text);
    expectSeedVerdict(verdict);
    expect(verdict.findings).toHaveLength(1);
  });

  it('quotes the transcript for every step (the lsm → svchost hop quotes its ServerThread line)', () => {
    const finding = top(verdictOf(text));
    const hop = finding.chain.find((step) => step.from === `alpc-message:${a('fffff8801fe00cf0')}`)!;
    expect(hop.evidence.map((evidence) => evidence.text)).toContainEqual(expect.stringMatching(/^ServerThread\s+:\s+fffffa8051435940$/));
  });

  it.each(derivedCopies(text))('gives the same verdict from a copy: $name', ({ bytes }) => {
    expectSeedVerdict(verdictOf(bytes));
  });

  it('lists a hop whose block was deleted as missing, and still reaches the root', () => {
    const lines = text.split('\n');
    const start = lines.findIndex((line) => line.startsWith('1: kd> !alpc /m fffff8801fe00cf0'));
    const end = lines.findIndex((line, index) => index > start && line.startsWith('1: kd> '));
    const verdict = verdictOf([...lines.slice(0, start), ...lines.slice(end)].join('\n'));
    const finding = top(verdict);
    expect(finding.blamedModule).toBe('MyBadDSM');
    expect(finding.rootBlocker.id).toBe(a('fffffa8030a39720'));
    expect(finding.missing.map((hop) => hop.command)).toContain(`!alpc /m ${a('fffff8801fe00cf0')}`);
  });
});

describe('verdict of the bundled example', () => {
  it('blames FabrikamDSM through the same chain', () => {
    const finding = top(verdictOf(readFileSync(EXAMPLE_FILE)));
    expect(finding.pattern).toBe('worker-queue-starvation');
    expect(finding.blamedModule).toBe('FabrikamDSM');
    expect(finding.rootBlocker.id).toBe(a('fffffa8039d0a660'));
    expect(finding.missing.map((hop) => hop.command)).toContain('!thread fffffa804d6c3060');
  });
});

/** One test per corpus file; each quotes its author's conclusion (../shared/corpus/MANIFEST.md). */
describe.skipIf(!sharedAvailable)('verdicts of the real-transcript corpus', () => {
  it('001 — "Thread 4, which owns the second critical section, is waiting on the third critical section. Thread 6 … is waiting on the second."', () => {
    const verdict = corpusVerdict('001-');
    const finding = top(verdict);
    expect(verdict.verdict).toBe('hang');
    expect(finding.pattern).toBe('deadlock');
    expect(finding.cycle).toEqual(expect.arrayContaining(['thread:user:a3', 'thread:user:a9', `lock:critical-section:${a('68629100')}`, `lock:critical-section:${a('0024e750')}`]));
  });

  it('003 — "If you get to a thread that is not waiting for another resource, that thread is probably the source of the problem" (the ERESOURCE owner waits in nwrdr)', () => {
    const finding = top(corpusVerdict('003-'));
    expect(finding.pattern).toBe('lock-contention');
    expect(finding.rootBlocker.id).toBe(a('ffaf5410'));
    expect(finding.blamedModule).toBe('nwrdr');
    expect(finding.missing.map((hop) => hop.command)).toContain(`!irp ${a('fef29208')}`);
  });

  it('008 — "Both threads … are stuck … due to inconsistent lock ordering, leading to a deadlock."', () => {
    const finding = top(corpusVerdict('008-'));
    expect(finding.pattern).toBe('deadlock');
    expect(finding.blamedModule).toBe('TestDriver');
    expect(finding.cycle).toEqual(expect.arrayContaining([`thread:${a('ffffdf821f4b8040')}`, `thread:${a('ffffdf8217a30040')}`]));
  });

  it('009 — a SET_POWER IRP blocked in \\Driver\\HidUsb (bugcheck 0x9F/3)', () => {
    const finding = top(corpusVerdict('009-'));
    expect(finding.pattern).toBe('pending-irp');
    expect(finding.blamedModule).toBe('HidUsb');
    expect(chainNodes(finding)).toContain(`irp:${a('fffffa800ab61bd0')}`);
  });

  it('010 — "tick count of 501 exceeds the DPC time allotment of 500"; IMAGE_NAME BthA2DP.sys', () => {
    const finding = top(corpusVerdict('010-'));
    expect(finding.pattern).toBe('cpu-dpc-stall');
    expect(finding.blamedModule).toBe('BthA2DP');
  });

  it('012 — "…faulting module was said to be usbehci we are now sure we have our root cause"', () => {
    const finding = top(corpusVerdict('012-'));
    expect(finding.pattern).toBe('pending-irp');
    expect(finding.blamedModule).toBe('usbehci');
    expectInOrder(chainNodes(finding), [`thread:${a('85f6da70')}`, `irp:${a('8a6b15c0')}`, 'driver:\\driver\\usbehci']);
  });

  it('015 — "Yikes, there is no thread signed up to service the request."', () => {
    const verdict = corpusVerdict('015-');
    const finding = top(verdict);
    expect(finding.pattern).toBe('alpc-wait-chain');
    expect(finding.rootBlocker).toMatchObject({ kind: 'process', id: a('846209c0') });
    expect(finding.blamedModule).toBe('explorer');
  });

  it('016 — "1号和3号线程都拥有一把锁，同时在等待对方的锁，这样就产生了死锁" (loader lock against a critical section)', () => {
    const finding = top(corpusVerdict('016-'));
    expect(finding.pattern).toBe('deadlock');
    expect(finding.cycle).toEqual(expect.arrayContaining(['thread:user:548', 'thread:user:5f4', `lock:loader-lock:${a('77a820c0')}`, `lock:critical-section:${a('00299ebc')}`]));
    // The loader lock is held by the DllMain (_CRT_INIT) of the third-party XXXXXXXX.dll: the two printings of
    // thread 1's stack (`~*kvn` and `!cs -o`) are merged to see it.
    expect(finding.blamedModule).toBe('XXXXXXXX');
  });

  it('025 — "Sure enough we\'re blocking on an async method" while holding the lock 114 threads wait for', () => {
    const finding = top(corpusVerdict('025-'));
    expect(finding.pattern).toBe('lock-contention');
    expect(finding.rootBlocker.id).toBe('user:9628');
    expect(finding.blamedModule).toBe('Contoso');
    expect(finding.collateral.threads).toBeGreaterThanOrEqual(113);
  });

  it.each([
    ['022-', 'a !stacks format sample, not a hang'],
    ['028-', 'a !locks format sample: shared owners, no contention'],
    ['029-', 'an !irpfind format sample'],
    ['032-', 'negative control: the only thread of interest sleeps 0.875 s'],
    ['034-', 'a healthy !exqueue: every worker waits, nothing pending'],
  ])('%s — no-hang (%s)', (prefix) => {
    const verdict = corpusVerdict(prefix);
    expect(verdict.verdict).toBe('no-hang');
    expect(verdict.findings).toEqual([]);
  });

  it('035 — a tutorial with no conclusion: inconclusive, never a confident root cause (the waiting thread is suspended)', () => {
    const verdict = corpusVerdict('035-');
    expect(verdict.verdict).toBe('inconclusive');
    expect(verdict.findings.every((finding) => finding.confidence === 'low')).toBe(true);
    expect(verdict.notes.join(' ')).toContain('suspended');
  });

  it.each(['001-', '003-', '008-', '009-', '012-', '015-', '016-', '025-', '032-', '035-'])('%s gives the same verdict from every derived copy', (prefix) => {
    const text = readFileSync(corpusFile(prefix), 'utf8');
    const reference = verdictOf(text);
    for (const { name, bytes } of derivedCopies(text)) {
      const verdict = verdictOf(bytes);
      expect([name, verdict.verdict, verdict.findings[0]?.pattern, verdict.findings[0]?.blamedModule, verdict.findings[0]?.rootBlocker.id]).toEqual([
        name,
        reference.verdict,
        reference.findings[0]?.pattern,
        reference.findings[0]?.blamedModule,
        reference.findings[0]?.rootBlocker.id,
      ]);
    }
  });
});
