import type { SessionModel, StackFrame, ThreadEntity } from '../model/types.ts';
import { compareText } from '../compare-text.ts';
import { blameThread, meaningfulFrames } from './blame.ts';
import { driverModule, isDispatchFrame, isOsModule, isRemoteFileModule } from './os-modules.ts';
import { stronglyConnectedComponents } from './strongly-connected.ts';
import type { ChainStep, Confidence, Finding, MissingHop, PatternId, RootBlocker } from './verdict-types.ts';
import { buildWaitGraph, isUndumped, threadId, threadNode, workRoutineOf, type GraphEdge, type WaitGraph } from './wait-graph.ts';

/** A wait this long is a hang, not a pause. */
export const LONG_WAIT_MS = 60_000;
const DPC_STALL_CODES = new Set([0x133, 0x101]);
const POWER_IRP_CODES = new Set([0x9f]);
/**
 * Bugchecks that report a fault (an access violation, an exception, pool corruption), not a wait: a dump they took
 * is a crash. Long waits seen in it are not why the system stopped. Manual crashes (0xE2, 0xDEADDEAD), NMIs (0x80)
 * and the watchdogs (0x9F, 0x133, 0x101) are how hung systems are dumped, and are not in this list.
 */
export const CRASH_CODES = new Set([0x0a, 0x19, 0x1a, 0x1e, 0x3b, 0x50, 0x7e, 0x7f, 0x8e, 0xbe, 0xc2, 0xc5, 0xd1, 0xd5, 0xd6, 0xfc, 0x139, 0x13a, 0x1000007e, 0x1000008e]);

/** The crash a session's dump was taken by, if its bugcheck is one. */
export function crashBugcheck(session: SessionModel): SessionModel['bugchecks'][number] | undefined {
  return session.bugchecks.find((bugcheck) => bugcheck.code !== null && CRASH_CODES.has(bugcheck.code));
}

interface Best {
  depth: number;
  next: GraphEdge | null;
  /** Index of the cycle (deadlock) the path ends in, or -1. */
  cycle: number;
  root: string;
  /** Inferred (weak) edges on the path. */
  weak: number;
}

/** Findings of one session: each chain of waits followed to its root blocker, deadlocks as cycles. */
export function analyzeSession(session: SessionModel): Finding[] {
  const graph = buildWaitGraph(session);
  const successors = (id: string) => (graph.edges.get(id) ?? []).map((edge) => edge.to);
  const components = stronglyConnectedComponents(graph.nodes.keys(), successors);
  const cycles: string[][] = [];
  const cycleOf = new Map<string, number>();
  for (const component of components) {
    const cyclic = component.length > 1 || successors(component[0]!).includes(component[0]!);
    if (!cyclic) continue;
    // Only waits on locks and replies make a deadlock; any other loop is an artefact of inference, broken below.
    const members = new Set(component);
    const waits = component.some((id) => {
      const kind = graph.nodes.get(id)!.kind;
      return kind === 'lock' || kind === 'alpc-message';
    });
    const strong = component.every((id) => (graph.edges.get(id) ?? []).every((edge) => !edge.weak || !members.has(edge.to)));
    if (!waits || !strong) continue;
    for (const id of component) cycleOf.set(id, cycles.length);
    cycles.push(component);
  }
  // Tarjan emits sinks first: every node's successors are resolved before it.
  const best = new Map<string, Best>();
  for (const component of components) {
    for (const id of component) {
      const cycle = cycleOf.get(id);
      if (cycle !== undefined) {
        best.set(id, { depth: 0, next: null, cycle, root: `cycle:${cycle}`, weak: 0 });
        continue;
      }
      let chosen: Best = { depth: 0, next: null, cycle: -1, root: id, weak: 0 };
      for (const edge of graph.edges.get(id) ?? []) {
        const onward = best.get(edge.to);
        if (onward && onward.depth + 1 > chosen.depth) chosen = { depth: onward.depth + 1, next: edge, cycle: onward.cycle, root: onward.root, weak: onward.weak + (edge.weak ? 1 : 0) };
      }
      best.set(id, chosen);
    }
  }

  const victimsByRoot = new Map<string, string[]>();
  // The members of a deadlock are its first victims: each waits for the next.
  cycles.forEach((cycle, index) => {
    victimsByRoot.set(`cycle:${index}`, cycle.filter((id) => graph.nodes.get(id)!.kind === 'thread'));
  });
  for (const [id, path] of best) {
    if (!path.next || !isVictim(graph, id, path.next)) continue;
    const list = victimsByRoot.get(path.root) ?? [];
    list.push(id);
    victimsByRoot.set(path.root, list);
  }
  const findings: Finding[] = [];
  for (const [root, victims] of victimsByRoot) {
    // The chain is drawn from the victim farthest from the root: the others are collateral on the way. An inferred
    // hop (`queued-at-process` then `peer-in-process`) takes two steps where a dumped message's `served-by` takes
    // one, so it must not make a guessed chain look longer than the proven one beside it.
    if (victims.length === 0) continue;
    const reach = (id: string) => best.get(id)!.depth - 2 * best.get(id)!.weak;
    victims.sort((a, b) => reach(b) - reach(a) || best.get(b)!.depth - best.get(a)!.depth || compareText(a, b));
    const first = victims[0]!;
    const steps: GraphEdge[] = [];
    let at: string | undefined = first;
    for (let guard = 0; at && best.get(at)?.next && guard < graph.nodes.size; guard++) {
      const next: GraphEdge = best.get(at)!.next!;
      steps.push(next);
      at = next.to;
    }
    const cycle = root.startsWith('cycle:') ? cycles[Number(root.slice(6))]! : null;
    if (cycle && at) steps.push(...walkCycle(graph, cycle, at));
    if (!cycle && onlyShortWaits(graph, steps, victims)) continue; // a busy system, not a hung one
    findings.push(describeFinding(graph, session, root, steps, cycle, victims));
  }
  const isolated = isolatedLongWaits(graph, session, findings);
  // In a crash dump, a thread waiting long with nothing linking it further is no evidence of a hang.
  if (crashBugcheck(session)) for (const finding of isolated) finding.confidence = 'low';
  findings.push(...isolated);
  for (const bugcheck of session.bugchecks) {
    if (bugcheck.code !== null && DPC_STALL_CODES.has(bugcheck.code)) findings.push(dpcStall(session, bugcheck));
  }
  return findings.sort((a, b) => rank(b) - rank(a) || compareText(a.summary, b.summary));
}

