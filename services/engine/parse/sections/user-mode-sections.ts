import { canonicalAddress } from '../../address.ts';
import { addOwner } from './lock-sections.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';

const USER_THREAD_HEADER = /^([.#])?\s*(\d{1,6})\s+Id:\s*([0-9a-f]{1,8})\.([0-9a-f]{1,8})\s+Suspend:\s*(-?\d+)/i;
/** WinDbg SOS adds the debugger thread number (`(42)`); dotnet-dump's `clrstack -all` prints only the OS id. */
const CLR_STACK_OWNER = /^OS Thread Id:\s*0x([0-9a-f]{1,8})(?:\s*\((\d+)\))?/i;
const CLR_THREAD_ROW = /^(\d{1,6}|XXXX)\s+(\d{1,6})\s+([0-9a-f]{1,8})\s+([0-9a-f]{8,16})\s+([0-9a-f]{1,8})\s+(Preemptive|Cooperative)\b/i;
const SYNCBLK_ROW = /^(\d{1,8})\s+([0-9a-f]{8,16})\s+(\d+)\s+(\d+)\s+([0-9a-f]{8,16})\s+([0-9a-f]{1,8})\s+(\d{1,6}|XXX)\s+([0-9a-f]{8,16})\s+(\S.*)$/i;

/** `~` thread lists and the per-thread headers of `~*k`: debugger number, process and thread ids. */
export const userThreadHeaderReader: SectionReader = {
  name: 'user-thread',
  keys: ['Id:'],
  start(line, context) {
    const header = USER_THREAD_HEADER.exec(line.text);
    if (!header) return null;
    const debuggerId = Number(header[2]);
    const thread = context.session.userThread(Number.parseInt(header[4]!, 16), debuggerId);
    addEvidenceLine(thread.evidence, line.number);
    // The `~` list is authoritative; a `~N k` header only fills gaps (pasted docs show stale ids there).
    const authoritative = context.command?.name === '~';
    if (authoritative || thread.pid === null) setField(thread, 'pid', Number.parseInt(header[3]!, 16), line.number);
    if (authoritative || thread.suspendCount === null) setField(thread, 'suspendCount', Number(header[5]), line.number);
    if (header[1] === '.') context.session.currentThreadKey = thread.key;
    context.focusThread = thread;
    context.understood();
    return { accept: () => false };
  },
};

/** SOS `!CLRStack` headers (`OS Thread Id: 0x9628 (42)`): the managed stack that follows is that thread's. */
export const clrStackOwnerReader: SectionReader = {
  name: 'clr-stack-owner',
  keys: ['OS'],
  start(line, context) {
    const owner = CLR_STACK_OWNER.exec(line.text);
    if (!owner) return null;
    const thread = context.session.userThread(Number.parseInt(owner[1]!, 16), owner[2] === undefined ? null : Number(owner[2]));
    addEvidenceLine(thread.evidence, line.number);
    context.focusThread = thread;
    context.understood();
    return { accept: () => false };
  },
};

/** SOS `!threads`: debugger number, managed id, OS thread id of every managed thread. */
export const clrThreadsReader: SectionReader = {
  name: 'clr-threads',
  keys: ['ID', 'DBG'],
  start(line, context) {
    if (!/^(?:DBG\s+)?ID\s+OSID\s+ThreadOBJ/i.test(line.text)) return null;
    context.understood();
    return {
      accept({ text, number }: Line): boolean {
        const row = CLR_THREAD_ROW.exec(text);
        if (row && row[1] !== 'XXXX') {
          const thread = context.session.userThread(Number.parseInt(row[3]!, 16), Number(row[1]));
          addEvidenceLine(thread.evidence, number);
        }
        return true;
      },
    };
  },
};

/** SOS `!syncblk`: monitors with their owning thread and waiters (MonitorHeld = 1 per owner + 2 per waiter). */
export const syncBlockReader: SectionReader = {
  name: 'syncblk',
  keys: ['Index'],
  start(line, context) {
    if (!/^Index\s+SyncBlock\s+MonitorHeld/i.test(line.text)) return null;
    context.understood();
    return new SyncBlockSection(context);
  },
};

class SyncBlockSection implements Section {
  constructor(private readonly context: ParseContext) {}

  accept({ text, number }: Line): boolean {
    const row = SYNCBLK_ROW.exec(text);
    if (!row) return true;
    const address = canonicalAddress(row[2]!);
    if (!address) return true;
    const lock = this.context.session.lock('monitor', address);
    addEvidenceLine(lock.evidence, number);
    const monitorHeld = Number(row[3]);
    setField(lock, 'symbol', `${row[9]!.trim()} @ ${row[8]}`, number);
    setField(lock, 'recursionCount', Number(row[4]), number);
    setField(lock, 'locked', monitorHeld > 0, number);
    setField(lock, 'exclusive', true, number);
    setField(lock, 'exclusiveWaiters', Math.max(0, Math.floor((monitorHeld - 1) / 2)), number);
    const tid = Number.parseInt(row[6]!, 16);
    if (tid !== 0) {
      const owner = this.context.session.userThread(tid, row[7] === 'XXX' ? null : Number(row[7]));
      addOwner(lock, owner.key, Number(row[4]), true, number);
    }
    return true;
  }
}

export function isUserThreadHeader(text: string): boolean {
  return USER_THREAD_HEADER.test(text);
}

export type { ParseContext };
