import { openTranscript, type DecodeOptions } from './decode/decode-transcript.ts';
import type { TranscriptModel } from './model/types.ts';
import { TranscriptReader, type ReaderOptions } from './parse/transcript-reader.ts';
import { hasWideSpaces } from './segment/clean-line.ts';
import { forEachLine } from './segment/lines.ts';

export interface ParseOptions extends DecodeOptions, ReaderOptions {}

/**
 * Bytes (or already decoded text) → the typed transcript model. Bytes are decoded line by line and fed to the
 * reader, so memory holds the model and the lines it refers to, never the whole text as one string.
 * Throws only TranscriptError (`not a text transcript`, `too large`); everything else becomes a warning.
 */
export function parseTranscript(input: Uint8Array | string, options: ParseOptions = {}): TranscriptModel {
  const reader = new TranscriptReader(options);
  if (typeof input === 'string') {
    reader.wideSpaces = hasWideSpaces(input);
    forEachLine(input, (line) => reader.pushLine(line));
    return reader.finish({ encoding: 'text', byteOrderMark: false, compression: null, byteLength: input.length, lineCount: 0 });
  }
  const { readLines, mayHoldWideSpaces, warnings, ...source } = openTranscript(input, options);
  reader.wideSpaces = mayHoldWideSpaces;
  readLines((line) => reader.pushLine(line));
  const model = reader.finish({ ...source, lineCount: 0 });
  return { ...model, warnings: [...warnings.map((message) => ({ line: 0, message })), ...model.warnings] };
}
