import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { concatBytes, utf16be } from '../support/bytes.ts';
import {
  decodeTranscript,
  isTranscriptError,
  parseTranscript,
  TranscriptError,
  type TranscriptErrorCode,
  type TranscriptModel,
} from '../../services/engine/index.ts';

// Bytes → text → model: every encoding, compression and line-end variant of the bundled example must give the
// same model, and every input that is not a readable transcript must fail with a TranscriptError and a reason.

const EXAMPLE_BYTES = new Uint8Array(readFileSync(new URL('../../examples/hung-logon-worker-queue.txt', import.meta.url)));
const EXAMPLE_TEXT = new TextDecoder('utf-8', { fatal: true }).decode(EXAMPLE_BYTES);
const EXAMPLE_LINES = EXAMPLE_TEXT.split('\n');
if (EXAMPLE_LINES[EXAMPLE_LINES.length - 1] === '') EXAMPLE_LINES.pop();
const EXAMPLE_LINE_COUNT = EXAMPLE_LINES.length;
const ROOT_BLOCKER = 'fffffa8039d0a660';
const WINLOGON_THREAD = 'fffffa806b3fe060';
const BASELINE = parseTranscript(EXAMPLE_TEXT);
const MiB = 1024 * 1024;

// ---------------------------------------------------------------- helpers

/** The lines of a text, whatever ends them (the decoder may normalise line ends and drop the last one). */
function linesOf(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

function utf16le(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf16le'));
}

function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes, { level: 9 }));
}

const BOM_UTF8 = [0xef, 0xbb, 0xbf];
const BOM_UTF16LE = [0xff, 0xfe];
const BOM_UTF16BE = [0xfe, 0xff];

