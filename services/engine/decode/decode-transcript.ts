import { Buffer, isUtf8 } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DEFAULT_MAX_LINE_LENGTH, LineSplitter } from '../segment/lines.ts';
import { TranscriptError } from './transcript-error.ts';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface DecodeOptions {
  /** Largest transcript accepted, in bytes, before and after decompression. */
  maxBytes?: number;
  /** Longer lines are decoded only up to this many characters (and flagged as cut). */
  maxLineLength?: number;
}

/** What was learnt about an upload before its text is read. */
export interface TranscriptSource {
  encoding: TextEncodingName;
  byteOrderMark: boolean;
  compression: 'gzip' | null;
  /** Size of the (decompressed) bytes that are decoded. */
  byteLength: number;
  warnings: string[];
  /** False when the text holds no tab and no Unicode space (lines then need no replacing of them). */
  mayHoldWideSpaces: boolean;
  /**
   * Calls `onLine` with every line, each decoded on its own: a large upload never exists as one string, and
   * what the model keeps of a line keeps only that line alive.
   */
  readLines(onLine: (line: string, cut: boolean) => void): void;
}

export interface DecodedTranscript extends Omit<TranscriptSource, 'readLines' | 'mayHoldWideSpaces'> {
  text: string;
}

export const DEFAULT_MAX_TRANSCRIPT_BYTES = 512 * 1024 * 1024;

