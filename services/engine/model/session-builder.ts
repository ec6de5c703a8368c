import type { Address } from '../address.ts';
import type { AddressExpression } from '../address-expression.ts';
import { emptyEvidence, finishEvidence } from './evidence.ts';
import { unifyUserThreads } from './unify-user-threads.ts';
import type {
  Evidence,
  AlpcMessageEntity,
  AlpcPortEntity,
  BugcheckEntity,
  CommandBlock,
  FileObjectEntity,
  IrpEntity,
  LockEntity,
  LockKind,
  PoolAllocationEntity,
  HandleEntity,
  ProcessEntity,
  SessionModel,
  StackFrame,
  ThreadEntity,
  WorkItemEntity,
  WorkQueueEntity,
} from './types.ts';

/** A `dt nt!_KQUEUE <expression>` whose queue is named once nt!ExWorkerQueue is known. */
export interface WorkQueueDump {
  key: string;
  expression: AddressExpression;
  entryListOffset: number | null;
  /** Windows 10+ per-node `_EX_WORK_QUEUE`/`_KPRIQUEUE`: not an element of the legacy ExWorkerQueue array. */
  perNode?: boolean;
  /** The `dt` command's line: the evidence when the dump printed no field. */
  line: number;
}

/** The first value of a `dd`/`dq` at an address expression. */
export interface MemoryRead {
  expression: AddressExpression;
  value: number;
  line: number;
}

/**
 * Collects one debugging session's entities. Every object is keyed by its canonical address, so an
 * object printed by two commands (`!process 0 7` and `!thread`) becomes one entity with both sets of lines.
 */
export class SessionBuilder {
  readonly blocks: CommandBlock[] = [];
  readonly processes = new Map<string, ProcessEntity>();
  readonly threads = new Map<string, ThreadEntity>();
  readonly alpcMessages = new Map<string, AlpcMessageEntity>();
  readonly alpcPorts = new Map<string, AlpcPortEntity>();
  readonly irps = new Map<string, IrpEntity>();
  readonly fileObjects = new Map<string, FileObjectEntity>();
  readonly workQueues = new Map<string, WorkQueueEntity>();
  readonly workItems = new Map<string, WorkItemEntity>();
  /** The `!list` head each work item was walked from, to find its queue once the session is read. */
  readonly workItemListHeads = new Map<Address, Address>();
  readonly locks = new Map<string, LockEntity>();
  readonly bugchecks: BugcheckEntity[] = [];
  readonly poolAllocations = new Map<string, PoolAllocationEntity>();
  readonly handles = new Map<string, HandleEntity>();
  /** Symbol → address, from `x module!symbol` output (used to name worker queues). */
  readonly symbols = new Map<string, Address>();
  readonly workQueueDumps: WorkQueueDump[] = [];
  readonly memoryReads: MemoryRead[] = [];
  /** Array bases implied by `dt nt!_KQUEUE <base>+58…` when `x nt!ExWorkerQueue` is not in the transcript. */
  readonly workerQueueBaseCandidates: Address[] = [];
  /** Debugger thread number → thread key, for user-mode selectors such as `~4 kb`. */
  readonly debuggerThreadIds = new Map<number, string>();
  /** Thread the debugger is set to (`.thread`, `~Ns`); stacks from a bare `k` belong to it. */
  currentThreadKey: string | null = null;
  mode: SessionModel['mode'] = 'unknown';
  /** True once a prompted command block was read (a banner after that starts a new session). */
  hasCommands = false;
  debugger: string | null = null;
  debugSessionTime: string | null = null;
  endLine: number;

  constructor(
    readonly index: number,
    readonly startLine: number,
  ) {
    this.endLine = startLine;
  }

  get isEmpty(): boolean {
    return this.blocks.length === 0;
  }

  process(address: Address): ProcessEntity {
    let process = this.processes.get(address);
    if (!process) {
      process = { kind: 'process', address, image: null, pid: null, parentPid: null, sessionId: null, threads: [], evidence: emptyEvidence() };
      this.processes.set(address, process);
    }
    return process;
  }

