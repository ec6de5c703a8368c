import { mulberry32 } from '../../bench/generate-transcript.ts';
import { canonicalAddress } from '../../services/engine/index.ts';

const ADDRESS = /\b(?:0x)?([0-9a-f]{6,8})(`?)([0-9a-f]{8})?\b/gi;
const CID = /\b(Cid:?\s+)([0-9a-f]{1,8})(?:\.([0-9a-f]{1,8}))?\b/gi;
const TICKS = /Ticks: (\d+) \((\d+):(\d\d):(\d\d):(\d\d)\.(\d\d\d)\)/g;

/**
 * Another server hit by the same root cause: every address moved consistently across the file, by an offset drawn
 * per 4 GB region (so the top half of every 64-bit address is kept, kernel stays kernel, and the order of
 * addresses within a region, such as the frames of a stack, is kept), client ids re-drawn, every wait scaled.
 * Small values (counts, flags, null pointers) stay: they are data, not identities.
 */
export function rerandomise(text: string, seed: number): string {
  const random = mulberry32(seed);
  const addressOf = (high: string, tick: string, low: string | undefined): string | null => {
    const digits = low ? high + low : high;
    const canonical = canonicalAddress(digits);
    // Words of the prose spelled in hex letters (`deface`) are no addresses: an address has a decimal digit.
    if (!canonical || !/[0-9]/.test(digits) || (low !== undefined && high.length !== 8)) return null;
    if (BigInt('0x' + canonical) < 0x10000n || (low === undefined && tick)) return null;
    return canonical;
  };
  // First pass: the highest low half in each 4 GB region bounds the offset that keeps it inside the region.
  const highest = new Map<bigint, bigint>();
  for (const match of text.matchAll(ADDRESS)) {
    const canonical = addressOf(match[1]!, match[2]!, match[3]);
    if (!canonical) continue;
    const value = BigInt('0x' + canonical);
    const region = value >> 32n;
    const lowHalf = value & 0xffffffffn;
    if ((highest.get(region) ?? -1n) < lowHalf) highest.set(region, lowHalf);
  }
  const offsets = new Map<bigint, bigint>();
  for (const [region, top] of highest) {
    const room = 0xffffffffn - top;
    const draw = (BigInt(random() >>> 0) << 8n) % (room + 1n);
    offsets.set(region, draw & ~0xfn); // keep 16-byte alignment
  }
  const withAddresses = text.replace(ADDRESS, (token: string, high: string, tick: string, low: string | undefined) => {
    const canonical = addressOf(high, tick, low);
    if (!canonical) return token;
    const value = BigInt('0x' + canonical);
    const next = (value + offsets.get(value >> 32n)!).toString(16).padStart(16, '0');
    const digits = low ? high + low : high;
    // A shorter printing (`at 24e750`) grows a digit when it must: it stays the same address as `0024e750`.
    const short = next.startsWith('ffffffff') ? next.slice(8) : next.replace(/^0+(?=.)/, '');
    const printed = digits.length === 16 ? next : short.padStart(digits.length, '0');
    const cased = high === high.toUpperCase() && /[A-F]/.test(high) ? printed.toUpperCase() : printed;
    const prefix = token.toLowerCase().startsWith('0x') ? token.slice(0, 2) : '';
    return digits.length === 16 ? `${prefix}${cased.slice(0, 8)}${tick}${cased.slice(8)}` : `${prefix}${cased}`;
  });
  const ids = new Map<string, string>();
  const redrawId = (id: string) => {
    const value = Number.parseInt(id, 16);
    if (value < 0x10) return id; // System and Idle keep their ids
    let next = ids.get(id.toLowerCase());
    if (!next) {
      next = (0x10 + (random() % 0xfff0)).toString(16).padStart(id.length, '0');
      ids.set(id.toLowerCase(), next);
    }
    return next;
  };
  const withIds = withAddresses.replace(CID, (_match: string, label: string, pid: string, tid: string | undefined) => `${label}${redrawId(pid)}${tid ? `.${redrawId(tid)}` : ''}`);
  // The same hang seen earlier or later: every wait scaled by one factor, ticks and durations together.
  const factor = 0.5 + (random() % 1000) / 666;
  return withIds.replace(TICKS, (_match: string, ticks: string, days: string, hours: string, minutes: string, seconds: string, millis: string) => {
    const ms = (((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + Number(millis);
    const scaled = Math.round(ms * factor);
    const pad = (value: number, width: number) => String(value).padStart(width, '0');
    const total = Math.floor(scaled / 1000);
    return `Ticks: ${Math.round(Number(ticks) * factor)} (${Math.floor(total / 86400)}:${pad(Math.floor(total / 3600) % 24, 2)}:${pad(Math.floor(total / 60) % 60, 2)}:${pad(total % 60, 2)}.${pad(scaled % 1000, 3)})`;
  });
}
