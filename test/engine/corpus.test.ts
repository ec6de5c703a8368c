import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fieldLines, parseTranscript, type SessionModel, type StackFrame, type TranscriptModel } from '../../services/engine/index.ts';
import { derivedCopies } from '../support/derived-copies.ts';
import { address, byAddress, callSites, factsOf, onlySession, threadAt, userThread } from '../support/model-queries.ts';
import { corpusFile, corpusFiles, sharedAvailable } from '../support/shared-corpus.ts';

/**
 * Each expectation restates a fact from its author's conclusion in ../shared/corpus/MANIFEST.md:
 * the parser must read the objects that conclusion rests on.
 */
const parse = (prefix: string): SessionModel => onlySession(parseTranscript(readFileSync(corpusFile(prefix))));

function waitsInEnterCriticalSection(frames: StackFrame[], lock: string): boolean {
  return frames.some((frame) => frame.function === 'RtlEnterCriticalSection' && frame.args[0] === address(lock));
}

describe.skipIf(!sharedAvailable)('the real-transcript corpus (../shared/corpus)', () => {
  describe.each(sharedAvailable ? corpusFiles() : [])('%s', (file) => {
    const bytes = readFileSync(file);
    const model: TranscriptModel = parseTranscript(bytes);

    it('parses without error, and reports what it could not read', () => {
      expect(model.sessions.length).toBeGreaterThan(0);
      expect(model.coverage.blocks).toBeGreaterThan(0);
      const entities = model.sessions.reduce((sum, session) => sum + session.threads.length + session.locks.length + session.irps.length + session.alpcMessages.length + session.bugchecks.length + session.workQueues.length, 0);
      expect(entities, `${basename(file)} yields no entity`).toBeGreaterThan(0);
      expect(model.warnings.filter((warning) => / failed \(/.test(warning.message))).toEqual([]);
    });

    it.each(derivedCopies(bytes.toString('utf8')))('reads the same facts from a copy: $name', ({ bytes: copy }) => {
      expect(factsOf(parseTranscript(copy))).toEqual(factsOf(model));
    });
  });

  it('001: thread 4 owns the isatq context-list lock and waits for 24e750, which thread 6 owns while waiting for the first', () => {
    const session = parse('001-');
    const contextList = byAddress(session.locks, '68629100');
    expect(contextList.symbol).toBe('isatq!AtqActiveContextList+a8');
    expect(contextList.owners.map((owner) => owner.thread)).toEqual([userThread(session, 0xa3).key]);
    expect(byAddress(session.locks, '0024e750').owners.map((owner) => owner.thread)).toEqual([userThread(session, 0xa9).key]);
    const thread4 = userThread(session, 0xa3);
    const thread6 = userThread(session, 0xa9);
    expect(thread4.debuggerId).toBe(4);
    expect(thread6.debuggerId).toBe(6);
    expect(waitsInEnterCriticalSection(thread4.frames, '0024e750')).toBe(true);
    expect(waitsInEnterCriticalSection(thread6.frames, '68629100')).toBe(true);
  });

  it('003: ERESOURCE fc664ee0 is held exclusively by ffaf5410, which waits in nwrdr!_ExchangeWithWait with IRP fef29208', () => {
    const session = parse('003-');
    const resource = byAddress(session.locks, 'fc664ee0');
    expect(resource.lockKind).toBe('eresource');
    expect(resource.symbol).toBe('nwrdr!_NwScavengerSpinLock');
    expect(resource.exclusive).toBe(true);
    expect(resource.owners.map((owner) => owner.thread)).toEqual([address('ffaf5410')]);
    expect(resource.exclusiveWaiters).toBe(1);
    const owner = threadAt(session, 'ffaf5410');
    expect(owner.waitReason).toBe('Executive');
    expect(owner.irps).toEqual([address('fef29208')]);
    expect(callSites(owner)).toContain('nwrdr!_ExchangeWithWait+0x38');
    expect(owner.waitMs).toBe(2781250 * 1000);
  });

  it('008: the two TestDriver threads each own one ERESOURCE and wait for the other', () => {
    const session = parse('008-');
    const moveThread = threadAt(session, 'ffffdf821f4b8040');
    const deleteThread = threadAt(session, 'ffffdf8217a30040');
    expect(moveThread.waitReason).toBe('WrResource');
    expect(callSites(moveThread)).toContain('TestDriver!FileMoveThread+0x34');
    expect(callSites(deleteThread)).toContain('TestDriver!FileDeletionThread+0x38');
    const ownedByDelete = byAddress(session.locks, 'ffffdf821ce68448');
    const ownedByMove = byAddress(session.locks, 'ffffdf821ce683e0');
    expect(ownedByDelete.owners.map((owner) => [owner.thread, owner.exclusive])).toEqual([[deleteThread.key, true]]);
    expect(ownedByMove.owners.map((owner) => [owner.thread, owner.exclusive])).toEqual([[moveThread.key, true]]);
    expect(ownedByDelete.waiters).toEqual([moveThread.key]);
    expect(ownedByMove.waiters).toEqual([deleteThread.key]);
  });

  it('009: bugcheck 0x9F/3 with the SET_POWER IRP pending in \\Driver\\HidUsb', () => {
    const session = parse('009-');
    const [bugcheck] = session.bugchecks;
    expect(bugcheck?.code).toBe(0x9f);
    expect(bugcheck?.name).toBe('DRIVER_POWER_STATE_FAILURE');
    expect(bugcheck?.args[0]).toBe(address('3'));
    expect(bugcheck?.args[3]).toBe(address('fffffa800ab61bd0'));
    const irp = byAddress(session.irps, 'fffffa800ab61bd0');
    expect(irp.pending).toBe(true);
    expect(irp.currentDriver).toBe('\\Driver\\HidUsb');
    expect(irp.currentMajor).toBe(0x16);
    expect(irp.currentMinor).toBe(2);
    expect(irp.stack.find((location) => location.current)?.majorName).toBe('IRP_MJ_POWER');
  });

  it('010: DPC watchdog violation 0x133 with BthA2DP.sys named, 0x501 ticks against an allotment of 0x500', () => {
    const [bugcheck] = parse('010-').bugchecks;
    expect(bugcheck?.code).toBe(0x133);
    expect(bugcheck?.fields['IMAGE_NAME']).toBe('BthA2DP.sys');
    expect(bugcheck?.args[1]).toBe(address('501'));
    expect(bugcheck?.args[2]).toBe(address('500'));
  });

  it('012: the PnP-lock holder 85f6da70 waits in usbhub with IRP 8a6b15c0 pending in \\Driver\\usbehci', () => {
    const session = parse('012-');
    const [bugcheck] = session.bugchecks;
    expect(bugcheck?.code).toBe(0x9f);
    expect(bugcheck?.args[2]).toBe(address('85f6da70'));
    expect(bugcheck?.fields['IMAGE_NAME']).toBe('usbehci.sys');
    const holder = threadAt(session, 'ffffffff85f6da70');
    expect(holder.key).toBe(bugcheck?.args[2]);
    expect(holder.irps).toEqual([address('8a6b15c0')]);
    expect(callSites(holder)).toContain('usbhub!UsbhSyncSendCommand+0x1ac');
    const irp = byAddress(session.irps, '8a6b15c0');
    expect(irp.pending).toBe(true);
    expect(irp.currentDriver).toBe('\\Driver\\usbehci');
  });

  it('015: LPC request 9c14d020 from 834553c0 has no server thread, queued at explorer.exe', () => {
    const session = parse('015-');
    const message = byAddress(session.alpcMessages, '9c14d020');
    expect(message.waitingThread).toBe(address('834553c0'));
    expect(message.serverThread).toBeNull();
    expect(fieldLines(message.evidence, 'serverThread')).toHaveLength(1);
    expect(message.queueType).toBe('ALPC_MSGQUEUE_MAIN');
    expect(message.queuePort).toBe(address('84646730'));
    expect(message.queuePortOwnerImage).toBe('explorer.exe');
    expect(byAddress(session.processes, '846209c0').image).toBe('explorer.exe');
  });

  it('016: thread 1 holds the loader lock and waits for 00299ebc; thread 3 holds 00299ebc and waits for the loader lock', () => {
    const session = parse('016-');
    const thread1 = userThread(session, 0x548);
    const thread3 = userThread(session, 0x5f4);
    expect(thread1.debuggerId).toBe(1);
    expect(thread3.debuggerId).toBe(3);
    const loaderLock = byAddress(session.locks, '77a820c0');
    expect(loaderLock.lockKind).toBe('loader-lock');
    expect(loaderLock.owners.map((owner) => owner.thread)).toEqual([thread1.key]);
    const shellLock = byAddress(session.locks, '00299ebc');
    expect(shellLock.owners.map((owner) => owner.thread)).toEqual([thread3.key]);
    expect(waitsInEnterCriticalSection(thread1.frames, '00299ebc')).toBe(true);
    expect(waitsInEnterCriticalSection(thread3.frames, '77a820c0')).toBe(true);
    // `!critsec 00299ebc` printed garbage after saying it is no critical section: not read.
    expect(shellLock.recursionCount).toBe(1);
  });

  it('022: !stacks rows give each thread, its process and where it blocks', () => {
    const session = parse('022-');
    const zeroPage = threadAt(session, '827d0030');
    expect(zeroPage.image).toBe('System');
    expect(zeroPage.state).toBe('blocked');
    expect(callSites(zeroPage)).toContain('ntoskrnl!MmZeroPageThread+0x66');
    expect(threadAt(session, '82723b70').blockerFrame?.callSite).toBe('ntoskrnl!_KiSystemService+0xc4');
    expect(threadAt(session, '827cf030').stackNotResident).toBe(true);
  });

  it('025: thread 42 (OSID 9628) holds the monitor 114 threads wait for, while blocking on an async call', () => {
    const session = parse('025-');
    const monitor = session.locks.find((lock) => lock.lockKind === 'monitor')!;
    const owner = userThread(session, 0x9628);
    expect(owner.debuggerId).toBe(42);
    expect(monitor.owners.map((entry) => entry.thread)).toEqual([owner.key]);
    expect(monitor.exclusiveWaiters).toBe(114);
    expect(owner.frames.map((frame) => frame.function)).toEqual(
      expect.arrayContaining(['Contoso.AzureKeyVaultClient.GetSecretByName(System.String)']),
    );
    for (const tid of [0xb9ac, 0x17e4, 0x4ce4]) {
      expect(userThread(session, tid).frames.some((frame) => frame.function?.startsWith('System.Threading.Monitor.ReliableEnter'))).toBe(true);
    }
  });

  it('028: a resource shared by four threads, and tagged owner pointers resolved to the actual thread', () => {
    const session = parse('028-');
    const shared = byAddress(session.locks, '80e97620');
    expect(shared.exclusive).toBe(false);
    expect(shared.owners).toHaveLength(4);
    expect(byAddress(session.locks, '80d8b0b0').owners.map((owner) => owner.thread)).toEqual([address('80ed0020')]);
    expect(threadAt(session, '80ed0020').waitReason).toBe('WrQueue');
  });

  it('029: legacy !irpfind rows give each IRP its thread and driver', () => {
    const session = parse('029-');
    expect(session.irps).toHaveLength(6);
    expect(byAddress(session.irps, '8097dec8')).toMatchObject({ thread: address('8094dda0'), currentDriver: '\\FileSystem\\Ntfs' });
    expect(threadAt(session, '8094dda0').irps).toHaveLength(3);
  });

  it('032 (no hang): the only thread of interest sleeps 0.875 s in DelayExecution', () => {
    const session = parse('032-');
    const sleeper = threadAt(session, 'ffff9b0e70a9f2c0');
    expect(sleeper.waitReason).toBe('DelayExecution');
    expect(sleeper.waitMs).toBe(875);
    expect(sleeper.image).toBe('Demo.exe');
    expect(session.locks).toEqual([]);
    expect(session.alpcMessages).toEqual([]);
  });

  it('034 (no hang): three worker queues, every worker thread waiting, nothing pending', () => {
    const session = parse('034-');
    const threadsPerQueue = Object.fromEntries(session.workQueues.map((queue) => [queue.key, queue.threads.length]));
    expect(threadsPerQueue).toEqual({ Critical: 5, Delayed: 7, HyperCritical: 1 });
    expect(session.workQueues.every((queue) => queue.maximumCount === 2 && queue.hasPendingItems !== true)).toBe(true);
    expect(session.threads.every((thread) => thread.state === 'waiting')).toBe(true);
  });

  it('035: thread ffffc48da6de0700 is suspended while waiting for the reply to a message still in audiodg.exe\'s main queue', () => {
    const session = parse('035-');
    const thread = threadAt(session, 'ffffc48da6de0700');
    expect(thread.waitReason).toBe('Suspended');
    expect(thread.suspendCount).toBe(1);
    expect(thread.alpcWait).toEqual({
      message: address('ffffa480730b6890'),
      port: address('ffffc48da9178090'),
      ownerProcess: address('ffffc48d958a1080'),
    });
    const message = byAddress(session.alpcMessages, 'ffffa480730b6890');
    expect(message.queueType).toBe('ALPC_MSGQUEUE_MAIN');
    expect(message.queuePortOwnerImage).toBe('audiodg.exe');
    const smApiPort = byAddress(session.alpcPorts, 'ffffc48d8895de20');
    expect(smApiPort.name).toBe('SmApiPort');
    expect(smApiPort.ownerImage).toBe('smss.exe');
    expect(smApiPort.emptyQueues).toContain('main');
    expect(smApiPort.connections).toHaveLength(3);
  });
});
