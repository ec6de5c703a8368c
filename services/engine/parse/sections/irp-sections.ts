import { canonicalAddress, isNullAddress } from '../../address.ts';
import { addUnique } from '../../model/lists.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { IrpEntity, IrpStackLocation } from '../../model/types.ts';
import type { CommandReader, Line, ParseContext, Section, SectionReader } from '../section.ts';

const IRP_HEADER = /^Irp is active with (\d+) stacks (\d+) is current/i;
const IRP_THREAD = /\bThread\s+([0-9a-f`]{8,17}):/i;
const STACK_LOCATION = /^(>)?\s*\[([^\]]{1,120})\]\s*(.*)$/;
const LOCATION_DETAIL = /^([0-9a-f]{1,2})\s+([0-9a-f]{1,2})\s+([0-9a-f`]{8,17})\s+([0-9a-f`]{8,17})\s+([0-9a-f`]{8,17})-([0-9a-f`]{8,17})(.*)$/i;
const DRIVER_LINE = /^(\\[^\s]+)(?:\s+(\S+))?/;
const IRPFIND_ROW =
  /^([0-9a-f`]{8,17})\s+\[\s*([0-9a-f`]{8,17})\s*\]\s+irpStack:\s*\(\s*([0-9a-f]{1,2})\s*,\s*([0-9a-f]{1,2})\s*\)\s+([0-9a-f`]{8,17})\s+\[\s*([^\]\s]+)\s*\]/i;
const IRPFIND_LEGACY_ROW = /^([0-9a-f`]{8,17})\s+Thread\s+([0-9a-f`]{8,17})\s+current stack belongs to\s+(\\\S+)/i;

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

/** The IRP an `!irp <address>` block is about: its argument, or the expression itself (`poi(…+10)`). */
function irpKey(context: ParseContext, line: number): string {
  const argument = context.command?.name === '!irp' ? context.command.args[0] : undefined;
  if (argument) return canonicalAddress(argument) ?? `expr:${argument.toLowerCase()}`;
  return `line:${line}`;
}

/** `!irp`: the header, the thread, every stack location with the current one (`>`), its driver and completion routine. */
export const irpSectionReader: SectionReader = {
  name: 'irp',
  keys: ['Irp'],
  start(line, context) {
    const header = IRP_HEADER.exec(line.text);
    if (!header) return null;
    const irp = context.session.irp(irpKey(context, line.number));
    irp.stack = [];
    setField(irp, 'stackCount', Number(header[1]), line.number);
    setField(irp, 'currentLocation', Number(header[2]), line.number);
    context.understood();
    return new IrpSection(irp);
  },
};

class IrpSection implements Section {
  private location: IrpStackLocation | null = null;
  private awaitingDetail = false;

  constructor(private readonly irp: IrpEntity) {}

  accept({ text, number }: Line): boolean {
    const irp = this.irp;
    if (text.length === 0) return true;
    const first = text.charCodeAt(0);
    if (first === 65 /* A */ || first === 99 /* c */) return true; // `Args:` and the column header
    const thread = first === 78 /* N */ || first === 77 /* M */ ? IRP_THREAD.exec(text) : null;
    if (thread && text.includes('Irp stack trace')) {
      const address = canonicalAddress(thread[1]!);
      if (address && !isNullAddress(address)) setField(irp, 'thread', address, number);
      return true;
    }
    const location = first === 62 /* > */ || first === 91 /* [ */ ? STACK_LOCATION.exec(text) : null;
    if (location) {
      const [major, majorName] = readCode(location[2]!.split(',')[0] ?? '');
      const [minor, minorName] = readCode(location[2]!.split(',')[1] ?? '');
      this.location = {
        index: irp.stack.length + 1,
        current: location[1] === '>',
        major,
        minor,
        majorName,
        minorName,
        device: null,
        file: null,
        driver: null,
        completionRoutine: null,
        pending: false,
        line: number,
      };
      irp.stack.push(this.location);
      setField(irp, 'stack', irp.stack, number);
      this.awaitingDetail = !this.readDetail(location[3]!, number);
      return true;
    }
    if (this.location && this.awaitingDetail && this.readDetail(text, number)) {
      this.awaitingDetail = false;
      return true;
    }
    if (this.location && text.startsWith('\\')) {
      const driver = DRIVER_LINE.exec(text);
      if (driver) {
        this.location.driver = driver[1]!;
        if (driver[2] && driver[2].includes('!')) this.location.completionRoutine = driver[2];
        if (this.location.current) setField(irp, 'currentDriver', driver[1]!, number);
        setField(irp, 'stack', irp.stack, number);
      }
      return true;
    }
    return true;
  }

