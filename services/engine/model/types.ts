import type { Address } from '../address.ts';

/**
 * 1-based line numbers of the transcript that an entity, and each of its fields, was read from.
 * `lines` holds every line of the entity, sorted. A field read from one line maps to that line; a field read
 * from several (an object printed twice and merged) maps to their sorted list. `fieldLines()` reads either.
 */
export interface Evidence {
  lines: number[];
  fields: Record<string, number | number[]>;
}

export interface StackFrame {
  /** The call site as printed, annotations and FPO/source decorations removed. */
  callSite: string;
  /** Module without WinDbg's `_<base>` collision suffix (`ntdll_77980000` → `ntdll`); null for a bare address. */
  module: string | null;
  /** Function name; null when only `module+offset` or an address is known. */
  function: string | null;
  /** `+0x…` displacement, lower case, or null. */
  offset: string | null;
  /** Code address when the call site is a bare address (`0x76f9756a`). */
  address: Address | null;
  /** `Args to Child` columns (`kb`, `kv`), canonical; empty when the layout has none. */
  args: Address[];
  inline: boolean;
  /** Child-SP / ChildEBP: orders frames of two partial printings of one stack. */
  stackPointer: Address | null;
  line: number;
}

export interface ProcessEntity {
  kind: 'process';
  address: Address;
  image: string | null;
  pid: number | null;
  parentPid: number | null;
  sessionId: number | null;
  threads: Address[];
  evidence: Evidence;
}

export type ThreadState = 'waiting' | 'running' | 'ready' | 'standby' | 'terminated' | 'transition' | 'initialized' | 'blocked' | 'unknown';

export interface WaitObject {
  address: Address;
  type: string;
  /** A mutant's owner (`Mutant - owning thread 89c41b40`), or null. */
  owner?: Address | null;
}

export interface AlpcWait {
  message: Address;
  port: Address | null;
  ownerProcess: Address | null;
}

export interface ThreadEntity {
  kind: 'thread';
  /** Kernel ETHREAD address; user-mode-only threads get a synthetic key `user:<tid>`. */
  key: string;
  address: Address | null;
  pid: number | null;
  tid: number | null;
  /** Debugger thread number in user-mode sessions (`~4`). */
  debuggerId: number | null;
  process: Address | null;
  image: string | null;
  state: ThreadState | null;
  runningOnProcessor: number | null;
  waitReason: string | null;
  waitMode: 'KernelMode' | 'UserMode' | null;
  alertable: boolean | null;
  waitObjects: WaitObject[];
  alpcWait: AlpcWait | null;
  waitStartTick: number | null;
  waitTicks: number | null;
  /** How long the thread has waited, from `Ticks: N (d:hh:mm:ss.mmm)`, `WaitTime (seconds)` or MEX's `3s.218`. */
  waitMs: number | null;
  priority: number | null;
  basePriority: number | null;
  impersonating: boolean | null;
  suspendCount: number | null;
  contextSwitches: number | null;
  irps: Address[];
  attachedProcess: Address | null;
  startAddress: string | null;
  /** `!stacks`' one-line summary of where the thread is blocked, when no full stack was shown. */
  blockerFrame: StackFrame | null;
  stackNotResident: boolean;
  frames: StackFrame[];
  evidence: Evidence;
}

export interface AlpcMessageEntity {
  kind: 'alpc-message';
  address: Address;
  messageId: number | null;
  type: string | null;
  waitingThread: Address | null;
  /** Null when the debugger printed 0: no server thread has picked the message up. */
  serverThread: Address | null;
  queueType: string | null;
  queuePort: Address | null;
  queuePortType: string | null;
  ownerPort: Address | null;
  queuePortOwnerProcess: Address | null;
  queuePortOwnerImage: string | null;
  evidence: Evidence;
}

export interface AlpcConnection {
  clientPort: Address | null;
  serverPort: Address | null;
  process: Address | null;
  image: string | null;
  line: number;
}

export interface AlpcPortEntity {
  kind: 'alpc-port';
  address: Address;
  name: string | null;
  type: string | null;
  ownerProcess: Address | null;
  ownerImage: string | null;
  connections: AlpcConnection[];
  /** Per queue (`main`, `direct`, `large`, `pending`): true when the debugger said it is empty. */
  emptyQueues: string[];
  registeredThreads: Address[];
  evidence: Evidence;
}

export interface IrpStackLocation {
  index: number;
  current: boolean;
  major: number | null;
  minor: number | null;
  majorName: string | null;
  minorName: string | null;
  device: Address | null;
  file: Address | null;
  driver: string | null;
  completionRoutine: string | null;
  pending: boolean;
  line: number;
}

export interface IrpEntity {
  kind: 'irp';
  address: Address;
  stackCount: number | null;
  currentLocation: number | null;
  thread: Address | null;
  pending: boolean;
  /** Driver at the current stack location (`\FileSystem\mrxsmb`). */
  currentDriver: string | null;
  currentDevice: Address | null;
  currentMajor: number | null;
  currentMinor: number | null;
  stack: IrpStackLocation[];
  evidence: Evidence;
}

export interface FileObjectEntity {
  kind: 'file-object';
  address: Address;
  fileName: string | null;
  device: Address | null;
  evidence: Evidence;
}

