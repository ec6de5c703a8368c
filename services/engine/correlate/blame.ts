import type { StackFrame, ThreadEntity } from '../model/types.ts';
import { isDispatchFrame, isFrameworkFrame, isOsModule, isWaitFrame, moduleOf } from './os-modules.ts';

/** The frames that explain a thread's wait: the leading wait frames and everything from the dispatch frames on left out. */
export function meaningfulFrames(thread: ThreadEntity): StackFrame[] {
  const frames = thread.frames.length > 0 ? thread.frames : thread.blockerFrame ? [thread.blockerFrame] : [];
  let start = 0;
  while (start < frames.length && isWaitFrame(frames[start]!)) start++;
  const meaningful: StackFrame[] = [];
  for (let i = start; i < frames.length; i++) {
    const frame = frames[i]!;
    if (isDispatchFrame(frame)) break;
    meaningful.push(frame);
  }
  return meaningful;
}

/** The module to blame for a thread's wait: the first third-party module below the waits, else the first module. */
export function blameThread(thread: ThreadEntity): string | null {
  const frames = meaningfulFrames(thread);
  let first: string | null = null;
  for (const frame of frames) {
    const module = moduleOf(frame);
    if (!module) continue;
    first ??= module;
    if (!isOsModule(module) && !isFrameworkFrame(frame)) return module;
  }
  return first;
}
