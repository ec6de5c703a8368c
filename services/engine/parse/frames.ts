import { canonicalAddress, type Address } from '../address.ts';
import type { StackFrame } from '../model/types.ts';

const CALL_SITE_DECORATIONS = [' (FPO:', ' (CONV:', ' (TrapFrame', ' (Inline Function @', ' [', '  '];
const MODULE_BASE_SUFFIX = /_[0-9a-f]{8}(?:[0-9a-f]{8})?$/;

function isHexCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

/** A hex column of a stack line: 8 or 16 digits, with or without the backtick (`fffffa60`110a96b0`). */
function isAddressColumn(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length !== 8 && length !== 16 && length !== 17) return false;
  if (text.charCodeAt(start) === 45 /* - */) return text.startsWith('--------', start); // inline frames
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (!isHexCode(code) && !(code === 96 && length === 17 && i === start + 8)) return false;
  }
  return true;
}

function isFrameNumber(text: string, start: number, end: number): boolean {
  if (end === start || end - start > 4) return false;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}

const NO_ARGS: readonly Address[] = Object.freeze([]);

/**
 * Reads one line of a stack table (`k`, `kb`, `kv`, `kn`, `!thread`, `!cs -o`, STACK_TEXT, MEX) into a frame.
 * Returns null for anything else, so prose between frames is never taken for a frame.
 * Linear in the line length: one left-to-right scan over whitespace-separated columns.
 */
export function parseFrameLine(text: string, line: number): StackFrame | null {
  return parseFrame(text, line, false);
}

/** `kc` layout: a frame number and the call site, no address columns (`00 ntdll!NtWaitForSingleObject`). */
export function parseCallSiteOnlyFrameLine(text: string, line: number): StackFrame | null {
  return parseFrame(text, line, true);
}

function parseFrame(text: string, line: number, callSiteOnly: boolean): StackFrame | null {
  const length = text.length;
  let position = 0;
  let columns = 0;
  let stackPointer: Address | null = null;
  let args: Address[] | null = null;
  let inline = false;
  let first = true;
  while (position < length) {
    while (position < length && text.charCodeAt(position) === 32) position++;
    let end = text.indexOf(' ', position);
    if (end === -1) end = length;
    if (first && text.startsWith('(Inline', position)) {
      // `(Inline Function) --------`--------     Demo!invoke_main+0x22 (Inline Function @ …)`
      const close = text.indexOf(')', position);
      if (close === -1) return null;
      position = close + 1;
      inline = true;
      columns++;
      first = false;
      continue;
    }
    const addressColumn = isAddressColumn(text, position, end);
    if (first && !addressColumn && isFrameNumber(text, position, end)) {
      position = end;
      first = false;
      if (callSiteOnly) {
        columns = 1;
        break;
      }
      continue;
    }
    first = false;
    if (callSiteOnly) return null;
    if (addressColumn) {
      columns++;
      if (columns === 1 && !inline) stackPointer = canonicalAddress(text.slice(position, end));
      // Child-SP/ChildEBP and RetAddr come first; any further columns are the arguments.
      if (columns > 2 && !inline) {
        const arg = canonicalAddress(text.slice(position, end));
        if (arg) (args ??= []).push(arg);
      }
      position = end;
      continue;
    }
    if (end - position === 1 && text.charCodeAt(position) === 58 /* : */) {
      position = end;
      continue;
    }
    break;
  }
  if (columns === 0 || position >= length) return null;
  const callSite = trimCallSite(position === 0 ? text : text.slice(position));
  if (callSite.length === 0) return null;
  const frame = describeCallSite(callSite, line, inline);
  if (args) frame.args = args;
  frame.stackPointer = stackPointer;
  return frame;
}

function trimCallSite(rest: string): string {
  let end = endOfOffset(rest);
  for (const marker of CALL_SITE_DECORATIONS) {
    const index = rest.indexOf(marker);
    if (index > 0 && index < end) end = index;
  }
  return rest.slice(0, end).trim();
}

/** A symbol ends at its `+0x…` displacement: what follows after a space is another column (MEX's Info). */
function endOfOffset(text: string): number {
  let from = 0;
  for (;;) {
    const plus = text.indexOf('+0x', from);
    if (plus === -1) return text.length;
    let end = plus + 3;
    while (end < text.length && isHexCode(text.charCodeAt(end))) end++;
    if (end > plus + 3 && end < text.length && text.charCodeAt(end) === 32) return end;
    from = end;
  }
}


interface CallSiteParts {
  callSite: string;
  module: string | null;
  function: string | null;
  offset: string | null;
  address: Address | null;
}

/*
 * The same call sites come back thousands of times in a large transcript (nt!KiSwapContext+0x7f…). Their
 * parts are memoised: faster, and every frame of one call site shares the same strings. Bounded, and a pure
 * function's memo, so results never depend on what was read before.
 */
const CALL_SITE_CACHE_LIMIT = 50_000;
const callSiteCache = new Map<string, CallSiteParts>();

/** Splits `module!function+0xoff`, `module+0xoff` and `0xaddress` call sites. */
export function describeCallSite(callSite: string, line: number, inline = false): StackFrame {
  let parts = callSiteCache.get(callSite);
  if (parts === undefined) {
    parts = splitCallSite(callSite);
    if (callSiteCache.size >= CALL_SITE_CACHE_LIMIT) callSiteCache.clear();
    callSiteCache.set(parts.callSite, parts);
  }
  return {
    callSite: parts.callSite,
    module: parts.module,
    function: parts.function,
    offset: parts.offset,
    address: parts.address,
    args: NO_ARGS as Address[],
    inline,
    stackPointer: null,
    line,
  };
}

function splitCallSite(callSite: string): CallSiteParts {
  const bang = callSite.indexOf('!');
  let offset: string | null = null;
  let body = callSite;
  const plus = callSite.lastIndexOf('+0x');
  if (plus > 0 && isHexTail(callSite, plus + 3)) {
    offset = callSite.slice(plus + 1).toLowerCase();
    body = callSite.slice(0, plus);
  }
  if (bang > 0 && bang < body.length) {
    return { callSite, module: normaliseModuleName(body.slice(0, bang)), function: body.slice(bang + 1).trim() || null, offset, address: null };
  }
  if (offset === null && /^0x[0-9a-f`]+$/i.test(callSite)) {
    return { callSite, module: null, function: null, offset: null, address: canonicalAddress(callSite) };
  }
  if (body.length > 0 && /^[A-Za-z_][\w.-]*$/.test(body)) {
    // `MyBadDSM+0xb698`: a module without symbols.
    return { callSite, module: normaliseModuleName(body), function: null, offset, address: null };
  }
  if (callSite.startsWith('[')) {
    // SOS frame markers: `[GCFrame: 2a8bd110]`, `[HelperMethodFrame: …] System.Threading.Monitor.ReliableEnter(…)`.
    const close = callSite.indexOf(']');
    const managed = close === -1 ? '' : callSite.slice(close + 1).trim();
    return { callSite, module: null, function: managed || null, offset: null, address: null };
  }
  // Managed frames (`Namespace.Type.Method(args)`) and other symbol-less text.
  return { callSite, module: null, function: callSite, offset, address: null };
}

function isHexTail(text: string, from: number): boolean {
  if (from >= text.length) return false;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70))) return false;
  }
  return true;
}

/** `ntdll_77980000` → `ntdll` (WinDbg's suffix for a second module of the same name). */
export function normaliseModuleName(module: string): string {
  return module.indexOf('_') === -1 ? module : module.replace(MODULE_BASE_SUFFIX, '');
}
