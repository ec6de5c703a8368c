/** A typed command, reduced to what the readers need: its family name, arguments and thread selector. */
export interface CommandInfo {
  text: string;
  /** Lower-case family: `!thread`, `!alpc`, `dt`, `dd`, `k`, `~`, `x`, `?`, `.load`, `!mex.t`… */
  name: string;
  args: string[];
  /** `~4 kb` → 4, `~*k` → '*'; null when the command has no selector. */
  threadSelector: number | '*' | null;
}

const STACK_COMMAND = /^k[a-z]{0,4}$/i;
const MEMORY_COMMAND = /^d[bwdqcpsulaf]{1,3}$/i;
const SELECTOR = /^~(\*|\d{1,6}|\.|#)\s*([a-z!.?].*)?$/is;

export function describeCommand(text: string): CommandInfo {
  const normalised = text.replace(/[–—]/g, '-').trim();
  let rest = normalised;
  let threadSelector: CommandInfo['threadSelector'] = null;
  const selector = SELECTOR.exec(rest);
  if (selector) {
    threadSelector = selector[1] === '*' ? '*' : /^\d+$/.test(selector[1]!) ? Number.parseInt(selector[1]!, 10) : null;
    rest = (selector[2] ?? '').trim();
    if (rest === 's' || rest === '') {
      return { text, name: rest === 's' ? '~s' : '~', args: [], threadSelector };
    }
    if (/^e\s/i.test(rest)) rest = rest.slice(2).trim();
  }
  const parts = rest.split(/\s+/).filter((part) => part.length > 0);
  const head = parts[0] ?? '';
  let name = head.toLowerCase();
  // `kvn`, `kb 20`, `~*kvn`: every stack command is one family.
  if (STACK_COMMAND.test(name) && !name.startsWith('kd')) name = 'k';
  else if (name === 'kd') name = 'k';
  else if (MEMORY_COMMAND.test(name)) name = name === 'dt' ? 'dt' : name;
  else if (name.startsWith('!') || name.startsWith('.')) name = name.replace(/[^!.\w]+$/, '');
  if (name === '!mex.t' || name === '!mex.thread') name = '!mex.t';
  return { text, name: name || '(empty)', args: parts.slice(1), threadSelector };
}
