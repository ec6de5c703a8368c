import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTranscript, type TranscriptModel } from '../../services/engine/index.ts';
import { derivedCopies } from '../support/derived-copies.ts';
import { address, byAddress, callSites, factsOf, onlySession, threadAt } from '../support/model-queries.ts';
import { SEED_FILE, sharedAvailable } from '../support/shared-corpus.ts';

// What ../shared/docs/triage.md says the seed case must yield.
function expectSeedFacts(model: TranscriptModel): void {
  const session = onlySession(model);

  const winlogon = threadAt(session, 'fffffa80`73d3d770');
  expect(winlogon.image).toBe('winlogon.exe');
  expect(winlogon.state).toBe('waiting');
  expect(winlogon.waitReason).toBe('WrLpcReply');
  expect(winlogon.waitMode).toBe('UserMode');
  expect(winlogon.alpcWait?.message).toBe(address('fffff8801ffd9cf0'));
  const toLogonUi = byAddress(session.alpcMessages, 'fffff8801ffd9cf0');
  expect(toLogonUi.waitingThread).toBe(winlogon.address);
  expect(toLogonUi.serverThread).toBe(address('fffffa804f96d5a0'));
  expect(toLogonUi.queuePortOwnerImage).toBe('LogonUI.exe');
  expect(threadAt(session, 'fffffa804f96d5a0').waitReason).toBe('UserRequest');

  const logonUi = threadAt(session, 'fffffa804e9e5060');
  const toLsm = byAddress(session.alpcMessages, logonUi.alpcWait!.message);
  expect(toLsm.address).toBe(address('fffff8801ffaacf0'));
  expect(toLsm.queuePortOwnerImage).toBe('lsm.exe');
  expect(toLsm.serverThread).toBe(address('fffffa805180c700'));

  const lsm = threadAt(session, 'fffffa8050910060');
  expect(lsm.image).toBe('lsm.exe');
  expect(lsm.waitMs).toBe(((4 * 60 + 21) * 60 + 41) * 1000 + 110);
  const toSvchost = byAddress(session.alpcMessages, 'fffff8801fe00cf0');
  expect(toSvchost.queuePortOwnerImage).toBe('svchost.exe');
  expect(toSvchost.serverThread).toBe(address('fffffa8051435940'));

  const svchost = threadAt(session, 'fffffa8051435940');
  expect(svchost.waitMs).toBe(((4 * 60 + 21) * 60 + 40) * 1000 + 517);
  expect(callSites(svchost)).toContain('mup!MupLocateUncProviderForPath+0x40a');
  expect(svchost.irps).toEqual(expect.arrayContaining([address('fffffa80514558b0'), address('fffffa8073bc65e0')]));
  expect(byAddress(session.fileObjects, 'fffffa805145aec0').fileName).toBe('\\DC005.contoso.com\\PIPE\\lsarpc');
  const mupIrp = byAddress(session.irps, 'fffffa80514558b0');
  expect(mupIrp.stack.find((location) => location.current)?.file).toBe(address('fffffa805145aec0'));
  const queryPath = byAddress(session.irps, 'fffffa8073bc65e0');
  expect(queryPath.pending).toBe(true);
  expect(queryPath.currentDriver).toBe('\\FileSystem\\mrxsmb');
  expect(queryPath.stack.find((location) => location.current)?.completionRoutine).toBe('mup!MupiQueryPathCompletionRoutine');

  const redirector = threadAt(session, 'fffffa804ee72bb0');
  expect(redirector.waitMs).toBe(((9 * 60 + 19) * 60 + 10) * 1000 + 167);
  expect(callSites(redirector)).toContain('rdbss!RxWaitForStableCondition+0x11c');
  expect(threadAt(session, 'fffffa804edad4f0').blockerFrame?.callSite).toBe('nt!FsRtlCancellableWaitForMultipleObjects+0x62');
  const smbIrps = session.irps.filter((irp) => irp.currentDriver === '\\Driver\\Smb');
  expect(smbIrps).toHaveLength(3);
  expect(smbIrps.every((irp) => irp.pending)).toBe(true);

  const delayed = session.workQueues.find((queue) => queue.key === 'Delayed')!;
  // nt!ExWorkerQueue + 0x58: the second of the Critical, Delayed, HyperCritical queues.
  expect(delayed.address).toBe(address('fffff800`01ff08f8'));
  expect(delayed.hasPendingItems).toBe(true);
  expect(delayed.pendingItems).toBe(18023);
  expect(delayed.dynamicThreads).toBe(16);
  expect(delayed.maximumCount).toBe(0x10);
  for (const name of ['Critical', 'HyperCritical']) {
    expect(session.workQueues.find((queue) => queue.key === name)?.hasPendingItems).toBe(false);
  }
  const delayedRoutines = new Set(session.workItems.filter((item) => item.queue === 'Delayed').map((item) => item.routine));
  expect(delayedRoutines).toEqual(new Set(['smb!SmbDelayedStartTcpSession', 'mpio!MPIOPathVerify']));

  const worker = threadAt(session, 'fffffa8030a39720');
  expect(worker.image).toBe('System');
  expect(worker.waitMs).toBe(((9 * 60 + 26) * 60 + 24) * 1000 + 225);
  expect(worker.startAddress).toMatch(/^nt!ExpWorkerThread/);
  expect(callSites(worker).slice(3, 8)).toEqual([
    'MyBadDSM+0xb698',
    'MyBadDSM+0x6a06',
    'mpio!MPIOPathVerify+0x14b',
    'nt!IopProcessWorkItem+0x27',
    'nt!ExpWorkerThread+0xfb',
  ]);
}

describe.skipIf(!sharedAvailable)('the seed case (../shared/seeds)', () => {
  const text = sharedAvailable ? readFileSync(SEED_FILE, 'utf8') : '';
  const model = sharedAvailable ? parseTranscript(readFileSync(SEED_FILE)) : (null as unknown as TranscriptModel);

  it('reads every hop of the chain, from winlogon to the MyBadDSM worker thread', () => {
    expectSeedFacts(model);
    expect(model.warnings).toEqual([]);
  });

  it('reports the commands it does not read instead of dropping them', () => {
    const unparsed = model.coverage.unparsed.map((block) => block.name);
    expect(unparsed).toEqual(expect.arrayContaining(['!session', '.frame', 'u']));
    expect(unparsed).not.toContain('!thread');
    expect(unparsed).not.toContain('!alpc');
  });

  it.each(derivedCopies(text))('reads the same facts from a copy: $name', ({ bytes }) => {
    const derived = parseTranscript(bytes);
    expectSeedFacts(derived);
    expect(factsOf(derived)).toEqual(factsOf(model));
  });
});
