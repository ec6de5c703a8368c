/**
 * Benchmark input: a transcript of about N bytes made by repeating the command blocks of a seed transcript
 * (the bundled example), with the identities in every repetition re-randomised so that the parser meets new
 * threads, processes, IRPs, messages… each time, as it would in a long real session.
 *
 * Pure and deterministic: the same (seed text, size, seed) always gives the same text. No I/O, no dependency.
 *
 * What is re-randomised, consistently within one repetition (the same original value gets the same new
 * value wherever and however it is printed) and afresh in the next:
 * - hex tokens of 8 to 16 digits, with or without the kd backtick (`fffffa80`4e7c3010`), also after `0x`.
 *   The "page" part is replaced and the last three digits are kept, so addresses in the same 4 KiB page stay
 *   in the same page: `fffffa8039d0a620+40` still points at the `THREAD fffffa8039d0a660` it named, a
 *   `!pool` header stays next to the block asked for, a list head stays next to its queue. The leading
 *   digits that tell kernel from user space (`fffffa`, `fffff8`, `000007`…) and any leading zeros are kept,
 *   as are the number of digits, the backtick and the letter case. Values below 0x10000 (null pointers,
 *   counts, flags such as `00000884`, `00003a2c`) are data rather than identities and are left alone, so the
 *   prose and annotations that quote them stay true;
 * - client ids: `Cid: 0218`, `ParentCid: 01d4`, `Cid 0b5c.0c88` and `!stacks`' `310.000a40`, by value
 *   (a process id printed as `0310` and as `310` stays one process); ids below 0x10 (System) are kept;
 * - `Wait Start TickCount` values, all shifted by one random amount per repetition so that they still agree
 *   with the `Ticks: N (d:hh:mm:ss)` printed beside them.
 * The engineer's prose, annotations, symbols and offsets are kept as written.
 *
 * Layout: the seed's preamble (debugger banner and the notes before the first prompt) once, then the seed's
 * command blocks repeated; the last repetition is cut at a command boundary so the result does not exceed
 * `targetBytes` (UTF-8).
 */

/** mulberry32: a tiny, well-mixed 32-bit PRNG; returns integers in [0, 2^32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A line that starts a command block (kd, lkd or cdb prompt), as the engine's prompt reader sees it. */
const PROMPT_LINE = /^(?:(?:\d{1,4}:\s?)?l?kd(?::[a-z0-9_]{1,10})?>|\d{1,4}:\d{1,5}(?::[a-z0-9_]{1,10})?>)/gim;

const TOKEN = new RegExp(
  [
    // Cid: 0218 / ParentCid: 01d4 / Cid 0b5c.0c88
    String.raw`(?<cidLabel>\b(?:Parent)?Cid:?[ \t]+)(?<cidA>[0-9a-fA-F]{1,8})(?:\.(?<cidB>[0-9a-fA-F]{1,8}))?(?![0-9A-Za-z_.])`,
    // !stacks: ` 310.000a40  fffffa804d2a0bb0 ffc2b248 Blocked …`
    String.raw`(?<=^[ \t]*)(?<stackA>[0-9a-fA-F]{1,8})\.(?<stackB>[0-9a-fA-F]{1,8})(?=[ \t]+[0-9a-fA-F]{8,16}[ \t])`,
    // Wait Start TickCount      6100299
    String.raw`(?<tickLabel>\bTickCount[ \t]+)(?<tick>\d{1,12})(?!\d)`,
    // fffffa80\`4e7c3010, fffffa804e7c3010, 0xfffffa804e7c3170, 7fffffdf000, 2a7c4000
    String.raw`(?<=^|[^0-9A-Za-z_\x60]|0x)(?<hex>[0-9a-fA-F]{8}\x60[0-9a-fA-F]{8}|[0-9a-fA-F]{8,16})(?![0-9A-Za-z_\x60])`,
  ].join('|'),
  'gm',
);

interface HexSlot {
  kind: 'hex';
  /**
   * Identity of the page: the significant digits above the kept tail, lower case, so that
   * `00000000\`77a9b56a` and `0x77a9b56a` are one value.
   */
  key: string;
  leadingZeros: number;
  /** Significant digits kept in front of the randomised window (the kernel/user prefix such as `fffffa`). */
  fixed: string;
  windowLength: number;
  /** The first window digit was the first significant one: keep it non-zero so the magnitude stays. */
  significantFirst: boolean;
  tail: string;
  backtick: boolean;
  upper: boolean;
}

interface CidSlot {
  kind: 'cid';
  value: number;
  /** Zero-padded width, or 0 when printed without padding. */
  width: number;
  upper: boolean;
}

interface TickSlot {
  kind: 'tick';
  value: number;
}

type Slot = HexSlot | CidSlot | TickSlot;

interface Template {
  /** Literal text and slots, alternating freely. */
  parts: (string | Slot)[];
}

