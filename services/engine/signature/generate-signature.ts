import { createHash } from 'node:crypto';
import type { Finding } from '../correlate/verdict-types.ts';
import prefixFrames from './lists/prefix-frames.json' with { type: 'json' };
import skipFrames from './lists/skip-frames.json' with { type: 'json' };

/** Bumped whenever a rule or a list changes the signatures it produces. */
export const SIGNATURE_RULES_VERSION = 'sig-1';
const MAX_FRAMES = 3;
const MAX_LENGTH = 255;

export interface HangSignature {
  /** Readable: `worker-queue-starvation | MyBadDSM | mpio!MPIOPathVerify`. */
  text: string;
  /** First 16 hex digits of the SHA-256 of `text`. */
  hash: string;
  rulesVersion: string;
  /** How the signature was built, one note per rule that acted. */
  notes: string[];
  pattern: string;
  module: string | null;
  /** Every meaningful root frame, normalised: what near-duplicate clustering compares. */
  frameSet: string[];
}

/** The lists a set of rules reads; a new version of the rules brings new lists (and a new version string). */
export interface SignatureRuleSet {
  version: string;
  skip: readonly RegExp[];
  prefix: readonly RegExp[];
}

interface SignatureState {
  rules: SignatureRuleSet;
  finding: Finding;
  module: string | null;
  frames: string[];
  notes: string[];
}

interface SignatureRule {
  name: string;
  apply(state: SignatureState): void;
}

export const DEFAULT_SIGNATURE_RULES: SignatureRuleSet = {
  version: SIGNATURE_RULES_VERSION,
  skip: skipFrames.patterns.map((pattern) => new RegExp(pattern, 'i')),
  prefix: prefixFrames.patterns.map((pattern) => new RegExp(pattern, 'i')),
};

/** `mpio!MPIOPathVerify+0x14b` → `mpio!MPIOPathVerify`; `MyBadDSM+0xb698` → `MyBadDSM`; `0x76f9756a` → null. */
export function normaliseFrame(callSite: string): string | null {
  if (/^0x[0-9a-f`]+$/i.test(callSite)) return null;
  if (callSite.startsWith('[')) {
    // SOS markers (`[GCFrame: 293bd178]`) carry an address; what follows the marker is the managed frame.
    const rest = callSite.slice(callSite.indexOf(']') + 1).trim();
    return rest.length > 0 && callSite.indexOf(']') > 0 ? normaliseFrame(rest) : null;
  }
  const withoutOffset = callSite.replace(/\+0x[0-9a-f]+$/i, '');
  const bang = withoutOffset.indexOf('!');
  if (bang > 0) return `${withoutOffset.slice(0, bang).replace(/_[0-9a-f]{8}(?:[0-9a-f]{8})?$/i, '')}!${withoutOffset.slice(bang + 1).replace(/\(.*$/, '').trim()}`;
  return withoutOffset.replace(/\(.*$/, '').trim() || null;
}

/**
 * Ordered rules, each leaving a note (in the manner of Mozilla Socorro's signature generator). What never enters
 * a signature: addresses, ids, tick counts, collateral counts, the order or the layout of the transcript.
 */
const RULES: readonly SignatureRule[] = [
  {
    name: 'module',
    apply(state) {
      state.module = state.finding.blamedModule?.replace(/\.(sys|dll|exe)$/i, '') ?? null;
      state.notes.push(`module: ${state.module ?? 'none blamed'}`);
    },
  },
  {
    name: 'deadlock-owners',
    apply(state) {
      if (state.finding.pattern !== 'deadlock') return;
      // A deadlock is the set of functions holding its locks, in a canonical order.
      state.frames = [...new Set(state.finding.rootBlocker.frames.map(normaliseFrame).filter((frame): frame is string => frame !== null && !state.rules.skip.some((skip) => skip.test(frame))))].sort();
      state.notes.push(`deadlock-owners: ${state.frames.length} lock-owning function(s), sorted`);
    },
  },
  {
    name: 'root-frames',
    apply(state) {
      if (state.finding.pattern === 'deadlock') return;
      const kept: string[] = [];
      let skipped = 0;
      // When the blamed module has a symbol at the root, the signature starts there: the runtime frames above it
      // (RPC, COM, the CRT) say how it waits, the module's own function says why.
      const own = state.module ? `${state.module.toLowerCase()}!` : null;
      const frames = state.finding.rootBlocker.frames;
      const start = own ? Math.max(0, frames.findIndex((callSite) => callSite.toLowerCase().startsWith(own))) : 0;
      if (start > 0) state.notes.push(`root-frames: started at the blamed module's first frame, ${start} frame(s) down`);
      for (const callSite of frames.slice(start)) {
        const frame = normaliseFrame(callSite);
        if (frame === null || state.rules.skip.some((skip) => skip.test(frame))) {
          skipped++;
          continue;
        }
        // A frame that is only the blamed module (no symbols) says nothing the module part does not.
        if (state.module && frame.toLowerCase() === state.module.toLowerCase()) continue;
        if (kept[kept.length - 1] === frame) continue;
        kept.push(frame);
        if (!state.rules.prefix.some((prefix) => prefix.test(frame))) break; // the first frame that explains ends the signature
        if (kept.length >= MAX_FRAMES) break;
      }
      state.frames = kept.slice(0, MAX_FRAMES);
      state.notes.push(`root-frames: kept ${state.frames.length}, skipped ${skipped} wait/dispatch frame(s)`);
    },
  },
  {
    name: 'root-kind',
    apply(state) {
      if (state.frames.length > 0 || state.finding.pattern === 'deadlock') return;
      // No frame explains the root (a driver, a process): its kind stands in, never its address.
      const root = state.finding.rootBlocker;
      const stable = root.kind === 'driver' || root.kind === 'work-queue' ? root.id.toLowerCase() : root.kind === 'process' ? (root.process ?? 'process').toLowerCase() : root.kind;
      state.frames = [stable];
      state.notes.push(`root-kind: no explaining frame, used the root ${root.kind}`);
    },
  },
];

export function signFinding(finding: Finding, rules: SignatureRuleSet = DEFAULT_SIGNATURE_RULES): HangSignature {
  const state: SignatureState = { rules, finding, module: null, frames: [], notes: [] };
  for (const rule of RULES) {
    try {
      rule.apply(state);
    } catch (error) {
      state.notes.push(`${rule.name}: failed (${error instanceof Error ? error.name : typeof error})`);
    }
  }
  let text = [finding.pattern, state.module ?? '-', state.frames.join(' > ') || '-'].join(' | ');
  if (text.length > MAX_LENGTH) {
    text = text.slice(0, MAX_LENGTH);
    state.notes.push(`truncated to ${MAX_LENGTH} characters`);
  }
  const frameSet = [
    ...new Set(finding.rootBlocker.frames.map(normaliseFrame).filter((frame): frame is string => frame !== null && !state.rules.skip.some((skip) => skip.test(frame)))),
  ].sort();
  return {
    text,
    hash: createHash('sha256').update(text).digest('hex').slice(0, 16),
    rulesVersion: rules.version,
    notes: state.notes,
    pattern: finding.pattern,
    module: state.module,
    frameSet,
  };
}
