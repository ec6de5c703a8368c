import { canonicalAddress } from '../../address.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { HandleEntity } from '../../model/types.ts';
import type { CommandReader, Line, ParseContext, Section } from '../section.ts';

const HANDLE_LINE = /^Handle\s+(?:0x)?([0-9a-f]{1,16})$/i;
const TYPE_LINE = /^Type\s+([A-Za-z]\w{0,40})$/;
const THREAD_ID_LINE = /^Thread Id\s+([0-9a-f]{1,8})\.([0-9a-f]{1,8})$/i;

/**
 * User-mode `!handle <h> f`: what a handle refers to. A Thread handle names its thread (`Thread Id 1f2c.2408`),
 * which is what a thread blocked in `WaitForSingleObject(<h>)` waits for.
 */
export const handleReader: CommandReader = {
  name: 'handle',
  commands: ['!handle'],
  start(_line, context) {
    return new HandleSection(context);
  },
};

class HandleSection implements Section {
  private handle: HandleEntity | null = null;

  constructor(private readonly context: ParseContext) {}

  accept({ text, number }: Line): boolean {
    const header = HANDLE_LINE.exec(text);
    if (header) {
      const value = canonicalAddress(header[1]!);
      this.handle = value ? this.context.session.handle(value) : null;
      if (this.handle) {
        addEvidenceLine(this.handle.evidence, number);
        this.context.understood();
      }
      return true;
    }
    const handle = this.handle;
    if (!handle) return true;
    const type = TYPE_LINE.exec(text);
    if (type) {
      setField(handle, 'objectType', type[1]!, number);
      return true;
    }
    const threadId = handle.objectType === 'Thread' ? THREAD_ID_LINE.exec(text) : null;
    if (threadId) {
      const thread = this.context.session.userThread(Number.parseInt(threadId[2]!, 16), null);
      if (thread.pid === null) setField(thread, 'pid', Number.parseInt(threadId[1]!, 16), number);
      addEvidenceLine(thread.evidence, number);
      setField(handle, 'thread', thread.key, number);
    }
    return true;
  }
}
