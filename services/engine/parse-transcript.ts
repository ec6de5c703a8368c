import { Buffer } from 'node:buffer';
import { DEFAULT_MAX_TRANSCRIPT_BYTES, openTranscript, type DecodeOptions } from './decode/decode-transcript.ts';
import { TranscriptError } from './decode/transcript-error.ts';
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
    const text = readableText(input, options);
    reader.wideSpaces = hasWideSpaces(text);
    forEachLine(text, (line, cut) => reader.pushLine(line, cut), options.maxLineLength);
    return reader.finish({ encoding: 'text', byteOrderMark: text.length !== input.length, compression: null, byteLength: input.length, lineCount: 0 });
  }
  const { readLines, mayHoldWideSpaces, warnings, ...source } = openTranscript(input, options);
  reader.wideSpaces = mayHoldWideSpaces;
  readLines((line, cut) => reader.pushLine(line, cut));
  const model = reader.finish({ ...source, lineCount: 0 });
  return { ...model, warnings: [...warnings.map((message) => ({ line: 0, message })), ...model.warnings] };
}

/** A string is held to the rules bytes are: the same size limit (as UTF-8), no empty text, a BOM dropped. */
function readableText(input: string, options: DecodeOptions): string {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TRANSCRIPT_BYTES;
  if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
    throw new TranscriptError('too-large', `the text exceeds the limit of ${maxBytes} bytes`);
  }
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (text.length === 0) throw new TranscriptError('not-a-text-transcript', input.length === 0 ? 'the text is empty' : 'the text holds only a byte order mark');
  return text;
}
