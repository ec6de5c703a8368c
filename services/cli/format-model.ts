import type { SessionModel, StackFrame, ThreadEntity, TranscriptModel } from '../engine/index.ts';
import { summariseModel } from '../engine/index.ts';

/** A human-readable digest of what the engine read: counts, coverage, the notable entities, warnings. */
export function formatModel(model: TranscriptModel, fileName: string): string {
  const summary = summariseModel(model);
  const out: string[] = [];
  const source = model.source;
  out.push(`${fileName}: ${summary.lines} lines, ${source.byteLength} bytes, ${source.encoding}${source.byteOrderMark ? ' with BOM' : ''}${source.compression ? `, ${source.compression}` : ''}`);
  out.push(`sessions: ${summary.sessions}   command blocks: ${summary.blocks} (${summary.understoodBlocks} understood)`);
  out.push('entities: ' + Object.entries(summary.counts).map(([name, count]) => `${name} ${count}`).join(', '));
  for (const session of model.sessions) out.push('', ...formatSession(session));
  out.push('', `unparsed: ${summary.unparsed.length === 0 ? 'none' : ''}`);
  for (const block of summary.unparsed) out.push(`  ${block}`);
  if (model.coverage.withoutOutput.length > 0) {
    out.push(`without output: ${model.coverage.withoutOutput.map((block) => `${block.command} (line ${block.startLine})`).join(', ')}`);
  }
  out.push(`warnings: ${model.warnings.length === 0 ? 'none' : ''}`);
  for (const warning of model.warnings) out.push(`  line ${warning.line}: ${warning.message}`);
  return out.join('\n');
}

function formatSession(session: SessionModel): string[] {
  const out = [`session ${session.index} (${session.mode}, lines ${session.startLine}-${session.endLine})`];
  const waiting = session.threads.filter((thread) => thread.frames.length > 0 || thread.alpcWait || thread.waitReason);
  if (waiting.length > 0) out.push('  threads:');
  for (const thread of waiting) out.push(`    ${describeThread(thread)}`);
  for (const message of session.alpcMessages) {
    out.push(
      `  alpc message ${message.address}: waiting ${message.waitingThread ?? '?'} → server ${message.serverThread ?? 'none'}` +
        ` (port owner ${message.queuePortOwnerImage ?? message.queuePortOwnerProcess ?? '?'})`,
    );
  }
  for (const irp of session.irps) {
    out.push(`  irp ${irp.address}: ${irp.pending ? 'pending' : 'at'} ${irp.currentDriver ?? '?'}${irp.thread ? `, thread ${irp.thread}` : ''}`);
  }
  for (const file of session.fileObjects) out.push(`  file object ${file.address}: ${file.fileName ?? '?'}`);
  for (const queue of session.workQueues) {
    const details = [
      queue.hasPendingItems === null ? null : queue.hasPendingItems ? 'items pending' : 'empty',
      queue.pendingItems === null ? null : `${queue.pendingItems} pending`,
      queue.dynamicThreads === null ? null : `${queue.dynamicThreads} dynamic threads`,
      queue.threads.length > 0 ? `${queue.threads.length} threads listed` : null,
    ].filter((detail) => detail !== null);
    out.push(`  work queue ${queue.key}: ${details.join(', ')}`);
  }
  const routines = new Map<string, number>();
  for (const item of session.workItems) routines.set(item.routine, (routines.get(item.routine) ?? 0) + 1);
  for (const [routine, count] of routines) out.push(`  work items: ${count} × ${routine}`);
  for (const lock of session.locks) {
    const owners = lock.owners.map((owner) => owner.thread ?? '?').join(', ') || 'none';
    out.push(`  ${lock.lockKind} ${lock.address}${lock.symbol ? ` (${lock.symbol})` : ''}: owners ${owners}${lock.waiters.length ? `, waiters ${lock.waiters.join(', ')}` : ''}`);
  }
  for (const bugcheck of session.bugchecks) {
    out.push(`  bugcheck ${bugcheck.name ?? '?'} (0x${bugcheck.code?.toString(16) ?? '?'}) ${bugcheck.fields['IMAGE_NAME'] ?? ''}`.trimEnd());
  }
  return out;
}

function describeThread(thread: ThreadEntity): string {
  const who = `${thread.address ?? thread.key}${thread.image ? ` (${thread.image})` : ''}`;
  const wait = thread.waitReason ? ` ${thread.state ?? ''} ${thread.waitReason}` : thread.state ? ` ${thread.state}` : '';
  const duration = thread.waitMs !== null ? ` for ${formatDuration(thread.waitMs)}` : '';
  const frame = firstMeaningfulFrame(thread.frames) ?? thread.blockerFrame;
  return `${who}${wait}${duration}${frame ? ` in ${frame.callSite}` : ''}`;
}

const WAIT_FRAMES = /^(nt|ntoskrnl|ntkrnlmp|ntkrnlpa|ntdll|kernelbase|kernel32|wow64|wow64cpu)$/i;

function firstMeaningfulFrame(frames: StackFrame[]): StackFrame | undefined {
  return frames.find((frame) => frame.module !== null && !WAIT_FRAMES.test(frame.module)) ?? frames[0];
}

function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours}h${String(minutes).padStart(2, '0')}m` : minutes > 0 ? `${minutes}m${String(seconds % 60).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`;
}
