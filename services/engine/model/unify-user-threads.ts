import { mergeEvidence } from './evidence.ts';
import { mergeFrames } from './merge-frames.ts';
import { addUnique, addUniqueBy } from './lists.ts';
import type { HandleEntity, LockEntity, ProcessEntity, ThreadEntity } from './types.ts';

/** The parts of a session under construction that hold thread keys. */
export interface ThreadRegistry {
  threads: Map<string, ThreadEntity>;
  locks: Map<string, LockEntity>;
  processes: Map<string, ProcessEntity>;
  handles: Map<string, HandleEntity>;
  debuggerThreadIds: Map<number, string>;
  currentThreadKey: string | null;
}

/**
 * A stack printed by `~6 kb` before the `~` list said which thread is number 6 was filed under `user:#6`.
 * Once the session is read, such threads join the thread they turned out to be, and every reference follows.
 */
export function unifyUserThreads(session: ThreadRegistry): void {
  const renamed = new Map<string, string>();
  for (const thread of [...session.threads.values()]) {
    if (!thread.key.startsWith('user:#') || thread.debuggerId === null) continue;
    const target = resolveTarget(session, thread);
    if (!target || target === thread) continue;
    mergeThread(target, thread);
    session.threads.delete(thread.key);
    renamed.set(thread.key, target.key);
  }
  if (renamed.size === 0) return;
  const rename = (key: string | null): string | null => (key === null ? null : renamed.get(key) ?? key);
  for (const lock of session.locks.values()) {
    for (const owner of lock.owners) owner.thread = rename(owner.thread);
    lock.waiters = [...new Set(lock.waiters.map((waiter) => rename(waiter)!))];
  }
  for (const handle of session.handles.values()) handle.thread = rename(handle.thread);
  for (const process of session.processes.values()) process.threads = [...new Set(process.threads.map((key) => rename(key)!))];
  for (const [id, key] of session.debuggerThreadIds) session.debuggerThreadIds.set(id, rename(key)!);
  session.currentThreadKey = rename(session.currentThreadKey);
}

function resolveTarget(session: ThreadRegistry, thread: ThreadEntity): ThreadEntity | undefined {
  const byId = session.debuggerThreadIds.get(thread.debuggerId!);
  if (byId && byId !== thread.key) return session.threads.get(byId);
  if (thread.tid !== null) return session.threads.get(`user:${thread.tid.toString(16)}`);
  return undefined;
}

/** Fills what `target` lacks from `source`; the longer stack wins. */
function mergeThread(target: ThreadEntity, source: ThreadEntity): void {
  const writable = target as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(source)) {
    if (field === 'key' || field === 'evidence' || value === null) continue;
    if (Array.isArray(value)) continue;
    if (writable[field] === null) writable[field] = value;
  }
  target.frames = mergeFrames(target.frames, source.frames);
  for (const irp of source.irps) target.irps = addUnique(target.irps, irp);
  for (const object of source.waitObjects) target.waitObjects = addUniqueBy(target.waitObjects, object, (item) => item.address);
  mergeEvidence(target.evidence, source.evidence);
}
