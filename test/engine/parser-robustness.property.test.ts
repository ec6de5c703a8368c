import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../support/bytes.ts';
import { isTranscriptError, parseTranscript, TranscriptError, type ParseOptions, type TranscriptModel } from '../../services/engine/index.ts';

// Whatever it is fed, parseTranscript returns a model or throws a TranscriptError, and the same input always
// gives the same model. Run counts are fixed so the file stays well under a minute on a 2-core machine;
// fast-check prints the seed and the shrunk counterexample of any failure.

const EXAMPLE_BYTES = new Uint8Array(readFileSync(new URL('../../examples/hung-logon-worker-queue.txt', import.meta.url)));
const EXAMPLE_TEXT = new TextDecoder('utf-8', { fatal: true }).decode(EXAMPLE_BYTES);
const EXAMPLE_LINES = EXAMPLE_TEXT.replace(/\n$/, '').split('\n');
const EXAMPLE_GZIP = new Uint8Array(gzipSync(EXAMPLE_BYTES, { level: 9 }));
const EXAMPLE_UTF16LE = new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(EXAMPLE_TEXT, 'utf16le')]));
const MiB = 1024 * 1024;

type Outcome = { model: TranscriptModel; error: null } | { model: null; error: TranscriptError };

/** Parses; anything thrown that is not a well-formed TranscriptError fails the test with the original error. */
function parseOutcome(input: Uint8Array | string, options?: ParseOptions, deep = true): Outcome {
  let model: TranscriptModel;
  try {
    model = parseTranscript(input, options);
  } catch (error) {
    if (!(error instanceof TranscriptError) || !isTranscriptError(error)) throw error;
    expect(error.name).toBe('TranscriptError');
    expect(['not-a-text-transcript', 'too-large']).toContain(error.code);
    expect(error.reason.length).toBeGreaterThan(0);
    return { model: null, error };
  }
  expectWellFormed(model, deep);
  return { model, error: null };
}

/** Returns the model; fails when the input was rejected. */
function parseModel(input: Uint8Array | string, options?: ParseOptions, deep = true): TranscriptModel {
  const outcome = parseOutcome(input, options, deep);
  if (outcome.error) throw new Error(`expected a model, got ${outcome.error.message}`);
  return outcome.model;
}

