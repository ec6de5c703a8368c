import { canonicalAddress } from '../address.ts';
import { fieldLines } from '../model/evidence.ts';
import { compareText } from '../compare-text.ts';
import type { IrpEntity, LockEntity, SessionModel, StackFrame, ThreadEntity, WaitObject, WorkQueueEntity } from '../model/types.ts';
import { driverModule, isDispatchFrame, isPassThroughLayer, isWaitFrame } from './os-modules.ts';

export type NodeKind = 'thread' | 'process' | 'alpc-message' | 'irp' | 'driver' | 'work-queue' | 'lock' | 'bugcheck';

export type Relation =
  | 'waits-for-reply'
  | 'served-by'
  | 'queued-at-process'
  | 'peer-in-process'
  | 'waits-for-irp'
  | 'pending-in-driver'
  | 'worked-by'
  | 'awaits-completion'
  | 'work-queued-in'
  | 'serviced-by-worker'
  | 'waits-for-lock'
  | 'waits-for-thread'
  | 'owned-by'
  | 'names';

/** Stronger relations are followed first when a node has several ways on. */
const RELATION_PRIORITY: Record<Relation, number> = {
  names: 0,
  'waits-for-lock': 1,
  'waits-for-thread': 1,
  'owned-by': 1,
  'waits-for-reply': 2,
  'served-by': 2,
  'queued-at-process': 3,
  'waits-for-irp': 2,
  'pending-in-driver': 2,
  'work-queued-in': 2,
  'serviced-by-worker': 2,
  'worked-by': 3,
  'awaits-completion': 3,
  'peer-in-process': 5,
};

export interface GraphEdge {
  from: string;
  to: string;
  relation: Relation;
  evidence: number[];
  /** Weak edges are inferences (a peer thread of the same process), not links the debugger printed. */
  weak: boolean;
  /** Among edges of one relation, lower is followed first (a pending IRP before one that is not). */
  order: number;
}

export interface GraphNode {
  id: string;
  kind: NodeKind;
  /** The entity's own key (thread key, address, driver name, queue key…). */
  ref: string;
  label: string;
}

export interface WaitGraph {
  nodes: Map<string, GraphNode>;
  edges: Map<string, GraphEdge[]>;
  session: SessionModel;
  threads: Map<string, ThreadEntity>;
  /** Threads that appear only as a reference (a server thread, an owner) with nothing the debugger printed. */
  undumped: Set<string>;
  index: SessionIndex;
}

/** Lookups by address and by module, built once: the graph is linear in the size of the model. */
interface SessionIndex {
  processes: Map<string, SessionModel['processes'][number]>;
  irps: Map<string, IrpEntity>;
  messages: Map<string, SessionModel['alpcMessages'][number]>;
  files: Map<string, SessionModel['fileObjects'][number]>;
  /** Blocked threads by the (lower-case) modules their stacks run. */
  blockedByModule: Map<string, ThreadEntity[]>;
  ownerImageOfProcess: Map<string, string>;
  queues: Map<string, WorkQueueEntity>;
  locks: Map<string, LockEntity>;
  /** Processes with at least one thread the debugger printed. */
  processesWithDumpedThreads: Set<string>;
  /** ALPC messages whose `!alpc /m` was printed (not only named by a waiting thread). */
  dumpedMessages: Set<string>;
}

