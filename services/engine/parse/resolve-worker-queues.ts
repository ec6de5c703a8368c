import { evaluateAddress } from '../address-expression.ts';
import { addUnique } from '../model/lists.ts';
import { fieldLines, mergeEvidence, setField } from '../model/evidence.ts';
import type { SessionBuilder } from '../model/session-builder.ts';
import type { WorkQueueEntity } from '../model/types.ts';
import { locateInWorkerQueueArray } from './sections/worker-queue-layout.ts';

const WORKER_QUEUE_SYMBOL = 'nt!exworkerqueue';

/**
 * Names the queues dumped with `dt nt!_KQUEUE` and reads the `dd` counters once the whole session is known,
 * so the answer does not depend on whether `x nt!ExWorkerQueue` came before or after them.
 */
export function resolveWorkerQueues(session: SessionBuilder): void {
  const base = session.symbols.get(WORKER_QUEUE_SYMBOL) ?? session.workerQueueBaseCandidates[0] ?? null;
  for (const dump of session.workQueueDumps) {
    const queue = session.workQueues.get(dump.key);
    const address = evaluateAddress(dump.expression, session.symbols);
    if (!queue || !address) continue;
    const firstLine = queue.evidence.lines[0] ?? dump.line;
    setField(queue, 'address', address, firstLine);
    if (dump.entryListOffset !== null && queue.entryListFlink !== null) {
      // An empty LIST_ENTRY points at itself.
      const head = evaluateAddress({ base: address, offsets: [BigInt(dump.entryListOffset)] }, session.symbols);
      const [line] = fieldLines(queue.evidence, 'entryListFlink');
      setField(queue, 'hasPendingItems', queue.entryListFlink !== head || queue.entryListBlink !== head, line ?? firstLine);
    }
    const slot = base && !dump.perNode ? locateInWorkerQueueArray(base, address) : null;
    if (slot?.field === 'queue') renameQueue(session, queue, slot.name);
  }
  if (!base) return;
  for (const read of session.memoryReads) {
    const address = evaluateAddress(read.expression, session.symbols);
    const slot = address ? locateInWorkerQueueArray(base, address) : null;
    if (!slot || (slot.field !== 'dynamicThreads' && slot.field !== 'pendingItems')) continue;
    const queue = session.workQueue(slot.name);
    queue.name = slot.name;
    setField(queue, slot.field, read.value, read.line);
    if (slot.field === 'pendingItems' && read.value > 0) setField(queue, 'hasPendingItems', true, read.line);
  }
}

function renameQueue(session: SessionBuilder, queue: WorkQueueEntity, name: string): void {
  session.workQueues.delete(queue.key);
  const existing = session.workQueues.get(name);
  if (!existing) {
    queue.key = name;
    queue.name = name;
    session.workQueues.set(name, queue);
    return;
  }
  // `!exqueue` listed the same queue: one entity with both sets of facts and lines.
  for (const field of Object.keys(queue) as (keyof WorkQueueEntity)[]) {
    if (field === 'key' || field === 'evidence' || field === 'threads') continue;
    if (existing[field] === null && queue[field] !== null) (existing as unknown as Record<string, unknown>)[field] = queue[field];
  }
  for (const thread of queue.threads) existing.threads = addUnique(existing.threads, thread);
  mergeEvidence(existing.evidence, queue.evidence);
}
