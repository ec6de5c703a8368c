import { canonicalAddress } from '../../address.ts';
import { addOwner } from './lock-sections.ts';
import { addUnique } from '../../model/lists.ts';
import { noteField, setField } from '../../model/evidence.ts';
import { mergeFrames } from '../../model/merge-frames.ts';
import type { StackFrame, ThreadEntity } from '../../model/types.ts';
import { parseCallSiteOnlyFrameLine, parseFrameLine } from '../frames.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';

const STACK_HEADER = /^(?:#\s+)?(?:Child-SP|ChildEBP|Child SP)\b/i;
const CALL_SITE_ONLY_HEADER = /^#?\s*Call Site$/i;
const MEX_OWNER_THREAD = /Thread:\s+([0-9a-f`]{8,17})/i;
const MEX_OWNED_LOCK = /\b(exclusive|shared) owner of EResource:\s+([0-9a-f`]{8,17})/i;

/** Adds a printed stack to a thread (see `mergeFrames`), with its lines as the evidence. */
export function attachFrames(thread: ThreadEntity, frames: StackFrame[]): void {
  if (frames.length === 0) return;
  thread.frames = mergeFrames(thread.frames, frames);
  for (const frame of frames) noteField(thread.evidence, 'frames', frame.line);
}

/** The thread a stack table without its own header belongs to. */
export function stackOwner(context: ParseContext): ThreadEntity {
  if (context.focusThread) return context.focusThread;
  const selector = context.command?.threadSelector;
  if (typeof selector === 'number') return context.session.threadByDebuggerId(selector);
  const session = context.session;
  if (session.currentThreadKey) return session.threadByKey(session.currentThreadKey, null);
  return session.threadByKey('current', null);
}

/** `k`-family stack tables, wherever they appear: after `!thread`, under `~*k` headers, in `!cs -o`, MEX. */
export const stackSectionReader: SectionReader = {
  name: 'stack',
  keys: ['Child-SP', 'ChildEBP', 'Child', '#', 'Call'],
  start(line, context) {
    const callSiteOnly = CALL_SITE_ONLY_HEADER.test(line.text);
    if (!callSiteOnly && !STACK_HEADER.test(line.text)) return null;
    const owner = stackOwner(context);
    context.understood();
    return new StackSection(owner, context, callSiteOnly ? parseCallSiteOnlyFrameLine : parseFrameLine);
  },
};

class StackSection implements Section {
  private readonly frames: StackFrame[] = [];

  constructor(
    private readonly thread: ThreadEntity,
    private readonly context: ParseContext,
    private readonly readFrame: (text: string, line: number) => StackFrame | null,
  ) {}

  accept({ text, number }: Line): boolean {
    if (text.length === 0) return true;
    const frame = this.readFrame(text, number);
    if (frame) {
      this.frames.push(frame);
      if (text.indexOf('EResource:') !== -1) this.readMexLockInfo(text, number);
    }
    return true;
  }

  close(): void {
    attachFrames(this.thread, this.frames);
  }

  /** MEX prints `Thread: <owner> (System) exclusive owner of EResource: <lock>` beside ExAcquireResource…. */
  private readMexLockInfo(text: string, line: number): void {
    const ownerMatch = MEX_OWNER_THREAD.exec(text);
    const lockMatch = MEX_OWNED_LOCK.exec(text);
    if (!ownerMatch || !lockMatch) return;
    const owner = canonicalAddress(ownerMatch[1]!);
    const address = canonicalAddress(lockMatch[2]!);
    if (!owner || !address) return;
    const lock = this.context.session.lock('eresource', address);
    const exclusive = lockMatch[1]!.toLowerCase() === 'exclusive';
    addOwner(lock, owner, null, exclusive, line);
    if (exclusive) setField(lock, 'exclusive', true, line);
    lock.waiters = addUnique(lock.waiters, this.thread.key);
    setField(lock, 'waiters', lock.waiters, line);
  }
}
