import type { SessionBuilder } from '../model/session-builder.ts';
import type { CommandInfo } from './command.ts';
import type { LockEntity, ProcessEntity, ThreadEntity, WorkQueueEntity } from '../model/types.ts';

export interface Line {
  /** The line with indentation, blockquotes and annotations removed. */
  text: string;
  number: number;
}

/** What a section reader can see and change while reading one command block. */
export interface ParseContext {
  session: SessionBuilder;
  command: CommandInfo | null;
  /** The thread a following stack table belongs to (the last `THREAD` header, `~N` selector, …). */
  focusThread: ThreadEntity | null;
  focusProcess: ProcessEntity | null;
  focusQueue: WorkQueueEntity | null;
  /** The last `Resource @` of this block: `!locks -v` prints its waiter list after the owners' `THREAD` blocks. */
  focusLock?: LockEntity | null;
  /** Line of the current block's prompt (0 for output without one). */
  blockLine: number;
  /** Objects the debugger said, in this block, are not what was asked for: their fields here are garbage. */
  distrusted: Set<string>;
  warn(line: number, message: string): void;
  /** Marks the current block as understood (some entity was read from it). */
  understood(): void;
}

/** An open section of output: the lines after a header, until another header or the block ends. */
export interface Section {
  /** Reads a line; returns false when the line ends the section (it is then offered to the others). */
  accept(line: Line): boolean;
  /** True when a line that looks like another section's header is still this section's (checked first). */
  claims?(line: Line): boolean;
  close?(): void;
}

/**
 * Starts a section at a header line. `keys` are the first words of the lines it can start on,
 * so each line is offered only to the readers that could want it.
 */
export interface SectionReader {
  name: string;
  keys: readonly string[];
  start(line: Line, context: ParseContext): Section | null;
}

/** Starts a section for a command whose output has no distinctive header (`dt`, `dd`, `!list`, `x`…). */
export interface CommandReader {
  name: string;
  commands: readonly string[];
  start(line: Line, context: ParseContext): Section | null;
}

const USER_THREAD_HEADER_START = /^[.#]?\s*\d{1,6}\s+Id:/i;

/** The key a line is offered under: its first word, with a few header shapes folded together. */
export function sectionKey(text: string): string {
  const first = text.charCodeAt(0);
  if (first === 45 /* - */) return text.startsWith('---') ? '---' : '';
  if (first === 42 /* * */) return text.startsWith('****') ? '****' : '';
  if (first === 43 /* + */) return text.startsWith('+0x') ? '+0x' : '';
  if (first === 46 || first === 35 || (first >= 48 && first <= 57)) {
    if (first === 35 && (text.length === 1 || text.charCodeAt(1) === 32) && !USER_THREAD_HEADER_START.test(text)) return '#';
    return USER_THREAD_HEADER_START.test(text) ? 'Id:' : '';
  }
  // Every other key starts with a capital letter or is `nt!_ERESOURCE`: most output lines stop here.
  if (!((first >= 65 && first <= 90) || first === 110 /* n */)) return '';
  const space = text.indexOf(' ');
  return space === -1 ? text : text.slice(0, space);
}
