/**
 * Child process of the benchmark runner: generates one transcript, parses it once and reports memory, so
 * that the peak RSS belongs to that parse alone (nothing else ran in this process before it).
 *
 *   node --expose-gc dist/bench/parse-once.js <size in MB> <seed>     (after `npm run build`)
 *   node --expose-gc bin/run-ts.js bench/parse-once.ts <size in MB> <seed>
 *
 * Prints one JSON line (ParseOnceReport) on stdout. MB = 1,048,576 bytes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTranscript } from '../services/engine/index.ts';
import { generateTranscriptBytes } from './generate-transcript.ts';

export interface ParseOnceReport {
  sizeMb: number;
  seed: number;
  bytes: number;
  lines: number;
  threads: number;
  parseMs: number;
  /** RSS after generating the input (held as UTF-8 bytes, as an upload would be) and a full GC. */
  rssBeforeParse: number;
  /** Peak RSS of the process before the parse started (i.e. what generation needed). */
  maxRssBeforeParse: number;
  /** Peak RSS of the process over its whole life, the parse included (`process.resourceUsage().maxRSS`). */
  peakRss: number;
  /** RSS right after the parse, with the model still referenced. */
  rssAfterParse: number;
  /** V8 heap in use right after the parse (model and the decoded text still referenced). */
  heapUsedAfterParse: number;
}

const MB = 1024 * 1024;
// Run as TypeScript from bench/ or compiled from dist/bench/.
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../..' : '..', import.meta.url));
const gc = (globalThis as { gc?: () => void }).gc;

const sizeMb = Number(process.argv[2]);
const seed = Number(process.argv[3] ?? '1');
if (!Number.isFinite(sizeMb) || sizeMb <= 0 || !Number.isInteger(seed)) {
  console.error('usage: parse-once.ts <size in MB> <seed>');
  process.exit(2);
}

const example = readFileSync(`${root}examples/hung-logon-worker-queue.txt`, 'utf8');
const bytes = generateTranscriptBytes(example, Math.round(sizeMb * MB), seed);
gc?.();
gc?.();
const rssBeforeParse = process.memoryUsage().rss;
const maxRssBeforeParse = process.resourceUsage().maxRSS * 1024;

const start = performance.now();
const model = parseTranscript(bytes);
const parseMs = performance.now() - start;

const peakRss = process.resourceUsage().maxRSS * 1024;
const { rss: rssAfterParse, heapUsed: heapUsedAfterParse } = process.memoryUsage();
const report: ParseOnceReport = {
  sizeMb,
  seed,
  bytes: bytes.byteLength,
  lines: model.source.lineCount,
  threads: model.sessions.reduce((sum, session) => sum + session.threads.length, 0),
  parseMs,
  rssBeforeParse,
  maxRssBeforeParse,
  peakRss,
  rssAfterParse,
  heapUsedAfterParse,
};
if (!gc) console.error('warning: run with --expose-gc for a clean RSS baseline');
process.stdout.write(`${JSON.stringify(report)}\n`);
