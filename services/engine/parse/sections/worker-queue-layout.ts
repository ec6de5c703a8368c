import { addressDistance } from '../../address-expression.ts';
import type { Address } from '../../address.ts';

/**
 * The layout of `nt!ExWorkerQueue` before Windows 10: an array of EX_WORK_QUEUE indexed by WORK_QUEUE_TYPE,
 * each a KQUEUE followed by counters. Kept as data: the offsets are those engineers read with `dd`
 * (DynamicThreadCount, and QueueDepthLastPass as the pending-item count).
 */
export const WORK_QUEUE_NAMES = ['Critical', 'Delayed', 'HyperCritical'] as const;

interface WorkQueueLayout {
  stride: number;
  fields: Record<number, 'dynamicThreads' | 'pendingItems'>;
}

const LAYOUT_64_BIT: WorkQueueLayout = { stride: 0x58, fields: { 0x40: 'dynamicThreads', 0x4c: 'pendingItems' } };
const LAYOUT_32_BIT: WorkQueueLayout = { stride: 0x3c, fields: { 0x28: 'dynamicThreads', 0x34: 'pendingItems' } };

export function layoutFor(address: Address): WorkQueueLayout {
  return address.startsWith('ffffffff') || address.startsWith('00000000') ? LAYOUT_32_BIT : LAYOUT_64_BIT;
}

export interface WorkQueueSlot {
  name: (typeof WORK_QUEUE_NAMES)[number];
  field: 'queue' | 'dynamicThreads' | 'pendingItems' | null;
}

/** Which queue (and which counter) an address inside the ExWorkerQueue array is. */
export function locateInWorkerQueueArray(base: Address, address: Address): WorkQueueSlot | null {
  const layout = layoutFor(base);
  const distance = addressDistance(base, address);
  if (distance < 0n) return null;
  const index = Number(distance / BigInt(layout.stride));
  const within = Number(distance % BigInt(layout.stride));
  const name = WORK_QUEUE_NAMES[index];
  if (!name) return null;
  if (within === 0) return { name, field: 'queue' };
  return { name, field: layout.fields[within] ?? null };
}