interface RepetitionState {
  pages: Map<string, string>;
  usedPages: Set<string>;
  cids: Map<number, number>;
  usedCids: Set<number>;
  tickShift: number;
}

const HEX_DIGITS = '0123456789abcdef';

function compileTemplate(text: string): Template {
  const parts: (string | Slot)[] = [];
  let last = 0;
  const push = (start: number, end: number, slot: Slot | null, literal?: string): void => {
    if (start > last) parts.push(text.slice(last, start));
    parts.push(slot ?? literal ?? text.slice(start, end));
    last = end;
  };
  for (const match of text.matchAll(TOKEN)) {
    const groups = match.groups ?? {};
    const start = match.index;
    if (groups['cidLabel'] !== undefined) {
      const label = groups['cidLabel'];
      const a = groups['cidA']!;
      const b = groups['cidB'];
      push(start, start + label.length, null);
      const aStart = start + label.length;
      push(aStart, aStart + a.length, cidSlot(a));
      if (b !== undefined) {
        const bStart = aStart + a.length + 1;
        push(aStart + a.length, bStart, null);
        push(bStart, bStart + b.length, cidSlot(b));
      }
    } else if (groups['stackA'] !== undefined) {
      const a = groups['stackA'];
      const b = groups['stackB']!;
      push(start, start + a.length, cidSlot(a));
      push(start + a.length, start + a.length + 1, null);
      push(start + a.length + 1, start + a.length + 1 + b.length, cidSlot(b));
    } else if (groups['tickLabel'] !== undefined) {
      const label = groups['tickLabel'];
      const tick = groups['tick']!;
      push(start, start + label.length, null);
      push(start + label.length, start + label.length + tick.length, { kind: 'tick', value: Number(tick) });
    } else if (groups['hex'] !== undefined) {
      const token = groups['hex'];
      const slot = hexSlot(token);
      if (slot) push(start, start + token.length, slot);
    }
  }
  if (last < text.length) parts.push(text.slice(last));
  // Merge adjacent literals so rendering touches fewer pieces.
  const merged: (string | Slot)[] = [];
  for (const part of parts) {
    const previous = merged[merged.length - 1];
    if (typeof part === 'string' && typeof previous === 'string') merged[merged.length - 1] = previous + part;
    else merged.push(part);
  }
  return { parts: merged };
}

function hexSlot(token: string): HexSlot | null {
  const backtick = token.length === 17;
  const digits = backtick ? token.slice(0, 8) + token.slice(9) : token;
  if (!/[0-9]/.test(digits)) return null; // an English word such as `deadbeef`, not a number
  const length = digits.length;
  if (/^0*$/.test(digits.slice(0, length - 4))) return null; // below 0x10000: data, not an identity
  let leadingZeros = 0;
  while (digits[leadingZeros] === '0') leadingZeros++;
  const windowStart = Math.max(leadingZeros, length - 10);
  const windowEnd = length - 3;
  if (windowStart >= windowEnd) return null;
  const lower = digits.toLowerCase();
  return {
    kind: 'hex',
    key: lower.slice(leadingZeros, windowEnd),
    leadingZeros,
    fixed: lower.slice(leadingZeros, windowStart),
    windowLength: windowEnd - windowStart,
    significantFirst: windowStart === leadingZeros,
    tail: lower.slice(windowEnd),
    backtick,
    upper: /[A-F]/.test(digits) && !/[a-f]/.test(digits),
  };
}

function cidSlot(digits: string): CidSlot {
  return {
    kind: 'cid',
    value: parseInt(digits, 16),
    // `Cid 0398.15c4` is always four digits wide; `!stacks` prints `310.000a40` (the process unpadded).
    width: digits.length >= 4 || (digits.length > 1 && digits.startsWith('0')) ? digits.length : 0,
    upper: /[A-F]/.test(digits),
  };
}

function render(template: Template, state: RepetitionState, random: () => number): string {
  const out: string[] = new Array<string>(template.parts.length);
  const parts = template.parts;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === 'string') {
      out[i] = part;
    } else if (part.kind === 'hex') {
      out[i] = renderHex(part, state, random);
    } else if (part.kind === 'cid') {
      out[i] = renderCid(part, state, random);
    } else {
      out[i] = String(part.value + state.tickShift);
    }
  }
  return out.join('');
}

function renderHex(slot: HexSlot, state: RepetitionState, random: () => number): string {
  let page = state.pages.get(slot.key);
  if (page === undefined) {
    do {
      let window = '';
      for (let i = 0; i < slot.windowLength; i++) {
        const digit = i === 0 && slot.significantFirst ? 1 + (random() % 15) : random() & 15;
        window += HEX_DIGITS[digit];
      }
      page = slot.fixed + window;
    } while (state.usedPages.has(page));
    state.usedPages.add(page);
    state.pages.set(slot.key, page);
  }
  let digits = '0'.repeat(slot.leadingZeros) + page + slot.tail;
  if (slot.upper) digits = digits.toUpperCase();
  return slot.backtick ? `${digits.slice(0, 8)}\`${digits.slice(8)}` : digits;
}

