import { canonicalAddress, isNullAddress } from '../../address.ts';
import { addUnique, addUniqueBy } from '../../model/lists.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { ThreadEntity } from '../../model/types.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';
import { matchThreadHeader, readThreadState } from './thread-header.ts';
import { parseTicksDuration } from './wait-duration.ts';

const WAIT_OBJECT = /^([0-9a-f`]{8,17})\s+([A-Za-z][A-Za-z]*)(?:\s|$)/i;
const MUTANT_OWNER = /owning thread\s+([0-9a-f`]{8,17})/i;
const IRP_LIST_ENTRY = /^([0-9a-f`]{8,17}):\s+\(/i;
const ALPC_WAIT =
  /^Waiting for reply to ALPC Message\s+([0-9a-f`]{8,17})(?:\s*:\s*queued at port\s+([0-9a-f`]{8,17})?)?(?:\s*:\s*owned by process\s+([0-9a-f`]{8,17}))?/i;
/** Pre-Vista LPC: `Waiting for reply to LPC MessageId 0001a2f4:` and `LPC Server thread working on message Id 1a2f4`. */
const LPC_WAIT = /^Waiting for reply to LPC MessageId\s+([0-9a-f]{1,8})\b/i;
const LPC_SERVER = /^LPC Server thread working on message Id\s+([0-9a-f]{1,8})\b/i;
const lpcMessageKey = (id: string) => `lpc:${Number.parseInt(id, 16).toString(16)}`;
const OWNING_PROCESS = /^Owning Process\s+([0-9a-f`]{8,17})(?:\s+Image:\s+(\S.*))?$/i;
const ATTACHED_PROCESS = /^Attached Process\s+(\S+)/i;
const WAIT_START = /^Wait Start TickCount\s+(\d+)(?:\s+Ticks:\s+(\d+)(?:\s+\(([\d:.]+)\))?)?/i;
const WAIT_TIME = /^WaitTime \((seconds|ticks)\)\s+(\d+)/i;
const CONTEXT_SWITCHES = /^Context Switch Count\s+(\d+)/i;
const START_ADDRESS = /^(?:Win32 )?Start Address\s+(\S.*)$/i;
const PRIORITY = /^Priority\s+(\d+)\s+BasePriority\s+(\d+)/i;
const SUSPEND_COUNT = /^SuspendCount\s+(\d+)/i;
const MAY_HOLD_STATE = /WAIT|RUNNING|READY|STANDBY|TERMINATED|TRANSITION|INITIALIZED/;

const byAddress = (object: { address: string }) => object.address;

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

/** `!thread` (current and legacy layouts), threads nested in `!process 0 7`, `!exqueue` rows, `!locks -v`. */
export const threadSectionReader: SectionReader = {
  name: 'thread',
  keys: ['THREAD'],
  start(line, context) {
    const header = matchThreadHeader(line.text);
    if (!header) return null;
    const thread = context.session.thread(header.address);
    setField(thread, 'pid', header.pid, line.number);
    setField(thread, 'tid', header.tid, line.number);
    addEvidenceLine(thread.evidence, line.number);
    readThreadState(thread, header.rest, line.number);
    if (context.focusProcess && (thread.process === null || thread.process === context.focusProcess.address)) {
      setField(thread, 'process', context.focusProcess.address, line.number);
      if (context.focusProcess.image) setField(thread, 'image', context.focusProcess.image, line.number);
      context.focusProcess.threads = addUnique(context.focusProcess.threads, thread.key);
    }
    if (context.focusQueue) {
      context.focusQueue.threads = addUnique(context.focusQueue.threads, thread.key);
      addEvidenceLine(context.focusQueue.evidence, line.number);
    }
    context.focusThread = thread;
    context.understood();
    return new ThreadSection(thread, context);
  },
};

class ThreadSection implements Section {
  private inIrpList = false;
  private pastWaitBlock = false;
  private wrappedAlpcWait: string | null = null;

  constructor(
    private readonly thread: ThreadEntity,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    const thread = this.thread;
    if (this.wrappedAlpcWait !== null) {
      const joined = `${this.wrappedAlpcWait} ${text}`;
      this.wrappedAlpcWait = null;
      if (this.readAlpcWait(joined, number)) return true;
    }
    if (text.length === 0) return true;
    if (this.inIrpList) {
      const entry = IRP_LIST_ENTRY.exec(text);
      if (entry) {
        const irp = canonicalAddress(entry[1]!);
        if (irp) thread.irps = addUnique(thread.irps, irp);
        setField(thread, 'irps', thread.irps, number);
        const irpEntity = this.context.session.irp(irp!);
        setField(irpEntity, 'thread', thread.address, number);
        return true;
      }
      this.inIrpList = false;
    }
    const first = text.charCodeAt(0);
    if (!this.pastWaitBlock) {
      const waitObject = isHexDigit(first) ? WAIT_OBJECT.exec(text) : null;
      if (waitObject) {
        const address = canonicalAddress(waitObject[1]!);
        const owner = waitObject[2] === 'Mutant' ? MUTANT_OWNER.exec(text) : null;
        const waited = { address: address!, type: waitObject[2]!, ...(owner ? { owner: canonicalAddress(owner[1]!) } : {}) };
        if (address) setField(thread, 'waitObjects', addUniqueBy(thread.waitObjects, waited, byAddress), number);
        return true;
      }
      if (MAY_HOLD_STATE.test(text) && readThreadState(thread, text, number)) return true;
    }
    switch (first) {
      case 87: // W
        if (text.startsWith('Waiting for reply to ALPC Message')) {
          if (!this.readAlpcWait(text, number) || !/owned by process\s+\S/i.test(text)) this.wrappedAlpcWait = text;
          return true;
        }
        if (text.startsWith('Waiting for reply to LPC')) {
          const lpc = LPC_WAIT.exec(text);
          if (lpc) {
            const message = lpcMessageKey(lpc[1]!);
            setField(thread, 'alpcWait', { message, port: null, ownerProcess: null }, number);
            this.pastWaitBlock = true;
            setField(this.context.session.alpcMessage(message), 'waitingThread', thread.address, number);
          }
          return true;
        }
        return this.readWaitTimes(text, number) || this.readStartAddress(text, number);
      case 73: // I
        if (text === 'IRP List:') {
          this.inIrpList = true;
          this.pastWaitBlock = true;
          return true;
        }
        if (text.startsWith('Impersonation token')) setField(thread, 'impersonating', true, number);
        return true;
      case 78: // N
        if (text.startsWith('Not impersonating')) {
          this.pastWaitBlock = true;
          setField(thread, 'impersonating', false, number);
        }
        return true;
      case 79: // O
        return this.readOwningProcess(text, number);
      case 65: // A
        return this.readAttachedProcess(text, number);
      case 67: {
        // C
        const switches = CONTEXT_SWITCHES.exec(text);
        if (switches) setField(thread, 'contextSwitches', Number(switches[1]), number);
        return true;
      }
      case 80: {
        // P
        const priority = PRIORITY.exec(text);
        if (priority) {
          setField(thread, 'priority', Number(priority[1]), number);
          setField(thread, 'basePriority', Number(priority[2]), number);
        }
        return true;
      }
      case 83: {
        // S
        const suspend = SUSPEND_COUNT.exec(text);
        if (suspend) setField(thread, 'suspendCount', Number(suspend[1]), number);
        else this.readStartAddress(text, number);
        return true;
      }
      case 76: {
        // L
        const served = LPC_SERVER.exec(text);
        if (served) setField(this.context.session.alpcMessage(lpcMessageKey(served[1]!)), 'serverThread', thread.address, number);
        return true;
      }
      case 75: // K
        if (text.startsWith('Kernel stack not resident')) setField(thread, 'stackNotResident', true, number);
        return true;
      default:
        return true;
    }
  }

  private readAlpcWait(text: string, line: number): boolean {
    const match = ALPC_WAIT.exec(text);
    if (!match) return false;
    const message = canonicalAddress(match[1]!);
    if (!message) return false;
    const port = match[2] ? canonicalAddress(match[2]) : null;
    const ownerProcess = match[3] ? canonicalAddress(match[3]) : null;
    setField(this.thread, 'alpcWait', { message, port, ownerProcess }, line);
    this.pastWaitBlock = true;
    const alpcMessage = this.context.session.alpcMessage(message);
    setField(alpcMessage, 'waitingThread', this.thread.address, line);
    if (port) setField(alpcMessage, 'queuePort', port, line);
    if (ownerProcess) setField(alpcMessage, 'queuePortOwnerProcess', ownerProcess, line);
    return true;
  }

  private readOwningProcess(text: string, line: number): boolean {
    const match = OWNING_PROCESS.exec(text);
    if (!match) return true;
    this.pastWaitBlock = true;
    const process = canonicalAddress(match[1]!);
    if (!process) return true;
    setField(this.thread, 'process', process, line);
    const processEntity = this.context.session.process(process);
    processEntity.threads = addUnique(processEntity.threads, this.thread.key);
    const image = match[2]?.trim();
    if (image) {
      setField(this.thread, 'image', image, line);
      setField(processEntity, 'image', image, line);
    }
    if (this.thread.pid !== null) setField(processEntity, 'pid', this.thread.pid, line);
    return true;
  }

  private readAttachedProcess(text: string, line: number): boolean {
    const match = ATTACHED_PROCESS.exec(text);
    if (match && match[1] !== 'N/A') {
      const attached = canonicalAddress(match[1]!);
      if (attached && !isNullAddress(attached)) setField(this.thread, 'attachedProcess', attached, line);
    }
    return true;
  }

  private readWaitTimes(text: string, line: number): boolean {
    const start = WAIT_START.exec(text);
    if (start) {
      setField(this.thread, 'waitStartTick', Number(start[1]), line);
      if (start[2]) setField(this.thread, 'waitTicks', Number(start[2]), line);
      if (start[3]) setField(this.thread, 'waitMs', parseTicksDuration(start[3]), line);
      return true;
    }
    const waitTime = WAIT_TIME.exec(text);
    if (waitTime) {
      if (waitTime[1]!.toLowerCase() === 'seconds') setField(this.thread, 'waitMs', Number(waitTime[2]) * 1000, line);
      else setField(this.thread, 'waitTicks', Number(waitTime[2]), line);
      return true;
    }
    return false;
  }

  private readStartAddress(text: string, line: number): boolean {
    const match = START_ADDRESS.exec(text);
    if (match) setField(this.thread, 'startAddress', match[1]!.trim(), line);
    return true;
  }
}
