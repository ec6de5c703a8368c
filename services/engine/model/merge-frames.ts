import type { StackFrame } from './types.ts';

const hasStackPointers = (frames: StackFrame[]) => frames.length > 0 && frames.every((frame) => frame.stackPointer !== null);

/**
 * One stack out of two printings of it (`!process 0 7` and `!thread`; `~*k` and `!cs -o`, each cut differently):
 * frames with their stack pointers are merged in stack order, otherwise the longer printing is kept. The result
 * does not depend on which printing came first.
 */
export function mergeFrames(existing: StackFrame[], incoming: StackFrame[]): StackFrame[] {
  if (incoming.length === 0) return existing;
  if (existing.length === 0) return incoming.slice();
  if (hasStackPointers(existing) && hasStackPointers(incoming)) {
    const bySp = new Map<string, StackFrame>();
    for (const frame of [...existing, ...incoming]) {
      const known = bySp.get(frame.stackPointer!);
      // Two printings of one frame: the one read first in the transcript, whatever the order of reading, with the
      // arguments of whichever printing has them (`!cs -o` prints no args; the `~*kb` of the same stack does).
      if (!known || frame.line < known.line) {
        bySp.set(frame.stackPointer!, known && known.args.length > frame.args.length ? { ...frame, args: known.args } : frame);
      } else if (frame.args.length > known.args.length) {
        bySp.set(frame.stackPointer!, { ...known, args: frame.args });
      }
    }
    // The stack grows down: the lowest stack pointer is the innermost frame, printed first.
    return [...bySp.values()].sort((a, b) => (a.stackPointer! < b.stackPointer! ? -1 : a.stackPointer! > b.stackPointer! ? 1 : 0));
  }
  if (incoming.length > existing.length || (incoming.length === existing.length && (incoming[0]?.line ?? 0) < (existing[0]?.line ?? 0))) {
    return incoming.slice();
  }
  return existing;
}
