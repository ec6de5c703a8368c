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

/**
 * More hand-written transcripts, each with its writer's conclusion as the expectation: shapes the corpus has
 * only once or not at all (user-mode lock-order deadlocks, a wait on a thread handle, `!locks` with shared waiters,
 * a three-process ALPC chain, a `!stacks` survey alone, an `!exqueue` alone, a healthy system).
 */
describe('hand-written transcripts of other shapes', () => {
  it('critical sections taken in opposite orders: thread 5 holds g_CacheLock and waits on g_JournalLock, thread 11 the reverse', () => {
    const verdict = verdictOf('critical-section-deadlock-kb.txt');
    expect(verdict.verdict).toBe('hang');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'deadlock', blamedModule: 'FabrikamStore', confidence: 'high', rootBlocker: { kind: 'deadlock' } });
    expect(finding!.rootBlocker.id.split(' <-> ').sort()).toEqual(['user:1b88', 'user:2f40']);
    // Six more threads wait on g_CacheLock behind the two.
    expect(finding!.collateral.threads).toBeGreaterThanOrEqual(6);
  });

  it('the same deadlock where the x64 `kb` argument columns do not hold the locks: each owner waits on the one lock the other holds', () => {
    const [finding] = verdictOf('critical-section-deadlock-x64-args.txt').findings;
    expect(finding).toMatchObject({ pattern: 'deadlock', blamedModule: 'FabrikamStore' });
    expect(finding!.rootBlocker.id.split(' <-> ').sort()).toEqual(['user:1b88', 'user:2f40']);
  });

  it('.NET monitors taken in opposite orders (current SOS `!threads` with its DBG column), 30 threads queued behind them', () => {
    const verdict = verdictOf('monitor-deadlock-dotnet.txt');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'deadlock', confidence: 'high' });
    expect(finding!.rootBlocker.id.split(' <-> ').sort()).toEqual(['user:2c54', 'user:3f10']);
    expect(finding!.blamedModule).toMatch(/^Contoso/);
    expect(finding!.collateral.threads).toBeGreaterThanOrEqual(30);
  });

  it('a UI thread waits on a thread handle (`!handle 52c f`): the root is that thread, stuck in recv inside LitwareSync', () => {
    const [finding] = verdictOf('wait-on-thread-handle-x86.txt').findings;
    expect(finding).toMatchObject({ blamedModule: 'LitwareSync', rootBlocker: { id: 'user:2408' } });
    expect(finding!.chain.map((step) => step.relation)).toEqual(['names', 'waits-for-thread']);
    expect(finding!.chain[1]!.evidence.map((line) => line.text)).toContainEqual(expect.stringContaining('Thread Id   1f2c.2408'));
    // A user-mode session is surveyed with `~*kb`, which this transcript already has: `!stacks` is a kernel command.
    expect(finding!.missing.map((hop) => hop.command)).not.toContainEqual(expect.stringContaining('!stacks'));
  });

  it('the same wait on a thread handle without `!analyze -hang` still reaches the thread in recv', () => {
    const verdict = verdictOf('wait-on-thread-handle-no-analyze.txt');
    expect(verdict.verdict).toBe('hang');
    expect(verdict.findings[0]).toMatchObject({ blamedModule: 'LitwareSync', rootBlocker: { id: 'user:2408' } });
  });

  it('!locks: the exclusive owner of the registry lock waits on an IRP pending in a file-system filter; untagged `Threads:` entries are waiters', () => {
    const verdict = verdictOf('eresource-owner-waits-on-filter-irp.txt');
    expect(verdict.findings).toHaveLength(1);
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'pending-irp', blamedModule: 'FabrikamVaultFlt', confidence: 'high', rootBlocker: { kind: 'driver' } });
    expect(finding!.rootBlocker.label).toMatch(/FabrikamVaultFlt/);
    // Five shared waiters (one on a wrapped `Threads:` line) and one exclusive waiter.
    expect(finding!.collateral.threads).toBe(6);
  });

  it('an ALPC chain across three processes is drawn through the messages `!alpc /m` showed, not through a guessed hop', () => {
    const verdict = verdictOf('alpc-three-processes.txt');
    expect(verdict.findings).toHaveLength(1);
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'alpc-wait-chain', blamedModule: 'ContosoHsm', confidence: 'high', rootBlocker: { id: 'ffffe70b8c9d3040' } });
    expect(finding!.chain.map((step) => step.relation)).toEqual(['waits-for-reply', 'served-by', 'waits-for-reply', 'served-by']);
  });

  it('bugcheck 0x9F/3: the power IRP is pending in a storage filter between partmgr and disk', () => {
    const [finding] = verdictOf('power-irp-9f-storage-filter.txt').findings;
    expect(finding).toMatchObject({ pattern: 'pending-irp', blamedModule: 'LitwareStorFlt', confidence: 'high' });
  });

  it('`!stacks 2` alone: 40 threads in 8 processes blocked for over an hour in one minifilter are one finding', () => {
    const verdict = verdictOf('stacks-survey-minifilter.txt');
    expect(verdict.verdict).toBe('hang');
    expect(verdict.findings).toHaveLength(1);
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'third-party-long-wait', blamedModule: 'LitwareFlt', confidence: 'high' });
    expect(finding!.collateral.threads).toBe(39);
    expect(finding!.rootBlocker.waitedMs).toBeGreaterThan(3600 * 1000);
    expect(finding!.missing.map((hop) => hop.command)).not.toContainEqual(expect.stringContaining('!stacks'));
  });

  it('`!exqueue 6` alone: the Critical queue has pending items and all its workers are blocked in FabrikamRepl', () => {
    const verdict = verdictOf('exqueue-critical-queue-starved.txt');
    expect(verdict.findings).toHaveLength(1);
    expect(verdict.findings[0]).toMatchObject({ pattern: 'worker-queue-starvation', blamedModule: 'FabrikamRepl', confidence: 'high' });
  });

  it('no hang: an idle server whose only long wait is a service waiting in user mode for its stop event', () => {
    const verdict = verdictOf('healthy-system-service-stop-wait.txt');
    expect(verdict.verdict).toBe('no-hang');
    expect(verdict.findings).toEqual([]);
  });

  it('`!irpfind`: thirty SCSI requests pending in a multipath DSM are the hang; sockets in AFD and pipe listens in Npfs are not', () => {
    const verdict = verdictOf('irpfind-pending-in-dsm.txt');
    expect(verdict.findings).toHaveLength(1);
    expect(verdict.findings[0]).toMatchObject({ pattern: 'pending-irp', blamedModule: 'FabrikamDsm', confidence: 'high', rootBlocker: { kind: 'driver' } });
  });

  it('remote file I/O: profile reads pending in the SMB redirector name the file server and share', () => {
    const [finding] = verdictOf('remote-file-io-profile-share.txt').findings;
    expect(finding).toMatchObject({ pattern: 'remote-file-io', blamedModule: 'mrxsmb' });
    expect(finding!.summary).toContain('\\\\srv-files-02\\share');
  });

  it('a filter\'s own read pending in Ntfs is not blamed for every thread waiting somewhere in FltMgr', () => {
    const findings = verdictOf('filter-irp-among-fltmgr-waiters.txt').findings;
    const byModule = new Map(findings.map((finding) => [finding.blamedModule, finding]));
    // The filter whose read waits in Ntfs, and the two other filters' own waits, each a finding of its own.
    expect(byModule.get('ContosoFlt')).toMatchObject({ pattern: 'pending-irp', collateral: { threads: 0 } });
    expect(byModule.get('LitwareAvFlt')).toMatchObject({ pattern: 'third-party-long-wait', collateral: { threads: 3 } });
    expect(byModule.get('FabrikamBackupFlt')).toMatchObject({ pattern: 'third-party-long-wait', collateral: { threads: 2 } });
  });

  it('bugcheck 0x9F/4: the thread holding the PnP lock waits for a START_DEVICE IRP pending in a bus driver', () => {
    const [finding] = verdictOf('pnp-lock-9f-4-bus-driver.txt').findings;
    expect(finding).toMatchObject({ pattern: 'pending-irp', blamedModule: 'FabrikamVbus', confidence: 'high' });
    expect(finding!.chain.map((step) => step.relation)).toEqual(['names', 'waits-for-irp', 'pending-in-driver']);
  });

  it('a manual crash of a hung server: two ERESOURCEs, each owner waiting for the other in LitwareBackup', () => {
    const [finding] = verdictOf('manual-crash-eresource-deadlock.txt').findings;
    expect(finding).toMatchObject({ pattern: 'deadlock', blamedModule: 'LitwareBackup', confidence: 'high' });
  });

  it('bugcheck 0x133/1 in a miniport DPC: the clock interrupt that noticed the stall is not an interrupt storm', () => {
    const [finding] = verdictOf('dpc-watchdog-133-miniport.txt').findings;
    expect(finding).toMatchObject({ pattern: 'cpu-dpc-stall', blamedModule: 'ContosoNdx64' });
    expect(finding!.rootBlocker.frames.join(' ')).not.toMatch(/KeAccumulateTicks|KiInterruptDispatch/);
    expect(finding!.missing.map((hop) => hop.command)).not.toContain('!idt');
  });

  it('no hang: a page fault (0x50) in a filter is a crash, and the summary says so; its idle system threads are not a hang', () => {
    const verdict = verdictOf('crash-50-not-a-hang.txt');
    expect(verdict.verdict).toBe('no-hang');
    expect(verdict.summary).toMatch(/crashed with PAGE_FAULT_IN_NONPAGED_AREA \(0x50\) in FabrikamFltr/);
    expect(verdict.findings).toEqual([]);
  });

  it('loader lock: DllMain holds it and waits for a lock of the thread that waits for it in LdrLoadDll', () => {
    const verdict = verdictOf('loader-lock-dllmain-deadlock.txt');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'deadlock', blamedModule: 'ContosoHook', confidence: 'high' });
    expect(finding!.rootBlocker.id.split(' <-> ').sort()).toEqual(['user:1d4c', 'user:b58']);
    // `BLOCKING_THREAD: 0000000000000b58`, padded to 16 digits on x64, still names the thread.
    expect(finding!.chain[0]).toMatchObject({ relation: 'names', to: 'thread:user:b58' });
  });

  it('a thread pool parked behind a request queue whose releasing thread waits on an SRW lock: FabrikamRpc', () => {
    const [finding] = verdictOf('threadpool-srw-lock-fabrikamrpc.txt').findings;
    expect(finding).toMatchObject({ pattern: 'lock-contention', blamedModule: 'FabrikamRpc', rootBlocker: { kind: 'lock' } });
  });

  it('no hang: an idle GUI application (message loop, pool workers, RPC listener, timers)', () => {
    const verdict = verdictOf('idle-gui-app.txt');
    expect(verdict.verdict).toBe('no-hang');
    expect(verdict.findings).toEqual([]);
  });

  it('Windows 7: a logon thread waits three hours on an ALPC reply from svchost, whose server thread waits in an authentication package', () => {
    const [finding] = verdictOf('alpc-win7-auth-package.txt').findings;
    expect(finding).toMatchObject({ pattern: 'alpc-wait-chain', blamedModule: 'ContosoAuthPkg', confidence: 'high', rootBlocker: { id: 'fffffa8004d1a5a0' } });
  });

  it('Server 2003 LPC (`Waiting for reply to LPC MessageId`, `LPC Server thread working on message Id`): the server thread in FabrikamSvc waits on a mutant its queue thread owns', () => {
    const [finding] = verdictOf('lpc-server-2003-x86.txt').findings;
    expect(finding).toMatchObject({ pattern: 'alpc-wait-chain', blamedModule: 'FabrikamSvc', rootBlocker: { id: 'ffffffff89c41b40' } });
    expect(finding!.chain.map((step) => step.relation)).toEqual(['waits-for-reply', 'served-by', 'waits-for-thread']);
    expect(finding!.chain[2]!.evidence[0]!.text).toContain('Mutant - owning thread 89c41b40');
    // The system-call transition frames of x86 (KiFastCallEntry, KiFastSystemCallRet) say how it waits, not why.
    expect(finding!.rootBlocker.frames[0]).toBe('FabrikamSvc!CSpoolQueue::WaitForPrinterReady+0x41');
  });

  it('`lkd>` with `!locks -v`: the waiter list printed after the owner\'s THREAD block still belongs to the resource; the owner waits on an IRP pending in the DLP driver', () => {
    const verdict = verdictOf('live-kd-eresource-dlp-irp.txt');
    expect(verdict.findings).toHaveLength(1);
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'pending-irp', blamedModule: 'LitwareDlp', confidence: 'high', collateral: { threads: 2 } });
    expect(finding!.chain.map((step) => step.relation)).toEqual(['waits-for-lock', 'owned-by', 'waits-for-irp', 'pending-in-driver']);
  });

  it('a WER hang dump of w3wp: thread 23 holds the monitor 28 threads wait for while it blocks in a web request of Contoso.Pricing', () => {
    const [finding] = verdictOf('wer-hang-monitor-held-across-io.txt').findings;
    // The P/Invoke stub of .NET Framework (DomainNeutralILStubClass) is the runtime's, not the application's.
    expect(finding).toMatchObject({ pattern: 'lock-contention', blamedModule: 'Contoso', rootBlocker: { id: 'user:1f4c' }, collateral: { threads: 27 } });
  });

  it('the same in a `dotnet-dump analyze` session: `> clrthreads`, `> syncblk`, `> clrstack -all` are commands, not quotes', () => {
    const verdict = verdictOf('dotnet-dump-monitor-held-across-io.txt');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'lock-contention', blamedModule: 'Contoso', rootBlocker: { id: 'user:2e' }, collateral: { threads: 27 } });
    expect(finding!.rootBlocker.frames.length).toBeGreaterThan(0);
  });

  it('Server 2019, `!exqueue 6`: the seed\'s story on per-node queues (ALPC ×3 → mrxsmb IRP → Critical queue starved by LitwareMpDsm)', () => {
    const [finding] = verdictOf('exqueue-win2019-chain-to-dsm.txt').findings;
    expect(finding).toMatchObject({ pattern: 'worker-queue-starvation', blamedModule: 'LitwareMpDsm', confidence: 'high', rootBlocker: { id: 'ffffa50e1b9d2080' } });
  });

  it('the same read through `dt nt!_EX_WORK_QUEUE` / `_KPRIQUEUE` (per-node queues, `dt -a` list rows) and `!list`', () => {
    const verdict = verdictOf('ex-work-queue-dt-win2019-dsm.txt');
    const [finding] = verdict.findings;
    expect(finding).toMatchObject({ pattern: 'worker-queue-starvation', blamedModule: 'LitwareMpDsm', confidence: 'high', rootBlocker: { id: 'ffffa50e1b9d2080' } });
    expect(finding!.signature!.text).toBe(verdictOf('exqueue-win2019-chain-to-dsm.txt').findings[0]!.signature!.text);
  });
});
