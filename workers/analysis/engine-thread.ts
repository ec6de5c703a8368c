/** Runs inside a worker thread (see engine-pool.ts): bytes in, verdict out. A rejected transcript is a value. */
import { analyzeTranscript, hasDebuggerOutput, isTranscriptError, signFinding, summariseModel, type HangSignature, type ModelSummary, type Verdict } from '../../services/engine/index.ts';

export interface EngineTask {
  bytes: Uint8Array;
  /** Largest transcript accepted, decompressed (a gzip bomb stops here). */
  maxBytes: number;
}

export type EngineOutcome =
  | { ok: true; verdict: Verdict; signatures: HangSignature[]; modelSummary: ModelSummary; durationMs: number }
  | { ok: false; code: string; message: string };

export default function analyseInThread({ bytes, maxBytes }: EngineTask): EngineOutcome {
  const started = performance.now();
  try {
    const { model, verdict } = analyzeTranscript(bytes, { maxBytes });
    // "No hang" would be a false verdict on a text that holds no debugger output at all (blank lines, prose, noise).
    if (!hasDebuggerOutput(model.sessions)) {
      return { ok: false, code: 'no-debugger-output', message: 'the text holds no debugger prompt (kd>, 0:000>) and no debugger output: upload the kd/WinDbg/cdb transcript itself' };
    }
    const signatures = verdict.findings.map((finding) => signFinding(finding));
    return { ok: true, verdict, signatures, modelSummary: summariseModel(model), durationMs: performance.now() - started };
  } catch (error) {
    if (isTranscriptError(error)) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}
