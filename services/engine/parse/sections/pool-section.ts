import { canonicalAddress } from '../../address.ts';
import { addEvidenceLine, setField } from '../../model/evidence.ts';
import type { PoolAllocationEntity } from '../../model/types.ts';
import type { Line, ParseContext, Section, SectionReader } from '../section.ts';

const POOL_ROW = /^(\*)?([0-9a-f`]{8,17})\s+size:\s*([0-9a-f]+)\s+previous size:\s*([0-9a-f]+)\s+\((Allocated|Free)\)\s+(\*)?(\S{1,4})/i;
const POOL_TAG = /^Pooltag\s+(\S{1,4})\s*:\s*([^,]*)(?:,\s*Binary\s*:\s*(\S+))?/i;

/** `!pool <address>`: the allocation holding the address (`*`), its tag, size and owner binary. */
export const poolSectionReader: SectionReader = {
  name: 'pool',
  keys: ['Pool'],
  start(line, context) {
    if (!/^Pool page\s+[0-9a-f`]+/i.test(line.text)) return null;
    context.understood();
    return new PoolSection(context);
  },
};

class PoolSection implements Section {
  private current: PoolAllocationEntity | null = null;

  constructor(private readonly context: ParseContext) {}

  accept({ text, number }: Line): boolean {
    const first = text.charCodeAt(0);
    const row = first === 42 /* * */ || (first >= 48 && first <= 57) || (first >= 97 && first <= 102) ? POOL_ROW.exec(text) : null;
    if (row) {
      const address = canonicalAddress(row[2]!);
      if (!address) return true;
      const allocation = this.context.session.poolAllocation(address);
      addEvidenceLine(allocation.evidence, number);
      setField(allocation, 'size', Number.parseInt(row[3]!, 16), number);
      setField(allocation, 'allocated', row[5]!.toLowerCase() === 'allocated', number);
      setField(allocation, 'tag', row[7]!, number);
      if (row[1] === '*') this.current = allocation;
      return true;
    }
    const tag = first === 80 /* P */ ? POOL_TAG.exec(text) : null;
    if (tag && this.current && this.current.tag === tag[1]) {
      setField(this.current, 'description', tag[2]!.trim(), number);
      if (tag[3]) setField(this.current, 'binary', tag[3], number);
    }
    return true;
  }
}
