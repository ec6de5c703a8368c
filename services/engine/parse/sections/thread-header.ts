import { canonicalAddress } from '../../address.ts';
import { setField } from '../../model/evidence.ts';
import type { ThreadEntity, ThreadState } from '../../model/types.ts';

const THREAD_HEADER = /^THREAD\s+(?:0x)?([0-9a-f`]{8,17})\s+Cid\s+([0-9a-f]{1,8})\.([0-9a-f]{1,8})/i;
const THREAD_STATE =
  /\b(WAIT|RUNNING|READY|STANDBY|TERMINATED|TRANSITION|DEFERREDREADY|INITIALIZED|GATEWAIT)\b(?::\s*\((\w+)\)\s+(KernelMode|UserMode)\s+(Non-Alertable|Alertable))?(?:\s+on processor\s+([0-9a-f]+))?/;

const STATES: Record<string, ThreadState> = {
  WAIT: 'waiting',
  GATEWAIT: 'waiting',
  RUNNING: 'running',
  READY: 'ready',
  DEFERREDREADY: 'ready',
  STANDBY: 'standby',
  TERMINATED: 'terminated',
  TRANSITION: 'transition',
  INITIALIZED: 'initialized',
};

export interface ThreadHeader {
  address: string;
  pid: number;
  tid: number;
  rest: string;
}

/** `THREAD fffffa8073d3d770  Cid 0384.1e2c  Teb: … WAIT: (WrLpcReply) UserMode Non-Alertable` */
export function matchThreadHeader(text: string): ThreadHeader | null {
  const match = THREAD_HEADER.exec(text);
  if (!match) return null;
  const address = canonicalAddress(match[1]!);
  if (!address) return null;
  return { address, pid: Number.parseInt(match[2]!, 16), tid: Number.parseInt(match[3]!, 16), rest: text.slice(match[0].length) };
}

/** Reads a state (`WAIT: (Executive) KernelMode Alertable`, `RUNNING on processor 1`) anywhere in a header line. */
export function readThreadState(thread: ThreadEntity, text: string, line: number): boolean {
  const match = THREAD_STATE.exec(text);
  if (!match) return false;
  setField(thread, 'state', STATES[match[1]!] ?? 'unknown', line);
  if (match[2]) {
    setField(thread, 'waitReason', match[2], line);
    setField(thread, 'waitMode', match[3] as ThreadEntity['waitMode'], line);
    setField(thread, 'alertable', match[4] === 'Alertable', line);
  }
  if (match[5]) setField(thread, 'runningOnProcessor', Number.parseInt(match[5], 16), line);
  return true;
}