/** Deterministic bytes (mulberry32), so a failure can be replayed. */
function seededBytes(length: number, seed: number): Uint8Array {
  let state = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** Runs `action`, which must throw a TranscriptError with `code` and a reason; returns the error. */
function expectTranscriptError(action: () => unknown, code: TranscriptErrorCode): TranscriptError {
  let thrown: unknown = undefined;
  let returned = false;
  try {
    action();
    returned = true;
  } catch (error) {
    thrown = error;
  }
  expect(returned, 'expected a TranscriptError, but a value was returned').toBe(false);
  expect(thrown).toBeInstanceOf(TranscriptError);
  expect(isTranscriptError(thrown)).toBe(true);
  const error = thrown as TranscriptError;
  expect(error.name).toBe('TranscriptError');
  expect(error.code).toBe(code);
  expect(typeof error.reason).toBe('string');
  expect(error.reason.trim().length).toBeGreaterThan(0);
  expect(error.message).toContain(error.reason);
  return error;
}

function rootBlockerModules(model: TranscriptModel): (string | null)[] {
  const thread = model.sessions[0]?.threads.find((candidate) => candidate.key === ROOT_BLOCKER);
  return thread?.frames.map((frame) => frame.module) ?? [];
}

function delayedQueuePending(model: TranscriptModel): number | null | undefined {
  return model.sessions[0]?.workQueues.find((queue) => queue.key === 'Delayed')?.pendingItems;
}

/** The README's key facts, and the whole model equal to the one read from the plain text. */
function expectExampleFacts(model: TranscriptModel): void {
  expect(model.source.lineCount).toBe(EXAMPLE_LINE_COUNT);
  expect(model.sessions).toHaveLength(1);
  expect(rootBlockerModules(model)).toContain('FabrikamDSM');
  expect(delayedQueuePending(model)).toBe(14892);
  expect(model.sessions[0]!.threads).toHaveLength(BASELINE.sessions[0]!.threads.length);
  expect(model.sessions).toStrictEqual(BASELINE.sessions);
  expect(model.coverage).toStrictEqual(BASELINE.coverage);
}

// ---------------------------------------------------------------- the baseline itself

describe('the bundled example, read as plain text', () => {
  it('has the facts the variants below are compared against', () => {
    expect(EXAMPLE_TEXT).not.toMatch(/\r/);
    expect(EXAMPLE_LINE_COUNT).toBeGreaterThan(500);
    expect(BASELINE.source.lineCount).toBe(EXAMPLE_LINE_COUNT);
    expect(BASELINE.sessions).toHaveLength(1);
    expect(rootBlockerModules(BASELINE)).toEqual(expect.arrayContaining(['FabrikamDSM', 'mpio', 'nt']));
    expect(delayedQueuePending(BASELINE)).toBe(14892);
    expect(BASELINE.sessions[0]!.threads.length).toBeGreaterThanOrEqual(8);
    expect(BASELINE.warnings).toEqual([]);
  });
});

// ---------------------------------------------------------------- encodings and compression

interface Variant {
  name: string;
  bytes: Uint8Array;
  encoding: string;
  byteOrderMark: boolean;
  compression: 'gzip' | null;
  /** Bytes after decompression. */
  byteLength: number;
}

function variant(name: string, raw: Uint8Array, encoding: string, byteOrderMark: boolean, compressed = false): Variant {
  return { name, bytes: compressed ? gzip(raw) : raw, encoding, byteOrderMark, compression: compressed ? 'gzip' : null, byteLength: raw.byteLength };
}

const VARIANTS: Variant[] = [
  variant('UTF-8 without BOM', utf8(EXAMPLE_TEXT), 'utf-8', false),
  variant('UTF-8 with BOM', concatBytes(BOM_UTF8, utf8(EXAMPLE_TEXT)), 'utf-8', true),
  variant('UTF-16LE with BOM', concatBytes(BOM_UTF16LE, utf16le(EXAMPLE_TEXT)), 'utf-16le', true),
  variant('UTF-16BE with BOM', concatBytes(BOM_UTF16BE, utf16be(EXAMPLE_TEXT)), 'utf-16be', true),
  variant('UTF-16LE without BOM (NUL pattern)', utf16le(EXAMPLE_TEXT), 'utf-16le', false),
  variant('UTF-16BE without BOM (NUL pattern)', utf16be(EXAMPLE_TEXT), 'utf-16be', false),
  variant('gzip of UTF-8', utf8(EXAMPLE_TEXT), 'utf-8', false, true),
  variant('gzip of UTF-8 with BOM', concatBytes(BOM_UTF8, utf8(EXAMPLE_TEXT)), 'utf-8', true, true),
  variant('gzip of UTF-16LE with BOM', concatBytes(BOM_UTF16LE, utf16le(EXAMPLE_TEXT)), 'utf-16le', true, true),
  variant('gzip of UTF-16BE without BOM', utf16be(EXAMPLE_TEXT), 'utf-16be', false, true),
  variant('gzip of UTF-16LE CRLF with BOM (a WinDbg .logopen /u log)', concatBytes(BOM_UTF16LE, utf16le(EXAMPLE_TEXT.replace(/\n/g, '\r\n'))), 'utf-16le', true, true),
];

describe('decodeTranscript: encodings and gzip', () => {
  it.each(VARIANTS.map((entry) => [entry.name, entry] as const))('%s decodes to the example text', (_name, entry) => {
    const decoded = decodeTranscript(entry.bytes);
    expect(linesOf(decoded.text)).toEqual(EXAMPLE_LINES);
    expect(decoded.encoding).toBe(entry.encoding);
    expect(decoded.byteOrderMark).toBe(entry.byteOrderMark);
    expect(decoded.compression).toBe(entry.compression);
    expect(decoded.byteLength).toBe(entry.byteLength);
    expect(decoded.warnings).toEqual([]);
    expect(decoded.text.charCodeAt(0)).not.toBe(0xfeff);
  });

  it.each(VARIANTS.map((entry) => [entry.name, entry] as const))('%s gives the same model and facts', (_name, entry) => {
    const model = parseTranscript(entry.bytes);
    expectExampleFacts(model);
    expect(model.source).toEqual({
      encoding: entry.encoding,
      byteOrderMark: entry.byteOrderMark,
      compression: entry.compression,
      byteLength: entry.byteLength,
      lineCount: EXAMPLE_LINE_COUNT,
    });
    expect(model.warnings).toEqual([]);
  });

  it('recognises gzip by its magic bytes alone, also when the header carries a file name and time', () => {
    const plain = gzip(utf8(EXAMPLE_TEXT));
    // Set FLG.FNAME and MTIME and insert a zero-terminated original name after the 10-byte header.
    const name = utf8('transcript.log\0');
    const named = concatBytes(plain.subarray(0, 10), name, plain.subarray(10));
    named[3] = named[3]! | 0x08;
    named.set([0x5e, 0x12, 0x17, 0x53], 4);
    for (const bytes of [plain, named]) {
      const decoded = decodeTranscript(bytes);
      expect(decoded.compression).toBe('gzip');
      expect(linesOf(decoded.text)).toEqual(EXAMPLE_LINES);
    }
    expectExampleFacts(parseTranscript(named));
    // The same text, not compressed, is not reported as gzip.
    expect(decodeTranscript(EXAMPLE_BYTES).compression).toBeNull();
  });

  it('reads concatenated gzip members (a log compressed in pieces) as one transcript', () => {
    const cut = EXAMPLE_BYTES.byteLength >> 1;
    const twoMembers = concatBytes(gzip(EXAMPLE_BYTES.subarray(0, cut)), gzip(EXAMPLE_BYTES.subarray(cut)));
    const decoded = decodeTranscript(twoMembers);
    expect(linesOf(decoded.text)).toEqual(EXAMPLE_LINES);
    expectExampleFacts(parseTranscript(twoMembers));
  });

  it('UTF-16 text with an odd trailing byte is read without that byte, with a warning', () => {
    const bytes = concatBytes(BOM_UTF16LE, utf16le(EXAMPLE_TEXT), [0x41]);
    const decoded = decodeTranscript(bytes);
    expect(linesOf(decoded.text)).toEqual(EXAMPLE_LINES);
    expect(decoded.warnings).toHaveLength(1);
    expect(decoded.warnings[0]).toMatch(/odd/i);
    const model = parseTranscript(bytes);
    expect(rootBlockerModules(model)).toContain('FabrikamDSM');
    expect(model.warnings).toEqual([{ line: 0, message: decoded.warnings[0] }]);
  });

  it('UTF-16 without BOM keeps non-ASCII characters', () => {
    const text = 'Note: café “quoted” — 日本語\n1: kd> !thread\n';
    for (const [bytes, encoding] of [
      [utf16le(text), 'utf-16le'],
      [utf16be(text), 'utf-16be'],
    ] as const) {
      const decoded = decodeTranscript(bytes);
      expect(decoded.encoding).toBe(encoding);
      expect(linesOf(decoded.text)).toEqual(linesOf(text));
    }
  });
});

// ---------------------------------------------------------------- line ends

/** Every line ended by LF, CRLF or CR (seeded), never a CR directly before an LF that ends an empty line. */
function mixedLineEnds(lines: string[], seed: number): string {
  const choices = seededBytes(lines.length, seed);
  let out = '';
  let previous = '';
  lines.forEach((line, index) => {
    let end = ['\n', '\r\n', '\r'][choices[index]! % 3]!;
    // `a\r` + `` + `\n` would read as one CRLF: that blank line is ambiguous in any reader.
    if (previous === '\r' && line === '' && end === '\n') end = '\r\n';
    out += line + end;
    previous = end;
  });
  return out;
}

describe('line ends', () => {
  const lf = EXAMPLE_LINES.join('\n') + '\n';
  const variants: [string, string][] = [
    ['LF', lf],
    ['CRLF', EXAMPLE_LINES.join('\r\n') + '\r\n'],
    ['CR only', EXAMPLE_LINES.join('\r') + '\r'],
    ['mixed LF/CRLF/CR (seed 1)', mixedLineEnds(EXAMPLE_LINES, 1)],
    ['mixed LF/CRLF/CR (seed 2)', mixedLineEnds(EXAMPLE_LINES, 2)],
    ['no line end after the last line', EXAMPLE_LINES.join('\r\n')],
  ];

  it('the mixed variants really mix all three line ends', () => {
    for (const [, text] of variants.slice(3, 5)) {
      expect(text).toMatch(/[^\r]\n/);
      expect(text).toMatch(/\r\n/);
      expect(text).toMatch(/\r[^\n]/);
    }
  });

  it.each(variants)('%s: same lines, same model (as a string)', (_name, text) => {
    const model = parseTranscript(text);
    expectExampleFacts(model);
  });

  it.each(variants)('%s: same lines, same model (as UTF-8 and UTF-16LE bytes)', (_name, text) => {
    expectExampleFacts(parseTranscript(utf8(text)));
    expectExampleFacts(parseTranscript(concatBytes(BOM_UTF16LE, utf16le(text))));
  });

  it('blank lines count the same whatever ends them', () => {
    const count = (text: string) => parseTranscript(text).source.lineCount;
    expect(count('a\n\nb\n')).toBe(3);
    expect(count('a\r\n\r\nb\r\n')).toBe(3);
    expect(count('a\r\rb\r')).toBe(3);
    expect(count('a\n\r\nb')).toBe(3);
    expect(count('a\r\n\rb\n')).toBe(3);
    expect(count('a')).toBe(1);
  });
});

// ---------------------------------------------------------------- truncated and corrupt gzip

describe('truncated and corrupt gzip', () => {
  const compressed = gzip(EXAMPLE_BYTES);

  it('a gzip cut in the middle yields the part that decompresses, with a warning that it is truncated', () => {
    const cut = compressed.subarray(0, compressed.byteLength >> 1);
    const decoded = decodeTranscript(cut);
    expect(decoded.compression).toBe('gzip');
    expect(decoded.text.length).toBeGreaterThan(0);
    expect(decoded.text.length).toBeLessThan(EXAMPLE_TEXT.length);
    expect(EXAMPLE_TEXT.startsWith(decoded.text)).toBe(true);
    expect(decoded.warnings.some((warning) => /truncated/i.test(warning))).toBe(true);

    const model = parseTranscript(cut);
    expect(model.source.compression).toBe('gzip');
    expect(model.source.byteLength).toBe(decoded.byteLength);
    expect(decoded.byteLength).toBeLessThan(EXAMPLE_BYTES.byteLength);
    expect(model.source.lineCount).toBeGreaterThan(0);
    expect(model.source.lineCount).toBeLessThan(EXAMPLE_LINE_COUNT);
    expect(model.warnings.some((warning) => warning.line === 0 && /truncated/i.test(warning.message))).toBe(true);
    // The model is the model of the text that survived.
    const ofPrefix = parseTranscript(decoded.text);
    expect(model.sessions).toStrictEqual(ofPrefix.sessions);
    expect(model.sessions[0]!.threads.some((thread) => thread.key === WINLOGON_THREAD)).toBe(true);
  });

  it('a gzip without its 8-byte trailer still gives the whole transcript, with the warning', () => {
    const cut = compressed.subarray(0, compressed.byteLength - 8);
    const model = parseTranscript(cut);
    expectExampleFacts(model);
    expect(model.warnings.some((warning) => /truncated/i.test(warning.message))).toBe(true);
  });

  it('a gzip of UTF-16LE with BOM cut in the middle is read up to the cut', () => {
    const utf16 = gzip(concatBytes(BOM_UTF16LE, utf16le(EXAMPLE_TEXT)));
    const decoded = decodeTranscript(utf16.subarray(0, Math.floor(utf16.byteLength * 0.6)));
    expect(decoded.encoding).toBe('utf-16le');
    expect(decoded.text.length).toBeGreaterThan(0);
    expect(EXAMPLE_TEXT.startsWith(decoded.text)).toBe(true);
    expect(decoded.warnings.some((warning) => /truncated/i.test(warning))).toBe(true);
  });

  it.each(Array.from({ length: 10 }, (_, index) => index + 1))('a gzip cut to its first %i header bytes is not a transcript', (length) => {
    expectTranscriptError(() => parseTranscript(compressed.subarray(0, length)), 'not-a-text-transcript');
    expectTranscriptError(() => decodeTranscript(compressed.subarray(0, length)), 'not-a-text-transcript');
  });

  it('corrupt deflate data is not a transcript', () => {
    const corrupt = compressed.slice();
    corrupt.fill(0xaa, 10, 60);
    expectTranscriptError(() => parseTranscript(corrupt), 'not-a-text-transcript');
  });

  it('a CRC or length mismatch in the trailer is not a transcript', () => {
    const badCrc = compressed.slice();
    badCrc[badCrc.byteLength - 6] = badCrc[badCrc.byteLength - 6]! ^ 0xff;
    expectTranscriptError(() => parseTranscript(badCrc), 'not-a-text-transcript');
    const badLength = compressed.slice();
    badLength[badLength.byteLength - 2] = badLength[badLength.byteLength - 2]! ^ 0xff;
    expectTranscriptError(() => parseTranscript(badLength), 'not-a-text-transcript');
  });

  it('a gzip header followed by random bytes is not a transcript', () => {
    const bytes = concatBytes(compressed.subarray(0, 10), seededBytes(4096, 7));
    expectTranscriptError(() => parseTranscript(bytes), 'not-a-text-transcript');
  });

  it('a gzip that holds nothing is not a transcript', () => {
    expectTranscriptError(() => parseTranscript(gzip(new Uint8Array(0))), 'not-a-text-transcript');
  });

  it('a gzip of binary data is not a transcript', () => {
    expectTranscriptError(() => parseTranscript(gzip(seededBytes(32 * 1024, 11))), 'not-a-text-transcript');
  });
});

// ---------------------------------------------------------------- not text at all

describe('binary and empty input', () => {
  it('64 KiB of seeded random bytes are not a transcript', () => {
    for (const seed of [1, 2, 3, 0xdecaf]) {
      expectTranscriptError(() => parseTranscript(seededBytes(64 * 1024, seed)), 'not-a-text-transcript');
    }
  });

  const headers: [string, number[]][] = [
    ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]],
    ['ELF', [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]],
    ['PE (MZ)', [0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00]],
    ['minidump (MDMP)', [0x4d, 0x44, 0x4d, 0x50, 0x93, 0xa7, 0x00, 0x00]],
    ['kernel dump (PAGEDU64)', [...utf8('PAGEDU64'), 0x0f, 0x00, 0x00, 0x00, 0x72, 0x17, 0x00, 0x00]],
    ['zip', [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00]],
  ];

  it.each(headers)('a %s header followed by random bytes is not a transcript', (_name, header) => {
    const bytes = concatBytes(header, seededBytes(16 * 1024, header.length * 31 + header[0]!));
    const error = expectTranscriptError(() => parseTranscript(bytes), 'not-a-text-transcript');
    expect(error.reason).toMatch(/%|binary|control/i);
  });

  it('a mostly-zero buffer (a dump page) is not a transcript', () => {
    const bytes = new Uint8Array(64 * 1024);
    bytes.set(utf8('PAGEDU64'), 0);
    expectTranscriptError(() => parseTranscript(bytes), 'not-a-text-transcript');
  });

  it('empty input is not a transcript', () => {
    expectTranscriptError(() => parseTranscript(new Uint8Array(0)), 'not-a-text-transcript');
    expectTranscriptError(() => decodeTranscript(new Uint8Array(0)), 'not-a-text-transcript');
  });

  it('a few stray control bytes in a real transcript do not make it binary', () => {
    const text = EXAMPLE_TEXT.replace('Debug session time:', '\u0007\u0000Debug session time:');
    const model = parseTranscript(utf8(text));
    expect(rootBlockerModules(model)).toContain('FabrikamDSM');
    expect(delayedQueuePending(model)).toBe(14892);
  });
});

