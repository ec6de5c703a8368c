import type { CommandReader, SectionReader } from './section.ts';
import { alpcMessageSectionReader, alpcPortListSectionReader, alpcPortSectionReader } from './sections/alpc-sections.ts';
import { analyzeReader } from './sections/analyze-section.ts';
import { exqueueSectionReader } from './sections/exqueue-section.ts';
import { handleReader } from './sections/handle-section.ts';
import { irpFindReader, irpSectionReader } from './sections/irp-sections.ts';
import { criticalSectionReader, eresourceSectionReader, eresourceWaitersReader } from './sections/lock-sections.ts';
import { dtReader, evaluateReader, memoryReader, symbolReader, workItemListReader } from './sections/memory-sections.ts';
import { mexThreadListReader, mexThreadReader } from './sections/mex-sections.ts';
import { poolSectionReader } from './sections/pool-section.ts';
import { processSectionReader } from './sections/process-section.ts';
import { stackSectionReader } from './sections/stack-section.ts';
import { stacksSectionReader } from './sections/stacks-section.ts';
import { threadSectionReader } from './sections/thread-section.ts';
import { clrStackOwnerReader, clrThreadsReader, syncBlockReader, userThreadHeaderReader } from './sections/user-mode-sections.ts';

/**
 * Readers started by a header line, wherever it appears (with or without the command that printed it).
 * Order matters only among readers sharing a key: the first that accepts the line wins.
 */
export const HEADER_READERS: readonly SectionReader[] = [
  processSectionReader,
  threadSectionReader,
  stackSectionReader,
  alpcMessageSectionReader,
  alpcPortSectionReader,
  alpcPortListSectionReader,
  irpSectionReader,
  irpFindReader,
  eresourceSectionReader,
  eresourceWaitersReader,
  criticalSectionReader,
  stacksSectionReader,
  exqueueSectionReader,
  userThreadHeaderReader,
  clrStackOwnerReader,
  clrThreadsReader,
  syncBlockReader,
  poolSectionReader,
];

/** Readers for commands whose output has no header of its own. */
export const COMMAND_READERS: readonly CommandReader[] = [
  dtReader,
  memoryReader,
  symbolReader,
  workItemListReader,
  evaluateReader,
  analyzeReader,
  irpFindReader,
  handleReader,
  mexThreadReader,
  mexThreadListReader,
];

/** Commands that print nothing to read (loading extensions, switching context): never reported as unparsed. */
export const META_COMMANDS: ReadonlySet<string> = new Set([
  '(empty)',
  '.load',
  '.loadby',
  '.unload',
  '!sw',
  '.thread',
  '.process',
  '.cxr',
  '.trap',
  '~s',
  '.cls',
  '.reload',
  '.sympath',
  '.symfix',
  '.srcpath',
  '.logopen',
  '.logclose',
  '.logappend',
  '.echo',
  '.effmach',
  '.prefer_dml',
  '.lines',
]);

export function indexHeaderReaders(readers: readonly SectionReader[]): Map<string, SectionReader[]> {
  const byKey = new Map<string, SectionReader[]>();
  for (const reader of readers) {
    for (const key of reader.keys) {
      const list = byKey.get(key) ?? [];
      list.push(reader);
      byKey.set(key, list);
    }
  }
  return byKey;
}

export function indexCommandReaders(readers: readonly CommandReader[]): Map<string, CommandReader> {
  const byCommand = new Map<string, CommandReader>();
  for (const reader of readers) for (const command of reader.commands) byCommand.set(command, reader);
  return byCommand;
}