export interface WorkQueueEntity {
  kind: 'work-queue';
  /** `Critical`, `Delayed`, `HyperCritical`, … or the _KQUEUE address when the name is not known. */
  key: string;
  name: string | null;
  address: Address | null;
  currentCount: number | null;
  maximumCount: number | null;
  entryListFlink: Address | null;
  entryListBlink: Address | null;
  /** True when the queue's entry list is not empty (Flink ≠ Blink, or `!exqueue` listed pending items). */
  hasPendingItems: boolean | null;
  pendingItems: number | null;
  dynamicThreads: number | null;
  threads: Address[];
  evidence: Evidence;
}

export interface WorkItemEntity {
  kind: 'work-item';
  address: Address;
  routine: string;
  module: string | null;
  function: string | null;
  /** Work queue the item was listed from, when the transcript says (key of a WorkQueueEntity). */
  queue: string | null;
  evidence: Evidence;
}

export type LockKind = 'eresource' | 'critical-section' | 'monitor' | 'loader-lock';

export interface LockOwner {
  /** Kernel thread address, `user:<tid>` key, or null when only a count is known. */
  thread: string | null;
  count: number | null;
  exclusive: boolean;
  line: number;
}

export interface LockEntity {
  kind: 'lock';
  lockKind: LockKind;
  address: Address;
  symbol: string | null;
  locked: boolean | null;
  exclusive: boolean | null;
  owners: LockOwner[];
  /** Threads seen waiting for this lock (from waiter lists or from the owner column of MEX/`!cs`). */
  waiters: string[];
  exclusiveWaiters: number | null;
  sharedWaiters: number | null;
  contentionCount: number | null;
  lockCount: number | null;
  recursionCount: number | null;
  evidence: Evidence;
}

export interface BugcheckEntity {
  kind: 'bugcheck';
  code: number | null;
  name: string | null;
  args: (Address | null)[];
  /** `!analyze -v` key fields: DEFAULT_BUCKET_ID, FAILURE_BUCKET_ID, IMAGE_NAME, MODULE_NAME, BLOCKING_THREAD, … */
  fields: Record<string, string>;
  frames: StackFrame[];
  evidence: Evidence;
}

export interface PoolAllocationEntity {
  kind: 'pool-allocation';
  address: Address;
  tag: string | null;
  size: number | null;
  allocated: boolean | null;
  description: string | null;
  binary: string | null;
  evidence: Evidence;
}

/** A handle as `!handle <h> f` showed it: its value in the process's table and the object it refers to. */
export interface HandleEntity {
  kind: 'handle';
  /** The handle value, canonical like an address (`0000052c` → `52c`). */
  value: Address;
  /** `Thread`, `Event`, `Mutant`, `File`, … */
  objectType: string | null;
  /** For a Thread handle: the key of the thread it refers to. */
  thread: string | null;
  evidence: Evidence;
}

export interface CommandBlock {
  /** The command as typed (`!thread fffffa8073d3d770`); null for output found without its prompt. */
  command: string | null;
  /** Normalised command name (`!thread`, `dt`, `~*k`, …); `output` for prompt-less output. */
  name: string;
  prompt: string | null;
  startLine: number;
  endLine: number;
  /** True when some parser recognised content in the block. */
  understood: boolean;
  /** Non-blank output lines after the prompt (0: the command printed nothing, or only its echo survived). */
  outputLines: number;
}

export interface SessionModel {
  index: number;
  /** `kernel` (kd, lkd) or `user` (cdb/WinDbg `0:000>`), from the prompts; `unknown` without any prompt. */
  mode: 'kernel' | 'user' | 'unknown';
  startLine: number;
  endLine: number;
  blocks: CommandBlock[];
  processes: ProcessEntity[];
  threads: ThreadEntity[];
  alpcMessages: AlpcMessageEntity[];
  alpcPorts: AlpcPortEntity[];
  irps: IrpEntity[];
  fileObjects: FileObjectEntity[];
  workQueues: WorkQueueEntity[];
  workItems: WorkItemEntity[];
  locks: LockEntity[];
  bugchecks: BugcheckEntity[];
  poolAllocations: PoolAllocationEntity[];
  handles: HandleEntity[];
}

export interface ParseWarning {
  line: number;
  message: string;
}

export interface UnparsedCommand {
  command: string;
  name: string;
  startLine: number;
  endLine: number;
}

export interface Coverage {
  blocks: number;
  understoodBlocks: number;
  /** Commands whose output no reader understood: kept as raw line ranges, reported here. */
  unparsed: UnparsedCommand[];
  /** Commands that printed nothing (or whose output was cut from the transcript). */
  withoutOutput: UnparsedCommand[];
}

export interface TranscriptModel {
  source: {
    encoding: string;
    byteOrderMark: boolean;
    compression: string | null;
    byteLength: number;
    lineCount: number;
  };
  sessions: SessionModel[];
  coverage: Coverage;
  warnings: ParseWarning[];
}

export type EntityCollectionName =
  | 'processes'
  | 'threads'
  | 'alpcMessages'
  | 'alpcPorts'
  | 'irps'
  | 'fileObjects'
  | 'workQueues'
  | 'workItems'
  | 'locks'
  | 'bugchecks'
  | 'poolAllocations'
  | 'handles';

export const ENTITY_COLLECTIONS: readonly EntityCollectionName[] = [
  'processes',
  'threads',
  'alpcMessages',
  'alpcPorts',
  'irps',
  'fileObjects',
  'workQueues',
  'workItems',
  'locks',
  'bugchecks',
  'poolAllocations',
  'handles',
];