// ---------------------------------------------------------------- size limits

describe('size limits', () => {
  it('input over maxBytes is too large; input of exactly maxBytes is read', () => {
    const size = EXAMPLE_BYTES.byteLength;
    const error = expectTranscriptError(() => parseTranscript(EXAMPLE_BYTES, { maxBytes: size - 1 }), 'too-large');
    expect(error.reason).toContain(String(size - 1));
    expectTranscriptError(() => decodeTranscript(EXAMPLE_BYTES, { maxBytes: 1024 }), 'too-large');
    expectExampleFacts(parseTranscript(EXAMPLE_BYTES, { maxBytes: size }));
  });

  it('the limit applies to the decompressed size of a gzip too', () => {
    const compressed = gzip(EXAMPLE_BYTES);
    const size = EXAMPLE_BYTES.byteLength;
    expect(compressed.byteLength).toBeLessThan(size - 1);
    expectTranscriptError(() => parseTranscript(compressed, { maxBytes: size - 1 }), 'too-large');
    expectTranscriptError(() => parseTranscript(compressed, { maxBytes: compressed.byteLength + 1 }), 'too-large');
    expectExampleFacts(parseTranscript(compressed, { maxBytes: size }));
  });

  it('a gzip bomb (50 MB of "a") with maxBytes 1 MiB is too large', () => {
    const bomb = new Uint8Array(gzipSync(Buffer.alloc(50_000_000, 0x61), { level: 9 }));
    expect(bomb.byteLength).toBeLessThan(MiB);
    expectTranscriptError(() => parseTranscript(bomb, { maxBytes: MiB }), 'too-large');
    expectTranscriptError(() => decodeTranscript(bomb, { maxBytes: MiB }), 'too-large');
  });

  it('a 1 GiB gzip bomb of zeros with maxBytes 1 MiB is too large and is not inflated in full', () => {
    // 64 concatenated members of 16 MiB of zeros each: about 1 MB compressed, 1 GiB inflated.
    const member = new Uint8Array(gzipSync(Buffer.alloc(16 * MiB), { level: 9 }));
    const bomb = concatBytes(...Array.from({ length: 64 }, () => member));
    expect(bomb.byteLength).toBeLessThan(2 * MiB);
    const peakBefore = process.resourceUsage().maxRSS; // KiB, high-water mark
    expectTranscriptError(() => parseTranscript(bomb, { maxBytes: MiB }), 'too-large');
    const peakGrowthMiB = (process.resourceUsage().maxRSS - peakBefore) / 1024;
    // Inflating the whole bomb would raise the peak by a GiB; stopping at the limit raises it by a few MiB.
    expect(peakGrowthMiB).toBeLessThan(256);
  });
});