/** Shape checks every model must pass, whatever the input (`deep`: also evidence lines and a JSON round trip). */
function expectWellFormed(model: TranscriptModel, deep: boolean): void {
  const lineCount = model.source.lineCount;
  expect(Number.isInteger(lineCount) && lineCount >= 0).toBe(true);
  expect(model.sessions.length).toBeGreaterThanOrEqual(1);
  const inRange = (line: number) => Number.isInteger(line) && line >= 1 && line <= lineCount;
  let commandBlocks = 0;
  model.sessions.forEach((session, index) => {
    expect(session.index).toBe(index);
    const badBlocks = session.blocks.filter((block) => !(inRange(block.startLine) && inRange(block.endLine) && block.startLine <= block.endLine));
    expect(badBlocks, `blocks outside 1..${lineCount}`).toEqual([]);
    commandBlocks += session.blocks.filter((block) => block.command !== null).length;
    if (!deep) return;
    for (const collection of [session.processes, session.threads, session.alpcMessages, session.alpcPorts, session.irps, session.fileObjects, session.workQueues, session.workItems, session.locks, session.bugchecks, session.poolAllocations]) {
      for (const entity of collection as { evidence: { lines: number[]; fields: Record<string, number[]> } }[]) {
        const lines = [...entity.evidence.lines, ...Object.values(entity.evidence.fields).flat()];
        const outside = lines.filter((line) => !inRange(line));
        expect(outside, `evidence lines outside 1..${lineCount}`).toEqual([]);
      }
    }
  });
  expect(model.coverage.blocks).toBe(commandBlocks);
  expect(model.coverage.understoodBlocks).toBeLessThanOrEqual(model.coverage.blocks);
  // A reader that throws is caught and turned into a warning; none should throw at all.
  const readerCrashes = model.warnings.filter((warning) => /failed \((?:\w*Error|undefined|object|string)\b/.test(warning.message));
  expect(readerCrashes, 'a section reader threw').toEqual([]);
  // The model is stored as JSON: no NaN, Infinity, undefined or cycles.
  if (deep) expect(JSON.parse(JSON.stringify(model))).toStrictEqual(model);
}

function expectDeterministic(input: Uint8Array | string, options?: ParseOptions): Outcome {
  const first = parseOutcome(input, options);
  const second = parseOutcome(input, options);
  if (first.error || second.error) {
    expect(second.error?.code).toBe(first.error?.code);
    expect(second.error?.reason).toBe(first.error?.reason);
  } else {
    expect(second.model).toStrictEqual(first.model);
  }
  return first;
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** The text a UTF-8 encoder actually writes: lone surrogates become U+FFFD. */
function wellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** The text the byte decoder produces from `utf8(text)`: well-formed, without a leading byte-order mark. */
function asDecoded(text: string): string {
  return wellFormed(text).replace(/^\ufeff/, '');
}

// ---------------------------------------------------------------- generators

/** Characters that mean something to the segmenter and the readers, plus Unicode and control characters. */
const NOISE_PIECES = [
  '>', '> ', '<', '`', '!', ':', '[', ']', '(', ')', '{', '}', '=', '-', '+', '*', '#', '.', '~', '@', '"', "'", '\\', '/', '//',
  '\u0000', '\t', '\r', ' ', '  ', '\u00a0', '\u3000', '\ufeff', '\u200b', '…', '←', '—', '–', '日本', '😀', '\ud800', '\udfff', '\u0085', '\u2028',
  '0x', '+0x', '0n', 'kd>', '1: kd> ', '0:000> ', 'lkd> ', '<b>', '</span>', '<--', '<snip>', '...', 'THREAD ', 'Cid ', 'fffffa80`', 'fffff800`01bf7a40',
  'Irp is active with ', 'Resource @ ', 'Waiting for reply to ALPC Message ', 'Child-SP', 'RetAddr', 'Call Site', '[  e, 0]', ' nt!', '+0x1f', 'Ticks: ',
];

const noise = fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...NOISE_PIECES) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) }), { minLength: 1, maxLength: 12 }).map((pieces) => pieces.join(''));

