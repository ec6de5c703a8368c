import { decodeTranscript, type DecodeOptions } from './decode/decode-transcript.ts';
import type { TranscriptModel } from './model/types.ts';
import { TranscriptReader, type ReaderOptions } from './parse/transcript-reader.ts';
import { hasWideSpaces } from './segment/clean-line.ts';
import { forEachLine } from './segment/lines.ts';

export interface ParseOptions extends DecodeOptions, ReaderOptions {}

/**
 * Bytes (or already decoded text) → the typed transcript model.
 * Throws only TranscriptError (`not a text transcript`, `too large`); everything else becomes a warning.
 */
export function parseTranscript(input: Uint8Array | string, options: ParseOptions = {}): TranscriptModel {
  if (typeof input === 'string') {
    return readText(input, { encoding: 'text', byteOrderMark: false, compression: null, byteLength: input.length }, [], options);
  }
  const decoded = decodeTranscript(input, options);
  return readText(
    decoded.text,
    { encoding: decoded.encoding, byteOrderMark: decoded.byteOrderMark, compression: decoded.compression, byteLength: decoded.byteLength },
    decoded.warnings,
    options,
  );
}

function readText(
  text: string,
  source: Omit<TranscriptModel['source'], 'lineCount'>,
  decodeWarnings: string[],
  options: ReaderOptions,
): TranscriptModel {
  const reader = new TranscriptReader({ ...options, wideSpaces: hasWideSpaces(text) });
  forEachLine(text, (line) => reader.pushLine(line));
  const model = reader.finish({ ...source, lineCount: 0 });
  return { ...model, warnings: [...decodeWarnings.map((message) => ({ line: 0, message })), ...model.warnings] };
}
