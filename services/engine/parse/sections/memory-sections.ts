import { canonicalAddress, isNullAddress, parseDebuggerNumber, type Address } from '../../address.ts';
import { readCriticalSectionField } from './lock-sections.ts';
import { addEvidenceLine, noteField, setField } from '../../model/evidence.ts';
import type { WorkQueueEntity } from '../../model/types.ts';

import { evaluateAddress, parseAddressExpression, type AddressExpression } from '../../address-expression.ts';
import type { WorkQueueDump } from '../../model/session-builder.ts';
import { describeCallSite } from '../frames.ts';
import type { CommandReader, Line, ParseContext, Section } from '../section.ts';
import { layoutFor } from './worker-queue-layout.ts';

const DT_FIELD = /^\+0x([0-9a-f]{1,5})\s+([A-Za-z_]\w*)\s*:\s*(.*)$/i;
/** `dt -a` rows of an array field: `[13] _LIST_ENTRY [ 0x… - 0x… ]` (the KPRIQUEUE's per-priority lists). */
const ARRAY_ROW = /^\[(\d{1,3})\]\s+_LIST_ENTRY\s/;
const LIST_ENTRY_VALUE = /\[\s*(?:0x)?([0-9a-f`]{8,17})\s*-\s*(?:0x)?([0-9a-f`]{8,17})\s*\]/i;
const UNICODE_STRING_VALUE = /"((?:[^"\\]|\\.){0,4096})"/;
const MEMORY_LINE = /^([0-9a-f`]{8,17})\s+(\S.*)$/i;
const SYMBOL_LINE = /^([0-9a-f`]{8,17})\s+([A-Za-z_][\w]*![\w@?$:<>~]+)/i;
/** `dps` output: `<where> <value> module!symbol[+0x…]`. */
const POINTER_WITH_SYMBOL = /^([0-9a-f`]{8,17})\s+[0-9a-f`]{8,17}\s+([A-Za-z_][\w.]*!\S+)/i;

/** `dt <type> <address> [fields]`: _KQUEUE / _EX_WORK_QUEUE, _FILE_OBJECT and RTL_CRITICAL_SECTION are read. */
export const dtReader: CommandReader = {
  name: 'dt',
  commands: ['dt'],
  start(_line, context) {
    const args = (context.command?.args ?? []).filter((arg) => !arg.startsWith('-'));
    const type = (args[0] ?? '').toLowerCase();
    const expression = args[1] ? parseAddressExpression(args[1]) : null;
    if (!expression) return new IgnoredSection();
    const priQueue = type.endsWith('_kpriqueue');
    if (type.endsWith('_kqueue') || type.endsWith('_ex_work_queue') || priQueue) {
      if (!priQueue) noteWorkerQueueBaseCandidate(context, expression);
      // Which queue this is depends on where nt!ExWorkerQueue is, which a later block may say: resolved at the end.
      const key = `kqueue:${args[1]!.toLowerCase()}`;
      const dump: WorkQueueDump = { key, expression, entryListOffset: null, line: context.blockLine, perNode: priQueue };
      context.session.workQueueDumps.push(dump);
      return new WorkQueueDtSection(context.session.workQueue(key), dump, context);
    }
    const address = evaluateAddress(expression, context.session.symbols);
    if (!address) return new IgnoredSection();
    if (type.endsWith('_file_object')) return fileObjectDt(address, context);
    if (type.endsWith('rtl_critical_section')) return criticalSectionDt(address, context);
    return new IgnoredSection();
  },
};

/** Without `x nt!ExWorkerQueue`, the array base is the first term of `dt nt!_KQUEUE <base>+58+58`. */
function noteWorkerQueueBaseCandidate(context: ParseContext, expression: AddressExpression): void {
  if (expression.base.includes('!')) return;
  const base = canonicalAddress(expression.base);
  if (!base) return;
  const stride = BigInt(layoutFor(base).stride);
  if (expression.offsets.every((offset) => offset === stride)) context.session.workerQueueBaseCandidates.push(base);
}

class IgnoredSection implements Section {
  accept(): boolean {
    return true;
  }
}

class WorkQueueDtSection implements Section {
  /** Offset of an `EntryListHead : [32] _LIST_ENTRY` whose rows `dt -a` prints below it. */
  private arrayOffset: number | null = null;

  constructor(
    private readonly queue: WorkQueueEntity,
    private readonly dump: WorkQueueDump,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    if (this.arrayOffset !== null && text.charCodeAt(0) === 91 /* [ */) return this.readArrayRow(text, number);
    const field = text.charCodeAt(0) === 43 /* + */ ? DT_FIELD.exec(text) : null;
    if (!field) return true;
    this.arrayOffset = null;
    const queue = this.queue;
    addEvidenceLine(queue.evidence, number);
    this.context.understood();
    const value = field[3]!.trim();
    switch (field[2]) {
      case 'WorkPriQueue':
        this.markPerNode();
        break;
      case 'EntryListHead': {
        const links = LIST_ENTRY_VALUE.exec(value);
        if (!links) {
          this.arrayOffset = Number.parseInt(field[1]!, 16);
          break;
        }
        const flink = canonicalAddress(links[1]!);
        const blink = canonicalAddress(links[2]!);
        setField(queue, 'entryListFlink', flink, number);
        setField(queue, 'entryListBlink', blink, number);
        this.dump.entryListOffset = Number.parseInt(field[1]!, 16);
        setField(queue, 'hasPendingItems', flink !== blink, number);
        break;
      }
      case 'CurrentCount':
        setField(queue, 'currentCount', parseDebuggerNumber(value), number);
        break;
      case 'MaximumCount':
        setField(queue, 'maximumCount', parseDebuggerNumber(value), number);
        break;
      case 'DynamicThreadCount':
        setField(queue, 'dynamicThreads', parseDebuggerNumber(value), number);
        break;
      case 'QueueDepthLastPass':
        setField(queue, 'pendingItems', parseDebuggerNumber(value), number);
        break;
      default:
        break;
    }
    return true;
  }

  /** A Windows 10+ queue (`WorkPriQueue : _KPRIQUEUE`) sits per node: its address says nothing of its type. */
  private markPerNode(): void {
    if (this.dump.perNode) return;
    this.dump.perNode = true;
    const base = canonicalAddress(this.dump.expression.base);
    const candidates = this.context.session.workerQueueBaseCandidates;
    const index = base ? candidates.lastIndexOf(base) : -1;
    if (index !== -1) candidates.splice(index, 1);
  }

  /** One per-priority list of a KPRIQUEUE: a non-empty one holds the queue's pending items. */
  private readArrayRow(text: string, number: number): boolean {
    const row = ARRAY_ROW.exec(text);
    const links = row ? LIST_ENTRY_VALUE.exec(text) : null;
    if (!row || !links) return true;
    this.context.understood();
    const flink = canonicalAddress(links[1]!);
    const blink = canonicalAddress(links[2]!);
    if (!flink || flink === blink) return true;
    const queue = this.queue;
    addEvidenceLine(queue.evidence, number);
    setField(queue, 'entryListFlink', flink, number);
    setField(queue, 'entryListBlink', blink, number);
    this.dump.entryListOffset = this.arrayOffset! + Number(row[1]) * 0x10;
    setField(queue, 'hasPendingItems', true, number);
    return true;
  }
}

/** Reads the `+0x… Name : value` lines of a `dt` block, handing each field to `read`. */
class DtFieldSection implements Section {
  constructor(
    private readonly context: ParseContext,
    private readonly read: (name: string, value: string, line: number) => void,
  ) {}

  accept({ text, number }: Line): boolean {
    const field = text.charCodeAt(0) === 43 /* + */ ? DT_FIELD.exec(text) : null;
    if (!field) return true;
    this.context.understood();
    this.read(field[2]!, field[3]!.trim(), number);
    return true;
  }
}

function fileObjectDt(address: Address, context: ParseContext): Section {
  return new DtFieldSection(context, (name, value, line) => {
    const file = context.session.fileObject(address);
    addEvidenceLine(file.evidence, line);
    if (name === 'FileName') {
      const fileName = UNICODE_STRING_VALUE.exec(value);
      if (fileName) setField(file, 'fileName', fileName[1]!, line);
    } else if (name === 'DeviceObject') {
      const device = canonicalAddress(value.split(/\s/)[0]!);
      if (device && !isNullAddress(device)) setField(file, 'device', device, line);
    }
  });
}

function criticalSectionDt(address: Address, context: ParseContext): Section {
  return new DtFieldSection(context, (name, value, line) => {
    const lock = context.session.lock('critical-section', address);
    addEvidenceLine(lock.evidence, line);
    readCriticalSectionField(lock, name, value.split(/\s/)[0]!, line, context.session);
  });
}

/** `dd`/`dq`/`dp`/`dps`/`dl`…: values are read where they are known counters of a worker queue. */
export const memoryReader: CommandReader = {
  name: 'memory',
  commands: ['dd', 'dq', 'dp', 'dps', 'dqs', 'dds', 'dl', 'dc', 'db', 'dw', 'dpp', 'du', 'da'],
  start(_line, context) {
    context.understood();
    const target = context.command?.args.find((arg) => !arg.startsWith('-') && !/^l[0-9a-f]/i.test(arg));
    return new MemorySection(target ? parseAddressExpression(target) : null, context);
  },
};

class MemorySection implements Section {
  private first = true;

  constructor(
    private readonly expression: AddressExpression | null,
    private readonly context: ParseContext,
  ) {}

  /** The first value shown is the one at the address asked for; counters are matched to queues at the end. */
  accept({ text, number }: Line): boolean {
    if (!this.first || !this.expression || text.length === 0) return true;
    const memory = MEMORY_LINE.exec(text);
    if (!memory) return true;
    this.first = false;
    const value = parseDebuggerNumber(memory[2]!.trim().split(/\s+/)[0]!);
    if (value !== null) this.context.session.memoryReads.push({ expression: this.expression, value, line: number });
    return true;
  }
}

/** `x module!symbol`: remembers symbol addresses (nt!ExWorkerQueue names the worker queues). */
export const symbolReader: CommandReader = {
  name: 'symbols',
  commands: ['x', 'ln'],
  start(_line, context) {
    context.understood();
    return {
      accept({ text }: Line): boolean {
        const symbol = SYMBOL_LINE.exec(text);
        if (symbol) {
          const address = canonicalAddress(symbol[1]!);
          if (address) context.session.symbols.set(symbol[2]!.toLowerCase(), address);
        }
        return true;
      },
    };
  },
};

/** `!list "-t nt!_LIST_ENTRY.Flink -x \"dq …; dps …\" <head>"`: the work items and their routines. */
export const workItemListReader: CommandReader = {
  name: 'work-item-list',
  commands: ['!list'],
  start(_line, context) {
    const head = [...(context.command?.args ?? [])].reverse().map((arg) => canonicalAddress(arg.replace(/"/g, ''))).find((value) => value !== null) ?? null;
    return new WorkItemListSection(head, context);
  },
};

class WorkItemListSection implements Section {
  private entry: Address | null = null;

  constructor(
    private readonly listHead: Address | null,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    const first = text.charCodeAt(0);
    if (!((first >= 48 && first <= 57) || (first >= 97 && first <= 102))) return true;
    const withSymbol = POINTER_WITH_SYMBOL.exec(text);
    if (withSymbol) {
      const frame = describeCallSite(withSymbol[2]!, number);
      const address = this.entry ?? canonicalAddress(withSymbol[1]!);
      if (!address) return true;
      const item = this.context.session.workItem(address, frame.callSite, frame);
      if (this.listHead) this.context.session.workItemListHeads.set(address, this.listHead);
      addEvidenceLine(item.evidence, number);
      noteField(item.evidence, 'routine', number);
      this.entry = null;
      this.context.understood();
      return true;
    }
    const memory = MEMORY_LINE.exec(text);
    if (memory && /^[0-9a-f`\s]+$/i.test(memory[2]!)) {
      this.entry = canonicalAddress(memory[1]!);
    }
    return true;
  }
}

/** `? expr` and `?? expr`: nothing to keep, but the output is understood. */
export const evaluateReader: CommandReader = {
  name: 'evaluate',
  commands: ['?', '??', '.formats'],
  start(_line, context) {
    context.understood();
    return new IgnoredSection();
  },
};

