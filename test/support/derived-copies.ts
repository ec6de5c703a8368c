import { gzipSync } from 'node:zlib';
import { utf16be } from './bytes.ts';

/**
 * Copies of a transcript as real uploads arrive: other line ends, encodings and compression,
 * pasted into a mail, with the engineer's prose removed, or with the commands in another order.
 */
export interface DerivedCopy {
  name: string;
  bytes: Uint8Array;
}

const PROMPT_LINE = /^[\s>]*(?:(?:\d{1,4}:\s?)?l?kd>|\d{1,4}:\d{1,5}(?::\w+)?>)/;

export function derivedCopies(text: string): DerivedCopy[] {
  const utf16le = Buffer.from(text, 'utf16le');
  return [
    { name: 'CRLF', bytes: Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8') },
    { name: 'UTF-8 with BOM', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]) },
    { name: 'UTF-16LE with BOM', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le]) },
    { name: 'UTF-16LE without BOM', bytes: utf16le },
    { name: 'UTF-16BE without BOM', bytes: utf16be(text) },
    { name: 'gzip', bytes: gzipSync(Buffer.from(text, 'utf8')) },
    { name: 'gzip of UTF-16LE CRLF', bytes: gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(/\n/g, '\r\n'), 'utf16le')])) },
    { name: 'blockquoted', bytes: Buffer.from(blockquote(text), 'utf8') },
    { name: 'prose removed', bytes: Buffer.from(withoutProse(text), 'utf8') },
    { name: 'blocks in reverse order', bytes: Buffer.from(reverseBlocks(text), 'utf8') },
    { name: 'saved from a web page as HTML text (entities)', bytes: Buffer.from(htmlEscaped(text), 'utf8') },
    { name: 'stamped with the time by a log viewer', bytes: Buffer.from(timestamped(text), 'utf8') },
    { name: 'pasted into Markdown (underscores escaped)', bytes: Buffer.from(text.replace(/(?<=[\w!])_/g, '\\_'), 'utf8') },
  ];
}

export function htmlEscaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function timestamped(text: string): string {
  return text
    .split('\n')
    .map((line, index) => `[10:${String(42 + Math.floor(index / 60) % 10).padStart(2, '0')}:${String(index % 60).padStart(2, '0')}.${String(index % 1000).padStart(3, '0')}] ${line}`)
    .join('\n');
}

export function blockquote(text: string): string {
  return text
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

/** Sentences of the engineer's own: five or more lower-case words and no address or prompt. */
function isProse(line: string): boolean {
  if (PROMPT_LINE.test(line) || /[0-9a-f]{8}/i.test(line)) return false;
  const words = line.trim().split(/\s+/);
  return words.filter((word) => /^[a-z][a-z’'.,;?]*$/.test(word)).length >= 5;
}

export function withoutProse(text: string): string {
  return text
    .split('\n')
    .filter((line) => !isProse(line))
    .join('\n');
}

/** Keeps what precedes the first prompt in place and reverses the order of the command blocks after it. */
export function reverseBlocks(text: string): string {
  const lines = text.split('\n');
  const preamble: string[] = [];
  const blocks: string[][] = [];
  for (const line of lines) {
    if (PROMPT_LINE.test(line)) blocks.push([line]);
    else if (blocks.length === 0) preamble.push(line);
    else blocks[blocks.length - 1]!.push(line);
  }
  return [...preamble, ...blocks.reverse().flat()].join('\n');
}