// ---------------------------------------------------------------- Windows-1252

describe('Windows-1252 (ANSI) logs', () => {
  // “logons hang…” – café €5: smart quotes, ellipsis, en dash, é and the euro sign in Windows-1252.
  const NOTE_1252 = [
    ...utf8('Customer wrote: '),
    0x93,
    ...utf8('logons hang'),
    0x85,
    0x94,
    ...utf8(' '),
    0x96,
    ...utf8(' caf'),
    0xe9,
    ...utf8(' '),
    0x80,
    ...utf8('5\n'),
  ];
  const NOTE_TEXT = 'Customer wrote: “logons hang…” – café €5\n';

  it('bytes that are not UTF-8 are decoded as Windows-1252 with a warning', () => {
    const decoded = decodeTranscript(new Uint8Array(NOTE_1252));
    expect(decoded.encoding).toBe('windows-1252');
    expect(linesOf(decoded.text)).toEqual(linesOf(NOTE_TEXT));
    expect(decoded.warnings).toHaveLength(1);
    expect(decoded.warnings[0]).toMatch(/Windows-1252/);
  });

  it('the same characters in valid UTF-8 stay UTF-8, without a warning', () => {
    const decoded = decodeTranscript(utf8(NOTE_TEXT));
    expect(decoded.encoding).toBe('utf-8');
    expect(linesOf(decoded.text)).toEqual(linesOf(NOTE_TEXT));
    expect(decoded.warnings).toEqual([]);
  });

  it('the example with a Windows-1252 note still gives its facts (plain and gzip)', () => {
    const bytes = concatBytes(NOTE_1252, EXAMPLE_BYTES);
    for (const input of [bytes, gzip(bytes)]) {
      const model = parseTranscript(input);
      expect(model.source.encoding).toBe('windows-1252');
      expect(model.source.lineCount).toBe(EXAMPLE_LINE_COUNT + 1);
      expect(model.warnings.filter((warning) => warning.line === 0)).toHaveLength(1);
      expect(model.warnings[0]!.message).toMatch(/Windows-1252/);
      expect(rootBlockerModules(model)).toContain('FabrikamDSM');
      expect(delayedQueuePending(model)).toBe(14892);
      // Every entity moved down by the one inserted line, nothing else changed.
      expect(model.sessions[0]!.threads.map((thread) => thread.key)).toEqual(BASELINE.sessions[0]!.threads.map((thread) => thread.key));
      expect(model.sessions[0]!.blocks.map((block) => block.startLine - 1)).toEqual(BASELINE.sessions[0]!.blocks.map((block) => block.startLine));
    }
  });
});

