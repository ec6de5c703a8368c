import { canonicalAddress } from '../../address.ts';
import { addUniqueBy } from '../../model/lists.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { ThreadEntity } from '../../model/types.ts';
import type { CommandReader, Line, ParseContext, Section } from '../section.ts';
import { parseMexDuration } from './wait-duration.ts';

const MEX_THREAD_ROW =
  /^(\S+)\s+\(([0-9a-f`]{8,17})\)\s+([0-9a-f`]{8,17})\s+\([^)]*\)\s+([0-9a-f]{1,8})\.([0-9a-f]{1,8})\s+\S+\s+\S+\s+(\d+)\s+(\w+)\s+(\S+)\s+(\w+)/i;
const MEX_LIST_ROW = /^(\S+)\s+(\d{1,8})\s+([0-9a-f`]{8,17})\s+([0-9a-f]{1,8})\s+(\w+)\s+(\S+)\s+(\w+)/i;
const WAIT_BLOCK = /^([0-9a-f`]{8,17})\s+([A-Za-z]+)\s+\d+$/i;

const MEX_STATES: Record<string, ThreadEntity['state']> = { waiting: 'waiting', running: 'running', ready: 'ready' };

function readRowState(thread: ThreadEntity, state: string, reason: string, time: string, line: number): void {
  setField(thread, 'state', MEX_STATES[state.toLowerCase()] ?? 'unknown', line);
  if (state.toLowerCase() === 'waiting') setField(thread, 'waitReason', reason, line);
  setField(thread, 'waitMs', parseMexDuration(time), line);
}

/** MEX `!mex.t <thread>`: the summary row, the wait block list; its stack table follows as a `#` header. */
export const mexThreadReader: CommandReader = {
  name: 'mex-thread',
  commands: ['!mex.t', '!t'],
  start(_line, context) {
    return new MexThreadSection(context);
  },
};

class MexThreadSection implements Section {
  private thread: ThreadEntity | null = null;

  constructor(private readonly context: ParseContext) {}

  accept({ text, number }: Line): boolean {
    const row = MEX_THREAD_ROW.exec(text);
    if (row) {
      const address = canonicalAddress(row[3]!);
      const process = canonicalAddress(row[2]!);
      if (!address) return true;
      const thread = this.context.session.thread(address);
      addEvidenceLine(thread.evidence, number);
      setField(thread, 'image', row[1]!, number);
      setField(thread, 'process', process, number);
      setField(thread, 'pid', Number.parseInt(row[4]!, 16), number);
      setField(thread, 'tid', Number.parseInt(row[5]!, 16), number);
      setField(thread, 'contextSwitches', Number(row[6]), number);
      readRowState(thread, row[9]!, row[7]!, row[8]!, number);
      if (process) setField(this.context.session.process(process), 'image', row[1]!, number);
      this.thread = thread;
      this.context.focusThread = thread;
      this.context.understood();
      return true;
    }
    const waitBlock = WAIT_BLOCK.exec(text);
    if (waitBlock && this.thread) {
      const address = canonicalAddress(waitBlock[1]!);
      if (address) setField(this.thread, 'waitObjects', addUniqueBy(this.thread.waitObjects, { address, type: waitBlock[2]! }, (object) => object.address), number);
    }
    return true;
  }
}

/** MEX `!mex.lt` / `!lt`: one row per thread (process, PID, thread, id, state, time, reason). */
export const mexThreadListReader: CommandReader = {
  name: 'mex-thread-list',
  commands: ['!mex.lt', '!lt'],
  start(_line, context) {
    return {
      accept({ text, number }: Line): boolean {
        const row = MEX_LIST_ROW.exec(text);
        if (!row) return true;
        const address = canonicalAddress(row[3]!);
        if (!address) return true;
        const thread = context.session.thread(address);
        addEvidenceLine(thread.evidence, number);
        setField(thread, 'image', row[1]!, number);
        setField(thread, 'pid', Number(row[2]), number);
        setField(thread, 'tid', Number.parseInt(row[4]!, 16), number);
        readRowState(thread, row[5]!, row[7]!, row[6]!, number);
        context.understood();
        return true;
      },
    };
  },
};
