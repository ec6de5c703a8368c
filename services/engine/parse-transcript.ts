import { openTranscript, type DecodeOptions } from './decode/decode-transcript.ts';
import type { TranscriptModel } from './model/types.ts';
import { TranscriptReader, type ReaderOptions } from './parse/transcript-reader.ts';
import { hasWideSpaces } from './segment/clean-line.ts';
import { LineSplitter } from './segment/lines.ts';

export interface ParseOptions extends DecodeOptions, Omit<ReaderOptions, 'wideSpaces'> {}

/**
 * Bytes (or already decoded text) → the typed transcript model. Bytes are decoded a piece at a time and fed
 * to the reader line by line, so memory holds the model and one piece of text, not the whole text.
 * Throws only TranscriptError (`not a text transcript`, `too large`); everything else becomes a warning.
 */
export function parseTranscript(input: Uint8Array | string, options: ParseOptions = {}): TranscriptModel {
  if (typeof input === 'string') {
    return readPieces([input], { encoding: 'text', byteOrderMark: false, compression: null, byteLength: input.length }, [], options);
  }
  const { chunks, warnings, ...source } = openTranscript(input, options);
  return readPieces(chunks(), source, warnings, options);
}

function readPieces(
  pieces: Iterable<string>,
  source: Omit<TranscriptModel['source'], 'lineCount'>,
  decodeWarnings: string[],
  options: ParseOptions,
): TranscriptModel {
  const reader = new TranscriptReader(options);
  const splitter = new LineSplitter((line) => reader.pushLine(line));
  for (const piece of pieces) {
    reader.wideSpaces = hasWideSpaces(piece);
    splitter.push(piece);
  }
  // The last line may hold a carry from an earlier piece that had tabs or Unicode spaces.
  reader.wideSpaces = true;
  splitter.end();
  const model = reader.finish({ ...source, lineCount: 0 });
  return { ...model, warnings: [...decodeWarnings.map((message) => ({ line: 0, message })), ...model.warnings] };
}