/** Lines in the shape of debugger output, assembled from the tokens the readers look for. */
const DEBUGGER_TOKENS = [
  '1: kd>', '0: kd>', 'kd>', 'lkd>', '0:000>', '0:023:x86>', '!thread', '!process', '0', '7', '!alpc', '/m', '/p', '!irp', '!irpfind', '!locks', '!cs', '-l', '-s',
  '!stacks', '2', '!exqueue', '!pool', 'dt', 'nt!_KQUEUE', 'nt!_ERESOURCE', 'dd', 'dq', 'dps', 'dl', 'L1', 'x', 'nt!ExWorkerQueue', '!list', '?', '!analyze', '-v',
  '.thread', '~4s', '~*k', 'kb', 'kv', 'kn', 'kc', '!mex.t', '!t', '!lt', '.frame', '/r', 'THREAD', 'PROCESS', 'Cid', '0b5c.0c88', '0004.0050', 'Teb:', 'Win32Thread:',
  'WAIT:', '(Executive)', '(WrLpcReply)', 'KernelMode', 'UserMode', 'Non-Alertable', 'Alertable', 'RUNNING', 'on processor', 'SynchronizationEvent', 'NotificationEvent',
  'Semaphore Limit 0x1', 'IRP List:', 'Not impersonating', 'Owning Process', 'Attached Process', 'Image:', 'winlogon.exe', 'System', 'Wait Start TickCount',
  'Ticks:', '2614', '(0:00:00:40.778)', 'Context Switch Count', 'Priority', 'BasePriority', 'Child-SP', 'RetAddr', 'Call Site', 'ChildEBP', 'Args to Child',
  'nt!KiSwapContext+0x7f', 'FabrikamDSM+0x8d3c', 'mpio!MPIOPathVerify+0x14b', 'nt!ExpWorkerThread+0xfb', '0x77a9b56a', 'Message @', 'MessageID', 'WaitingThread',
  'ServerThread', 'QueueType', 'QueuePort', 'QueuePortOwnerProcess', 'Port @', 'Ports', ':', '(ALPC_CONNECTION_PORT)', 'Irp is active with 4 stacks 3 is current',
  '[  e, 0]', '>[  f, 3]', '\\FileSystem\\Mup', '\\Driver\\Smb', 'Success Error Cancel pending', 'Args:', 'Resource @', 'Exclusively owned', 'Shared', 'Threads:',
  'fffffa8039d0a660-01<*>', 'Threads Waiting On Exclusive Access:', 'Contention Count =', 'CritSec', 'at', 'LockCount', 'OwningThread', 'RecursionCount', '-----',
  '****', 'Delayed', 'Critical', 'WorkQueue', '(', 'current = 0 maximum = 8', ')', 'PENDING:', 'Dumping ExWorkerQueue:', 'Proc.Thread', '.Thread', 'Ticks',
  'ThreadState', 'Blocker', 'Blocked', 'Pool page', 'region is Nonpaged pool', '*fffffa8039d0a620', 'size:', '3c0', '(Allocated)', '*Thre', 'Pooltag Thre :',
  '+0x000', 'Header', ': _DISPATCHER_HEADER', '+0x018', 'EntryListHead', ': _LIST_ENTRY [ 0xfffffa80`4b91c2a0 - 0xfffffa80`4f0e3a10 ]', 'Evaluate expression:',
  '14892', '=', '00003a2c', 'BUGCHECK_CODE:', 'BUGCHECK_STR:', 'DEFAULT_BUCKET_ID:', 'BLOCKING_THREAD:', 'MODULE_NAME:', 'IMAGE_NAME:', 'Id:', '.', '#', '0',
  'Suspend:', '1', 'Unfrozen', 'OS Thread Id:', 'ID', 'Index', 'SyncBlock', 'MonitorHeld', 'Owning Thread Info', 'Debug session time:', 'Microsoft (R) Windows Debugger Version',
  'Loading Dump File [C:\\x.dmp]', 'fffffa80`6b3fe060', 'fffffa806b3fe060', '0xfffff800`01bf7a40', 'fffff880`21a437d0', '00000000`00000000', 'ffffffff`ffffffff',
  '85205ec8', '0000000000000000000', 'zzzzzzzz', '<snip>', '...', '<-- here', '// note', 'fffff80001bf7a40+58+4c', 'nt!ExWorkerQueue+58', 'poi(fffffa80`4f3b20d0+10)',
  '@$extret', '"-t', 'nt!_LIST_ENTRY.Flink', '-x\\"dq', 'poi(@$extret)', 'L1;', 'L1\\"',
];

const debuggerLine = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...DEBUGGER_TOKENS), { minLength: 1, maxLength: 10 }).map((tokens) => tokens.join(' ')) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('', '    ', '\t', '> ', '>> '), fc.constantFrom(...EXAMPLE_LINES)).map(([indent, line]) => indent + line) },
  { weight: 1, arbitrary: noise },
  { weight: 1, arbitrary: fc.constant('') },
);

type LineEdit =
  | { kind: 'insert'; at: number; line: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'duplicate'; at: number; count: number }
  | { kind: 'inject'; at: number; position: number; text: string }
  | { kind: 'move'; from: number; to: number; count: number };

const lineEdit: fc.Arbitrary<LineEdit> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: fc.oneof(noise, debuggerLine) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('inject' as const), at: fc.nat(), position: fc.nat(), text: noise }),
  fc.record({ kind: fc.constant('move' as const), from: fc.nat(), to: fc.nat(), count: fc.integer({ min: 1, max: 60 }) }),
);

