import type { Evidence } from './types.ts';

/*
 * Evidence is kept lean, because a transcript of 100 MB gives millions of field readings: a field read from
 * one line holds the bare number, and only a field read again (a merged object) gets an array. `lines` holds,
 * while reading, the entity's lines that are no field's; `finishEvidence` adds the fields' lines once, at the end.
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
  const fields = evidence.fields;
  const existing = fields[field];
  if (existing === undefined) fields[field] = line;
  else if (typeof existing === 'number') {
    if (existing !== line) fields[field] = [existing, line];
  } else if (existing[existing.length - 1] !== line) existing.push(line);
}

/** The lines a field was read from (none when it was not read). */
export function fieldLines(evidence: Evidence, field: string): number[] {
  const lines = evidence.fields[field];
  return lines === undefined ? [] : typeof lines === 'number' ? [lines] : lines;
}

/** Copies every field reading of `source` into `target` (two entities found to be one). */
export function mergeEvidence(target: Evidence, source: Evidence): void {
  for (const line of source.lines) addEvidenceLine(target, line);
  for (const [field, lines] of Object.entries(source.fields)) {
    for (const line of typeof lines === 'number' ? [lines] : lines) noteField(target, field, line);
  }
}

/**
 * Completes an entity's evidence in place (a model can hold a million entities: nothing is copied that need
 * not be): each field's lines sorted, and `lines` the sorted union of the entity's and its fields' lines.
 */
export function finishEvidence(evidence: Evidence): Evidence {
  const fields = evidence.fields;
  let count = evidence.lines.length;
  for (const name in fields) {
    const lines = fields[name]!;
    if (typeof lines === 'number') count++;
    else {
      const sorted = sortedUnique(lines);
      fields[name] = sorted.length === 1 ? sorted[0]! : sorted;
      count += sorted.length;
    }
  }
  const all = new Array<number>(count);
  let next = 0;
  for (const line of evidence.lines) all[next++] = line;
  for (const name in fields) {
    const lines = fields[name]!;
    if (typeof lines === 'number') all[next++] = lines;
    else for (const line of lines) all[next++] = line;
  }
  evidence.lines = sortedUnique(all);
  return evidence;
}

function sortedUnique(values: number[]): number[] {
  if (values.length <= 1) return values;
  let ordered = true;
  for (let i = 1; i < values.length; i++) {
    if (values[i]! <= values[i - 1]!) {
      ordered = false;
      break;
    }
  }
  if (ordered) return values;
  const sorted = values.sort((a, b) => a - b);
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[count++] = sorted[i]!;
  sorted.length = count;
  return sorted;
}
