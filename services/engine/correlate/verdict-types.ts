/** The versioned, machine-readable verdict (documented in docs/verdict-schema.md). */
export const VERDICT_SCHEMA = 'hangsleuth.verdict/1';

export type VerdictKind = 'hang' | 'no-hang' | 'inconclusive';
export type Confidence = 'high' | 'medium' | 'low';
export type PatternId =
  | 'deadlock'
  | 'cpu-dpc-stall'
  | 'interrupt-storm'
  | 'worker-queue-starvation'
  | 'pending-irp'
  | 'lock-contention'
  | 'orphaned-lock'
  | 'remote-file-io'
  | 'alpc-wait-chain'
  | 'third-party-long-wait'
  | 'long-wait';

export interface EvidenceLine {
  line: number;
  text: string;
}

export interface ChainStep {
  from: string;
  to: string;
  fromLabel: string;
  toLabel: string;
  relation: string;
  /** An inference rather than a link the debugger printed (e.g. a peer thread of the same process). */
  inferred: boolean;
  evidence: EvidenceLine[];
}

export interface RootBlocker {
  kind: 'thread' | 'process' | 'driver' | 'work-queue' | 'lock' | 'alpc-message' | 'irp' | 'deadlock' | 'cpu';
  id: string;
  label: string;
  process: string | null;
  waitedMs: number | null;
  /** The meaningful frames: wait and dispatch frames left out, top first. */
  frames: string[];
}

export interface MissingHop {
  what: string;
  command: string;
}

export interface Finding {
  pattern: PatternId;
  summary: string;
  blamedModule: string | null;
  rootBlocker: RootBlocker;
  cycle: string[] | null;
  chain: ChainStep[];
  collateral: {
    threads: number;
    processes: number;
    /** Waiting threads stuck the same way, counted once: `12 threads in rdbss!RxWaitForStableCondition`. */
    groups: { module: string | null; wait: string | null; threads: number }[];
  };
  missing: MissingHop[];
  confidence: Confidence;
  session: number;
  /** The hang signature (services/engine/signature): the same root cause on another server signs the same. */
  signature?: { text: string; hash: string; rulesVersion: string };
}

export interface Verdict {
  schema: typeof VERDICT_SCHEMA;
  verdict: VerdictKind;
  summary: string;
  findings: Finding[];
  notes: string[];
}
