import { canonicalAddress } from '../../address.ts';
import { addEvidenceLine, noteField, setField } from '../../model/evidence.ts';
import type { BugcheckEntity } from '../../model/types.ts';
import { emptyEvidence } from '../../model/evidence.ts';
import { parseFrameLine } from '../frames.ts';
import type { CommandReader, Line, ParseContext, Section } from '../section.ts';

const BUGCHECK_NAME = /^([A-Z][A-Z0-9_]{3,})\s+\(([0-9a-f]{1,8})\)$/;
const ARGUMENT = /^Arg([1-4]):\s*([0-9a-f`]{1,17})\b/i;
const KEY_VALUE = /^([A-Z][A-Z0-9_]{2,}):\s*(.*)$/;
const BUGCHECK_CODE = /^(?:0x)?([0-9a-f]{1,8})$/i;

/** `!analyze -v`: bugcheck name, code and arguments, the KEY: value fields, and STACK_TEXT. */
export const analyzeReader: CommandReader = {
  name: 'analyze',
  commands: ['!analyze'],
  start(_line, context) {
    const bugcheck: BugcheckEntity = { kind: 'bugcheck', code: null, name: null, args: [], fields: {}, frames: [], evidence: emptyEvidence() };
    context.session.bugchecks.push(bugcheck);
    return new AnalyzeSection(bugcheck, context);
  },
};

class AnalyzeSection implements Section {
  private inStackText = false;

  constructor(
    private readonly bugcheck: BugcheckEntity,
    private readonly context: ParseContext,
  ) {}

  /** Everything up to the next prompt is the analysis, whatever it looks like. */
  claims(): boolean {
    return true;
  }

  accept({ text, number }: Line): boolean {
    const bugcheck = this.bugcheck;
    if (text.length === 0) {
      this.inStackText = false;
      return true;
    }
    if (this.inStackText) {
      const frame = parseFrameLine(text, number);
      if (frame) {
        bugcheck.frames.push(frame);
        noteField(bugcheck.evidence, 'frames', number);
        return true;
      }
      this.inStackText = false;
    }
    const name = BUGCHECK_NAME.exec(text);
    if (name && bugcheck.name === null) {
      setField(bugcheck, 'name', name[1]!, number);
      setField(bugcheck, 'code', Number.parseInt(name[2]!, 16), number);
      this.context.understood();
      return true;
    }
    const argument = ARGUMENT.exec(text);
    if (argument) {
      bugcheck.args[Number(argument[1]) - 1] = canonicalAddress(argument[2]!);
      for (let i = 0; i < bugcheck.args.length; i++) bugcheck.args[i] ??= null;
      setField(bugcheck, 'args', bugcheck.args, number);
      this.context.understood();
      return true;
    }
    const field = KEY_VALUE.exec(text);
    if (field) {
      const key = field[1]!;
      const value = field[2]!.trim();
      if (key === 'STACK_TEXT') {
        this.inStackText = true;
        return true;
      }
      if (!(key in bugcheck.fields) && value.length > 0) {
        bugcheck.fields[key] = value;
        noteField(bugcheck.evidence, `fields.${key}`, number);
        this.context.understood();
      }
      if (key === 'BUGCHECK_CODE' && bugcheck.code === null) {
        const code = BUGCHECK_CODE.exec(value);
        if (code) setField(bugcheck, 'code', Number.parseInt(code[1]!, 16), number);
      }
      const parameter = /^BUGCHECK_P([1-4])$/.exec(key);
      if (parameter && bugcheck.args[Number(parameter[1]) - 1] == null) {
        bugcheck.args[Number(parameter[1]) - 1] = canonicalAddress(value);
        for (let i = 0; i < bugcheck.args.length; i++) bugcheck.args[i] ??= null;
      }
      return true;
    }
    addEvidenceLine(bugcheck.evidence, number);
    return true;
  }
}
