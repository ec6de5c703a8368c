import { openTranscript } from '../decode/decode-transcript.ts';
import type { TranscriptModel } from '../model/types.ts';
import { parseTranscript, type ParseOptions } from '../parse-transcript.ts';
import { forEachLine } from '../segment/lines.ts';
import { signFinding } from '../signature/generate-signature.ts';
import { analyzeSession, crashBugcheck } from './analyze-session.ts';
import { VERDICT_SCHEMA, type Finding, type Verdict } from './verdict-types.ts';

export interface Analysis {
  model: TranscriptModel;
  verdict: Verdict;
}

/** Transcript → model → verdict, with every evidence line quoted from the transcript. */
export function analyzeTranscript(input: Uint8Array | string, options: ParseOptions = {}): Analysis {
  const model = parseTranscript(input, options);
  const verdict = judge(model);
  quoteEvidence(verdict, input, options);
  return { model, verdict };
}

/** The verdict over every session of a model (evidence lines numbered, their text left empty). */
export function judge(model: TranscriptModel): Verdict {
  const findings = model.sessions.flatMap((session) => analyzeSession(session));
  const notes: string[] = [];
  const confident = findings.filter((finding) => finding.confidence !== 'low');
  const suspended = model.sessions.flatMap((session) => session.threads.filter((thread) => thread.waitReason === 'Suspended'));
  if (suspended.length > 0) {
    notes.push(`${suspended.length} thread(s) are suspended (${suspended.map((thread) => thread.address ?? thread.key).join(', ')}): a suspended thread is not a hang by itself; resume it or find who suspended it.`);
  }
  for (const finding of findings) {
    const { text, hash, rulesVersion } = signFinding(finding);
    finding.signature = { text, hash, rulesVersion };
  }
  const crashes = model.sessions.map(crashBugcheck).filter((bugcheck) => bugcheck !== undefined);
  for (const crash of crashes) notes.push(`The dump was taken by a crash, not a hang: ${describeCrash(crash)}.`);
  // A crash with nothing but low-confidence waits beside it: the crash is the answer, not an inconclusive hang.
  const verdict = confident.length > 0 ? 'hang' : crashes.length > 0 ? 'no-hang' : findings.length > 0 || suspended.length > 0 ? 'inconclusive' : 'no-hang';
  const crashed = verdict === 'no-hang' && crashes.length > 0;
  const summary = crashed ? `Not a hang: the system crashed with ${describeCrash(crashes[0]!)}.` : summarise(verdict, findings);
  // A no-hang verdict carries no findings (nothing to cluster); the waits seen beside the crash stay in the notes.
  if (crashed) for (const finding of findings) notes.push(`Also seen, not counted as a hang: ${finding.summary}`);
  return { schema: VERDICT_SCHEMA, verdict, summary, findings: verdict === 'hang' ? confident : crashed ? [] : findings, notes };
}

/** `PAGE_FAULT_IN_NONPAGED_AREA (0x50) in FabrikamFltr.sys (AV_R_INVALID_FabrikamFltr!unknown_function)`. */
function describeCrash(bugcheck: TranscriptModel['sessions'][number]['bugchecks'][number]): string {
  const image = bugcheck.fields['IMAGE_NAME'] ?? bugcheck.fields['MODULE_NAME'];
  const bucket = bugcheck.fields['FAILURE_BUCKET_ID'];
  return `${bugcheck.name ?? 'bugcheck'} (0x${bugcheck.code!.toString(16)})${image ? ` in ${image}` : ''}${bucket ? ` (${bucket})` : ''}`;
}

function summarise(verdict: Verdict['verdict'], findings: Finding[]): string {
  if (verdict === 'no-hang') return 'No thread is blocked on anything the transcript shows, and no bugcheck reports a hang.';
  const top = findings[0];
  if (!top) return 'Nothing conclusive: the transcript does not show what the waiting threads wait for.';
  return verdict === 'hang' ? top.summary : `Possibly: ${top.summary} (not enough in the transcript to be sure)`;
}

/** A second, linear pass over the transcript fetches the text of the evidence lines only. */
function quoteEvidence(verdict: Verdict, input: Uint8Array | string, options: ParseOptions): void {
  const wanted = new Map<number, string>();
  for (const finding of verdict.findings) for (const step of finding.chain) for (const evidence of step.evidence) wanted.set(evidence.line, '');
  if (wanted.size === 0) return;
  let number = 0;
  const keep = (line: string) => {
    number++;
    if (wanted.has(number)) wanted.set(number, line.trim().slice(0, 300));
  };
  if (typeof input === 'string') forEachLine(input.charCodeAt(0) === 0xfeff ? input.slice(1) : input, keep, options.maxLineLength);
  else openTranscript(input, options).readLines(keep);
  for (const finding of verdict.findings) for (const step of finding.chain) for (const evidence of step.evidence) evidence.text = wanted.get(evidence.line) ?? '';
}