/** Every wait the transcript times on this chain is shorter than a hang, and nothing else (a bugcheck) says hang. */
function onlyShortWaits(graph: WaitGraph, steps: GraphEdge[], victims: string[]): boolean {
  if (steps.some((step) => graph.nodes.get(step.from)!.kind === 'bugcheck' || step.relation === 'serviced-by-worker')) return false;
  const ids = new Set([...victims, ...steps.map((step) => step.to)]);
  const waits = [...ids].map((id) => threadOf(graph, id)).filter((thread) => thread !== undefined && !graph.undumped.has(thread.key)).map((thread) => thread!.waitMs);
  return waits.length > 0 && waits.every((ms) => ms !== null && ms < LONG_WAIT_MS);
}

const IDLE_WAIT_REASONS = new Set(['WrQueue', 'WrLpcReceive', 'WrAlpcReceive', 'DelayExecution', 'Suspended', 'WrFreePage', 'WrPageOut', 'WrVirtualMemory']);
/** Loops a thread idles in by design (a service's control dispatcher, a message loop): a long wait there is no hang. */
const IDLE_LOOP_FRAMES = /^(sechost!(ScSendResponseReceiveControls|ScCommonDispatcherLoop|StartServiceCtrlDispatcher\w*)|advapi32!StartServiceCtrlDispatcher\w*|(user32|win32u)!(NtUser)?(GetMessage\w*|WaitMessage|MsgWaitForMultipleObjects\w*))$/i;

/**
 * A thread that waits long on nothing the transcript links further still says something: in a third-party
 * module it is the suspect, in the redirector it is blocked remote file I/O.
 */