// ---------------------------------------------------------------- empty and oversized input, strings

describe('empty input in every form', () => {
  it.each([
    ['UTF-8 BOM', BOM_UTF8],
    ['UTF-16LE BOM', BOM_UTF16LE],
    ['UTF-16BE BOM', BOM_UTF16BE],
  ])('a file holding only a %s is empty, not a transcript', (_name, bom) => {
    expectTranscriptError(() => parseTranscript(new Uint8Array(bom)), 'not-a-text-transcript');
    expectTranscriptError(() => parseTranscript(gzip(new Uint8Array(bom))), 'not-a-text-transcript');
  });

  it('an empty string is not a transcript either', () => {
    expectTranscriptError(() => parseTranscript(''), 'not-a-text-transcript');
  });
});

describe('text passed as a string', () => {
  const THREAD_BLOCK =
    '1: kd> !thread fffffa8039d0a660\n' +
    'THREAD fffffa8039d0a660  Cid 0004.0050  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable\n';

  it('maxBytes limits a string as it limits bytes (its UTF-8 size)', () => {
    expectTranscriptError(() => parseTranscript(EXAMPLE_TEXT, { maxBytes: EXAMPLE_BYTES.byteLength - 1 }), 'too-large');
    expectExampleFacts(parseTranscript(EXAMPLE_TEXT, { maxBytes: EXAMPLE_BYTES.byteLength }));
  });

  it('a string that starts with a BOM (a file read with readFileSync(path, "utf8")) reads like its bytes', () => {
    const withBom = '\ufeff' + THREAD_BLOCK;
    const fromBytes = parseTranscript(utf8(withBom));
    expect(fromBytes.coverage.blocks).toBe(1);
    expect(parseTranscript(withBom).sessions).toStrictEqual(fromBytes.sessions);
  });

  it('a BOM where two UTF-8 logs were concatenated does not hide the prompt after it', () => {
    const second = THREAD_BLOCK.replace('1: kd> !thread', '0: kd> !thread');
    const joined = parseTranscript(concatBytes(BOM_UTF8, utf8(THREAD_BLOCK), BOM_UTF8, utf8(second)));
    const plain = parseTranscript(THREAD_BLOCK + second);
    expect(plain.coverage.blocks).toBe(2);
    expect(joined.coverage.blocks).toBe(2);
    expect(joined.sessions).toStrictEqual(plain.sessions);
  });
});