function indexSession(session: SessionModel): SessionIndex {
  const blockedByModule = new Map<string, ThreadEntity[]>();
  for (const thread of session.threads) {
    if (!isBlocked(thread)) continue;
    const modules = new Set(thread.frames.map((frame) => frame.module?.toLowerCase()).filter((module): module is string => module !== undefined && module !== null));
    for (const module of modules) {
      const list = blockedByModule.get(module) ?? [];
      list.push(thread);
      blockedByModule.set(module, list);
    }
  }
  const ownerImageOfProcess = new Map<string, string>();
  for (const message of session.alpcMessages) {
    if (message.queuePortOwnerProcess && message.queuePortOwnerImage) ownerImageOfProcess.set(message.queuePortOwnerProcess, message.queuePortOwnerImage);
  }
  return {
    processes: new Map(session.processes.map((process) => [process.address, process])),
    irps: new Map(session.irps.map((irp) => [irp.address, irp])),
    messages: new Map(session.alpcMessages.map((message) => [message.address, message])),
    files: new Map(session.fileObjects.map((file) => [file.address, file])),
    blockedByModule,
    ownerImageOfProcess,
    queues: new Map(session.workQueues.map((queue) => [queue.key, queue])),
    locks: new Map(session.locks.map((lock) => [lock.address, lock])),
    dumpedMessages: new Set(
      session.alpcMessages.filter((message) => message.type !== null || message.queueType !== null || 'serverThread' in message.evidence.fields).map((message) => message.address),
    ),
    processesWithDumpedThreads: new Set(session.threads.filter((thread) => thread.process !== null && !isUndumped(thread)).map((thread) => thread.process!)),
  };
}

export const threadId = (key: string) => `thread:${key}`;
export const processId = (address: string) => `process:${address}`;
export const alpcId = (address: string) => `alpc-message:${address}`;
export const irpId = (address: string) => `irp:${address}`;
export const driverId = (name: string) => `driver:${name.toLowerCase()}`;
export const queueId = (key: string) => `work-queue:${key}`;
export const lockId = (lock: LockEntity) => `lock:${lock.lockKind}:${lock.address}`;

