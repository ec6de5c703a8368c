import { canonicalAddress } from '../../address.ts';
import { addEvidenceLine, noteField, setField } from '../../model/evidence.ts';
import type { WorkQueueEntity } from '../../model/types.ts';
import { describeCallSite } from '../frames.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';

const QUEUE_COUNTS = /current\s*=\s*(\d+)\s+maximum\s*=\s*(\d+)/i;
const QUEUE_THREADS = /Threads:\s*(\d+)\s*\/\s*(\d+)/i;
const QUEUE_ADDRESS = /\(\s*([0-9a-f`]{8,17})\s*\)/i;
const NODE = /\bNode\s+(\d+)\b/i;
const SYMBOL = /([A-Za-z_][\w.]*![\w@?$:~]+(?:\+0x[0-9a-f]+)?)/gi;
const FIRST_ADDRESS = /\b([0-9a-f`]{8,17})\b/i;

/**
 * `!exqueue`: one `**** <Name> WorkQueue` header per queue (legacy `( current = 0 maximum = 2 )` and
 * per-node layouts), its worker threads as `THREAD` rows, and `PENDING:` work items.
 */
export const exqueueSectionReader: SectionReader = {
  name: 'exqueue',
  keys: ['****', 'Dumping', 'PENDING:'],
  start(line, context) {
    const text = line.text;
    if (text.startsWith('Dumping ExWorkerQueue')) {
      const address = FIRST_ADDRESS.exec(text.slice('Dumping ExWorkerQueue'.length));
      const base = address ? canonicalAddress(address[1]!) : null;
      if (base && !context.session.symbols.has('nt!exworkerqueue')) context.session.symbols.set('nt!exworkerqueue', base);
      context.understood();
      return { accept: () => true };
    }
    if (text.startsWith('PENDING')) {
      if (!context.focusQueue) return null;
      readPending(context.focusQueue, text, line.number, context);
      return { accept: () => false };
    }
    const workQueue = text.indexOf('WorkQueue');
    if (workQueue === -1) return null;
    const words = text.slice(4, workQueue).trim().split(/\s+/).filter((word) => word.length > 0);
    const name = words[words.length - 1] ?? 'Unnamed';
    const node = NODE.exec(text);
    const key = node ? `Node${node[1]} ${name}` : name;
    const queue = context.session.workQueue(key);
    addEvidenceLine(queue.evidence, line.number);
    setField(queue, 'name', name, line.number);
    const details = text.slice(workQueue);
    const counts = QUEUE_COUNTS.exec(details);
    if (counts) {
      setField(queue, 'currentCount', Number(counts[1]), line.number);
      setField(queue, 'maximumCount', Number(counts[2]), line.number);
    }
    const threads = QUEUE_THREADS.exec(details);
    if (threads) setField(queue, 'maximumCount', Number(threads[2]), line.number);
    const address = QUEUE_ADDRESS.exec(details);
    if (address) setField(queue, 'address', canonicalAddress(address[1]!), line.number);
    context.focusQueue = queue;
    context.focusThread = null;
    context.understood();
    return new ExqueueSection(queue, context);
  },
};

class ExqueueSection implements Section {
  constructor(
    private readonly queue: WorkQueueEntity,
    private readonly context: ParseContext,
  ) {}

  accept({ text, number }: Line): boolean {
    if (/^PENDING/i.test(text)) readPending(this.queue, text, number, this.context);
    return true;
  }
}

function readPending(queue: WorkQueueEntity, text: string, line: number, context: ParseContext): void {
  setField(queue, 'hasPendingItems', true, line);
  const symbols = [...text.matchAll(SYMBOL)].map((match) => match[1]!);
  const routine = symbols.find((symbol) => !/IopProcessWorkItem/i.test(symbol)) ?? symbols[0];
  const address = FIRST_ADDRESS.exec(text);
  const item = address ? canonicalAddress(address[1]!) : null;
  if (!routine || !item) return;
  const entity = context.session.workItem(item, routine, describeCallSite(routine, line));
  entity.queue = queue.key;
  addEvidenceLine(entity.evidence, line);
  noteField(entity.evidence, 'routine', line);
}
