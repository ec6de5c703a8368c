import { describe, expect, it } from 'vitest';
import { canonicalAddress, parseTranscript } from '../../services/engine/index.ts';
import { describeCommand } from '../../services/engine/parse/command.ts';
import { parseCallSiteOnlyFrameLine, parseFrameLine } from '../../services/engine/parse/frames.ts';
import { cleanLine } from '../../services/engine/segment/clean-line.ts';
import { parsePrompt } from '../../services/engine/segment/prompt.ts';
import { threadAt, onlySession, userThread } from '../support/model-queries.ts';

describe('canonical addresses', () => {
  it.each([
    ['fffffa80`73d3d770', 'fffffa8073d3d770'],
    ['0xfffffa80`514558b0', 'fffffa80514558b0'],
    ['FFFFFA8073D3D770', 'fffffa8073d3d770'],
    ['85205ec8', 'ffffffff85205ec8'],
    ['0x85205ec8', 'ffffffff85205ec8'],
    ['77a820c0', '0000000077a820c0'],
    ['24e750', '000000000024e750'],
  ])('%s → %s', (token, expected) => {
    expect(canonicalAddress(token)).toBe(expected);
  });

  it.each(['', 'xyz', '0x', '1234567890abcdef0', 'fffffa80`73d3d77g'])('%j is not an address', (token) => {
    expect(canonicalAddress(token)).toBeNull();
  });
});

describe('prompts', () => {
  it.each([
    ['1: kd> !thread fffffa80`73d3d770', 'kernel', '!thread fffffa80`73d3d770'],
    ['kd>!analyze -v', 'kernel', '!analyze -v'],
    ['lkd> !exqueue', 'kernel', '!exqueue'],
    ['0:000> kvn', 'user', 'kvn'],
    ['0:023:x86> ~*k', 'user', '~*k'],
    ['0:006>  !locks ', 'user', '!locks'],
    ['12: kd>', 'kernel', ''],
  ])('%j', (line, mode, command) => {
    const prompt = parsePrompt(cleanLine(line).text, false);
    expect(prompt?.mode).toBe(mode);
    expect(prompt?.command).toBe(command);
  });

  it('reads prompts behind blockquotes and indentation, and quoted commands without a prompt', () => {
    const quoted = cleanLine('> > \t1: kd> !irp fffffa8073bc65e0');
    expect(parsePrompt(quoted.text, quoted.quoted)?.command).toBe('!irp fffffa8073bc65e0');
    const bare = cleanLine('>!analyze -v');
    expect(parsePrompt(bare.text, bare.quoted)?.command).toBe('!analyze -v');
  });

  it('does not take output or prose for a prompt', () => {
    for (const line of ['>[  e, 0]   0 e1 fffffa804e842610', 'kd is the kernel debugger', 'Irp is active with 2 stacks', '!thread in prose']) {
      expect(parsePrompt(cleanLine(line).text, false)).toBeNull();
    }
  });
});

describe('annotations and snips', () => {
  it.each([
    ['ServerThread          : fffffa804f96d5a0                  <----------- LPC Message Server Thread', 'ServerThread          : fffffa804f96d5a0'],
    ['Resource @ fc664ee0                  // Here is the resource lock address', 'Resource @ fc664ee0'],
    ['ServerThread          : 00000000 <———————–', 'ServerThread          : 00000000'],
    ['fffff800`01ff0938  00000010 <<< sixteen dynamic threads', 'fffff800`01ff0938  00000010'],
    ['\t\t8dd9f6c0\u00a0 NotificationEvent', '8dd9f6c0  NotificationEvent'],
    ['Threads: 80ed0023-01<*> *** Actual Thread 80ed0020', 'Threads: 80ed0023-01<*> *** Actual Thread 80ed0020'],
    ['see http://example.com/x for more', 'see http://example.com/x for more'],
  ])('%j', (raw, cleaned) => {
    expect(cleanLine(raw).text).toBe(cleaned);
  });

  it.each(['<snip>', '<Snip>', '...', '.....', '…', '【省略一些行】', '# Abbreviated'])('%j is a snip marker, not data', (raw) => {
    expect(cleanLine(raw)).toMatchObject({ text: '', snip: true });
  });
});