describe('text longer than the longest string V8 can hold', () => {
  it('a gzip bomb inflating to 512 MiB of text under the default limit is a TranscriptError, not a process abort', () => {
    // 32 gzip members of 16 MiB of "a": about 1 MB on the wire, 536,870,912 bytes inflated, which the default limit
    // (512 MiB) admits but which is longer than buffer.constants.MAX_STRING_LENGTH (536,870,888 characters).
    // Run in a child process: today the decoder aborts the whole process (FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal).
    const engine = new URL('../../services/engine/index.ts', import.meta.url).href;
    const script = [
      "import { gzipSync } from 'node:zlib';",
      `import { parseTranscript } from ${JSON.stringify(engine)};`,
      'const member = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x61), { level: 9 });',
      'const bomb = new Uint8Array(Buffer.concat(Array.from({ length: 32 }, () => member)));',
      'try {',
      "  console.log('model ' + parseTranscript(bomb).source.lineCount);",
      '} catch (error) {',
      "  console.log(error instanceof Error && error.name === 'TranscriptError' ? 'TranscriptError ' + error.code : 'other ' + String(error));",
      '}',
    ].join('\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(result.stderr).not.toMatch(/FATAL ERROR/);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^(?:model \d+|TranscriptError (?:too-large|not-a-text-transcript))$/);
  });
});
