import { ENTITY_COLLECTIONS, type EntityCollectionName, type SessionModel, type TranscriptModel } from './types.ts';

export interface ModelSummary {
  sessions: number;
  lines: number;
  counts: Record<EntityCollectionName, number>;
  blocks: number;
  understoodBlocks: number;
  unparsed: string[];
  warnings: number;
}

/** Counts per entity kind across sessions, coverage and warnings: what the CLI prints. */
export function summariseModel(model: TranscriptModel): ModelSummary {
  const counts = Object.fromEntries(ENTITY_COLLECTIONS.map((name) => [name, 0])) as Record<EntityCollectionName, number>;
  for (const session of model.sessions) for (const name of ENTITY_COLLECTIONS) counts[name] += session[name].length;
  return {
    sessions: model.sessions.length,
    lines: model.source.lineCount,
    counts,
    blocks: model.coverage.blocks,
    understoodBlocks: model.coverage.understoodBlocks,
    unparsed: model.coverage.unparsed.map((block) => `${block.command} (line ${block.startLine})`),
    warnings: model.warnings.length,
  };
}

/** Whether any block is debugger output: a command the reader saw, or output it recognised by its header. */
export function hasDebuggerOutput(sessions: readonly Pick<SessionModel, 'blocks'>[]): boolean {
  return sessions.some((session) => session.blocks.some((block) => block.command !== null || block.understood));
}
