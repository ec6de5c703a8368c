import { ENTITY_COLLECTIONS, type EntityCollectionName, type TranscriptModel } from './types.ts';

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
