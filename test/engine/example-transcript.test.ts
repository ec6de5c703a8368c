import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fieldLines, parseTranscript } from '../../services/engine/index.ts';
import { derivedCopies } from '../support/derived-copies.ts';
import { address, byAddress, callSites, factsOf, onlySession, threadAt } from '../support/model-queries.ts';
import { EXAMPLE_FILE } from '../support/shared-corpus.ts';
import type { TranscriptModel } from '../../services/engine/index.ts';

// Facts listed in examples/README.md: the bundled example is our own seed-shaped transcript.
function expectExampleFacts(model: TranscriptModel): void {
  const session = onlySession(model);
  expect(session.mode).toBe('kernel');

  const winlogon = threadAt(session, 'fffffa80`6b3fe060');
  expect(winlogon.image).toBe('winlogon.exe');
  expect(winlogon.waitReason).toBe('WrLpcReply');
  expect(winlogon.alpcWait).toEqual({
    message: address('fffff88021a437d0'),
    port: address('fffffa806b9c2e40'),
    ownerProcess: address('fffffa806ba47c10'),
  });
  const firstHop = byAddress(session.alpcMessages, 'fffff88021a437d0');
  expect(firstHop.waitingThread).toBe(winlogon.address);
  expect(firstHop.serverThread).toBe(address('fffffa806b9f4b60'));
  expect(firstHop.queuePortOwnerImage).toBe('LogonUI.exe');

  const secondHop = byAddress(session.alpcMessages, 'fffff88021b0e7d0');
  expect(secondHop.queuePortOwnerImage).toBe('lsm.exe');
  expect(secondHop.serverThread).toBe(address('fffffa804d6c3060'));
  expect(session.threads.some((thread) => thread.key === address('fffffa804d6c3060') && thread.frames.length > 0)).toBe(false);

  const lsm = threadAt(session, 'fffffa804d14a5a0');
  expect(lsm.image).toBe('lsm.exe');
  expect(lsm.waitTicks).toBe(1181204);
  expect(lsm.waitMs).toBe(((5 * 60 + 7) * 60 + 6) * 1000 + 900);
  expect(byAddress(session.alpcMessages, 'fffff8801f96b7d0').serverThread).toBe(address('fffffa804e2d1060'));

  const svchost = threadAt(session, 'fffffa804e2d1060');
  expect(svchost.irps).toContain(address('fffffa804e7c3010'));
  expect(callSites(svchost)).toContain('mup!MupLocateUncProviderForPath+0x40a');
  const mupIrp = byAddress(session.irps, 'fffffa804e7c3010');
  expect(mupIrp.currentDriver).toBe('\\FileSystem\\Mup');
  expect(mupIrp.stackCount).toBe(4);
  expect(mupIrp.currentLocation).toBe(3);
  expect(byAddress(session.fileObjects, 'fffffa804e7a6b50').fileName).toBe('\\DC02.fabrikam.local\\PIPE\\lsarpc');
  const queryPath = byAddress(session.irps, 'fffffa806c0e2c40');
  expect(queryPath.pending).toBe(true);
  expect(queryPath.currentDriver).toBe('\\FileSystem\\mrxsmb');
  expect(queryPath.currentMajor).toBe(0xe);
  expect(queryPath.thread).toBe(svchost.address);

  const redirector = threadAt(session, 'fffffa804d2a0bb0');
  expect(redirector.irps).toHaveLength(3);
  expect(callSites(redirector)).toContain('rdbss!RxWaitForStableCondition+0x11c');
  expect(session.irps.filter((irp) => irp.pending && irp.currentDriver === '\\Driver\\Smb')).toHaveLength(3);

  const delayed = session.workQueues.find((queue) => queue.key === 'Delayed')!;
  expect(delayed.address).toBe(address('fffff80001bf7a98'));
  expect(delayed.hasPendingItems).toBe(true);
  expect(delayed.pendingItems).toBe(0x3a2c);
  expect(delayed.dynamicThreads).toBe(16);
  expect(session.workQueues.find((queue) => queue.key === 'Critical')!.hasPendingItems).toBe(false);
  const routines = session.workItems.filter((item) => item.queue === 'Delayed').map((item) => item.routine);
  expect(routines.filter((routine) => routine === 'smb!SmbDelayedStartTcpSession')).toHaveLength(4);
  expect(routines.filter((routine) => routine === 'mpio!MPIOPathVerify')).toHaveLength(7);

  const worker = threadAt(session, 'fffffa8039d0a660');
  expect(worker.image).toBe('System');
  expect(worker.startAddress).toMatch(/^nt!ExpWorkerThread/);
  expect(worker.waitTicks).toBe(2196447);
  expect(worker.frames.map((frame) => frame.module)).toEqual(
    expect.arrayContaining(['FabrikamDSM', 'mpio', 'nt']),
  );
  expect(worker.frames.find((frame) => frame.module === 'FabrikamDSM')).toMatchObject({ function: null, offset: '0x8d3c' });
}

describe('the bundled example transcript', () => {
  const bytes = readFileSync(EXAMPLE_FILE);
  const model = parseTranscript(bytes);

  it('yields the chain from winlogon to the FabrikamDSM worker thread', () => {
    expectExampleFacts(model);
    expect(model.warnings).toEqual([]);
  });

  it('keeps the evidence lines of every fact', () => {
    const session = onlySession(model);
    const lines = bytes.toString('utf8').split('\n');
    const worker = threadAt(session, 'fffffa8039d0a660');
    const tickLine = fieldLines(worker.evidence, 'waitTicks')[0]!;
    expect(lines[tickLine - 1]).toContain('Ticks: 2196447');
    const delayed = session.workQueues.find((queue) => queue.key === 'Delayed')!;
    expect(lines[fieldLines(delayed.evidence, 'pendingItems')[0]! - 1]).toMatch(/00003a2c/i);
    const message = byAddress(session.alpcMessages, 'fffff88021a437d0');
    expect(lines[fieldLines(message.evidence, 'serverThread')[0]! - 1]).toMatch(/ServerThread\s+:\s+fffffa806b9f4b60/);
  });

  it.each(derivedCopies(bytes.toString('utf8')))('reads the same facts from a copy: $name', ({ bytes: copy }) => {
    const derived = parseTranscript(copy);
    expectExampleFacts(derived);
    expect(factsOf(derived)).toEqual(factsOf(model));
  });
});
