import type { Evidence } from './types.ts';

/*
 * Evidence is kept lean while a transcript is read: a field's first line makes an array of exactly one
 * element (a transcript of 100 MB holds millions of them), and an entity's `lines` gets only the lines
 * that are not already some field's; `finishEvidence` builds the full, sorted lists once, at the end.
 */

export function emptyEvidence(): Evidence {
  return { lines: [], fields: {} };
}

export function addEvidenceLine(evidence: Evidence, line: number): void {
  const lines = evidence.lines;
  const length = lines.length;
  if (length === 0) evidence.lines = [line];
  else if (lines[length - 1] !== line) lines.push(line);
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
  const lines = evidence.fields[field];
  if (lines === undefined) evidence.fields[field] = [line];
  else if (lines[lines.length - 1] !== line) lines.push(line);
}

/** Sorted, de-duplicated line lists (the entity's own lines include every field's): the same output whatever the reading order. */
export function finishEvidence(evidence: Evidence): Evidence {
  const fields: Record<string, number[]> = {};
  let all = evidence.lines;
  for (const name of Object.keys(evidence.fields).sort()) {
    const lines = sortedUnique(evidence.fields[name]!);
    fields[name] = lines;
    all = all.length === 0 ? lines : all.concat(lines);
  }
  return { lines: sortedUnique(all), fields };
}

function sortedUnique(values: number[]): number[] {
  if (values.length === 1) return values;
  let ordered = true;
  for (let i = 1; i < values.length; i++) {
    if (values[i]! <= values[i - 1]!) {
      ordered = false;
      break;
    }
  }
  if (ordered) return values.slice();
  const sorted = values.slice().sort((a, b) => a - b);
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[count++] = sorted[i]!;
  return sorted.slice(0, count);
}