function isolatedLongWaits(graph: WaitGraph, session: SessionModel, findings: Finding[]): Finding[] {
  const covered = new Set(findings.flatMap((finding) => [...finding.chain.flatMap((step) => [step.from, step.to]), finding.rootBlocker.id]));
  // Workers of a starved queue already reported are its collateral, not findings of their own.
  for (const id of [...covered]) {
    if (graph.nodes.get(id)?.kind !== 'work-queue') continue;
    for (const edge of graph.edges.get(id) ?? []) if (edge.relation === 'serviced-by-worker') covered.add(edge.to);
  }
  const groups = new Map<string, { threads: ThreadEntity[]; blamed: string | null; pattern: PatternId }>();
  for (const thread of session.threads) {
    const id = threadId(thread.key);
    if (covered.has(id) || covered.has(thread.address ?? thread.key) || (graph.edges.get(id) ?? []).length > 0) continue;
    if ((thread.state !== 'waiting' && thread.state !== 'blocked') || thread.waitMs === null || thread.waitMs < LONG_WAIT_MS || IDLE_WAIT_REASONS.has(thread.waitReason ?? '')) continue;
    // An application waiting in user mode for its own event (a service's stop event) waits by choice.
    if (thread.waitMode === 'UserMode' && thread.waitReason === 'UserRequest') continue;
    const blamed = blameThread(thread);
    const frames = meaningfulFrames(thread);
    if (frames.slice(0, 8).some((frame) => IDLE_LOOP_FRAMES.test(`${frame.module ?? ''}!${frame.function ?? ''}`))) continue;
    if (isOwnWorkLoop(thread, frames)) continue;
    const remote = frames.slice(0, 3).some((frame) => isRemoteFileModule(frame.module));
    const thirdParty = blamed !== null && !isOsModule(blamed);
    if (!remote && !thirdParty) continue;
    const pattern: PatternId = thirdParty ? 'third-party-long-wait' : 'remote-file-io';
    const top = frames[0] ? `${frames[0].module ?? ''}!${frames[0].function ?? frames[0].callSite}` : '';
    const key = `${pattern}|${blamed}|${top}`;
    const group = groups.get(key) ?? { threads: [], blamed, pattern };
    group.threads.push(thread);
    groups.set(key, group);
  }
  const extra: Finding[] = [];
  for (const { threads, blamed, pattern } of groups.values()) {
    // The longest waiter stands for the group; a thread whose `!thread` was printed beats a `!stacks` row.
    threads.sort((a, b) => Number(b.frames.length > 0 && b.waitReason !== null) - Number(a.frames.length > 0 && a.waitReason !== null) || (b.waitMs ?? 0) - (a.waitMs ?? 0));
    const root = threads[0]!;
    const ids = threads.map((thread) => threadNode(graph, thread.key));
    const rootBlocker = describeRoot(graph, threadNode(graph, root.key));
    const processes = new Set(threads.map((thread) => thread.process).filter((process) => process));
    extra.push({
      pattern,
      summary: `${summarise(pattern, rootBlocker, blamed, graph, new Set(ids.slice(0, 1)), 1)}${threads.length > 2 ? ` ${threads.length - 1} other threads are blocked at the same place.` : threads.length === 2 ? ' Another thread is blocked at the same place.' : ''}`,
      blamedModule: blamed,
      rootBlocker,
      cycle: null,
      chain: [],
      collateral: { threads: threads.length - 1, processes: processes.size, groups: groupVictims(graph, ids) },
      missing: blamed ? surveyOfModule(session, blamed) : [],
      confidence: threads.length >= 3 ? 'high' : 'medium',
      session: session.index,
    });
  }
  return extra;
}

/**
 * A thread a driver or program started for itself, waiting in its own loop for work: one or two frames of one
 * module between the wait and the thread's start. Nothing waits on it here; a long wait there is how it idles.
 */
function isOwnWorkLoop(thread: ThreadEntity, meaningful: StackFrame[]): boolean {
  if (meaningful.length === 0 || meaningful.length > 2 || meaningful.some((frame) => frame.module !== meaningful[0]!.module)) return false;
  const after = thread.frames.indexOf(meaningful[meaningful.length - 1]!) + 1;
  return after > 0 && after < thread.frames.length && isDispatchFrame(thread.frames[after]!);
}

/** Victims grouped by the module and the function where they wait, largest group first. */
function groupVictims(graph: WaitGraph, victims: string[]): { module: string | null; wait: string | null; threads: number }[] {
  const groups = new Map<string, { module: string | null; wait: string | null; threads: number }>();
  for (const id of victims) {
    const thread = threadOf(graph, id);
    if (!thread) continue;
    const frame = meaningfulFrames(thread)[0] ?? null;
    const module = frame ? frame.module : null;
    const wait = frame ? (frame.function ? `${frame.module ?? ''}${frame.module ? '!' : ''}${frame.function}` : frame.callSite) : thread.waitReason;
    const key = `${module}|${wait}`;
    const group = groups.get(key) ?? { module, wait, threads: 0 };
    group.threads++;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.threads - a.threads || compareText(String(a.wait), String(b.wait)));
}

/** The cycle's edges in order, from `start` around and back to it. */
function walkCycle(graph: WaitGraph, cycle: string[], start: string): GraphEdge[] {
  const members = new Set(cycle);
  const steps: GraphEdge[] = [];
  const seen = new Set<string>();
  let at = start;
  while (!seen.has(at)) {
    seen.add(at);
    const next = (graph.edges.get(at) ?? []).find((edge) => members.has(edge.to) && !edge.weak);
    if (!next) break;
    steps.push(next);
    at = next.to;
  }
  return steps;
}

