import type { SessionModel, ThreadEntity, TranscriptModel } from '../../services/engine/index.ts';
import { canonicalAddress } from '../../services/engine/index.ts';

/** Small lookups so that tests read like the facts they check. */
export function onlySession(model: TranscriptModel): SessionModel {
  if (model.sessions.length !== 1) throw new Error(`expected one session, got ${model.sessions.length}`);
  return model.sessions[0]!;
}

export function address(text: string): string {
  const canonical = canonicalAddress(text);
  if (!canonical) throw new Error(`not an address: ${text}`);
  return canonical;
}

export function threadAt(session: SessionModel, text: string): ThreadEntity {
  const key = address(text);
  const thread = session.threads.find((candidate) => candidate.key === key);
  if (!thread) throw new Error(`no thread ${key}; threads: ${session.threads.map((t) => t.key).join(', ')}`);
  return thread;
}

export function userThread(session: SessionModel, tid: number): ThreadEntity {
  const thread = session.threads.find((candidate) => candidate.tid === tid && candidate.address === null);
  if (!thread) throw new Error(`no user thread with tid ${tid.toString(16)}`);
  return thread;
}

export function byAddress<T extends { address: string }>(entities: T[], text: string): T {
  const key = address(text);
  const entity = entities.find((candidate) => candidate.address === key);
  if (!entity) throw new Error(`no entity at ${key}; have ${entities.map((e) => e.address).join(', ')}`);
  return entity;
}

export function callSites(thread: ThreadEntity): string[] {
  return thread.frames.map((frame) => frame.callSite);
}

/** The model without line numbers and in a canonical order: what must not change when the layout does. */
export function factsOf(model: TranscriptModel): unknown {
  return model.sessions.map((session) => ({
    mode: session.mode,
    processes: canonical(session.processes, (p) => p.address),
    threads: canonical(session.threads, (t) => t.key),
    alpcMessages: canonical(session.alpcMessages, (m) => m.address),
    alpcPorts: canonical(session.alpcPorts, (p) => p.address),
    irps: canonical(session.irps, (i) => i.address),
    fileObjects: canonical(session.fileObjects, (f) => f.address),
    workQueues: canonical(session.workQueues, (q) => q.key),
    workItems: canonical(session.workItems, (w) => w.address),
    locks: canonical(session.locks, (l) => `${l.lockKind}:${l.address}`),
    bugchecks: canonical(session.bugchecks, (b) => `${b.code}:${b.name}`),
    poolAllocations: canonical(session.poolAllocations, (p) => p.address),
  }));
}

function canonical<T>(entities: T[], key: (entity: T) => string): unknown[] {
  return [...entities].sort((a, b) => key(a).localeCompare(key(b))).map((entity) => withoutLines(entity));
}

function withoutLines(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLines);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [field, inner] of Object.entries(value)) {
      if (field === 'evidence' || field === 'line') continue;
      out[field] = withoutLines(inner);
    }
    return out;
  }
  return value;
}
