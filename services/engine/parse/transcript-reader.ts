import { canonicalAddress } from '../address.ts';
import { fieldLines, noteField } from '../model/evidence.ts';
import { SessionBuilder } from '../model/session-builder.ts';
import { hasDebuggerOutput } from '../model/summary.ts';
import type { CommandBlock, Coverage, ParseWarning, SessionModel, ThreadEntity, TranscriptModel } from '../model/types.ts';
import { cleanLine, type CleanLine } from '../segment/clean-line.ts';
import { parsePrompt, type Prompt } from '../segment/prompt.ts';
import { describeCommand } from './command.ts';
import { resolveWorkerQueues } from './resolve-worker-queues.ts';
import { COMMAND_READERS, HEADER_READERS, META_COMMANDS, indexCommandReaders, indexHeaderReaders } from './readers.ts';
import { sectionKey, type Line, type ParseContext, type Section } from './section.ts';

export interface ReaderOptions {
  /** Longer lines are read only up to this many characters (a warning says so). */
  maxLineLength?: number;
  /** At most this many warnings are kept; the rest are counted. */
  maxWarnings?: number;
}

export { DEFAULT_MAX_LINE_LENGTH } from '../segment/lines.ts';
import { DEFAULT_MAX_LINE_LENGTH } from '../segment/lines.ts';
const DEFAULT_MAX_WARNINGS = 200;
const SESSION_BANNER = /^(Microsoft \(R\) Windows Debugger Version|Loading Dump File \[|Opened log file ')/;
const DEBUG_SESSION_TIME = /^Debug session time:\s*(.+)$/;

const HEADER_READERS_BY_KEY = indexHeaderReaders(HEADER_READERS);
const COMMAND_READERS_BY_NAME = indexCommandReaders(COMMAND_READERS);

/**
 * Reads a transcript one line at a time (so it can be fed from a stream): finds prompts, splits sessions
 * and command blocks, and hands each line to the section reader it belongs to. Memory grows with the
 * entities found, not with the text; time is linear in the text.
 */
export class TranscriptReader {
  private readonly maxLineLength: number;
  private readonly maxWarnings: number;
  /** False while the text being read is known to hold no tab or Unicode space (saves a scan of every line). */
  wideSpaces = true;
  private readonly sessions: SessionBuilder[] = [];
  private session: SessionBuilder;
  private block: CommandBlock | null = null;
  private section: Section | null = null;
  private sectionName = '';
  private lineNumber = 0;
  private readonly warnings: ParseWarning[] = [];
  private droppedWarnings = 0;
  private readonly context: ParseContext;
  /** Reused for every line: readers read it at once and never keep it. */
  private readonly line: Line = { text: '', number: 0 };
  private readonly cleaned: CleanLine = { text: '', snip: false, quoted: false };
  private readonly interned = new Map<string, string>();

  constructor(options: ReaderOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.maxWarnings = options.maxWarnings ?? DEFAULT_MAX_WARNINGS;
    this.session = new SessionBuilder(0, 1);
    this.sessions.push(this.session);
    this.context = {
      session: this.session,
      command: null,
      focusThread: null,
      focusProcess: null,
      focusQueue: null,
      blockLine: 0,
      distrusted: new Set(),
      warn: (line, message) => this.warn(line, message),
      understood: () => {
        if (this.block) this.block.understood = true;
      },
    };
  }

  get linesRead(): number {
    return this.lineNumber;
  }

  /** Reads one line; `cut` says the decoder already dropped the rest of an overlong line. */
  pushLine(rawLine: string, cut = false): void {
    const number = ++this.lineNumber;
    let raw = rawLine;
    if (cut || raw.length > this.maxLineLength) {
      this.warn(number, cut ? `line of more than ${this.maxLineLength} characters read only up to ${this.maxLineLength}` : `line of ${raw.length} characters read only up to ${this.maxLineLength}`);
      raw = raw.slice(0, this.maxLineLength);
    }
    const cleaned = cleanLine(raw, this.cleaned, this.wideSpaces);
    if (cleaned.snip) return;
    const text = cleaned.text;
    if (text.length === 0) {
      // Blank lines separate output but carry nothing; only sections that track them see them.
      this.session.endLine = number;
      if (this.block) this.block.endLine = number;
      if (this.section) this.readLine(text, number);
      return;
    }
    const prompt = parsePrompt(text, cleaned.quoted);
    if (prompt) {
      this.startBlock(prompt, number);
      return;
    }
    if (this.isNewSessionMarker(text)) {
      this.closeBlock();
      this.startSession(number);
    }
    if (this.block) {
      this.block.endLine = number;
      this.block.outputLines++;
    }
    this.session.endLine = number;
    this.readLine(text, number);
  }

  /** One guard per line: a reader that throws loses its section, not the transcript. */
  private readLine(text: string, number: number): void {
    const line = this.line;
    line.text = text;
    line.number = number;
    try {
      this.readOutputLine(line);
    } catch (error) {
      this.readerFailed(error);
    }
  }

  finish(source: TranscriptModel['source']): TranscriptModel {
    this.closeBlock();
    const sessions = this.sessions.filter((session, index) => index === 0 || !session.isEmpty).map((session) => finishSession(session));
    const warnings = [...this.warnings];
    if (!hasDebuggerOutput(sessions)) {
      warnings.push({ line: 0, message: 'no debugger prompt (kd>, 0:000>) and no debugger output found: is this a kd/WinDbg/cdb transcript?' });
    }
    if (this.droppedWarnings > 0) warnings.push({ line: this.lineNumber, message: `${this.droppedWarnings} more warnings not shown` });
    return { source: { ...source, lineCount: this.lineNumber }, sessions, coverage: coverageOf(sessions), warnings };
  }

  private isNewSessionMarker(text: string): boolean {
    const first = text.charCodeAt(0);
    // Banners start with M(icrosoft), L(oading), O(pened) or D(ebug session time).
    if (first !== 77 && first !== 76 && first !== 79 && first !== 68) return false;
    if (!this.session.hasCommands) return false;
    if (SESSION_BANNER.test(text)) return true;
    const time = DEBUG_SESSION_TIME.exec(text);
    if (!time) return false;
    const previous = this.session.debugSessionTime;
    this.session.debugSessionTime = time[1]!.trim();
    return previous !== null && previous !== this.session.debugSessionTime;
  }

  private startBlock(prompt: Prompt, number: number): void {
    this.closeBlock();
    if (prompt.debugger !== 'unknown') {
      if (this.session.debugger !== null && this.session.debugger !== prompt.debugger && !this.session.isEmpty) {
        this.startSession(number);
      }
      this.session.debugger = prompt.debugger;
      this.session.mode = prompt.mode;
    }
    const command = describeCommand(prompt.command);
    this.block = {
      command: prompt.command,
      name: this.intern(command.name),
      prompt: prompt.prompt ? this.intern(prompt.prompt) : null,
      startLine: number,
      endLine: number,
      understood: META_COMMANDS.has(command.name),
      outputLines: 0,
    };
    this.session.blocks.push(this.block);
    this.session.hasCommands = true;
    this.session.endLine = number;
    this.context.command = command;
    this.context.blockLine = number;
    this.applyContextCommand(command.name, command.args, command.threadSelector);
    const reader = COMMAND_READERS_BY_NAME.get(command.name);
    if (reader) this.openSection(reader.name, () => reader.start({ text: '', number }, this.context));
  }

  /** `.thread <address>` and `~Ns` move the debugger's current thread: a bare `k` then shows that thread. */
  private applyContextCommand(name: string, args: string[], selector: number | '*' | null): void {
    if (name === '.thread' && args[0]) {
      const address = canonicalAddress(args[0]);
      if (address) this.session.currentThreadKey = this.session.thread(address).key;
    } else if (name === '~s' && typeof selector === 'number') {
      this.session.currentThreadKey = this.session.threadByDebuggerId(selector).key;
    }
  }

  private startSession(number: number): void {
    this.session = new SessionBuilder(this.sessions.length, number);
    this.sessions.push(this.session);
    this.context.session = this.session;
    this.resetFocus();
  }

  private closeBlock(): void {
    this.closeSection();
    this.block = null;
    this.context.command = null;
    this.resetFocus();
  }

  private resetFocus(): void {
    this.context.distrusted.clear();
    this.context.focusThread = null;
    this.context.focusProcess = null;
    this.context.focusQueue = null;
    this.context.focusLock = null;
  }

  private readOutputLine(line: Line): void {
    const current = this.section;
    if (current !== null && current.claims !== undefined && current.claims(line)) {
      current.accept(line);
      return;
    }
    if (line.text.length > 0) {
      const readers = HEADER_READERS_BY_KEY.get(sectionKey(line.text));
      if (readers !== undefined) {
        this.ensureBlock(line.number);
        for (const reader of readers) {
          this.sectionName = reader.name;
          const started = reader.start(line, this.context);
          if (started) {
            this.closeSection(started);
            this.sectionName = reader.name;
            return;
          }
        }
      }
    }
    if (current !== null && current.accept(line)) return;
    if (current !== null) this.closeSection();
  }

  /** Prompts and command names repeat in every block: one string each for the whole model. */
  private intern(text: string): string {
    const known = this.interned.get(text);
    if (known !== undefined) return known;
    if (this.interned.size < 10_000) this.interned.set(text, text);
    return text;
  }

  /** Output without any prompt before it still forms a block, so that its entities have a home. */
  private ensureBlock(number: number): void {
    if (this.block) return;
    this.block = { command: null, name: 'output', prompt: null, startLine: number, endLine: number, understood: false, outputLines: 0 };
    this.session.blocks.push(this.block);
  }


  private openSection(name: string, start: () => Section | null): void {
    this.sectionName = name;
    try {
      const section = start();
      if (section) {
        this.section = section;
        this.sectionName = name;
      }
    } catch (error) {
      this.readerFailed(error);
    }
  }

  private closeSection(replacement: Section | null = null): void {
    const section = this.section;
    this.section = replacement;
    if (section?.close) {
      try {
        section.close();
      } catch (error) {
        this.readerFailed(error);
      }
    }
  }

  /** A reader that fails leaves a warning with the error's class, and the analysis goes on without its section. */
  private readerFailed(error: unknown): void {
    const name = error instanceof Error ? error.name : typeof error;
    const message = error instanceof Error ? error.message : String(error);
    this.warn(this.lineNumber, `${this.sectionName || 'reader'} failed (${name}: ${message.slice(0, 200)}); its section was skipped`);
    this.section = null;
  }

  private warn(line: number, message: string): void {
    if (this.warnings.length < this.maxWarnings) this.warnings.push({ line, message });
    else this.droppedWarnings++;
  }
}

function finishSession(session: SessionBuilder): SessionModel {
  resolveWorkerQueues(session);
  const model = session.finish();
  fillThreadImagesFromProcesses(model);
  return model;
}

/** A thread listed under its process (or with its Owning Process) takes the process's image name. */
function fillThreadImagesFromProcesses(model: SessionModel): void {
  const processes = new Map(model.processes.map((process) => [process.address, process]));
  for (const thread of model.threads as ThreadEntity[]) {
    if (thread.image !== null || thread.process === null) continue;
    const process = processes.get(thread.process);
    if (process?.image) {
      thread.image = process.image;
      for (const line of fieldLines(process.evidence, 'image')) noteField(thread.evidence, 'image', line);
    }
  }
}

function coverageOf(sessions: SessionModel[]): Coverage {
  const blocks = sessions.flatMap((session) => session.blocks);
  const commandBlocks = blocks.filter((block) => block.command !== null);
  const describe = (block: CommandBlock) => ({ command: block.command!, name: block.name, startLine: block.startLine, endLine: block.endLine });
  return {
    blocks: commandBlocks.length,
    understoodBlocks: commandBlocks.filter((block) => block.understood).length,
    unparsed: commandBlocks.filter((block) => !block.understood && block.outputLines > 0).map(describe),
    withoutOutput: commandBlocks.filter((block) => !block.understood && block.outputLines === 0).map(describe),
  };
}