function rank(finding: Finding): number {
  const confidence = finding.confidence === 'high' ? 3 : finding.confidence === 'medium' ? 2 : 1;
  return confidence * 1_000_000 + finding.collateral.threads * 1000 + finding.chain.length;
}

/** A start of a chain: a thread known to wait (not one only referenced), or a bugcheck naming what hung. */
function isVictim(graph: WaitGraph, id: string, first: GraphEdge): boolean {
  const node = graph.nodes.get(id)!;
  if (node.kind === 'bugcheck') return true;
  // A queue with pending items and a worker blocked on something other than the queue itself is the first victim
  // (nothing upstream need be shown).
  if (node.kind === 'work-queue') {
    const workers = (graph.edges.get(id) ?? []).filter((edge) => edge.relation === 'serviced-by-worker');
    return first.relation === 'serviced-by-worker' && workers.some((edge) => !IDLE_WAIT_REASONS.has(graph.threads.get(graph.nodes.get(edge.to)!.ref)?.waitReason ?? ''));
  }
  if (node.kind !== 'thread') return false;
  if (first.weak) return false;
  const thread = graph.threads.get(node.ref);
  if (first.relation === 'waits-for-reply' || first.relation === 'waits-for-lock') return thread?.waitReason !== 'Suspended';
  return thread !== undefined && !isUndumped(thread);
}

function describeFinding(graph: WaitGraph, session: SessionModel, root: string, steps: GraphEdge[], cycle: string[] | null, victims: string[]): Finding {
  const chain: ChainStep[] = steps.map((step) => ({
    from: step.from,
    to: step.to,
    fromLabel: graph.nodes.get(step.from)!.label,
    toLabel: graph.nodes.get(step.to)!.label,
    relation: step.relation,
    inferred: step.weak,
    evidence: step.evidence.map((line) => ({ line, text: '' })),
  }));
  const rootBlocker = cycle ? deadlockRoot(graph, cycle) : describeRoot(graph, root);
  const firstVictimThread = threadOf(graph, victims[0] ?? '');
  // A lock nobody is shown to own: the code waiting for it is what the frames can say.
  if (rootBlocker.kind === 'lock' && rootBlocker.frames.length === 0 && firstVictimThread) {
    rootBlocker.frames = meaningfulFrames(firstVictimThread).slice(0, 8).map((frame) => frame.callSite);
  }
  // A lock that records no owner (an SRW lock, a pushlock) is blamed on the code that waits for it.
  const blamedModule = cycle ? blameCycle(graph, cycle) : blameChain(graph, root, firstVictimThread);
  const nodesOnChain = new Set([steps[0]?.from, ...steps.map((step) => step.to)].filter((id): id is string => id !== undefined));
  const pattern = choosePattern(graph, session, nodesOnChain, rootBlocker, cycle, blamedModule);
  const victimThreads = victims.filter((id) => graph.nodes.get(id)!.kind === 'thread');
  const processes = new Set(victimThreads.map((id) => graph.threads.get(graph.nodes.get(id)!.ref)?.process).filter((process) => process));
  const missing = missingHops(graph, nodesOnChain, rootBlocker, blamedModule, pattern);
  const confidence = judgeConfidence(graph, steps, rootBlocker, cycle, victimThreads);
  // A lock's own count of waiters (`!syncblk` MonitorHeld, `!locks`) covers threads the transcript does not list.
  const counted = [...nodesOnChain]
    .map((id) => graph.nodes.get(id)!)
    .filter((node) => node.kind === 'lock')
    .map((node) => graph.index.locks.get(node.ref))
    .reduce((most, lock) => Math.max(most, (lock?.exclusiveWaiters ?? 0) + (lock?.sharedWaiters ?? 0)), 0);
  const waiting = Math.max(victimThreads.length, counted);
  return {
    pattern,
    summary: summarise(pattern, rootBlocker, blamedModule, graph, nodesOnChain, waiting),
    blamedModule,
    rootBlocker,
    cycle: cycle ? cycle.filter((id) => graph.nodes.get(id)!.kind === 'thread' || graph.nodes.get(id)!.kind === 'lock').sort() : null,
    chain,
    collateral: { threads: Math.max(0, waiting - 1), processes: processes.size, groups: groupVictims(graph, victimThreads) },
    missing,
    confidence,
    session: session.index,
  };
}

function threadOf(graph: WaitGraph, id: string): ThreadEntity | undefined {
  const node = graph.nodes.get(id);
  return node?.kind === 'thread' ? graph.threads.get(node.ref) : undefined;
}

