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

export function cleanLine(raw: string, into: CleanLine = { text: '', snip: false, quoted: false }, wideSpaces = true): CleanLine {
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
