/**
 * A `!process 0 7`-shaped transcript with `threadCount` threads: most idle (WrQueue, UserRequest), every tenth
 * waiting for an ALPC reply served by a thread of another process, every hundredth blocked in a third-party
 * driver. Deterministic; no I/O. Used to time the analysis of a hung server with a very large thread count.
 */
export function generateThreadDump(threadCount: number): string {
  const hex = (value: number, width = 8) => value.toString(16).padStart(width, '0');
  const address = (kind: number, index: number) => `fffffa80\`${hex(kind * 0x1000000 + index * 0x400)}`;
  const out: string[] = ['1: kd> !process 0 7'];
  const perProcess = 50;
  for (let start = 0; start < threadCount; start += perProcess) {
    const pid = 0x100 + start / perProcess;
    out.push(
      `PROCESS ${address(0x30, start / perProcess).replace('`', '')}`,
      `    SessionId: 0  Cid: ${hex(pid, 4)}    Peb: 7fffffdf000  ParentCid: 0240`,
      `    Image: svc${pid}.exe`,
      '',
    );
    for (let index = start; index < Math.min(threadCount, start + perProcess); index++) {
      const self = address(0x40, index).replace('`', '');
      const waitsOnAlpc = index % 10 === 1;
      const inDriver = index % 100 === 7;
      const reason = waitsOnAlpc ? 'WrLpcReply' : inDriver ? 'Executive' : index % 2 === 0 ? 'WrQueue' : 'UserRequest';
      out.push(`        THREAD ${self}  Cid ${hex(pid, 4)}.${hex(index, 4)}  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (${reason}) KernelMode Non-Alertable`);
      if (waitsOnAlpc) {
        const message = `fffff880${hex(0x1f000000 + index * 0x40)}`;
        out.push(`            Waiting for reply to ALPC Message ${message} : queued at port fffffa80${hex(0x4e000000 + index)} : owned by process ${address(0x30, (start / perProcess + 1) % Math.ceil(threadCount / perProcess)).replace('`', '')}`);
      }
      out.push(`        Wait Start TickCount      1000000        Ticks: ${inDriver ? 460800 : 64} (0:${inDriver ? '02:00:00.000' : '00:00:01.000'})`);
      out.push('        Child-SP          RetAddr           Call Site');
      out.push('        fffff880`0a1b2c30 fffff800`01cdb052 nt!KiSwapContext+0x7a');
      out.push('        fffff880`0a1b2d70 fffff800`01cdd29f nt!KiCommitThreadWait+0x1d2');
      out.push('        fffff880`0a1b2e00 fffff800`01c9c4ab nt!KeWaitForSingleObject+0x19f');
      if (inDriver) out.push('        fffff880`0a1b2ea0 fffff880`0145a2c8 ContosoFlt+0x1a2b');
      out.push('        fffff880`0a1b2f00 fffff800`01cd6ed3 nt!NtWaitForSingleObject+0x98', '');
    }
  }
  return out.join('\n');
}