function describeRoot(graph: WaitGraph, id: string): RootBlocker {
  const node = graph.nodes.get(id)!;
  const thread = threadOf(graph, id);
  const kind = node.kind === 'bugcheck' ? 'cpu' : node.kind;
  return {
    kind: kind as RootBlocker['kind'],
    id: thread?.address ?? node.ref,
    label: node.label,
    process: thread?.image ?? (node.kind === 'process' ? node.label.split(' ')[0]! : null),
    waitedMs: thread?.waitMs ?? null,
    frames: thread ? meaningfulFrames(thread).slice(0, 8).map((frame) => frame.callSite) : [],
  };
}

function deadlockRoot(graph: WaitGraph, cycle: string[]): RootBlocker {
  const members = cycle.filter((id) => graph.nodes.get(id)!.kind === 'thread').sort();
  const frames = members.flatMap((id) => {
    const thread = threadOf(graph, id);
    // The function holding the lock: the first frame below the wait of each member.
    return thread ? meaningfulFrames(thread).slice(0, 1).map((frame) => frame.callSite) : [];
  });
  return { kind: 'deadlock', id: members.map((id) => graph.nodes.get(id)!.ref).join(' <-> '), label: `deadlock of ${members.length} threads`, process: null, waitedMs: null, frames };
}

function blameRoot(graph: WaitGraph, id: string): string | null {
  const node = graph.nodes.get(id)!;
  if (node.kind === 'thread') {
    const thread = graph.threads.get(node.ref);
    return thread ? blameThread(thread) : null;
  }
  if (node.kind === 'driver') return driverModule(node.ref);
  if (node.kind === 'process') return node.label.split(' ')[0]!.replace(/\.exe$/i, '');
  return null;
}

/**
 * The root's module; when the root is an OS driver holding the IRP a third-party module sent (a filter's own I/O
 * pending in Ntfs), the third party, as everywhere a third-party module is preferred to an OS one.
 */
function blameChain(graph: WaitGraph, root: string, firstVictim: ThreadEntity | undefined): string | null {
  const rootModule = blameRoot(graph, root);
  const victimModule = firstVictim ? blameThread(firstVictim) : null;
  if (rootModule === null) return victimModule;
  // The redirector's pending I/O waits on the file server, not on the module that asked for the file.
  const osDriverRoot = graph.nodes.get(root)!.kind === 'driver' && isOsModule(rootModule) && !isRemoteFileModule(rootModule);
  return osDriverRoot && victimModule !== null && !isOsModule(victimModule) ? victimModule : rootModule;
}

function blameCycle(graph: WaitGraph, cycle: string[]): string | null {
  const blamed = cycle
    .sort()
    .map((id) => threadOf(graph, id))
    .filter((thread): thread is ThreadEntity => thread !== undefined)
    .map(blameThread)
    .filter((module): module is string => module !== null);
  return blamed.find((module) => !isOsModule(module)) ?? blamed[0] ?? null;
}

interface PatternRule {
  id: PatternId;
  applies(context: { graph: WaitGraph; session: SessionModel; nodes: Set<string>; root: RootBlocker; cycle: string[] | null; blamed: string | null }): boolean;
}

const kinds = (graph: WaitGraph, nodes: Set<string>) => new Set([...nodes].map((id) => graph.nodes.get(id)!.kind));

/** Ordered: the first rule that applies names the pattern (see docs/patterns.md). */
const PATTERN_RULES: readonly PatternRule[] = [
  { id: 'deadlock', applies: ({ cycle }) => cycle !== null },
  {
    id: 'worker-queue-starvation',
    applies: ({ graph, nodes, root }) => root.kind === 'thread' && [...nodes].some((id) => graph.nodes.get(id)!.kind === 'work-queue'),
  },
  {
    id: 'pending-irp',
    applies: ({ graph, nodes, root, session }) =>
      // An IRP pending in the redirector waits for the file server: that is remote file I/O, tried below.
      (root.kind === 'driver' && !isRemoteFileModule(driverModule(root.id))) || (kinds(graph, nodes).has('bugcheck') && session.bugchecks.some((bugcheck) => bugcheck.code !== null && POWER_IRP_CODES.has(bugcheck.code))),
  },
  { id: 'orphaned-lock', applies: ({ graph, nodes, root }) => kinds(graph, nodes).has('lock') && root.kind === 'thread' && graph.undumped.has(root.id) },
  { id: 'lock-contention', applies: ({ graph, nodes }) => kinds(graph, nodes).has('lock') },
  {
    id: 'remote-file-io',
    applies: ({ graph, nodes }) =>
      [...nodes].some((id) => {
        const node = graph.nodes.get(id)!;
        if (node.kind === 'driver') return isRemoteFileModule(driverModule(node.ref));
        const thread = node.kind === 'thread' ? graph.threads.get(node.ref) : undefined;
        return thread !== undefined && meaningfulFrames(thread).slice(0, 3).some((frame) => isRemoteFileModule(frame.module));
      }),
  },
  { id: 'alpc-wait-chain', applies: ({ graph, nodes }) => kinds(graph, nodes).has('alpc-message') },
  { id: 'third-party-long-wait', applies: ({ root, blamed }) => root.kind === 'thread' && blamed !== null && !isOsModule(blamed) },
  { id: 'long-wait', applies: () => true },
];