describe('stack frames', () => {
  it('reads x64 Child-SP tables', () => {
    expect(parseFrameLine('fffffa60`0232ba80 fffffa60`00c97a06 MyBadDSM+0xb698', 7)).toMatchObject({
      module: 'MyBadDSM',
      function: null,
      offset: '0xb698',
      line: 7,
    });
    expect(parseFrameLine('00000000`01f8f098 00000000`00000000 0x76f9756a', 1)).toMatchObject({ module: null, address: '0000000076f9756a' });
  });

  it('reads x86 kb frames with their arguments', () => {
    const frame = parseFrameLine('014cfed8 77f67456 0024e750 6833adb8 0024e750 ntdll!RtlpWaitForCriticalSection+0xaa', 1);
    expect(frame).toMatchObject({ module: 'ntdll', function: 'RtlpWaitForCriticalSection', offset: '0xaa' });
    expect(frame?.args).toEqual(['000000000024e750', '000000006833adb8', '000000000024e750']);
  });

  it('reads kvn frames with numbers, colons, FPO and module base suffixes', () => {
    const frame = parseFrameLine('02 020ef038 763cc44d     00299ebc 00299e98 020ef178 ntdll_77980000!RtlEnterCriticalSection+0x150 (FPO: [Non-Fpo])', 1);
    expect(frame).toMatchObject({ module: 'ntdll', function: 'RtlEnterCriticalSection', callSite: 'ntdll_77980000!RtlEnterCriticalSection+0x150' });
    expect(frame?.args[0]).toBe('0000000000299ebc');
    const x64 = parseFrameLine('00 00000000`0008ec08 00000000`745c2bf1     : 00000000`779901e4 00000000`74630023 : wow64cpu!CpupSyscallStub+0x9', 1);
    expect(x64).toMatchObject({ module: 'wow64cpu', function: 'CpupSyscallStub' });
  });

  it('keeps symbols with spaces and templates, and drops source and MEX columns', () => {
    expect(parseFrameLine('00000000`0008f760 00000000`7780371e ntdll! ?? ::FNODOBFM::`string\'+0x22790', 1)?.function).toBe("?? ::FNODOBFM::`string'");
    expect(parseFrameLine('5 ffffdc8b3e30f1d0 fffff8027d7013c4 nt!ExAcquireResourceExclusiveLite+0x1fe Thread: ffffdf8217a30040 (System) exclusive owner', 1)?.callSite).toBe(
      'nt!ExAcquireResourceExclusiveLite+0x1fe',
    );
    expect(parseFrameLine('00000074`b56ff9d0 00007ff7`000b175f     Demo!foo+0x36 [C:\\Users\\main.cpp @ 8]', 1)?.callSite).toBe('Demo!foo+0x36');
    expect(parseFrameLine('(Inline Function) --------`--------     Demo!invoke_main+0x22 (Inline Function @ 00007ff7`000b1ab8)', 1)).toMatchObject({ inline: true, function: 'invoke_main' });
  });

  it('never takes prose or memory dumps for frames', () => {
    for (const line of ['1 total locks, 1 locks currently held', 'fffffa80`510fd0d0  fffffa80`50d2e300 fffffa60`0f620110', 'Thread 4 owns the lock', '']) {
      expect(parseFrameLine(line, 1)).toBeNull();
    }
  });

  it('reads kc frames', () => {
    expect(parseCallSiteOnlyFrameLine('01 KERNELBASE!WaitForSingleObjectEx+0x8e', 1)).toMatchObject({ module: 'KERNELBASE', function: 'WaitForSingleObjectEx' });
    expect(parseCallSiteOnlyFrameLine('fffffa60`0232ba80 fffffa60`00c97a06 MyBadDSM+0xb698', 1)).toBeNull();
  });
});

describe('commands', () => {
  it.each([
    ['~4 kb', 'k', 4],
    ['~*kvn', 'k', '*'],
    ['~143e !CLRStack', '!clrstack', 143],
    ['~3s', '~s', 3],
    ['!analyze –v', '!analyze', null],
    ['dt nt!_KQUEUE fffff800`01ff08a0+58', 'dt', null],
    ['!mex.eresource ffffdf821ce68448', '!mex.eresource', null],
  ])('%j', (text, name, selector) => {
    const command = describeCommand(text);
    expect(command.name).toBe(name);
    expect(command.threadSelector).toBe(selector);
  });
});

