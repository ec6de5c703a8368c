import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Third-party transcripts live beside the repo, never in it (see ../shared/corpus/MANIFEST.md). */
export const SHARED_DIR = resolve(REPO_ROOT, '../shared');
export const CORPUS_DIR = join(SHARED_DIR, 'corpus', 'transcripts');
export const SEED_FILE = join(SHARED_DIR, 'seeds', '000_7ae1898a557dba99.txt');
export const EXAMPLE_FILE = join(REPO_ROOT, 'examples', 'hung-logon-worker-queue.txt');

export const sharedAvailable = existsSync(join(SHARED_DIR, 'corpus', 'MANIFEST.md')) && existsSync(SEED_FILE);

if (!sharedAvailable) {
  console.warn(`[skip] ${SHARED_DIR} is absent (as in a user's clone): tests over the seed case and the real-transcript corpus are skipped.`);
}

export function corpusFile(prefix: string): string {
  const name = readdirSync(CORPUS_DIR).find((file) => file.startsWith(prefix));
  if (!name) throw new Error(`no corpus transcript starting with ${prefix}`);
  return join(CORPUS_DIR, name);
}

export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((file) => file.endsWith('.txt'))
    .sort()
    .map((file) => join(CORPUS_DIR, file));
}

export function readBytes(file: string): Buffer {
  return readFileSync(file);
}