const ENTER_CRITICAL_SECTION = /^(RtlEnterCriticalSection|RtlpWaitForCriticalSection|RtlpWaitOnCriticalSection|RtlpEnterCriticalSectionContended)$/;
const ACQUIRE_RESOURCE = /^_?(ExAcquireResource\w*|ExpWaitForResource\w*|ExAcquireSharedStarveExclusive|ExAcquireSharedWaitForExclusive)$/;
const MONITOR_ENTER = /^System\.Threading\.Monitor\.(ReliableEnter|Enter)\b/;
/** `Contoso.Billing.JournalWriter.Append(System.String)` → `Contoso.Billing.JournalWriter`. */
const MANAGED_METHOD_TYPE = /^([\w.+`]+)\.[^.(]+\(/;
/** Reader/writer locks record no owner: a waiter still shows which lock, by the first argument. */
const ACQUIRE_RW_LOCK = /^(RtlAcquireSRWLock(Exclusive|Shared)|RtlpAcquireSRWLock\w*|ExfAcquirePushLock(Exclusive|Shared)\w*|ExAcquirePushLock(Exclusive|Shared)\w*)$/;

/** A thread known only by reference: nothing about its state was printed. */
export function isUndumped(thread: ThreadEntity | undefined): boolean {
  return thread === undefined || (thread.frames.length === 0 && thread.state === null && thread.waitReason === null && thread.blockerFrame === null);
}

/** Builds the wait-for graph of one session: every edge points from a waiter to what it waits for. */
export function buildWaitGraph(session: SessionModel): WaitGraph {
  const graph: WaitGraph = {
    nodes: new Map(),
    edges: new Map(),
    session,
    threads: new Map(session.threads.map((thread) => [thread.key, thread])),
    undumped: new Set(),
    index: indexSession(session),
  };
  for (const thread of session.threads) if (isUndumped(thread)) graph.undumped.add(thread.key);
  addAlpcEdges(graph);
  addIrpEdges(graph);
  addWorkQueueEdges(graph);
  addLockEdges(graph);
  addThreadWaitEdges(graph);
  addBugcheckEdges(graph);
  addPeerEdges(graph);
  for (const list of graph.edges.values()) {
    list.sort((a, b) => RELATION_PRIORITY[a.relation] - RELATION_PRIORITY[b.relation] || a.order - b.order || compareText(a.to, b.to));
  }
  return graph;
}

/** A node; its label is written only if a finding shows it (most threads of a big dump are never shown). */
class LazyNode implements GraphNode {
  constructor(
    readonly id: string,
    readonly kind: NodeKind,
    readonly ref: string,
    private source: string | (() => string),
  ) {}

  get label(): string {
    if (typeof this.source === 'function') this.source = this.source();
    return this.source;
  }
}

function node(graph: WaitGraph, id: string, kind: NodeKind, ref: string, label: string | (() => string)): string {
  if (!graph.nodes.has(id)) graph.nodes.set(id, new LazyNode(id, kind, ref, label));
  return id;
}

/** The node of a thread, its label written lazily. */
export function threadNode(graph: WaitGraph, key: string): string {
  const id = threadId(key);
  if (graph.nodes.has(id)) return id;
  return node(graph, id, 'thread', key, () => {
    const thread = graph.threads.get(key);
    const label = thread ? `${thread.image ?? 'thread'} ${thread.address ?? (thread.tid !== null ? `tid ${thread.tid.toString(16)}` : key)}` : `thread ${key}`;
    // The files a thread's I/O is about say what it was doing (`\DC005.contoso.com\PIPE\lsarpc`).
    const files = thread ? filesOf(graph, thread) : [];
    return files.length > 0 ? `${label} (${files.join(', ')})` : label;
  });
}

function filesOf(graph: WaitGraph, thread: ThreadEntity): string[] {
  const names = new Set<string>();
  for (const address of thread.irps) {
    const irp = graph.index.irps.get(address);
    for (const location of irp?.stack ?? []) {
      const file = location.file ? graph.index.files.get(location.file) : undefined;
      if (file?.fileName) names.add(file.fileName);
    }
  }
  return [...names];
}

const edgeTargets = new WeakMap<GraphEdge[], Set<string>>();

function edge(graph: WaitGraph, from: string, to: string, relation: Relation, evidence: number[], weak = false, order = 0): void {
  if (from === to) return;
  let list = graph.edges.get(from);
  if (!list) {
    list = [];
    graph.edges.set(from, list);
    edgeTargets.set(list, new Set());
  }
  const targets = edgeTargets.get(list)!;
  if (targets.has(to)) return;
  targets.add(to);
  list.push({ from, to, relation, evidence: evidence.length <= 1 ? evidence : [...new Set(evidence)].sort((a, b) => a - b), weak, order });
}

function addAlpcEdges(graph: WaitGraph): void {
  const messages = graph.index.messages;
  for (const thread of graph.session.threads) {
    if (!thread.alpcWait || thread.waitReason === 'Suspended') continue;
    const message = messages.get(thread.alpcWait.message);
    const id = node(graph, alpcId(thread.alpcWait.message), 'alpc-message', thread.alpcWait.message, `ALPC message ${thread.alpcWait.message}`);
    edge(graph, threadNode(graph, thread.key), id, 'waits-for-reply', [...fieldLines(thread.evidence, 'alpcWait'), ...(message ? fieldLines(message.evidence, 'waitingThread') : [])]);
    if (!message && thread.alpcWait.ownerProcess) {
      edge(graph, id, processNode(graph, thread.alpcWait.ownerProcess), 'queued-at-process', fieldLines(thread.evidence, 'alpcWait'));
    }
  }
  for (const message of graph.session.alpcMessages) {
    const id = node(graph, alpcId(message.address), 'alpc-message', message.address, `ALPC message ${message.address}`);
    if (message.waitingThread) {
      const waiter = graph.threads.get(message.waitingThread);
      if (waiter?.waitReason !== 'Suspended') edge(graph, threadNode(graph, message.waitingThread), id, 'waits-for-reply', fieldLines(message.evidence, 'waitingThread'));
    }
    if (message.serverThread) {
      edge(graph, id, threadNode(graph, message.serverThread), 'served-by', fieldLines(message.evidence, 'serverThread'));
    } else if (message.queuePortOwnerProcess) {
      edge(graph, id, processNode(graph, message.queuePortOwnerProcess), 'queued-at-process', [
        ...fieldLines(message.evidence, 'serverThread'),
        ...fieldLines(message.evidence, 'queuePortOwnerProcess'),
      ]);
    }
  }
}

function processNode(graph: WaitGraph, address: string): string {
  const image = graph.index.processes.get(address)?.image ?? graph.index.ownerImageOfProcess.get(address);
  return node(graph, processId(address), 'process', address, `${image ?? 'process'} ${address}`);
}

function irpNode(graph: WaitGraph, irp: IrpEntity): string {
  return node(graph, irpId(irp.address), 'irp', irp.address, `IRP ${irp.address.startsWith('expr:') ? irp.address.slice(5) : irp.address}`);
}

function framesOfModule(thread: ThreadEntity, module: string): StackFrame[] {
  const wanted = module.toLowerCase();
  return thread.frames.filter((frame) => frame.module?.toLowerCase() === wanted);
}

function blockedRunning(graph: WaitGraph, module: string): ThreadEntity[] {
  return graph.index.blockedByModule.get(module.toLowerCase()) ?? [];
}

function isBlocked(thread: ThreadEntity): boolean {
  return thread.state === 'waiting' || thread.state === 'blocked' || (thread.state === null && thread.frames.some(isWaitFrame));
}

function addIrpEdges(graph: WaitGraph): void {
  const irps = graph.index.irps;
  for (const thread of graph.session.threads) {
    for (const address of thread.irps) {
      const irp = irps.get(address);
      if (!irp || !irp.currentDriver) continue; // not dumped: reported as missing by the analysis
      const evidence = [...fieldLines(thread.evidence, 'irps'), ...fieldLines(irp.evidence, 'thread')];
      edge(graph, threadNode(graph, thread.key), irpNode(graph, irp), 'waits-for-irp', evidence, false, irp.pending ? 0 : 1);
    }
  }
  const workedDrivers = new Set<string>();
  // A thread listed as waiting for a lock waits for the lock, not for work: it does not work for the driver.
  const lockWaiters = new Set<string>();
  for (const lock of graph.session.locks) for (const waiter of lock.waiters) lockWaiters.add(waiter);
  // One IRP stands for all IRPs a module sent to the same driver: threads of the module await it.
  const sentBy = new Map<string, IrpEntity>();
  for (const irp of graph.session.irps) {
    if (!irp.currentDriver) continue;
    const driver = node(graph, driverId(irp.currentDriver), 'driver', irp.currentDriver, irp.currentDriver);
    edge(graph, irpNode(graph, irp), driver, 'pending-in-driver', [...fieldLines(irp.evidence, 'currentDriver'), ...fieldLines(irp.evidence, 'pending')]);
    const module = driverModule(irp.currentDriver);
    if (!workedDrivers.has(driver)) {
      workedDrivers.add(driver);
      // Threads running the driver's code work for it (the IRP's own thread waits, it does not work).
      for (const thread of blockedRunning(graph, module)) {
        if (thread.irps.length > 0 && thread.irps.every((address) => graph.index.irps.get(address)?.currentDriver === irp.currentDriver)) continue;
        if (lockWaiters.has(thread.key)) continue;
        const frames = framesOfModule(thread, module);
        edge(graph, driver, threadNode(graph, thread.key), 'worked-by', frames.map((frame) => frame.line));
      }
    }
    // A pending IRP whose completion routine is in module M was sent by M: a thread blocked in M awaits it.
    const issuer = irp.stack.find((location) => location.current)?.completionRoutine;
    if (!irp.pending || !issuer || issuer.indexOf('!') <= 0) continue;
    const issuerModule = issuer.slice(0, issuer.indexOf('!'));
    if (issuerModule.toLowerCase() === module.toLowerCase()) continue;
    // A layer every I/O passes (FltMgr, partmgr, CLASSPNP) sets its routine on every IRP: it does not say who waits,
    // and every thread blocked anywhere in that layer would be linked. Its waiter is the IRP's thread (`waits-for-irp`).
    if (isPassThroughLayer(issuerModule)) continue;
    const group = `${issuerModule.toLowerCase()}>${driver}`;
    if (!sentBy.has(group)) sentBy.set(group, irp);
  }
  for (const [group, irp] of sentBy) {
    const [issuerModule] = group.split('>') as [string];
    const module = driverModule(irp.currentDriver!);
    for (const thread of blockedRunning(graph, issuerModule)) {
      // Running the holding driver's own code means working on the IRP, not waiting for it.
      if (framesOfModule(thread, module).length > 0 || thread.key === irp.thread) continue;
      const frames = framesOfModule(thread, issuerModule);
      edge(graph, threadNode(graph, thread.key), irpNode(graph, irp), 'awaits-completion', [...frames.map((frame) => frame.line), ...fieldLines(irp.evidence, 'stack').slice(0, 2)]);
    }
  }
}

/** The work routine a worker thread runs: the frame that called into the driver, right above the dispatch frames. */
export function workRoutineOf(thread: ThreadEntity): StackFrame | null {
  const dispatch = thread.frames.findIndex(isDispatchFrame);
  if (dispatch <= 0) return null;
  for (let i = dispatch - 1; i >= 0; i--) {
    const frame = thread.frames[i]!;
    if (!isWaitFrame(frame) && frame.module) return frame;
  }
  return null;
}

function isWorkerThread(thread: ThreadEntity): boolean {
  return (thread.startAddress?.includes('ExpWorkerThread') ?? false) || thread.frames.some((frame) => frame.function === 'ExpWorkerThread');
}

function addWorkQueueEdges(graph: WaitGraph): void {
  const starved = graph.session.workQueues.filter((queue) => queue.hasPendingItems === true);
  const itemsByQueue = new Map<string, typeof graph.session.workItems>();
  for (const item of graph.session.workItems) {
    if (!item.queue) continue;
    const list = itemsByQueue.get(item.queue) ?? [];
    list.push(item);
    itemsByQueue.set(item.queue, list);
  }
  const itemsByModule = new Map<string, typeof graph.session.workItems>();
  for (const item of graph.session.workItems) {
    if (!item.queue || !item.module) continue;
    const list = itemsByModule.get(item.module.toLowerCase()) ?? [];
    list.push(item);
    itemsByModule.set(item.module.toLowerCase(), list);
  }
  // A driver with pending IRPs and no thread running its code: its queued work items say where its work waits.
  for (const driver of [...graph.nodes.values()].filter((candidate) => candidate.kind === 'driver')) {
    if ((graph.edges.get(driver.id) ?? []).some((existing) => existing.relation === 'worked-by')) continue;
    const byQueue = new Map<string, typeof graph.session.workItems>();
    for (const item of itemsByModule.get(driverModule(driver.ref).toLowerCase()) ?? []) {
      const list = byQueue.get(item.queue!) ?? [];
      list.push(item);
      byQueue.set(item.queue!, list);
    }
    for (const [queueKey, mine] of byQueue) {
      edge(graph, driver.id, queueNode(graph, graph.index.queues.get(queueKey), queueKey), 'work-queued-in', mine.slice(0, 3).flatMap((item) => item.evidence.lines));
    }
  }
  // Each blocked worker thread once: the queue holding its work routine, or the only starved queue.
  const queuesByRoutine = new Map<string, Set<WorkQueueEntity>>();
  for (const queue of starved) {
    for (const item of itemsByQueue.get(queue.key) ?? []) {
      const routine = item.routine.toLowerCase();
      const set = queuesByRoutine.get(routine) ?? new Set();
      set.add(queue);
      queuesByRoutine.set(routine, set);
    }
    for (const key of queue.threads) {
      const thread = graph.threads.get(key);
      if (thread && isBlocked(thread)) edge(graph, queueNode(graph, queue, queue.key), threadNode(graph, key), 'serviced-by-worker', thread.evidence.lines.slice(0, 1));
    }
  }
  const onlyStarved = starved.length === 1 && (itemsByQueue.get(starved[0]!.key) ?? []).length === 0 ? starved[0]! : null;
  for (const thread of graph.session.threads) {
    if (!isBlocked(thread) || !isWorkerThread(thread)) continue;
    const routine = workRoutineOf(thread);
    if (!routine) continue;
    const holding = queuesByRoutine.get(`${routine.module}!${routine.function}`.toLowerCase());
    const queue = holding ? nearestBefore(holding, thread.evidence.lines[0] ?? 0) : onlyStarved;
    if (queue) edge(graph, queueNode(graph, queue, queue.key), threadNode(graph, thread.key), 'serviced-by-worker', [routine.line]);
  }
}

/**
 * A worker serves one queue. When several hold its routine (transcripts of several dumps), the one printed last
 * before the thread is taken: one edge per worker keeps the graph linear however many queues there are.
 */
const byFirstLine = new WeakMap<Set<WorkQueueEntity>, WorkQueueEntity[]>();

function nearestBefore(queues: Set<WorkQueueEntity>, line: number): WorkQueueEntity {
  let sorted = byFirstLine.get(queues);
  if (!sorted) {
    sorted = [...queues].sort((a, b) => (a.evidence.lines[0] ?? 0) - (b.evidence.lines[0] ?? 0));
    byFirstLine.set(queues, sorted);
  }
  let low = 0;
  let high = sorted.length - 1;
  let chosen = 0;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle]!.evidence.lines[0] ?? 0) <= line) {
      chosen = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return sorted[chosen]!;
}

function queueNode(graph: WaitGraph, queue: WorkQueueEntity | undefined, key: string): string {
  const facts = [
    queue?.pendingItems != null ? `${queue.pendingItems} items pending` : queue?.hasPendingItems ? 'items pending' : null,
    queue?.dynamicThreads != null ? `${queue.dynamicThreads} dynamic threads` : null,
    queue?.maximumCount != null ? `limit ${queue.maximumCount}` : null,
  ].filter((fact) => fact !== null);
  return node(graph, queueId(key), 'work-queue', key, `${queue?.name ?? key} work queue${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`);
}

function addLockEdges(graph: WaitGraph): void {
  const byAddress = new Map<string, LockEntity>();
  for (const lock of graph.session.locks) byAddress.set(lock.address, lock);
  const monitors = graph.session.locks.filter((lock) => lock.lockKind === 'monitor' && lock.locked !== false);
  // The loader lock is a critical section too: a thread in LdrLoadDll waits for it like any other.
  const heldCriticalSections = new HeldLocks(graph.session.locks.filter((lock) => lock.lockKind === 'critical-section' || lock.lockKind === 'loader-lock'));
  const heldMonitors = new HeldLocks(monitors);
  const monitorsByType = new Map<string, LockEntity[]>();
  for (const monitor of monitors) {
    const type = monitor.symbol?.split(' @ ')[0];
    if (type) monitorsByType.set(type, [...(monitorsByType.get(type) ?? []), monitor]);
  }
  for (const lock of graph.session.locks) {
    const id = node(graph, lockId(lock), 'lock', lock.address, `${lock.lockKind} ${lock.symbol ?? lock.address}`);
    for (const owner of lock.owners) {
      if (owner.thread) edge(graph, id, threadNode(graph, owner.thread), 'owned-by', [owner.line, ...fieldLines(lock.evidence, 'owners').slice(0, 1)]);
    }
    for (const waiter of lock.waiters) edge(graph, threadNode(graph, waiter), id, 'waits-for-lock', fieldLines(lock.evidence, 'waiters'));
  }
  for (const thread of graph.session.threads) {
    for (const [index, frame] of thread.frames.entries()) {
      const fn = frame.function ?? '';
      let lock: LockEntity | undefined;
      if (ENTER_CRITICAL_SECTION.test(fn) || ACQUIRE_RESOURCE.test(fn)) lock = frame.args[0] ? byAddress.get(frame.args[0]) : undefined;
      else if (MONITOR_ENTER.test(fn)) lock = monitors.length === 1 ? monitors[0] : monitorByCaller(thread.frames, index, monitorsByType);
      // x64 `kb` args are often not the lock, and `!cs -o`/`k` print none: if only one locked critical section is
      // held by another thread, that is the one this thread waits for (the ABBA case: each owner waits on the other).
      if (!lock && ENTER_CRITICAL_SECTION.test(fn)) lock = heldCriticalSections.onlyOneNotHeldBy(thread.key);
      if (!lock && MONITOR_ENTER.test(fn)) lock = heldMonitors.onlyOneNotHeldBy(thread.key);
      if (lock && !lock.owners.some((owner) => owner.thread === thread.key)) {
        edge(graph, threadNode(graph, thread.key), lockId(lock), 'waits-for-lock', [frame.line]);
        break;
      }
      if (ACQUIRE_RW_LOCK.test(fn) && frame.args[0] && frame.args[0] !== '0000000000000000') {
        const id = node(graph, `lock:rw-lock:${frame.args[0]}`, 'lock', frame.args[0], `reader/writer lock ${frame.args[0]}`);
        edge(graph, threadNode(graph, thread.key), id, 'waits-for-lock', [frame.line]);
        break;
      }
    }
  }
}

/** Locks of one kind that are held, indexed so that each waiter's question costs no scan of them all. */
class HeldLocks {
  private readonly held: LockEntity[];
  private readonly heldCountByOwner = new Map<string, number>();

  constructor(locks: LockEntity[]) {
    this.held = locks.filter((lock) => lock.locked !== false && lock.owners.length > 0);
    for (const lock of this.held) {
      for (const owner of new Set(lock.owners.map((entry) => entry.thread))) {
        if (owner) this.heldCountByOwner.set(owner, (this.heldCountByOwner.get(owner) ?? 0) + 1);
      }
    }
  }

  /** The one held lock whose owners do not include `thread`, if there is exactly one. */
  onlyOneNotHeldBy(thread: string): LockEntity | undefined {
    if (this.held.length - (this.heldCountByOwner.get(thread) ?? 0) !== 1) return undefined;
    return this.held.find((lock) => !lock.owners.some((owner) => owner.thread === thread));
  }
}

/**
 * `lock (this)`: the managed frame that called Monitor.Enter belongs to the type that `!syncblk` names as the
 * owner of exactly one of the monitors (`Contoso.X.JournalWriter.Append(...)` and `Contoso.X.JournalWriter @ …`).
 */
function monitorByCaller(frames: StackFrame[], enterIndex: number, monitorsByType: Map<string, LockEntity[]>): LockEntity | undefined {
  let caller: StackFrame | undefined;
  for (let i = enterIndex + 1; i < frames.length && !caller; i++) {
    const name = frames[i]!.function;
    if (name && !MONITOR_ENTER.test(name) && !name.startsWith('[')) caller = frames[i];
  }
  const type = caller?.function ? MANAGED_METHOD_TYPE.exec(caller.function)?.[1] : undefined;
  const matching = type ? monitorsByType.get(type) : undefined;
  return matching?.length === 1 ? matching[0] : undefined;
}

const WAIT_FOR_ONE_HANDLE = /^(Nt|Zw)?WaitForSingleObject(Ex)?$/;
const THREAD_OBJECT_TYPE = /^Thread(Object)?$/i;

/** The thread a kernel wait object stands for: a thread object itself, or the thread that owns a mutant. */
function waitedThread(object: WaitObject): string | null {
  return THREAD_OBJECT_TYPE.test(object.type) ? object.address : (object.owner ?? null);
}

/**
 * A wait on another thread (to exit, usually): in kernel output the wait object is that thread's address; in user
 * mode the waiting frame's first argument is a handle that `!handle <h> f` showed to be a Thread.
 */
function addThreadWaitEdges(graph: WaitGraph): void {
  const threadByHandle = new Map<string, { thread: string; line: number }>();
  for (const handle of graph.session.handles) {
    if (handle.thread && THREAD_OBJECT_TYPE.test(handle.objectType ?? '')) threadByHandle.set(handle.value, { thread: handle.thread, line: fieldLines(handle.evidence, 'thread')[0] ?? handle.evidence.lines[0]! });
  }
  for (const thread of graph.session.threads) {
    if ((graph.edges.get(threadId(thread.key)) ?? []).length > 0) continue;
    const waited = thread.waitObjects.map(waitedThread).find((key) => key !== null && key !== thread.key && graph.threads.has(key));
    if (waited) {
      edge(graph, threadNode(graph, thread.key), threadNode(graph, waited), 'waits-for-thread', fieldLines(thread.evidence, 'waitObjects').slice(0, 1));
      continue;
    }
    if (threadByHandle.size === 0) continue;
    const wait = thread.frames.find((frame) => WAIT_FOR_ONE_HANDLE.test(frame.function ?? '') && frame.args[0] !== undefined && threadByHandle.has(frame.args[0]));
    const target = wait ? threadByHandle.get(wait.args[0]!)! : null;
    if (wait && target && target.thread !== thread.key) edge(graph, threadNode(graph, thread.key), threadNode(graph, target.thread), 'waits-for-thread', [wait.line, target.line]);
  }
}

/** `BLOCKING_THREAD: fffffa80…` (kernel) or `BLOCKING_THREAD: 00000d8c` (a user-mode `!analyze -hang`: a thread id). */
function blockingThreadKey(graph: WaitGraph, value: string | undefined): string | null {
  const token = value?.trim().split(/\s+/)[0];
  if (!token) return null;
  const address = canonicalAddress(token);
  if (address && graph.threads.has(address)) return address;
  // x64 `!analyze -hang` pads the id to 16 digits (`0000000000000b58`).
  const digits = token.replace(/^0x/i, '').replace(/^0+/, '') || '0';
  const tid = /^[0-9a-f]{1,8}$/i.test(digits) ? Number.parseInt(digits, 16) : Number.NaN;
  const user = Number.isNaN(tid) ? undefined : graph.session.threads.find((thread) => thread.address === null && thread.tid === tid);
  return user?.key ?? null;
}

function addBugcheckEdges(graph: WaitGraph): void {
  for (const bugcheck of graph.session.bugchecks) {
    // A user-mode `!analyze -v -hang` has no bugcheck code, only the thread it found blocking.
    const code = bugcheck.code === null ? 'hang' : bugcheck.code.toString(16);
    const label = bugcheck.name ?? (bugcheck.code === null ? '!analyze -hang' : `bugcheck 0x${code}`);
    const blocking = blockingThreadKey(graph, bugcheck.fields['BLOCKING_THREAD']);
    if (bugcheck.code === null && !blocking) continue;
    const id = node(graph, `bugcheck:${code}`, 'bugcheck', code, label);
    if (blocking) edge(graph, id, threadNode(graph, blocking), 'names', fieldLines(bugcheck.evidence, 'fields.BLOCKING_THREAD'));
    for (const value of [bugcheck.args[2], bugcheck.args[3]]) {
      if (!value) continue;
      if (graph.threads.has(value)) edge(graph, id, threadNode(graph, value), 'names', fieldLines(bugcheck.evidence, 'args'));
      const irp = graph.index.irps.get(value);
      if (irp) edge(graph, id, irpNode(graph, irp), 'names', fieldLines(bugcheck.evidence, 'args'));
    }
  }
}

/**
 * A server thread that waits on something the transcript does not show (an event, UserRequest) usually waits
 * for another thread of its own process; when one of them waits on something outside, that is the way on.
 * These edges are weak: an expert's inference, marked as such.
 */
function addPeerEdges(graph: WaitGraph): void {
  const threadsByProcess = new Map<string, ThreadEntity[]>();
  for (const thread of graph.session.threads) {
    if (!thread.process) continue;
    const list = threadsByProcess.get(thread.process) ?? [];
    list.push(thread);
    threadsByProcess.set(thread.process, list);
  }
  for (const [from, edges] of [...graph.edges]) {
    for (const served of edges) {
      if (served.relation !== 'served-by' && served.relation !== 'queued-at-process') continue;
      const target = graph.nodes.get(served.to)!;
      const fromNode = graph.nodes.get(from);
      const message = fromNode?.kind === 'alpc-message' ? graph.index.messages.get(fromNode.ref) : undefined;
      const process = target.kind === 'process' ? target.ref : (graph.threads.get(target.ref)?.process ?? message?.queuePortOwnerProcess ?? null);
      if (!process || (graph.edges.get(served.to) ?? []).some((existing) => !existing.weak)) continue;
      for (const peer of threadsByProcess.get(process) ?? []) {
        if (peer.key === target.ref) continue;
        const onward = (graph.edges.get(threadId(peer.key)) ?? []).filter((existing) => !existing.weak);
        if (onward.length > 0) edge(graph, served.to, threadNode(graph, peer.key), 'peer-in-process', [...peer.evidence.lines.slice(0, 1), ...onward[0]!.evidence.slice(0, 1)], true);
      }
    }
  }
}
