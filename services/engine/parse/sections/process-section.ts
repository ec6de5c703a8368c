import { canonicalAddress } from '../../address.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { ProcessEntity } from '../../model/types.ts';
import type { Line, Section, SectionReader } from '../section.ts';

const PROCESS_HEADER = /^PROCESS\s+(?:0x)?([0-9a-f`]{8,17})\b/i;
const SESSION_ID = /\bSessionId:\s*(\d+|none)/i;
const CID = /\bCid:\s*([0-9a-f]{1,8})\b/i;
const PARENT_CID = /\bParentCid:\s*([0-9a-f]{1,8})\b/i;
const IMAGE = /^Image:\s+(\S.*)$/i;

/** `!process` output: the PROCESS header and its fields, in both the one-line and the wrapped layout. */
export const processSectionReader: SectionReader = {
  name: 'process',
  keys: ['PROCESS'],
  start(line, context) {
    const match = PROCESS_HEADER.exec(line.text);
    if (!match) return null;
    const address = canonicalAddress(match[1]!);
    if (!address) return null;
    const process = context.session.process(address);
    addEvidenceLine(process.evidence, line.number);
    readIds(process, line.text, line.number);
    context.focusProcess = process;
    context.focusThread = null;
    context.understood();
    return new ProcessSection(process);
  },
};

function readIds(process: ProcessEntity, text: string, line: number): void {
  const session = SESSION_ID.exec(text);
  if (session && session[1]!.toLowerCase() !== 'none') setField(process, 'sessionId', Number(session[1]), line);
  const cid = CID.exec(text);
  if (cid) setField(process, 'pid', Number.parseInt(cid[1]!, 16), line);
  const parent = PARENT_CID.exec(text);
  if (parent) setField(process, 'parentPid', Number.parseInt(parent[1]!, 16), line);
}

class ProcessSection implements Section {
  constructor(private readonly process: ProcessEntity) {}

  accept({ text, number }: Line): boolean {
    if (text.startsWith('SessionId') || text.includes('Cid:')) {
      readIds(this.process, text, number);
      return true;
    }
    const image = IMAGE.exec(text);
    if (image) setField(this.process, 'image', image[1]!.trim(), number);
    return true;
  }
}
