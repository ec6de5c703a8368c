import { canonicalAddress, isNullAddress, parseDebuggerNumber } from '../../address.ts';
import { addUnique, addUniqueBy, findBy } from '../../model/lists.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { LockEntity, LockOwner } from '../../model/types.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';

const RESOURCE_HEADER = /^Resource @ (?:(\S+) \()?(?:0x)?([0-9a-f`]{8,17})\)?\s*(.*)$/i;
const OWNER_ENTRY = /([0-9a-f`]{8,17})-([0-9a-f]{1,4})(<\*>)?/gi;
const ACTUAL_THREAD = /\*\*\* Actual Thread\s+([0-9a-f`]{8,17})/i;
const OLD_OWNER = /^Thread = ([0-9a-f`]{8,17}), Count = ([0-9a-f]+)/i;
const COUNT_FIELD_NAME = /^[A-Za-z][A-Za-z ]*$/;
const FIRST_TOKEN = /^\s*(\S+)/;
const WAITER_ADDRESS = /^([0-9a-f`]{8,17})(?:\s|$)/i;
const WAITERS_HEADER = /^Threads Waiting On (Exclusive|Shared) Access/i;
const THREAD_ENTRY = /^[0-9a-f`]{8,17}-[0-9a-f]{1,4}(?:<\*>)?$/i;
const CRITSEC_HEADER = /^CritSec\s+(\S+)\s+at\s+(?:0x)?([0-9a-f`]{1,17})$/i;
const CS_FIELD = /^([A-Za-z][A-Za-z ]*?)\s*(?:=\s*|\s{2,})(\S.*)?$/;
const NOT_A_CRITICAL_SECTION = /^DebugInfo for CritSec at\s+(?:0x)?([0-9a-f`]{1,17}) does not point back/i;
const CS_ADDRESS = /^(?:0x)?([0-9a-f`]{1,17})(?:\s+\(([^)]*)\))?/i;
const MEX_ERESOURCE = /^nt!_ERESOURCE @ ([0-9a-f`]{8,17})/i;
const MEX_OWNER_ROW = /^(\S+)\s+([0-9a-f`]{8,17})\s+(\S+)\s+(\S+)/i;

const byThread = (owner: LockOwner) => owner.thread;

/**
 * A field of a critical section, as `!cs`, `!critsec`, user-mode `!locks` and `dt RTL_CRITICAL_SECTION` all print
 * it. Returns false for a field it does not read.
 */
export function readCriticalSectionField(lock: LockEntity, name: string, value: string, line: number, session: ParseContext['session']): boolean {
  switch (name) {
    case 'LockCount':
      setField(lock, 'lockCount', parseDebuggerNumber(value), line);
      return true;
    case 'RecursionCount':
      setField(lock, 'recursionCount', parseDebuggerNumber(value), line);
      return true;
    case 'ContentionCount':
      setField(lock, 'contentionCount', parseDebuggerNumber(value), line);
      return true;
    case 'OwningThread': {
      const tid = parseDebuggerNumber(value);
      if (tid !== null && tid !== 0) addOwner(lock, session.userThread(tid, null).key, lock.recursionCount, true, line);
      return true;
    }
    default:
      return false;
  }
}

/** Returns true when the owner is new to the lock. */
export function addOwner(lock: LockEntity, thread: string | null, count: number | null, exclusive: boolean, line: number): boolean {
  const existing = findBy(lock.owners, thread, byThread);
  if (existing) existing.count = count ?? existing.count;
  else lock.owners = addUniqueBy(lock.owners, { thread, count, exclusive, line }, byThread);
  setField(lock, 'owners', lock.owners, line);
  setField(lock, 'locked', true, line);
  return existing === undefined;
}

/** Kernel `!locks` ERESOURCE output (current and NT4 layouts), with owners and waiters. */
export const eresourceSectionReader: SectionReader = {
  name: 'eresource',
  keys: ['Resource', 'nt!_ERESOURCE'],
  start(line, context) {
    const mex = MEX_ERESOURCE.exec(line.text);
    const header = mex ? null : RESOURCE_HEADER.exec(line.text);
    const address = canonicalAddress((mex ?? header)?.[mex ? 1 : 2] ?? '');
    if (!address) return null;
    const lock = context.session.lock('eresource', address);
    addEvidenceLine(lock.evidence, line.number);
    if (header?.[1]) setField(lock, 'symbol', header[1], line.number);
    const state = header?.[3] ?? '';
    if (/Exclusively owned/i.test(state)) {
      setField(lock, 'exclusive', true, line.number);
      setField(lock, 'locked', true, line.number);
    } else if (/Shared/i.test(state)) {
      setField(lock, 'exclusive', false, line.number);
      setField(lock, 'locked', true, line.number);
    }
    context.focusLock = mex ? null : lock;
    context.understood();
    return new EresourceSection(lock, context, mex !== null);
  },
};

/**
 * `!locks -v` prints each owner's full `THREAD` block (and stack) before `Threads Waiting On … Access:`, so the
 * waiter list arrives after the resource's section has given way to the thread's: it belongs to the last resource.
 */
export const eresourceWaitersReader: SectionReader = {
  name: 'eresource-waiters',
  keys: ['Threads'],
  start(line, context) {
    const lock = context.focusLock;
    if (!lock) return null;
    const waiting = WAITERS_HEADER.exec(line.text);
    if (!waiting) return null;
    const section = new EresourceSection(lock, context, false);
    section.accept(line);
    return section;
  },
};

class EresourceSection implements Section {
  private waiting: 'exclusive' | 'shared' | null = null;
  private mexOwners: 'exclusive' | 'shared' | null = null;
  private inThreads = false;
  /** The `Threads:` list tags owners with `<*>`: untagged entries are shared waiters. */
  private tagged = false;

  constructor(
    private readonly lock: LockEntity,
    private readonly context: ParseContext,
    private readonly mex: boolean,
  ) {}

  accept({ text, number }: Line): boolean {
    const lock = this.lock;
    if (text.length === 0) return true;
    if (/^Threads:/i.test(text)) {
      this.waiting = null;
      this.inThreads = true;
      this.readThreadEntries(text, number);
      return true;
    }
    // A long `Threads:` list wraps: the next lines hold only `address-count[<*>]` entries.
    if (this.inThreads && isThreadEntryList(text)) {
      this.readThreadEntries(text, number);
      return true;
    }
    this.inThreads = false;
    const oldOwner = OLD_OWNER.exec(text);
    if (oldOwner) {
      const owner = canonicalAddress(oldOwner[1]!);
      if (owner && !isNullAddress(owner)) {
        addOwner(lock, owner, Number.parseInt(oldOwner[2]!, 16), true, number);
        this.context.session.thread(owner);
      }
      return true;
    }
    if (/^Threads Waiting On Exclusive Access/i.test(text)) {
      this.waiting = 'exclusive';
      return true;
    }
    if (/^Threads Waiting On Shared Access/i.test(text)) {
      this.waiting = 'shared';
      return true;
    }
    if (this.mex) return this.acceptMex(text, number);
    if (this.waiting) {
      let found = false;
      for (const token of text.split(/\s+/)) {
        const waiter = WAITER_ADDRESS.test(token) ? canonicalAddress(token) : null;
        if (waiter) {
          lock.waiters = addUnique(lock.waiters, waiter);
          found = true;
        }
      }
      // `KD: Scanning for held locks…`, `N total locks…`: the waiter list has ended; not evidence of it.
      if (found) {
        setField(lock, 'waiters', lock.waiters, number);
        return true;
      }
      this.waiting = null;
    }
    if (/IsOwnedExclusive/i.test(text)) setField(lock, 'exclusive', true, number);
    const field = countField(text);
    if (field) {
      const value = parseDebuggerNumber(field[1]);
      switch (field[0].replace(/\s+/g, '').toLowerCase()) {
        case 'contentioncount':
          setField(lock, 'contentionCount', value, number);
          break;
        case 'numberofexclusivewaiters':
          setField(lock, 'exclusiveWaiters', value, number);
          break;
        case 'numberofsharedwaiters':
          setField(lock, 'sharedWaiters', value, number);
          break;
        default:
          break;
      }
    }
    return true;
  }

  /**
   * `Threads: ffff…1080-01<*> ffff…e080-01    ffff…9040-01`: only entries tagged `<*>` own the resource (the
   * `!locks` documentation); untagged ones on the same list are threads waiting for shared access. A list with no
   * tag at all (older layouts) is read as owners, as before.
   */
  private readThreadEntries(text: string, number: number): void {
    const lock = this.lock;
    const entries = [...text.matchAll(OWNER_ENTRY)];
    const actual = ACTUAL_THREAD.exec(text);
    if (entries.some((match) => match[3])) this.tagged = true;
    entries.forEach((match, index) => {
      // `80ed0023-01<*> *** Actual Thread 80ed0020`: the owner field is tagged; the thread follows it.
      const thread = actual && index === entries.length - 1 ? canonicalAddress(actual[1]!) : canonicalAddress(match[1]!);
      if (!thread) return;
      if (this.tagged && !match[3]) {
        lock.waiters = addUnique(lock.waiters, thread);
        setField(lock, 'waiters', lock.waiters, number);
        this.context.session.thread(thread);
        return;
      }
      if (addOwner(lock, thread, Number.parseInt(match[2]!, 16), lock.exclusive !== false, number)) this.context.session.thread(thread);
    });
  }

  /** `!mex.eresource`: `Exclusive owner:` / `Shared owners:` tables and waiter counts. */
  private acceptMex(text: string, number: number): boolean {
    const lock = this.lock;
    const contention = /^Contention count:\s*(\d+)/i.exec(text);
    if (contention) {
      setField(lock, 'contentionCount', Number(contention[1]), number);
      return true;
    }
    const waiters = /^(Exclusive|Shared) Waiters:\s*(\d+)/i.exec(text);
    if (waiters) {
      setField(lock, waiters[1]!.toLowerCase() === 'exclusive' ? 'exclusiveWaiters' : 'sharedWaiters', Number(waiters[2]), number);
      this.mexOwners = null;
      return true;
    }
    if (/^Exclusive owner/i.test(text)) {
      this.mexOwners = 'exclusive';
      setField(lock, 'exclusive', true, number);
      return true;
    }
    if (/^Shared owners?/i.test(text)) {
      this.mexOwners = 'shared';
      return true;
    }
    if (this.mexOwners) {
      const row = MEX_OWNER_ROW.exec(text);
      const owner = row ? canonicalAddress(row[2]!) : null;
      if (owner && !isNullAddress(owner)) {
        addOwner(lock, owner, null, this.mexOwners === 'exclusive', number);
        const thread = this.context.session.thread(owner);
        if (thread.image === null && row![1] !== 'Process') setField(thread, 'image', row![1]!, number);
      }
    }
    return true;
  }
}

/**
 * User-mode critical sections: `!locks` (`CritSec <symbol> at <address>`), `!cs` / `!cs -o` / `!cs -l`
 * (`Critical section = …`, `OwningThread DbgId = ~1s`, `OwningThread Stack =`), and `!critsec`.
 */
export const criticalSectionReader: SectionReader = {
  name: 'critical-section',
  keys: ['CritSec', 'Critical', '---', 'DebugInfo'],
  start(line, context) {
    const text = line.text;
    if (text.startsWith('---')) {
      if (!context.command || !['!cs', '!locks', '!critsec'].includes(context.command.name)) return null;
      return new CriticalSectionSection(null, context);
    }
    if (text.startsWith('DebugInfo')) {
      const invalid = NOT_A_CRITICAL_SECTION.exec(text);
      if (invalid) {
        // `!critsec` on memory that is no critical section prints garbage fields after this line.
        const address = canonicalAddress(invalid[1]!);
        if (address) context.distrusted.add(address);
        context.warn(line.number, `${invalid[1]} is not an initialized critical section; its fields were not read`);
        context.understood();
        return null;
      }
      if (!/^DebugInfo\s+=/.test(text)) return null;
      const section = new CriticalSectionSection(null, context);
      section.claims(line);
      return section;
    }
    const section = new CriticalSectionSection(null, context);
    if (!section.readHeader(text, line.number)) return null;
    return section;
  },
};

class CriticalSectionSection implements Section {
  private awaitingOwnerStack = false;

  constructor(
    private lock: LockEntity | null,
    private readonly context: ParseContext,
  ) {}

  private sawDebugInfo = false;

  /** `!cs -l` prints DebugInfo before `Critical section =`, `!cs -o` after it: both are one record. */
  claims(line: Line): boolean {
    if (line.text.startsWith('Critical section')) return this.lock === null;
    if (/^DebugInfo\s+=/.test(line.text) && !this.sawDebugInfo) {
      this.sawDebugInfo = true;
      return true;
    }
    return false;
  }

  readHeader(text: string, number: number): boolean {
    const critsec = CRITSEC_HEADER.exec(text);
    if (critsec) {
      this.open(critsec[2]!, critsec[1]!.startsWith('+') ? null : critsec[1]!, number);
      return true;
    }
    const field = /^Critical section\s*=\s*(.*)$/i.exec(text);
    if (field) {
      const address = CS_ADDRESS.exec(field[1]!.trim());
      if (address) {
        this.open(address[1]!, address[2] && !address[2].startsWith('+') ? address[2] : null, number);
        return true;
      }
    }
    return false;
  }

  private open(addressText: string, symbol: string | null, number: number): void {
    const address = canonicalAddress(addressText);
    if (!address || this.context.distrusted.has(address)) {
      this.lock = null;
      return;
    }
    const isLoaderLock = symbol !== null && /LdrpLoaderLock/i.test(symbol);
    const lock = this.context.session.lock(isLoaderLock ? 'loader-lock' : 'critical-section', address);
    addEvidenceLine(lock.evidence, number);
    if (symbol) setField(lock, 'symbol', symbol.replace(/\+0(x0)?$/i, ''), number);
    this.lock = lock;
    this.context.understood();
  }

  accept({ text, number }: Line): boolean {
    if (text.length === 0) return true;
    if (text.startsWith('---')) {
      this.lock = null;
      this.awaitingOwnerStack = false;
      this.sawDebugInfo = false;
      return true;
    }
    if (this.readHeader(text, number)) return true;
    const lock = this.lock;
    if (!lock) return true;
    if (/^\*\*\* Locked|^LOCKED$/i.test(text)) {
      setField(lock, 'locked', true, number);
      return true;
    }
    if (/^NOT LOCKED$/i.test(text)) {
      setField(lock, 'locked', false, number);
      return true;
    }
    const field = CS_FIELD.exec(text);
    if (!field) return true;
    const name = field[1]!.trim();
    const value = (field[2] ?? '').trim();
    if (readCriticalSectionField(lock, name, value, number, this.context.session)) return true;
    switch (name) {
      case 'OwningThread DbgId': {
        const id = /~(\d+)s?/.exec(value);
        const owner = lock.owners[0]?.thread;
        if (id && owner) {
          const thread = this.context.session.threads.get(owner);
          if (thread) {
            thread.debuggerId ??= Number(id[1]);
            this.context.session.debuggerThreadIds.set(Number(id[1]), thread.key);
          }
        }
        break;
      }
      case 'OwningThread Stack':
        this.awaitingOwnerStack = true;
        break;
      default:
        break;
    }
    if (this.awaitingOwnerStack) {
      const owner = lock.owners[0]?.thread;
      if (owner) this.context.focusThread = this.context.session.threads.get(owner) ?? null;
    }
    return true;
  }
}

/** A line holding only `address-count[<*>]` entries: the continuation of a wrapped `Threads:` list. */
function isThreadEntryList(text: string): boolean {
  return text.split(/\s+/).every((token) => THREAD_ENTRY.test(token));
}

/**
 * `Contention Count = 12`, `NumberOfSharedWaiters = 3`: the name and the first token after `=`. Found with
 * `indexOf`, not one regular expression, whose lazy name before `\s*=` backtracks quadratically over long blank runs.
 */
function countField(text: string): [name: string, value: string] | null {
  const equals = text.indexOf('=');
  if (equals <= 0) return null;
  const name = text.slice(0, equals).trimEnd();
  if (!COUNT_FIELD_NAME.test(name)) return null;
  const value = FIRST_TOKEN.exec(text.slice(equals + 1))?.[1];
  return value === undefined ? null : [name, value];
}