function applyEdits(lines: readonly string[], edits: readonly LineEdit[]): string[] {
  const out = [...lines];
  for (const edit of edits) {
    const size = Math.max(out.length, 1);
    switch (edit.kind) {
      case 'insert':
        out.splice(edit.at % (out.length + 1), 0, edit.line);
        break;
      case 'delete':
        out.splice(edit.at % size, edit.count);
        break;
      case 'duplicate': {
        const at = edit.at % size;
        out.splice(at, 0, ...out.slice(at, at + edit.count));
        break;
      }
      case 'inject': {
        const at = edit.at % size;
        const line = out[at] ?? '';
        const position = edit.position % (line.length + 1);
        out[at] = line.slice(0, position) + edit.text + line.slice(position);
        break;
      }
      case 'move': {
        const block = out.splice(edit.from % size, edit.count);
        out.splice(edit.to % (out.length + 1), 0, ...block);
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- properties

describe('parseTranscript never throws anything but TranscriptError', () => {
  it('arbitrary bytes (up to 64 KiB)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 * 1024 }), (bytes) => {
        parseOutcome(bytes);
      }),
      { numRuns: 60 },
    );
  });

  it('arbitrary bytes behind a gzip magic number or a byte-order mark', () => {
    const prefixes = [[0x1f, 0x8b, 0x08], [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], Array.from(EXAMPLE_GZIP.subarray(0, 10))];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 4096 }), (prefix, bytes) => {
        parseOutcome(concatBytes(prefix, bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary Unicode strings, as strings and as UTF-8 / UTF-16LE bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        const asString = parseOutcome(text);
        // An empty text (or one holding only a BOM) is refused, as empty bytes are.
        if (text.replace(/^\ufeff/, '').length === 0) expect(asString.error?.code).toBe('not-a-text-transcript');
        else expect(asString.error).toBeNull();
        parseOutcome(utf8(text));
        parseOutcome(new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])));
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary debugger-shaped transcripts (token soup) are deterministic', () => {
    fc.assert(
      fc.property(fc.array(debuggerLine, { maxLength: 300 }), fc.constantFrom('\n', '\r\n', '\r'), (lines, end) => {
        const text = lines.join(end);
        const outcome = expectDeterministic(text);
        if (text.length === 0) {
          expect(outcome.error?.code).toBe('not-a-text-transcript');
          return;
        }
        expect(outcome.error).toBeNull();
        const bytes = expectDeterministic(utf8(text));
        if (bytes.model) {
          const reference = asDecoded(text) === text ? outcome.model! : parseModel(asDecoded(text));
          expect(bytes.model.source.lineCount).toBe(reference.source.lineCount);
          expect(bytes.model.sessions).toStrictEqual(reference.sessions);
        }
      }),
      { numRuns: 250 },
    );
  });
});

