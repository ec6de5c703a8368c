/** Runs inside a worker thread (see engine-pool.ts): bytes in, verdict out. A rejected transcript is a value. */
import { analyzeTranscript, isTranscriptError, signFinding, summariseModel, type HangSignature, type ModelSummary, type Verdict } from '../../services/engine/index.ts';

export interface EngineTask {
  bytes: Uint8Array;
}

export type EngineOutcome =
  | { ok: true; verdict: Verdict; signatures: HangSignature[]; modelSummary: ModelSummary; durationMs: number }
  | { ok: false; code: string; message: string };

export default function analyseInThread({ bytes }: EngineTask): EngineOutcome {
  const started = performance.now();
  try {
    const { model, verdict } = analyzeTranscript(bytes);
    const signatures = verdict.findings.map((finding) => signFinding(finding));
    return { ok: true, verdict, signatures, modelSummary: summariseModel(model), durationMs: performance.now() - started };
  } catch (error) {
    if (isTranscriptError(error)) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}