  thread(address: Address): ThreadEntity {
    return this.threadByKey(address, address);
  }

  /** A user-mode thread known by its OS thread id (no ETHREAD address in user-mode output). */
  userThread(tid: number, debuggerId: number | null): ThreadEntity {
    const byDebuggerId = debuggerId !== null ? this.debuggerThreadIds.get(debuggerId) : undefined;
    const key = `user:${tid.toString(16)}`;
    const existing = this.threads.get(key) ?? (byDebuggerId ? this.threads.get(byDebuggerId) : undefined);
    const thread = existing ?? this.threadByKey(key, null);
    thread.tid ??= tid;
    if (debuggerId !== null) {
      thread.debuggerId ??= debuggerId;
      this.debuggerThreadIds.set(debuggerId, thread.key);
    }
    return thread;
  }

  /** The thread a debugger thread number names, created when it was not listed yet. */
  threadByDebuggerId(debuggerId: number): ThreadEntity {
    const key = this.debuggerThreadIds.get(debuggerId);
    if (key) return this.threads.get(key)!;
    const thread = this.threadByKey(`user:#${debuggerId}`, null);
    thread.debuggerId = debuggerId;
    this.debuggerThreadIds.set(debuggerId, thread.key);
    return thread;
  }

  threadByKey(key: string, address: Address | null): ThreadEntity {
    let thread = this.threads.get(key);
    if (!thread) {
      thread = {
        kind: 'thread',
        key,
        address,
        pid: null,
        tid: null,
        debuggerId: null,
        process: null,
        image: null,
        state: null,
        runningOnProcessor: null,
        waitReason: null,
        waitMode: null,
        alertable: null,
        waitObjects: [],
        alpcWait: null,
        waitStartTick: null,
        waitTicks: null,
        waitMs: null,
        priority: null,
        basePriority: null,
        impersonating: null,
        suspendCount: null,
        contextSwitches: null,
        irps: [],
        attachedProcess: null,
        startAddress: null,
        blockerFrame: null,
        stackNotResident: false,
        frames: [],
        evidence: emptyEvidence(),
      };
      this.threads.set(key, thread);
    }
    return thread;
  }

  alpcMessage(address: Address): AlpcMessageEntity {
    let message = this.alpcMessages.get(address);
    if (!message) {
      message = {
        kind: 'alpc-message',
        address,
        messageId: null,
        type: null,
        waitingThread: null,
        serverThread: null,
        queueType: null,
        queuePort: null,
        queuePortType: null,
        ownerPort: null,
        queuePortOwnerProcess: null,
        queuePortOwnerImage: null,
        evidence: emptyEvidence(),
      };
      this.alpcMessages.set(address, message);
    }
    return message;
  }

  alpcPort(address: Address): AlpcPortEntity {
    let port = this.alpcPorts.get(address);
    if (!port) {
      port = { kind: 'alpc-port', address, name: null, type: null, ownerProcess: null, ownerImage: null, connections: [], emptyQueues: [], registeredThreads: [], evidence: emptyEvidence() };
      this.alpcPorts.set(address, port);
    }
    return port;
  }

  irp(address: Address): IrpEntity {
    let irp = this.irps.get(address);
    if (!irp) {
      irp = {
        kind: 'irp',
        address,
        stackCount: null,
        currentLocation: null,
        thread: null,
        pending: false,
        currentDriver: null,
        currentDevice: null,
        currentMajor: null,
        currentMinor: null,
        stack: [],
        evidence: emptyEvidence(),
      };
      this.irps.set(address, irp);
    }
    return irp;
  }

  fileObject(address: Address): FileObjectEntity {
    let file = this.fileObjects.get(address);
    if (!file) {
      file = { kind: 'file-object', address, fileName: null, device: null, evidence: emptyEvidence() };
      this.fileObjects.set(address, file);
    }
    return file;
  }