  /** `0 e1 <device> <file> <completion>-<context> Success Error Cancel pending` */
  private readDetail(text: string, line: number): boolean {
    const detail = LOCATION_DETAIL.exec(text.trim());
    const location = this.location;
    if (!detail || !location) return false;
    const device = canonicalAddress(detail[3]!);
    const file = canonicalAddress(detail[4]!);
    location.device = device && !isNullAddress(device) ? device : null;
    location.file = file && !isNullAddress(file) ? file : null;
    location.pending = /\bpending\b/i.test(detail[7]!);
    const irp = this.irp;
    if (location.current) {
      setField(irp, 'currentDevice', location.device, line);
      setField(irp, 'currentMajor', location.major, line);
      setField(irp, 'currentMinor', location.minor, line);
      setField(irp, 'pending', location.pending, line);
    }
    setField(irp, 'stack', irp.stack, line);
    return true;
  }
}

/** `e` → [0xe, null]; `IRP_MJ_POWER(16)` → [0x16, 'IRP_MJ_POWER']; `N/A(0)` → [0, null]. */
function readCode(text: string): [number | null, string | null] {
  const trimmed = text.trim();
  const named = /^([A-Za-z_/]+)\(([0-9a-f]{1,2})\)$/i.exec(trimmed);
  if (named) return [Number.parseInt(named[2]!, 16), named[1] === 'N/A' ? null : named[1]!];
  if (/^[0-9a-f]{1,2}$/i.test(trimmed)) return [Number.parseInt(trimmed, 16), null];
  return [null, null];
}

/** `!irpfind` rows, current (`Irp [ Thread ] irpStack: (Mj,Mn) DevObj [Driver]`) and legacy layouts. */
export const irpFindReader: CommandReader & SectionReader = {
  name: 'irpfind',
  commands: ['!irpfind'],
  keys: ['Looking', 'Searching', 'Scanning'],
  start(line, context) {
    if (context.command?.name !== '!irpfind' && !/^(Looking for IRPs|Searching (NonPaged|Paged) pool|Scanning large pool)/i.test(line.text)) {
      return null;
    }
    return new IrpFindSection(context);
  },
};

class IrpFindSection implements Section {
  constructor(private readonly context: ParseContext) {}

  accept({ text, number }: Line): boolean {
    if (!isHexDigit(text.charCodeAt(0))) return true;
    const row = IRPFIND_ROW.exec(text);
    if (row) {
      const irp = this.readRow(row[1]!, row[2]!, row[6]!, number);
      if (irp) {
        setField(irp, 'currentMajor', Number.parseInt(row[3]!, 16), number);
        setField(irp, 'currentMinor', Number.parseInt(row[4]!, 16), number);
        const device = canonicalAddress(row[5]!);
        if (device && !isNullAddress(device)) setField(irp, 'currentDevice', device, number);
      }
      return true;
    }
    const legacy = IRPFIND_LEGACY_ROW.exec(text);
    if (legacy) this.readRow(legacy[1]!, legacy[2]!, legacy[3]!, number);
    return true;
  }

  private readRow(irpToken: string, threadToken: string, driver: string, line: number): IrpEntity | null {
    const address = canonicalAddress(irpToken);
    if (!address) return null;
    const irp = this.context.session.irp(address);
    addEvidenceLine(irp.evidence, line);
    const thread = canonicalAddress(threadToken);
    if (thread && !isNullAddress(thread)) {
      setField(irp, 'thread', thread, line);
      const threadEntity = this.context.session.thread(thread);
      threadEntity.irps = addUnique(threadEntity.irps, address);
      setField(threadEntity, 'irps', threadEntity.irps, line);
    }
    setField(irp, 'currentDriver', driver, line);
    this.context.understood();
    return irp;
  }
}