function choosePattern(graph: WaitGraph, session: SessionModel, nodes: Set<string>, root: RootBlocker, cycle: string[] | null, blamed: string | null): PatternId {
  return PATTERN_RULES.find((rule) => rule.applies({ graph, session, nodes, root, cycle, blamed }))!.id;
}

function judgeConfidence(graph: WaitGraph, steps: GraphEdge[], root: RootBlocker, cycle: string[] | null, victims: string[]): Confidence {
  if (cycle) return 'high';
  if (steps.some((step) => graph.nodes.get(step.from)!.kind === 'bugcheck')) return 'high';
  const waits = victims.map((id) => threadOf(graph, id)?.waitMs ?? null).concat(root.waitedMs);
  const longest = Math.max(-1, ...waits.filter((ms): ms is number => ms !== null));
  const known = waits.some((ms) => ms !== null);
  const inferred = steps.some((step) => step.weak);
  if (known && longest < LONG_WAIT_MS && !steps.some((step) => step.relation === 'serviced-by-worker')) return 'low';
  if (inferred) return longest >= LONG_WAIT_MS ? 'medium' : 'low';
  return longest >= LONG_WAIT_MS ? 'high' : 'medium';
}

function missingHops(graph: WaitGraph, nodes: Set<string>, root: RootBlocker, blamed: string | null, pattern: PatternId): MissingHop[] {
  const missing: MissingHop[] = [];
  const add = (what: string, command: string) => {
    if (!missing.some((hop) => hop.command === command)) missing.push({ what, command });
  };
  // A message only named by a waiting thread's `Waiting for reply to ALPC Message …` line was not dumped.
  const messages = graph.index.dumpedMessages;

  const irps = graph.index.irps;
  for (const id of nodes) {
    const node = graph.nodes.get(id)!;
    const thread = threadOf(graph, id);
    if (node.kind === 'thread' && (thread === undefined || graph.undumped.has(node.ref)) && /^[0-9a-f]{16}$/.test(node.ref)) {
      add(`thread ${node.ref} is referenced but not dumped`, `!thread ${node.ref}`);
    }
    if (node.kind === 'alpc-message' && !messages.has(node.ref)) add(`ALPC message ${node.ref} is not dumped`, `!alpc /m ${node.ref}`);
    if (node.kind === 'process' && !graph.index.processesWithDumpedThreads.has(node.ref)) {
      add(`no thread of ${node.label} is dumped`, `!process ${node.ref} 7`);
    }
    if (thread) {
      for (const address of thread.irps) {
        const irp = irps.get(address);
        if (!irp || !irp.currentDriver) add(`IRP ${address} of thread ${thread.address ?? thread.key} is not dumped`, `!irp ${address}`);
      }
    }
    if (node.kind === 'work-queue' && !(graph.edges.get(id) ?? []).length) add(`the worker threads of the ${node.label} are not shown`, '!exqueue 6');
  }
  if (root.kind === 'thread' && blamed && (pattern === 'worker-queue-starvation' || pattern === 'third-party-long-wait')) {
    for (const hop of surveyOfModule(graph.session, blamed)) add(hop.what, hop.command);
  }
  if (root.kind === 'driver' && blamed) for (const hop of surveyOfModule(graph.session, blamed)) add(`threads and IRPs of ${blamed}`, hop.command);
  if (root.kind === 'lock' && root.label.startsWith('reader/writer lock')) {
    add('the owner of a reader/writer lock is not recorded: the threads that took it and did not release it', blamed ? `~*kb (look for ${blamed} frames that acquired ${root.id})` : '~*kb');
  }
  return missing;
}

/**
 * The command that shows every thread blocked in a module, unless the transcript already has it: `!stacks 2` in a
 * kernel session, all stacks (`~*kb`) in a user-mode one.
 */
