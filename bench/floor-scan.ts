/**
 * The least any line-by-line reader of a transcript has to do, as a yardstick for the parser's speed goal:
 * decode the UTF-8 bytes into text, visit every line, and on each line that names a symbol (`module!function+0x1a`,
 * what a stack frame carries) cut out its module, function and offset. No prompts, no sections, no entities, no
 * evidence, no tolerance of quotes or annotations: a parser that builds the model does all of this and more, so its
 * speed cannot exceed this scan's. Measured beside the parser and the bare split in the same run.
 */
export interface FloorScanResult {
  lines: number;
  frames: ScannedFrame[];
}

interface ScannedFrame {
  module: string;
  name: string;
  offset: number;
}

export function floorScan(bytes: Uint8Array): FloorScanResult {
  const text = new TextDecoder('utf-8').decode(bytes);
  let lines = 0;
  const frames: ScannedFrame[] = [];
  let start = 0;
  const length = text.length;
  while (start <= length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = length;
    lines++;
    const bang = text.indexOf('!', start);
    if (bang !== -1 && bang < end) {
      let moduleStart = bang;
      while (moduleStart > start && text.charCodeAt(moduleStart - 1) !== 32) moduleStart--;
      const plus = text.indexOf('+', bang);
      const functionEnd = plus !== -1 && plus < end ? plus : end;
      const offset = functionEnd < end ? Number.parseInt(text.slice(functionEnd + 3, end), 16) : 0;
      frames.push({ module: text.slice(moduleStart, bang), name: text.slice(bang + 1, functionEnd), offset: Number.isNaN(offset) ? 0 : offset });
    }
    start = end + 1;
  }
  return { lines, frames };
}
