/**
 * Debugger prompts: `1: kd> `, `kd>`, `lkd>`, `0:000> `, `0:023:x86> `, with the command after them.
 * A quoted command without a prompt (`> !thread` in a mail) also starts a block.
 */
export type SessionMode = 'kernel' | 'user';

export interface Prompt {
  prompt: string;
  mode: SessionMode;
  /** `kd`, `lkd` or `cdb` (user mode); kept apart so a live and a dump session are not merged. */
  debugger: 'kd' | 'lkd' | 'cdb' | 'unknown';
  command: string;
}

const KERNEL_PROMPT = /^(?:(\d{1,4}):\s?)?(l?kd)(?::[a-z0-9_]{1,10})?>\s*/i;
const USER_PROMPT = /^(\d{1,4}):(\d{1,5})(?::([a-z0-9_]{1,10}))?>\s*/i;
const BARE_EXTENSION_COMMAND = /^!(?:[a-z][\w]{0,30}\.)?[a-z][\w]{0,30}(?:\s|$)/i;
/**
 * SOS commands as typed at the `> ` prompt of `dotnet-dump analyze` (no `!`). The same `> ` is a blockquote, so a
 * quoted line is a command only when its first word is one of these and every other word is an option or a number.
 */
const SOS_REPL_COMMANDS = new Set([
  'clrthreads', 'threads', 'syncblk', 'clrstack', 'dumpstack', 'eestack', 'threadpool', 'dumpheap', 'dumpobj', 'do',
  'gcroot', 'printexception', 'pe', 'dumpasync', 'setthread', 'dumpdelegate', 'dso', 'dumpstackobjects', 'parallelstacks', 'pstacks',
]);
const SOS_REPL_ARGUMENT = /^(?:-{1,2}[a-z][\w-]{0,30}|0x[0-9a-f`]{1,17}|[0-9a-f`]{8,17}|\d{1,10})$/i;

function sosReplCommand(text: string): boolean {
  const words = text.split(' ');
  if (!SOS_REPL_COMMANDS.has(words[0]!.toLowerCase())) return false;
  for (let i = 1; i < words.length; i++) if (words[i] !== '' && !SOS_REPL_ARGUMENT.test(words[i]!)) return false;
  return true;
}

function indexOfWithin(text: string, code: number, limit: number): number {
  const end = Math.min(text.length, limit);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === code) return i;
  return -1;
}

export function parsePrompt(text: string, quoted: boolean): Prompt | null {
  const gt = indexOfWithin(text, 62 /* > */, 17);
  if (gt !== -1) {
    const first = text.charCodeAt(0);
    if (first === 107 || first === 108 || first === 75 || first === 76 || (first >= 48 && first <= 57)) {
      const kernel = KERNEL_PROMPT.exec(text);
      if (kernel) {
        return {
          prompt: kernel[0].trimEnd(),
          mode: 'kernel',
          debugger: kernel[2]!.toLowerCase() === 'lkd' ? 'lkd' : 'kd',
          command: text.slice(kernel[0].length).trim(),
        };
      }
      const user = USER_PROMPT.exec(text);
      if (user) {
        return { prompt: user[0].trimEnd(), mode: 'user', debugger: 'cdb', command: text.slice(user[0].length).trim() };
      }
    }
  }
  if (quoted && text.length <= 200 && text.charCodeAt(0) === 33 /* ! */ && BARE_EXTENSION_COMMAND.test(text)) {
    return { prompt: '', mode: 'kernel', debugger: 'unknown', command: text.trim() };
  }
  if (quoted && text.length <= 120 && sosReplCommand(text)) {
    return { prompt: '>', mode: 'user', debugger: 'unknown', command: text.trim() };
  }
  return null;
}