function surveyOfModule(session: SessionModel, module: string): MissingHop[] {
  const user = session.mode === 'user';
  if (surveysOf(session).some((filter) => filter === '' || module.toLowerCase().includes(filter))) return [];
  return [{ what: `every thread blocked in ${module}`, command: user ? '~*kb' : `!stacks 2 ${module}` }];
}

const surveysBySession = new WeakMap<SessionModel, string[]>();

/**
 * The surveys of every thread's stack the transcript holds, one scan per session: `~*k…` in user mode, `!stacks`
 * in kernel mode, each as its lower-case filter (`!stacks 2 mrxsmb` shows only threads in mrxsmb; '' = no filter).
 */
function surveysOf(session: SessionModel): string[] {
  let surveys = surveysBySession.get(session);
  if (surveys === undefined) {
    const user = session.mode === 'user';
    surveys = [];
    for (const block of session.blocks) {
      const command = block.command?.trim() ?? '';
      if (user && block.name === 'k' && command.startsWith('~*')) surveys.push('');
      if (!user && block.name === '!stacks') surveys.push((command.split(/\s+/)[2] ?? '').toLowerCase());
    }
    surveysBySession.set(session, surveys);
  }
  return surveys;
}

function summarise(pattern: PatternId, root: RootBlocker, blamed: string | null, graph: WaitGraph, nodes: Set<string>, victims: number): string {
  const module = blamed ?? 'an unknown module';
  const queue = [...nodes].map((id) => graph.nodes.get(id)!).find((node) => node.kind === 'work-queue');
  const others = victims > 2 ? `; ${victims - 1} other waiting threads lead to it` : victims === 2 ? '; another waiting thread leads to it' : '';
  switch (pattern) {
    case 'deadlock':
      return `Deadlock: ${root.id.split(' <-> ').length} threads each hold a lock that another of them waits for (${module}).`;
    case 'worker-queue-starvation': {
      const thread = graph.threads.get(root.id);
      const routine = thread ? workRoutineOf(thread) : null;
      return `The ${queue?.label ?? 'system work queue'} is starved: its worker threads are blocked in ${module}${routine ? ` under ${routine.callSite.replace(/\+0x[0-9a-f]+$/, '')}` : ''}${others}.`;
    }
    case 'pending-irp':
      return `An IRP is pending in ${root.label} and nothing completes it (${module})${others}.`;
    case 'orphaned-lock':
      return `A lock is held by thread ${root.id}, which the transcript does not show${others}.`;
    case 'lock-contention':
      if (root.kind === 'lock') return `${victims} thread(s) wait for the ${root.label}, whose owner the transcript cannot show (${module}).`;
      return `A lock's owner, ${root.label}, is itself blocked in ${module}${others}.`;
    case 'remote-file-io': {
      const shares = remoteShares(graph, nodes);
      return `File I/O to a remote path${shares.length > 0 ? ` (${shares.join(', ')})` : ''} is blocked in ${module}${others}.`;
    }
    case 'alpc-wait-chain':
      return `An ALPC request waits on ${root.label}${root.kind === 'process' ? ', where no server thread has picked it up' : ''}${others}.`;
    case 'third-party-long-wait':
      return `A thread waits in the third-party module ${module}${root.waitedMs !== null ? ` for ${Math.round(root.waitedMs / 1000)} s` : ''}${others}.`;
    default:
      return `${root.label} waits in ${module}${others}.`;
  }
}

/** `\srv-files-02\share\a\b.dat` → `\\srv-files-02\share`: the server and share of the chain's redirector IRPs. */
function remoteShares(graph: WaitGraph, nodes: Set<string>): string[] {
  const shares = new Set<string>();
  for (const id of nodes) {
    const thread = threadOf(graph, id);
    const irp = graph.nodes.get(id)?.kind === 'irp' ? graph.index.irps.get(graph.nodes.get(id)!.ref) : undefined;
    const irps = irp ? [irp] : (thread?.irps ?? []).map((address) => graph.index.irps.get(address));
    for (const each of irps) {
      for (const location of each?.stack ?? []) {
        if (!location.file || !isRemoteFileModule(driverModule(location.driver ?? ''))) continue;
        const name = graph.index.files.get(location.file)?.fileName;
        const parts = (name ?? '').split('\\').filter((part) => part.length > 0 && !part.startsWith(';') && part !== 'Device' && part !== 'Mup');
        if (parts.length >= 2) shares.add(`\\\\${parts[0]}\\${parts[1]}`);
      }
    }
  }
  return [...shares].sort().slice(0, 3);
}