/** Share of sampled characters that may be control bytes or undecodable before the input counts as binary. */
const MAX_BINARY_SHARE = 0.05;
const SAMPLE_WINDOW_BYTES = 32 * 1024;
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Checks and identifies an upload: detects gzip by its magic number, UTF-8/UTF-16 by BOM, UTF-16 without BOM by
 * the pattern of NUL bytes, and falls back to Windows-1252 (WinDbg's ANSI logs) when the bytes are not UTF-8.
 * Throws TranscriptError for input that is empty, binary, corrupt or over the size limit.
 */
export function openTranscript(input: Uint8Array, options: DecodeOptions = {}): TranscriptSource {
  const { readable: _readable, ...source } = openReadable(input, options);
  return source;
}

function openReadable(input: Uint8Array, options: DecodeOptions): TranscriptSource & { readable: Uint8Array } {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_TRANSCRIPT_BYTES;
  const warnings: string[] = [];
  if (input.byteLength > maxBytes) {
    throw new TranscriptError('too-large', `${input.byteLength} bytes exceed the limit of ${maxBytes} bytes`);
  }
  let bytes = input;
  let compression: TranscriptSource['compression'] = null;
  if (isGzip(bytes)) {
    bytes = gunzipWithinLimit(bytes, maxBytes, warnings);
    compression = 'gzip';
  }
  if (bytes.byteLength === 0) {
    throw new TranscriptError('not-a-text-transcript', compression ? 'the gzip stream holds no data' : 'the file is empty');
  }
  const detected = detectEncoding(bytes);
  let encoding = detected.encoding;
  const body = bytes.subarray(detected.bomLength);
  if (body.byteLength === 0 || (detected.bomLength === 2 && body.byteLength === 1)) {
    throw new TranscriptError('not-a-text-transcript', 'the file holds only a byte order mark');
  }
  if (encoding === 'utf-8' && !isUtf8(body.subarray(0, completeUtf8Length(body)))) {
    encoding = 'windows-1252';
    warnings.push('the bytes are not valid UTF-8; decoded as Windows-1252 (an ANSI debugger log)');
  }
  if (encoding !== 'utf-8' && encoding !== 'windows-1252' && body.byteLength % 2 === 1) {
    warnings.push(`${encoding} text has an odd number of bytes; the last byte was ignored`);
  }
  const readable = encoding === 'utf-16le' || encoding === 'utf-16be' ? body.subarray(0, body.byteLength - (body.byteLength % 2)) : body;
  rejectBinary(readable, encoding);
  return {
    encoding,
    byteOrderMark: detected.bomLength > 0,
    compression,
    byteLength: bytes.byteLength,
    warnings,
    mayHoldWideSpaces: mayHoldWideSpaces(readable, encoding),
    readLines: (onLine) => readLines(readable, encoding, options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH, onLine),
    readable,
  };
}

/** Bytes → the whole text at once (see `openTranscript` for the checks it makes). */
export function decodeTranscript(input: Uint8Array, options: DecodeOptions = {}): DecodedTranscript {
  const { readLines: _readLines, mayHoldWideSpaces: _wide, readable, ...source } = openReadable(input, options);
  try {
    return { ...source, text: Array.from(decodeChunks(readable, source.encoding)).join('') };
  } catch (error) {
    // Over V8's longest string: only `parseTranscript`, which never builds the whole text, can read this one.
    if (error instanceof RangeError) throw new TranscriptError('too-large', 'the decoded text is longer than the longest string JavaScript can hold');
    throw error;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** In UTF-8 and Windows-1252 a line end is a byte of its own: lines are found, then decoded, one by one. */
function readLines(bytes: Uint8Array, encoding: TextEncodingName, maxLineLength: number, onLine: (line: string, cut: boolean) => void): void {
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    const splitter = new LineSplitter((line, cut) => onLine(copyOfLine(line), cut), maxLineLength);
    for (const chunk of decodeChunks(bytes, encoding)) splitter.push(chunk);
    splitter.end();
    return;
  }
  const buffer = asBuffer(bytes);
  const decode = encoding === 'utf-8' ? (start: number, end: number) => buffer.toString('utf8', start, end) : (start: number, end: number) => decodeWindows1252(buffer.subarray(start, end));
  // Enough bytes for maxLineLength characters and one more, in any encoding: an endless line is never decoded whole.
  const maxLineBytes = (maxLineLength + 1) * 4;
  const length = buffer.byteLength;
  // The next LF and the next CR, each searched again only once passed: linear however the ends are mixed.
  let nextLf = -2;
  let nextCr = -2;
  let start = 0;
  while (start < length) {
    if (nextLf !== -1 && nextLf < start) nextLf = buffer.indexOf(10, start);
    if (nextCr !== -1 && nextCr < start) nextCr = buffer.indexOf(13, start);
    const lf = nextLf === -1 ? length : nextLf;
    const cr = nextCr === -1 ? length : nextCr;
    const lineEnd = Math.min(lf, cr);
    const cut = lineEnd - start > maxLineBytes;
    onLine(decode(start, cut ? start + maxLineBytes : lineEnd), cut);
    // CRLF is one line end; CR alone (old Mac logs) and LF alone are one each.
    start = lineEnd === cr && lf === cr + 1 ? lf + 1 : lineEnd + 1;
  }
}

/** A line of its own, so that what the model keeps of it does not keep the whole decoded piece alive. */
function copyOfLine(line: string): string {
  return line.length < 13 ? line : (' ' + line).slice(1);
}

/** Byte patterns of a tab and of the Unicode spaces the reader replaces, in UTF-8 and Windows-1252. */
function mayHoldWideSpaces(bytes: Uint8Array, encoding: TextEncodingName): boolean {
  if (encoding !== 'utf-8' && encoding !== 'windows-1252') return true;
  const buffer = asBuffer(bytes);
  if (buffer.indexOf(9) !== -1) return true;
  if (encoding === 'windows-1252') return buffer.indexOf(0xa0) !== -1;
  return buffer.indexOf(0xc2) !== -1 || buffer.indexOf(0xe2) !== -1 || buffer.indexOf(0xe3) !== -1 || buffer.indexOf(0xef) !== -1;
}

/** Length of `bytes` without a UTF-8 sequence cut off at the end (a truncated upload is still UTF-8). */
function completeUtf8Length(bytes: Uint8Array): number {
  const length = bytes.byteLength;
  for (let back = 1; back <= 3 && back <= length; back++) {
    const byte = bytes[length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? length - back : length;
  }
  return length;
}

function* decodeChunks(bytes: Uint8Array, encoding: TextEncodingName): Generator<string> {
  if (encoding === 'windows-1252') {
    for (let start = 0; start < bytes.byteLength; start += CHUNK_BYTES) yield decodeWindows1252(bytes.subarray(start, start + CHUNK_BYTES));
    return;
  }
  // A streaming decoder carries a character cut by a chunk boundary over to the next chunk.
  const decoder = new TextDecoder(encoding);
  for (let start = 0; start < bytes.byteLength; start += CHUNK_BYTES) {
    const end = Math.min(start + CHUNK_BYTES, bytes.byteLength);
    yield decoder.decode(bytes.subarray(start, end), { stream: end < bytes.byteLength });
  }
}

/** Windows-1252 differs from Latin-1 in 0x80–0x9F (smart quotes, dashes, €); Node's decoder treats it as Latin-1. */
const WINDOWS_1252_HIGH_CONTROLS =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const LATIN1_HIGH_CONTROL = /[\u0080-\u009f]/g;

function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = new TextDecoder('latin1').decode(bytes);
  return latin1.replace(LATIN1_HIGH_CONTROL, (char) => WINDOWS_1252_HIGH_CONTROLS[char.charCodeAt(0) - 0x80]!);
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08;
}

function gunzipWithinLimit(bytes: Uint8Array, maxBytes: number, warnings: string[]): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new TranscriptError('too-large', `the decompressed transcript exceeds the limit of ${maxBytes} bytes`);
    }
    if (code !== 'Z_BUF_ERROR') {
      throw new TranscriptError('not-a-text-transcript', `corrupt gzip stream (${code ?? 'unknown zlib error'})`);
    }
  }
  // A truncated upload: keep every byte that could still be decompressed.
  try {
    const partial = gunzipSync(bytes, { maxOutputLength: maxBytes, finishFlush: zlibConstants.Z_SYNC_FLUSH });
    warnings.push('the gzip stream is truncated; the transcript was read up to where it ends');
    return partial;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new TranscriptError('too-large', `the decompressed transcript exceeds the limit of ${maxBytes} bytes`);
    }
    throw new TranscriptError('not-a-text-transcript', `truncated gzip stream with nothing readable (${code ?? 'zlib error'})`);
  }
}