describe('merging, sessions and layouts', () => {
  it('merges a thread printed by !process 0 7 and again by !thread, with the lines of both', () => {
    const text = [
      '0: kd> !process 0 7 svchost.exe',
      'PROCESS fffffa804ea4fc10',
      '    SessionId: 0  Cid: 0574    Peb: 7fffffdf000  ParentCid: 0240',
      '    Image: svchost.exe',
      '',
      '        THREAD fffffa8051435940  Cid 0574.1ea0  Teb: 000007fffffd3000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Alertable',
      '            fffffa601086d3e8  SynchronizationEvent',
      '        Wait Start TickCount      3187932        Ticks: 1006437 (0:04:21:40.517)',
      '        THREAD fffffa8051436060  Cid 0574.1ea4  Teb: 000007fffffd5000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
      '',
      '0: kd> !thread fffffa80`51435940',
      'THREAD fffffa8051435940  Cid 0574.1ea0  Teb: 000007fffffd3000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Alertable',
      'Owning Process            fffffa804ea4fc10       Image:         svchost.exe',
      'Child-SP          RetAddr           Call Site',
      'fffffa60`1086d080 fffff800`01ebb6fa nt!KiSwapContext+0x7f',
    ].join('\n');
    const session = onlySession(parseTranscript(text));
    expect(session.threads).toHaveLength(2);
    const thread = threadAt(session, 'fffffa8051435940');
    expect(thread.evidence.lines).toEqual(expect.arrayContaining([6, 8, 12, 13, 15]));
    expect(thread.image).toBe('svchost.exe');
    expect(thread.process).toBe('fffffa804ea4fc10');
    expect(thread.waitTicks).toBe(1006437);
    expect(thread.frames).toHaveLength(1);
    expect(session.processes[0]?.threads).toEqual(['fffffa8051435940', 'fffffa8051436060']);
    expect(threadAt(session, 'fffffa8051436060').image).toBe('svchost.exe');
  });

  it('merges an x86 thread named by a 64-bit bugcheck parameter', () => {
    const text = ['kd> !analyze -v', 'BUGCHECK_P3: ffffffff85f6da70', 'kd> !thread 85f6da70', 'THREAD 85f6da70  Cid 0004.0048  Teb: 00000000 Win32Thread: 00000000 WAIT: (Executive) KernelMode Non-Alertable'].join('\n');
    const session = onlySession(parseTranscript(text));
    expect(session.bugchecks[0]?.args[2]).toBe(session.threads[0]?.key);
  });

  it('keeps a kernel session and a user-mode session of one upload apart', () => {
    const text = [
      '1: kd> !thread fffffa8073d3d770',
      'THREAD fffffa8073d3d770  Cid 0384.1e2c  Teb: 000007fffffd7000 Win32Thread: 0000000000000000 WAIT: (WrLpcReply) UserMode Non-Alertable',
      '0:000> ~',
      '.  0  Id: 1364.1330 Suspend: 1 Teb: 7ffdf000 Unfrozen',
      '0:000> kc',
      ' # Call Site',
      '00 ntdll!NtWaitForSingleObject',
      '01 KERNELBASE!WaitForSingleObjectEx+0x8e',
    ].join('\n');
    const model = parseTranscript(text);
    expect(model.sessions.map((session) => session.mode)).toEqual(['kernel', 'user']);
    expect(model.sessions[0]?.threads.map((thread) => thread.key)).toEqual(['fffffa8073d3d770']);
    const user = model.sessions[1]!;
    expect(userThread(user, 0x1330).frames.map((frame) => frame.callSite)).toEqual(['ntdll!NtWaitForSingleObject', 'KERNELBASE!WaitForSingleObjectEx+0x8e']);
  });

  it('starts a new session at a second dump in the same kind of debugger', () => {
    const dump = (time: string, thread: string) => [
      'Loading Dump File [C:\\dumps\\memory.dmp]',
      `Debug session time: ${time}`,
      `0: kd> !thread ${thread}`,
      `THREAD ${thread}  Cid 0004.0048  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable`,
    ];
    const model = parseTranscript([...dump('Sun Oct 22 13:57:06.294 2023', 'fffffa8030a39720'), ...dump('Mon Oct 23 09:00:00.000 2023', 'fffffa8030a39720')].join('\n'));
    expect(model.sessions).toHaveLength(2);
    expect(model.sessions.map((session) => session.threads.length)).toEqual([1, 1]);
  });

  it('reads the per-node !exqueue layout of Windows 8 and later', () => {
    const text = [
      'kd> !exqueue 6',
      '**** Critical WorkQueue ( Threads: 6/512, Concurrency: 0/1 )',
      'THREAD 83a379e8 Cid 0004.0018 Teb: 00000000 Win32Thread: 00000000 WAIT',
      '**** NUMA Node 1 Delayed WorkQueue ( Threads: 7/512, Concurrency: 0/1 )',
      'THREAD 83a25d48 Cid 0004.002c Teb: 00000000 Win32Thread: 00000000 WAIT',
      'PENDING: WorkItem (85a0e008) Routine mpio!MPIOPathVerify (8e45cb58) Parameter (85a0e000)',
    ].join('\n');
    const session = onlySession(parseTranscript(text));
    expect(session.workQueues.map((queue) => [queue.key, queue.maximumCount, queue.threads.length, queue.hasPendingItems])).toEqual([
      ['Critical', 512, 1, null],
      ['Node1 Delayed', 512, 1, true],
    ]);
    expect(session.workItems).toMatchObject([{ address: 'ffffffff85a0e008', routine: 'mpio!MPIOPathVerify', queue: 'Node1 Delayed' }]);
  });

  it('says so when a text holds no debugger output at all', () => {
    const model = parseTranscript('Dear support, the server is slow again.\nRegards');
    expect(model.warnings.map((warning) => warning.message)).toEqual([expect.stringContaining('no debugger prompt')]);
    expect(parseTranscript('1: kd> !thread\n').warnings).toEqual([]);
  });

  it('caps very long lines, with a warning that says where', () => {
    const model = parseTranscript(`kd> !thread\n${'a'.repeat(10_000)}\n`);
    expect(model.warnings).toEqual([{ line: 2, message: 'line of more than 4096 characters read only up to 4096' }]);
    const bytes = parseTranscript(Buffer.from(`kd> !thread\n${'a'.repeat(100_000)}\nkd> !irp\n`));
    expect(bytes.warnings).toEqual([{ line: 2, message: 'line of more than 4096 characters read only up to 4096' }]);
    expect(bytes.coverage.blocks).toBe(2);
  });
});