const INTERRUPT_FRAMES = /^(KiInterruptDispatch\w*|KiCallInterruptServiceRoutine|KiInterruptSubDispatch\w*|HalpInterrupt\w*)$|Isr$|InterruptService|ServiceInterrupt/i;
/** The clock tick that noticed the stall: every watchdog stack starts with it, whatever the processor was doing. */
const CLOCK_TICK_FRAMES = /^(KeAccumulateTicks|KeClockInterruptNotify|HalpTimerClockInterrupt|HalpTimerClockIpiRoutine|KiUpdateRunTime|KiUpdateTime)$/;
const INTERRUPT_ENTRY = /^KiInterruptDispatch\w*$/;

/**
 * The code the clock interrupt interrupted: the frames below the first interrupt entry after the tick. The tick's
 * own `KiCallInterruptServiceRoutine`/`KiInterruptDispatch…` frames say nothing about an interrupt storm.
 */
function interruptedCode(frames: StackFrame[]): StackFrame[] {
  const tick = frames.findIndex((frame) => frame.function !== null && CLOCK_TICK_FRAMES.test(frame.function));
  if (tick < 0) return frames;
  const entry = frames.findIndex((frame, index) => index > tick && frame.function !== null && INTERRUPT_ENTRY.test(frame.function));
  return entry < 0 ? frames : frames.slice(entry + 1);
}

function dpcStall(session: SessionModel, bugcheck: SessionModel['bugchecks'][number]): Finding {
  const image = bugcheck.fields['IMAGE_NAME'] ?? bugcheck.fields['MODULE_NAME'] ?? null;
  // An interrupt service routine on the stalled processor's stack: a storm of interrupts, not one long DPC.
  const interrupted = interruptedCode(bugcheck.frames);
  const isr = interrupted.find((frame) => frame.function !== null && INTERRUPT_FRAMES.test(frame.function) && frame.module !== null && !isOsModule(frame.module));
  // !analyze says which it found (`0x133_ISR_…` or `0x133_DPC_…`); otherwise an ISR in the interrupted code.
  const bucket = bugcheck.fields['FAILURE_BUCKET_ID'] ?? '';
  // A frame without symbols is known by its call site (`ContosoNicIsr+0x15b2`).
  const storm = /^0x133_ISR_/i.test(bucket) || (!/^0x133_DPC_/i.test(bucket) && interrupted.some((frame) => INTERRUPT_FRAMES.test(frame.function ?? frame.callSite.replace(/\+0x[0-9a-f]+$/i, ''))));
  const rootFrames = (interrupted.length > 0 ? interrupted : bugcheck.frames).slice(0, 8).map((frame) => frame.callSite);
  const named = image ? image.replace(/\.(sys|dll|exe)$/i, '') : null;
  const module = named ?? isr?.module ?? null;
  if (storm) {
    return {
      pattern: 'interrupt-storm',
      summary: `${bugcheck.name ?? 'A watchdog'} (0x${bugcheck.code!.toString(16)}) with an interrupt service routine on the stalled processor: an interrupt storm${module ? ` from ${module}` : ''}.`,
      blamedModule: module,
      rootBlocker: { kind: 'cpu', id: `bugcheck 0x${bugcheck.code!.toString(16)}`, label: bugcheck.name ?? 'CPU', process: null, waitedMs: null, frames: rootFrames },
      cycle: null,
      chain: [],
      collateral: { threads: 0, processes: 0, groups: [] },
      missing: [{ what: 'the interrupt counts per vector', command: '!idt' }],
      confidence: module ? 'high' : 'medium',
      session: session.index,
    };
  }
  return {
    pattern: 'cpu-dpc-stall',
    summary:
      bugcheck.code === 0x101
        ? `${bugcheck.name ?? 'CLOCK_WATCHDOG_TIMEOUT'} (0x101): a processor stopped taking clock interrupts${module ? `; ${module} is named` : ''}.`
        : `${bugcheck.name ?? 'DPC_WATCHDOG_VIOLATION'} (0x${bugcheck.code!.toString(16)}): a DPC or ISR ran too long at DISPATCH_LEVEL${module ? ` in ${module}` : ''}.`,
    blamedModule: module,
    rootBlocker: { kind: 'cpu', id: `bugcheck 0x${bugcheck.code!.toString(16)}`, label: bugcheck.name ?? 'CPU', process: null, waitedMs: null, frames: rootFrames },
    cycle: null,
    chain: [],
    collateral: { threads: 0, processes: 0, groups: [] },
    missing: module ? [] : [{ what: 'the module running the DPC', command: '!analyze -v' }],
    confidence: module ? 'high' : 'medium',
    session: session.index,
  };
}