  workQueue(key: string): WorkQueueEntity {
    let queue = this.workQueues.get(key);
    if (!queue) {
      queue = {
        kind: 'work-queue',
        key,
        name: null,
        address: null,
        currentCount: null,
        maximumCount: null,
        entryListFlink: null,
        entryListBlink: null,
        hasPendingItems: null,
        pendingItems: null,
        dynamicThreads: null,
        threads: [],
        evidence: emptyEvidence(),
      };
      this.workQueues.set(key, queue);
    }
    return queue;
  }

  workItem(address: Address, routine: string, frame: StackFrame): WorkItemEntity {
    let item = this.workItems.get(address);
    if (!item) {
      item = { kind: 'work-item', address, routine, module: frame.module, function: frame.function, queue: null, evidence: emptyEvidence() };
      this.workItems.set(address, item);
    }
    return item;
  }

  lock(lockKind: LockKind, address: Address): LockEntity {
    const key = `${lockKind}:${address}`;
    let lock = this.locks.get(key);
    if (!lock) {
      lock = {
        kind: 'lock',
        lockKind,
        address,
        symbol: null,
        locked: null,
        exclusive: null,
        owners: [],
        waiters: [],
        exclusiveWaiters: null,
        sharedWaiters: null,
        contentionCount: null,
        lockCount: null,
        recursionCount: null,
        evidence: emptyEvidence(),
      };
      this.locks.set(key, lock);
    }
    return lock;
  }

  poolAllocation(address: Address): PoolAllocationEntity {
    let allocation = this.poolAllocations.get(address);
    if (!allocation) {
      allocation = { kind: 'pool-allocation', address, tag: null, size: null, allocated: null, description: null, binary: null, evidence: emptyEvidence() };
      this.poolAllocations.set(address, allocation);
    }
    return allocation;
  }

  handle(value: Address): HandleEntity {
    let handle = this.handles.get(value);
    if (!handle) {
      handle = { kind: 'handle', value, objectType: null, thread: null, evidence: emptyEvidence() };
      this.handles.set(value, handle);
    }
    return handle;
  }

  finish(): SessionModel {
    unifyUserThreads(this);
    this.linkWorkItemsToQueues();
    return {
      index: this.index,
      mode: this.mode,
      startLine: this.startLine,
      endLine: this.endLine,
      blocks: this.blocks,
      processes: finishAll(this.processes.values()).map((process) => {
        process.threads.sort();
        return process;
      }),
      threads: finishAll(this.threads.values()),
      alpcMessages: finishAll(this.alpcMessages.values()),
      alpcPorts: finishAll(this.alpcPorts.values()),
      irps: finishAll(this.irps.values()),
      fileObjects: finishAll(this.fileObjects.values()),
      workQueues: finishAll(this.workQueues.values()),
      workItems: finishAll(this.workItems.values()),
      locks: finishAll(this.locks.values()),
      bugchecks: finishAll(this.bugchecks),
      poolAllocations: finishAll(this.poolAllocations.values()),
      handles: finishAll(this.handles.values()),
    };
  }

  /** A `!list` walked from a queue's EntryListHead.Flink lists that queue's items. */
  private linkWorkItemsToQueues(): void {
    if (this.workItemListHeads.size === 0) return;
    const queueByListEnd = new Map<Address, string>();
    for (const queue of this.workQueues.values()) {
      if (queue.entryListBlink) queueByListEnd.set(queue.entryListBlink, queue.key);
      if (queue.entryListFlink) queueByListEnd.set(queue.entryListFlink, queue.key);
    }
    for (const item of this.workItems.values()) {
      const head = this.workItemListHeads.get(item.address);
      if (item.queue || !head) continue;
      item.queue = queueByListEnd.get(head) ?? null;
    }
  }
}

/** Entities in the order of their first evidence line: deterministic whatever the order of reading. */
function finishAll<T extends { evidence: Evidence }>(entities: Iterable<T>): T[] {
  const finished = Array.from(entities);
  for (const entity of finished) finishEvidence(entity.evidence);
  return finished.sort((a, b) => (a.evidence.lines[0] ?? 0) - (b.evidence.lines[0] ?? 0));
}
