import type { Evidence } from './types.ts';

export function emptyEvidence(): Evidence {
  return { lines: [], fields: {} };
}

export function addEvidenceLine(evidence: Evidence, line: number): void {
  const lines = evidence.lines;
  if (lines[lines.length - 1] !== line) lines.push(line);
}

/** Sets a field when a value was read, and records the line it came from. */
export function setField<T extends { evidence: Evidence }, K extends keyof T & string>(
  entity: T,
  field: K,
  value: T[K] | null | undefined,
  line: number,
): void {
  if (value === null || value === undefined) return;
  entity[field] = value;
  noteField(entity.evidence, field, line);
}

export function noteField(evidence: Evidence, field: string, line: number): void {
  const lines = (evidence.fields[field] ??= []);
  if (lines[lines.length - 1] !== line) lines.push(line);
  addEvidenceLine(evidence, line);
}

/** Sorted, de-duplicated line lists: the same output regardless of the order blocks were read in. */
export function finishEvidence(evidence: Evidence): Evidence {
  const fields: Record<string, number[]> = {};
  for (const name of Object.keys(evidence.fields).sort()) fields[name] = sortedUnique(evidence.fields[name]!);
  return { lines: sortedUnique(evidence.lines), fields };
}

function sortedUnique(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.filter((value, index) => index === 0 || sorted[index - 1] !== value);
}