function detectEncoding(bytes: Uint8Array): { encoding: TextEncodingName; bomLength: number } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  return { encoding: guessUtf16ByNulPattern(bytes) ?? 'utf-8', bomLength: 0 };
}

/** ASCII text in UTF-16 has a NUL in every other byte: odd offsets for LE, even ones for BE. */
function guessUtf16ByNulPattern(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const sampleLength = Math.min(bytes.byteLength, 8192) & ~1;
  if (sampleLength < 4) return null;
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < sampleLength; i += 2) {
    if (bytes[i] === 0) evenNuls++;
    if (bytes[i + 1] === 0) oddNuls++;
  }
  const pairs = sampleLength / 2;
  if (oddNuls >= pairs * 0.3 && evenNuls <= pairs * 0.05) return 'utf-16le';
  if (evenNuls >= pairs * 0.3 && oddNuls <= pairs * 0.05) return 'utf-16be';
  return null;
}

/** Samples the start, middle and end of the bytes; binary data shows as control characters or U+FFFD. */
function rejectBinary(bytes: Uint8Array, encoding: TextEncodingName): void {
  const length = bytes.byteLength;
  const window = SAMPLE_WINDOW_BYTES;
  const starts = length <= window * 3 ? [0] : [0, ((length >> 1) - (window >> 1)) & ~1, (length - window) & ~1];
  let sampled = 0;
  let suspicious = 0;
  let nuls = 0;
  for (const start of starts) {
    const slice = bytes.subarray(start, length <= window * 3 ? length : start + window);
    const text = encoding === 'windows-1252' ? decodeWindows1252(slice) : new TextDecoder(encoding).decode(slice);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      sampled++;
      if (code === 0) nuls++;
      if ((code < 32 && code !== 9 && code !== 10 && code !== 13 && code !== 12 && code !== 11) || code === 0xfffd || code === 0x7f) {
        suspicious++;
      }
    }
  }
  if (sampled > 0 && suspicious / sampled > MAX_BINARY_SHARE) {
    const share = ((suspicious / sampled) * 100).toFixed(1);
    throw new TranscriptError(
      'not-a-text-transcript',
      `${share}% of the sampled characters are control bytes${nuls > 0 ? ' or NULs' : ''} or undecodable (binary data, e.g. a dump file instead of its debugger text)`,
    );
  }
}