describe('truncation of the example', () => {
  it('cut at any byte offset: model or TranscriptError, deterministic, and the same as the cut text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: EXAMPLE_BYTES.byteLength }), (length) => {
        const outcome = expectDeterministic(EXAMPLE_BYTES.subarray(0, length));
        if (length === 0) {
          expect(outcome.error?.code).toBe('not-a-text-transcript');
          return;
        }
        expect(outcome.error).toBeNull();
        // The example is ASCII: bytes and characters line up.
        const fromText = parseModel(EXAMPLE_TEXT.slice(0, length));
        expect(outcome.model!.sessions).toStrictEqual(fromText.sessions);
        expect(outcome.model!.coverage).toStrictEqual(fromText.coverage);
      }),
      { numRuns: 200 },
    );
  });

  it('gzip cut at any byte offset: model or TranscriptError, deterministic, a prefix of the example', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: EXAMPLE_GZIP.byteLength }), (length) => {
        const outcome = expectDeterministic(EXAMPLE_GZIP.subarray(0, length));
        if (outcome.model) {
          expect(outcome.model.source.compression).toBe(length >= 3 ? 'gzip' : null);
          expect(outcome.model.source.lineCount).toBeLessThanOrEqual(EXAMPLE_LINES.length);
          if (length < EXAMPLE_GZIP.byteLength) expect(outcome.model.warnings.some((warning) => /truncated/i.test(warning.message))).toBe(true);
        }
        if (length <= 10) expect(outcome.error).not.toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('the whole gzip and every cut of its last 16 bytes', () => {
    for (let length = EXAMPLE_GZIP.byteLength - 16; length <= EXAMPLE_GZIP.byteLength; length++) {
      const outcome = parseOutcome(EXAMPLE_GZIP.subarray(0, length));
      expect(outcome.error).toBeNull();
    }
  });

  it('UTF-16LE (with BOM) cut at any byte offset, odd ones included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: EXAMPLE_UTF16LE.byteLength }), (length) => {
        const outcome = expectDeterministic(EXAMPLE_UTF16LE.subarray(0, length));
        if (outcome.model && (length - 2) >> 1 > 0) {
          const fromText = parseModel(EXAMPLE_TEXT.slice(0, (length - 2) >> 1));
          expect(outcome.model.sessions).toStrictEqual(fromText.sessions);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('line noise in the example', () => {
  it('inserted, deleted, duplicated, moved lines and injected garbage: model or TranscriptError, deterministic', () => {
    fc.assert(
      fc.property(fc.array(lineEdit, { minLength: 1, maxLength: 25 }), fc.constantFrom('\n', '\r\n'), (edits, end) => {
        const text = applyEdits(EXAMPLE_LINES, edits).join(end);
        const asString = expectDeterministic(text);
        expect(asString.error).toBeNull();
        const asBytes = expectDeterministic(utf8(text));
        if (asBytes.model) {
          const reference = asDecoded(text) === text ? asString.model! : parseModel(asDecoded(text));
          expect(asBytes.model.sessions).toStrictEqual(reference.sessions);
          expect(asBytes.model.coverage).toStrictEqual(reference.coverage);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('garbage injected into every line still parses', () => {
    fc.assert(
      fc.property(fc.array(noise, { minLength: 1, maxLength: 40 }), fc.nat(), (pieces, offset) => {
        const text = EXAMPLE_LINES.map((line, index) => {
          const piece = pieces[(index + offset) % pieces.length]!;
          const at = (index * 7 + offset) % (line.length + 1);
          return line.slice(0, at) + piece + line.slice(at);
        }).join('\n');
        const outcome = expectDeterministic(text);
        expect(outcome.error).toBeNull();
      }),
      { numRuns: 40 },
    );
  });
});

// ---------------------------------------------------------------- hostile constructs

function repeatTo(piece: string, length: number): string {
  return piece.repeat(Math.ceil(length / piece.length)).slice(0, length);
}

const HOSTILE_LINES: [string, string][] = [
  ['all a', repeatTo('a', MiB)],
  ['all hex digits', repeatTo('0123456789abcdef', MiB)],
  ['repeated +0x', repeatTo('+0x', MiB)],
  ['repeated THREAD prefixes', repeatTo('THREAD ', MiB)],
  ['repeated ALPC waits', repeatTo('Waiting for reply to ALPC Message fffff88021a437d0 ', MiB)],
  ['repeated IRP stack locations', repeatTo('[  e, 0]', MiB)],
  ['repeated Resource @', repeatTo('Resource @ ', MiB)],
  ['repeated backticked addresses', repeatTo('fffffa80`', MiB)],
  ['a THREAD header with a huge Cid', 'THREAD fffffa8039d0a660  Cid ' + repeatTo('0004.', MiB)],
  ['a frame with a huge call site', 'fffffa60`12f3b6b0 fffff800`01abac7a ' + repeatTo('nt!KiSwapContext+', MiB)],
  ['a prompt with a huge command', '1: kd> ' + repeatTo('!thread ', MiB)],
  ['repeated prompts', repeatTo('1: kd> ', MiB)],
  ['spaces between two words', 'THREAD' + ' '.repeat(MiB) + 'x'],
  ['tabs between two words', 'THREAD' + '\t'.repeat(MiB) + 'x'],
  ['repeated blockquote markers', repeatTo('> ', MiB)],
  ['repeated HTML tags', repeatTo('<span ', MiB)],
  ['repeated annotations', repeatTo('a <-- ', MiB)],
  ['repeated dots', repeatTo('.', MiB)],
  ['repeated colons', repeatTo(':', MiB)],
  ['a dt field with a huge name', '   +0x000 ' + repeatTo('Header ', MiB) + ': '],
  ['a Ticks field with a huge duration', 'Wait Start TickCount      6100299        Ticks: ' + repeatTo('2614 (', MiB)],
];

/** Where the hostile line is put: alone, and inside the output of each kind of command. */
const HOSTILE_CONTEXTS: [string, string][] = [
  ['alone', ''],
  ['after !thread', '1: kd> !thread fffffa8039d0a660\nTHREAD fffffa8039d0a660  Cid 0004.0050  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable\n'],
  ['after !irp', '1: kd> !irp fffffa806c0e2c40\nIrp is active with 4 stacks 3 is current (= 0xfffffa806c0e2da0)\n'],
  ['after dt', '1: kd> dt nt!_KQUEUE fffff800`01bf7a40\n'],
  ['after a stack header', '1: kd> kb\nChild-SP          RetAddr           Call Site\n'],
  ['after !locks', '1: kd> !locks\nResource @ nt!IopDeviceTreeLock (0xfffff80001bf7a40)    Exclusively owned\n     Threads Waiting On Exclusive Access:\n'],
  ['after !alpc', '1: kd> !alpc /m fffff88021a437d0\nMessage @ fffff88021a437d0\n'],
];

describe('hostile constructs (each must finish quickly; no timing is asserted)', () => {
  it.each(HOSTILE_LINES)('a single 1 MiB line: %s', (_name, line) => {
    for (const [, context] of HOSTILE_CONTEXTS) {
      const model = parseModel(context + line + '\n');
      expect(model.source.lineCount).toBe(context.split('\n').length);
      expect(model.warnings.some((warning) => /characters/.test(warning.message))).toBe(true);
    }
    // Read in full, not just its first 4096 characters: the readers' regular expressions see the whole line.
    for (const [, context] of HOSTILE_CONTEXTS) {
      parseModel(context + line, { maxLineLength: 2 * MiB });
    }
  });

  it('a million blank lines', () => {
    const model = parseModel('\n'.repeat(1_000_000), {}, false);
    expect(model.source.lineCount).toBe(1_000_000);
    expect(model.coverage.blocks).toBe(0);
  });

  it('a million lines of "1: kd> !thread"', () => {
    const model = parseModel('1: kd> !thread\n'.repeat(1_000_000), {}, false);
    expect(model.source.lineCount).toBe(1_000_000);
    expect(model.coverage.blocks).toBe(1_000_000);
  });

  it('200k THREAD lines with random addresses', () => {
    const addresses = fc.sample(fc.bigInt({ min: 0xfffffa8000000000n, max: 0xfffffa80ffffffffn }), { numRuns: 200_000, seed: 42 });
    const text = addresses.map((value) => `THREAD ${value.toString(16)}  Cid 0004.0044  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable`).join('\n');
    const model = parseModel(text, {}, false);
    expect(model.source.lineCount).toBe(200_000);
    expect(model.sessions[0]!.threads.length).toBe(new Set(addresses).size);
  });
});

/** `count` distinct kernel addresses, seeded. */
function addresses(count: number, seed: number): string[] {
  const values = fc.sample(fc.bigInt({ min: 0xfffffa8000000000n, max: 0xfffffa80ffffffffn }), { numRuns: count, seed });
  return [...new Set(values)].map((value) => value.toString(16));
}

const THREAD_ROW = (address: string) => `THREAD ${address}  Cid 0004.0044  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (Executive) KernelMode Non-Alertable`;
const ONE_THREAD = '1: kd> !thread fffffa8039d0a660\n' + THREAD_ROW('fffffa8039d0a660') + '\n';

describe('hostile lists: one entity with very many members (each must finish quickly; no timing is asserted)', () => {
  it('!process 0 7 listing 150k threads of one process', () => {
    const list = addresses(150_000, 1);
    const text = '1: kd> !process 0 7 System\nPROCESS fffffa8039c6e040\n    Image: System\n' + list.map((address) => '        ' + THREAD_ROW(address)).join('\n');
    const model = parseModel(text, {}, false);
    expect(model.sessions[0]!.processes[0]!.threads).toHaveLength(list.length);
  });

  it('!thread with an IRP list of 90k IRPs', () => {
    const list = addresses(90_000, 2);
    const model = parseModel(ONE_THREAD + 'IRP List:\n' + list.map((address) => `    ${address}: (0006,0118) Flags: 00000000  Mdl: 00000000`).join('\n'), {}, false);
    expect(model.sessions[0]!.threads.find((thread) => thread.key === 'fffffa8039d0a660')!.irps).toHaveLength(list.length);
  });

  it('!thread waiting on 90k objects', () => {
    const list = addresses(90_000, 3);
    const model = parseModel(ONE_THREAD + list.map((address) => `    ${address}  SynchronizationEvent`).join('\n'), {}, false);
    expect(model.sessions[0]!.threads.find((thread) => thread.key === 'fffffa8039d0a660')!.waitObjects).toHaveLength(list.length);
  });

  it('!locks with 100k exclusive waiters on one resource', () => {
    const list = addresses(100_000, 4);
    const header = '1: kd> !locks\nResource @ nt!IopDeviceTreeLock (0xfffff80001bf7a40)    Exclusively owned\n     Threads: fffffa8039d0a660-01<*>\n     Threads Waiting On Exclusive Access:\n';
    const model = parseModel(header + list.map((address) => `              ${address}`).join('\n'), {}, false);
    expect(model.sessions[0]!.locks[0]!.waiters).toHaveLength(list.length);
  });

  it('!locks with 50k owner lines on one shared resource', () => {
    const list = addresses(50_000, 5);
    const header = '1: kd> !locks\nResource @ nt!IopDeviceTreeLock (0xfffff80001bf7a40)    Shared 1 owning threads\n';
    const model = parseModel(header + list.map((address) => `     Threads: ${address}-01<*>`).join('\n'), {}, false);
    expect(model.sessions[0]!.locks[0]!.owners).toHaveLength(list.length);
  });

  it('!exqueue listing 150k worker threads of one queue', () => {
    const list = addresses(150_000, 6);
    const model = parseModel('1: kd> !exqueue\n**** Critical WorkQueue( current = 0 maximum = 8 )\n' + list.map(THREAD_ROW).join('\n'), {}, false);
    expect(model.sessions[0]!.workQueues[0]!.threads).toHaveLength(list.length);
  });
});

describe('found by the properties above', () => {
  it('an address expression with an empty or doubly backticked term does not make a reader throw', () => {
    for (const command of ['dt nt!_KQUEUE fffff800+`', 'dt nt!_KQUEUE fffff800+58`00`00', 'dd fffff80001bf7a40+` L1', 'dt ntdll!_RTL_CRITICAL_SECTION 0xe+0x`']) {
      const model = parseModel(`1: kd> ${command}\n00000000\n`);
      expect(model.warnings).toEqual([]);
    }
  });

  it('a dt nt!_KQUEUE without output gives its queue evidence on the command line, not line 0', () => {
    const model = parseModel('1: kd> dt nt!_KQUEUE fffff800`01bf7a40');
    for (const queue of model.sessions[0]!.workQueues) expect(queue.evidence.lines.every((line) => line === 1)).toBe(true);
  });
});

// ---------------------------------------------------------------- determinism

describe('determinism', () => {
  it('the example parsed twice gives deep-equal models', () => {
    expect(parseModel(EXAMPLE_BYTES)).toStrictEqual(parseModel(EXAMPLE_BYTES));
    expect(parseModel(EXAMPLE_TEXT)).toStrictEqual(parseModel(EXAMPLE_TEXT));
  });

  it('the example as a string and as UTF-8 bytes gives equal sessions and coverage', () => {
    const fromText = parseModel(EXAMPLE_TEXT);
    const fromBytes = parseModel(EXAMPLE_BYTES);
    expect(fromBytes.sessions).toStrictEqual(fromText.sessions);
    expect(fromBytes.coverage).toStrictEqual(fromText.coverage);
    expect(fromBytes.source.lineCount).toBe(fromText.source.lineCount);
    expect(fromBytes.sessions[0]!.workQueues.find((queue) => queue.key === 'Delayed')?.pendingItems).toBe(14892);
  });

  it('parsing other transcripts in between does not change the result (no state leaks between calls)', () => {
    const before = parseModel(EXAMPLE_TEXT);
    parseOutcome(EXAMPLE_TEXT.replace(/fffffa80/g, 'fffffa81'));
    parseOutcome('0:000> ~*k\n. 0  Id: 1a2c.1b3c Suspend: 1 Teb: 7ffdf000 Unfrozen\n');
    parseOutcome(EXAMPLE_TEXT.split('\n').reverse().join('\n'));
    expect(parseModel(EXAMPLE_TEXT)).toStrictEqual(before);
  });
});
