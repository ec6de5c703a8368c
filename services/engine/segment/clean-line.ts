/**
 * What the engineer added to a line of debugger output, removed before it is read:
 * `> ` blockquotes and indentation from web pages and mails, `<----`/`<<<`/`//`/`←` annotations
 * at the end, and HTML emphasis tags. Snip markers (`<snip>`, `...`, `…`, `【省略一些行】`) are reported
 * so that readers know output was cut there.
 */
export interface CleanLine {
  text: string;
  snip: boolean;
  /** True when a blockquote marker (`>`) was removed from the front. */
  quoted: boolean;
}

/** Tabs and the Unicode spaces that web pages and word processors put between columns. */
const WIDE_SPACE = /[\t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]/g;
const WIDE_SPACE_TEST = /[\t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]/;
const ANNOTATION_MARKERS = ['<--', '<——', '<—', '<–', '<<<', '←', '//'];
const HTML_TAG = /<\/?(?:mark|span|b|i|u|em|strong|code|font|pre|br|kbd|tt)\b[^<>]{0,200}>/gi;
const SNIP_LINE = /^(?:<\s*snip(?:ped)?\s*>|\[\s*snip(?:ped)?\s*\]|\.{3,}|…+|【[^】]{0,40}】|#\s*abbreviated|\[\.\.\.\]|\(\.\.\.\)|-+\s*snip\s*-+)$/i;

/** True when the text holds a tab or a Unicode space anywhere: only then does each line need them replaced. */
export function hasWideSpaces(text: string): boolean {
  return WIDE_SPACE_TEST.test(text);
}

/** A log viewer's clock before each line: `[10:42:07] `, `[10:42:07.123] `, `2024-03-12 10:42:07.123 `. */
const TIMESTAMP_PREFIX = /^ {0,8}(?:\[\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,7})?\]|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,7})?(?:Z|[+-]\d{2}:?\d{2})?)(?:[ \t]|$)/;
/** HTML entities a ticketing system or mail client writes for the characters of debugger output. */
const HTML_ENTITY = /&(?:gt|lt|amp|quot|apos|nbsp|#39|#x27|#160);/gi;
const ENTITY_TEXT: Record<string, string> = { '&gt;': '>', '&lt;': '<', '&amp;': '&', '&quot;': '"', '&apos;': "'", '&nbsp;': ' ', '&#39;': "'", '&#x27;': "'", '&#160;': ' ' };
/**
 * Markdown escapes inside a word (`nt!\_KTHREAD`, `mpio\!MPIOPathVerify`): debugger output never puts a backslash
 * there; a path's `C:\_build` or `\\srv\_share` (after `:` or `\`) is left as it is.
 */
const MARKDOWN_ESCAPE = /(?<=[\w!])\\([_*!`#~|[\]<>])/g;

/**
 * Undoes what log viewers, HTML and Markdown editors did to a pasted line: a leading timestamp, HTML entities,
 * Markdown escapes and `**bold**` around the whole line. A line with none of their marks is returned as it is.
 */
export function unpasteLine(raw: string): string {
  let text = raw;
  let indent = 0;
  while (indent < 8 && text.charCodeAt(indent) === 32) indent++;
  const first = text.charCodeAt(indent);
  if (first === 91 /* [ */ || (first >= 48 && first <= 57)) {
    const time = TIMESTAMP_PREFIX.exec(text);
    if (time) text = text.slice(time[0].length);
  }
  if (text.indexOf('&') !== -1) text = text.replace(HTML_ENTITY, (entity) => ENTITY_TEXT[entity.toLowerCase()] ?? entity);
  if (text.indexOf('\\') !== -1) text = text.replace(MARKDOWN_ESCAPE, '$1');
  const bold = text.indexOf('**');
  if (bold !== -1 && text.slice(0, bold).trim() === '') {
    const end = text.trimEnd();
    // Markdown bold hugs its text (`**1: kd> !thread**`); `**** DUMP OF ALL RESOURCE OBJECTS ****` is output.
    const inner = end.slice(bold + 2, end.length - 2);
    if (inner.length > 0 && end.endsWith('**') && isBoldEdge(inner.charCodeAt(0)) && isBoldEdge(inner.charCodeAt(inner.length - 1))) {
      text = text.slice(0, bold) + inner;
    }
  }
  return text;
}

function isBoldEdge(code: number): boolean {
  return code !== 42 /* * */ && code !== 32 && code !== 9;
}

export function cleanLine(rawLine: string, into: CleanLine = { text: '', snip: false, quoted: false }, wideSpaces = true): CleanLine {
  const raw = unpasteLine(rawLine);
  let start = 0;
  let quoted = false;
  const length = raw.length;
  // Leading indentation and blockquote markers, in any mix (`> > `, `\t> `).
  for (;;) {
    while (start < length) {
      const code = raw.charCodeAt(start);
      if (code !== 32 && code !== 9 && code !== 0xa0 && code !== 0x3000 && code !== 0xfeff) break;
      start++;
    }
    if (start < length && raw.charCodeAt(start) === 62 /* > */) {
      const next = start + 1 < length ? raw.charCodeAt(start + 1) : 32;
      // `>[` starts the current IRP stack location and `>!` a quoted command; a quote marker is `>` before space, `>`, or end.
      if (next === 32 || next === 9 || next === 62 || next === 33 /* ! */) {
        start++;
        quoted = true;
        continue;
      }
    }
    break;
  }
  let text = start === 0 ? raw : raw.slice(start);
  if (wideSpaces && WIDE_SPACE_TEST.test(text)) text = text.replace(WIDE_SPACE, ' ');
  if (text.indexOf('<') !== -1 && text.indexOf('>') !== -1) text = text.replace(HTML_TAG, '');
  text = stripAnnotation(text);
  let end = text.length;
  while (end > 0) {
    const code = text.charCodeAt(end - 1);
    if (code !== 32 && code !== 9 && code !== 0xa0 && code !== 0x3000) break;
    end--;
  }
  if (end !== text.length) text = text.slice(0, end);
  const snip = text.length > 0 && text.length <= 60 && isSnipCandidate(text) && SNIP_LINE.test(text);
  into.text = snip ? '' : text;
  into.snip = snip;
  into.quoted = quoted;
  return into;
}

/** Snip markers start with one of a few characters; most lines are ruled out without the regex. */
function isSnipCandidate(text: string): boolean {
  const first = text.charCodeAt(0);
  return first === 60 /* < */ || first === 46 /* . */ || first === 0x2026 /* … */ || first === 0x3010 /* 【 */ || first === 35 /* # */ || first === 91 /* [ */ || first === 40 /* ( */ || first === 45 /* - */;
}

/** Cheap test first: most lines hold none of the characters an annotation starts with. */
function mayHoldAnnotation(text: string): boolean {
  return text.indexOf('<') !== -1 || text.indexOf('//') !== -1 || text.indexOf('←') !== -1;
}

function stripAnnotation(text: string): string {
  if (!mayHoldAnnotation(text)) return text;
  let cut = -1;
  for (const marker of ANNOTATION_MARKERS) {
    let from = 0;
    for (;;) {
      const index = text.indexOf(marker, from);
      if (index === -1) break;
      // An annotation stands apart from the output: at the line start or after whitespace.
      const before = index === 0 ? 32 : text.charCodeAt(index - 1);
      if (before === 32 || before === 9) {
        if (marker === '//' && isUrl(text, index)) {
          from = index + 2;
          continue;
        }
        if (cut === -1 || index < cut) cut = index;
        break;
      }
      from = index + marker.length;
    }
  }
  return cut === -1 ? text : text.slice(0, cut);
}

function isUrl(text: string, index: number): boolean {
  return index > 0 && text.charCodeAt(index - 1) === 58 /* : */;
}
