/**
 * Canonical form of a debugger address or pointer value: 16 lowercase hex digits.
 * `fffffa80`73d3d770`, `0xfffffa8073d3d770` and `FFFFFA8073D3D770` are one address;
 * an 8-digit x86 kernel address is sign-extended (`85205ec8` = `ffffffff85205ec8`),
 * which is how 64-bit debugger fields (BUGCHECK_P3, …) print the same pointer.
 */
export type Address = string;

const HEX_DIGITS = /^[0-9a-f]+$/;
const HIGH_BIT_FIRST_DIGITS = '89abcdef';

/** Returns the canonical address, or null when the token is not a hex number of at most 64 bits. */
export function canonicalAddress(token: string): Address | null {
  let digits = token;
  if (digits.length > 2 && digits.charCodeAt(0) === 48 /* 0 */ && (digits.charCodeAt(1) | 0x20) === 120 /* x */) {
    digits = digits.slice(2);
  }
  const tick = digits.indexOf('`');
  if (tick !== -1) digits = digits.slice(0, tick) + digits.slice(tick + 1);
  digits = digits.toLowerCase();
  if (digits.length === 0 || digits.length > 16 || !HEX_DIGITS.test(digits)) return null;
  if (digits.length === 8 && HIGH_BIT_FIRST_DIGITS.includes(digits[0]!)) {
    return 'ffffffff' + digits;
  }
  return digits.padStart(16, '0');
}

/** True for a canonical address that is all zeros (a null pointer printed by the debugger). */
export function isNullAddress(address: Address | null | undefined): boolean {
  return address == null || /^0+$/.test(address);
}

/** Parses a hex count such as `0x4667`, `00004667` or `0n18023` (decimal); null when it is not a number. */
export function parseDebuggerNumber(token: string): number | null {
  const text = token.trim().replace(/`/g, '');
  if (/^0n[0-9]+$/i.test(text)) return Number.parseInt(text.slice(2), 10);
  if (/^-?0n[0-9]+$/i.test(text)) return -Number.parseInt(text.slice(3), 10);
  if (/^(0x)?[0-9a-f]{1,16}$/i.test(text)) {
    const value = Number.parseInt(text.replace(/^0x/i, ''), 16);
    return Number.isSafeInteger(value) ? value : null;
  }
  return null;
}

/** Parses a decimal count (`1882`, `0n1882`); null otherwise. */
export function parseDecimal(token: string): number | null {
  const text = token.startsWith('0n') ? token.slice(2) : token;
  if (!/^[0-9]{1,15}$/.test(text)) return null;
  return Number.parseInt(text, 10);
}
