import { canonicalAddress, type Address } from './address.ts';

export interface AddressExpression {
  /** The first term: a number or a symbol (`nt!ExWorkerQueue`). */
  base: string;
  /** The terms added after it, as numbers (`+58+40` → [0x58, 0x40]). */
  offsets: bigint[];
}

const SYMBOL = /^[A-Za-z_][\w]*![\w@?$]+$/;

/** `fffff800`01ff08a0+58+40` → base and offsets; null for anything with `poi()`, registers or other operators. */
export function parseAddressExpression(text: string): AddressExpression | null {
  if (text.length > 200) return null;
  const terms = text.split('+');
  const base = terms[0]!;
  if (!SYMBOL.test(base) && canonicalAddress(base) === null) return null;
  const offsets: bigint[] = [];
  for (const term of terms.slice(1)) {
    const value = canonicalAddress(term);
    if (value === null) return null;
    offsets.push(BigInt('0x' + value));
  }
  return { base, offsets };
}

/** Evaluates an expression to a canonical address, resolving symbols through `symbols`. */
export function evaluateAddress(expression: AddressExpression, symbols: ReadonlyMap<string, Address>): Address | null {
  const base = SYMBOL.test(expression.base) ? symbols.get(expression.base.toLowerCase()) ?? null : canonicalAddress(expression.base);
  if (!base) return null;
  let value = BigInt('0x' + base);
  for (const offset of expression.offsets) value += offset;
  value &= (1n << 64n) - 1n;
  return value.toString(16).padStart(16, '0');
}

export function addressDistance(from: Address, to: Address): bigint {
  return BigInt('0x' + to) - BigInt('0x' + from);
}
