import { canonicalAddress } from '../../address.ts';
import { addUnique } from '../../model/lists.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { StackFrame, ThreadEntity } from '../../model/types.ts';
import { describeCallSite } from '../frames.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';
import { attachFrames } from './stack-section.ts';

const STACKS_ROW = /^([0-9a-f]{1,8})\.([0-9a-f]{1,8})\s+([0-9a-f`]{8,17})\s+(?:([0-9a-f]{1,8})\s+)?([A-Za-z]+)\s+(\S.*)$/i;
const PROCESS_LINE = /^\[(?:([0-9a-f`]{8,17})\s+)?([^\]]+)\]$/i;
const CONTINUATION_FRAME = /^(?:[A-Za-z_][\w.]*!\S+|\+0x[0-9a-f]+|[A-Za-z_][\w.]*\+0x[0-9a-f]+)$/i;

const SCHEDULER_FUNCTION = /^_?(Ki|KeWaitFor|KeDelayExecution|KeRemoveQueue)/;

function isSchedulerFrame(frame: StackFrame): boolean {
  return frame.function !== null && SCHEDULER_FUNCTION.test(frame.function);
}

/** `!stacks 0|1|2 [filter]`: one row per thread with its state and blocking frame; level 2 adds the frames. */
export const stacksSectionReader: SectionReader = {
  name: 'stacks',
  keys: ['Proc.Thread'],
  start(line, context) {
    if (!/^Proc\.Thread\s+\.Thread/i.test(line.text)) return null;
    context.understood();
    return new StacksSection(context);
  },
};

class StacksSection implements Section {
  private process: { address: string | null; image: string } | null = null;
  private thread: ThreadEntity | null = null;
  private frames: StackFrame[] = [];

  constructor(private readonly context: ParseContext) {}

  accept({ text, number }: Line): boolean {
    if (text.length === 0) return true;
    const first = text.charCodeAt(0);
    const processLine = first === 91 /* [ */ ? PROCESS_LINE.exec(text) : null;
    if (processLine) {
      this.finishThread();
      const address = processLine[1] ? canonicalAddress(processLine[1]) : null;
      this.process = { address, image: processLine[2]!.trim() };
      if (address) setField(this.context.session.process(address), 'image', this.process.image, number);
      return true;
    }
    const row = (first >= 48 && first <= 57) || (first >= 97 && first <= 102) ? STACKS_ROW.exec(text) : null;
    if (row) {
      this.finishThread();
      const address = canonicalAddress(row[3]!);
      if (!address) return true;
      const thread = this.context.session.thread(address);
      addEvidenceLine(thread.evidence, number);
      setField(thread, 'pid', Number.parseInt(row[1]!, 16), number);
      setField(thread, 'tid', Number.parseInt(row[2]!, 16), number);
      if (this.process) {
        setField(thread, 'image', this.process.image, number);
        if (this.process.address) {
          setField(thread, 'process', this.process.address, number);
          const process = this.context.session.process(this.process.address);
          process.threads = addUnique(process.threads, thread.key);
        }
      }
      const blocked = row[5]!.toLowerCase() === 'blocked';
      if (blocked && thread.state === null) setField(thread, 'state', 'blocked', number);
      // Ticks is hex: clock ticks since the thread last ran. 15.625 ms is Windows' default clock interval; a value
      // with the top bit set is a tick count that wrapped or was never set, not a wait.
      const ticks = row[4] ? Number.parseInt(row[4], 16) : Number.NaN;
      if (blocked && ticks >= 0 && ticks < 0x80000000 && thread.waitTicks === null) {
        setField(thread, 'waitTicks', ticks, number);
        if (thread.waitMs === null) setField(thread, 'waitMs', Math.round(ticks * 15.625), number);
      }
      const blocker = row[6]!.trim();
      if (/^Stack paged out/i.test(blocker)) {
        setField(thread, 'stackNotResident', true, number);
      } else {
        const frame = describeCallSite(blocker, number);
        // `!stacks 2` shows the scheduler frame where `!stacks 1` shows the blocking one: keep the telling one.
        if (thread.blockerFrame === null || isSchedulerFrame(thread.blockerFrame)) setField(thread, 'blockerFrame', frame, number);
        this.frames = [frame];
      }
      this.thread = thread;
      return true;
    }
    if (this.thread && CONTINUATION_FRAME.test(text)) {
      this.frames.push(describeCallSite(text, number));
    }
    return true;
  }

  close(): void {
    this.finishThread();
  }

  private finishThread(): void {
    if (this.thread && this.frames.length > 1) attachFrames(this.thread, this.frames);
    this.thread = null;
    this.frames = [];
  }
}