function renderCid(slot: CidSlot, state: RepetitionState, random: () => number): string {
  let value: number;
  if (slot.value < 0x10) {
    value = slot.value;
  } else {
    let mapped = state.cids.get(slot.value);
    if (mapped === undefined) {
      do mapped = 4 * (0x40 + (random() % (0x1000 - 0x40))); // 0x100 … 0x3ffc, as real ids mostly are
      while (state.usedCids.has(mapped));
      state.usedCids.add(mapped);
      state.cids.set(slot.value, mapped);
    }
    value = mapped;
  }
  let text = value.toString(16);
  if (slot.upper) text = text.toUpperCase();
  return slot.width > 0 ? text.padStart(slot.width, '0') : text;
}

function newState(random: () => number, tickShiftRange: number): RepetitionState {
  return {
    pages: new Map(),
    usedPages: new Set(),
    cids: new Map(),
    usedCids: new Set(),
    tickShift: tickShiftRange > 0 ? random() % tickShiftRange : 0,
  };
}

function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for its 2 code units
      i++;
    } else {
      bytes += 2; // 3 bytes (a lone surrogate is written as U+FFFD, also 3 bytes)
    }
  }
  return bytes;
}

/** Offsets (in `text`) of the lines that start a command block. */
function blockStarts(text: string): number[] {
  const starts: number[] = [];
  for (const match of text.matchAll(PROMPT_LINE)) starts.push(match.index);
  return starts;
}

/**
 * The transcript as a sequence of chunks (preamble, then one chunk per repetition), so that a caller can
 * write them straight into a byte buffer without holding a second copy of the whole text.
 */
export function* generateTranscriptChunks(exampleText: string, targetBytes: number, seed: number): Generator<string> {
  const seedText = exampleText.replace(/^\uFEFF/, '');
  const starts = blockStarts(seedText);
  if (starts.length === 0) throw new Error('the seed transcript has no debugger prompt to repeat');
  const preambleText = seedText.slice(0, starts[0]);
  let bodyText = seedText.slice(starts[0]);
  const newline = bodyText.includes('\r\n') ? '\r\n' : '\n';
  if (!bodyText.endsWith('\n')) bodyText += newline;
  bodyText += newline; // a blank line between repetitions

  const preamble = compileTemplate(preambleText);
  const body = compileTemplate(bodyText);
  let maxTick = 0;
  for (const part of [...preamble.parts, ...body.parts]) {
    if (typeof part !== 'string' && part.kind === 'tick') maxTick = Math.max(maxTick, part.value);
  }
  // Shift tick counts by up to what keeps their number of digits.
  const tickShiftRange = maxTick > 0 ? Math.min(10 ** String(maxTick).length - 1 - maxTick, 0xffffffff) : 0;

  const random = mulberry32(seed);
  const head = render(preamble, newState(random, tickShiftRange), random);
  let written = utf8Length(head);
  yield head;
  for (;;) {
    const repetition = render(body, newState(random, tickShiftRange), random);
    const size = utf8Length(repetition);
    if (written + size <= targetBytes) {
      written += size;
      yield repetition;
      continue;
    }
    // Last repetition: as many whole command blocks as still fit.
    let cut = 0;
    for (const start of blockStarts(repetition)) {
      if (start === 0) continue;
      if (written + utf8Length(repetition.slice(0, start)) > targetBytes) break;
      cut = start;
    }
    if (cut > 0) yield repetition.slice(0, cut);
    return;
  }
}

/** A transcript of at most `targetBytes` UTF-8 bytes (at least the seed's preamble and, if it fits, more). */
export function generateTranscript(exampleText: string, targetBytes: number, seed: number): string {
  return [...generateTranscriptChunks(exampleText, targetBytes, seed)].join('');
}

/**
 * The same transcript encoded as UTF-8, written chunk by chunk into one buffer: peak memory is the bytes
 * plus one repetition, not the bytes plus the whole text (what the RSS measurement needs).
 */
export function generateTranscriptBytes(exampleText: string, targetBytes: number, seed: number): Uint8Array {
  const encoder = new TextEncoder();
  let buffer = new Uint8Array(Math.max(targetBytes, 1 << 16));
  let length = 0;
  for (const chunk of generateTranscriptChunks(exampleText, targetBytes, seed)) {
    const needed = length + utf8Length(chunk);
    if (needed > buffer.length) {
      const grown = new Uint8Array(Math.max(needed, buffer.length * 2));
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    length += encoder.encodeInto(chunk, buffer.subarray(length)).written;
  }
  return buffer.subarray(0, length);
}
