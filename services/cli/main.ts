import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { analyzeTranscript, isTranscriptError, parseTranscript } from '../engine/index.ts';
import { ANSI, PLAIN, formatVerdict } from './format-verdict.ts';
import { formatModel } from './format-model.ts';

const USAGE = `usage: hangsleuth parse FILE [--json]
       hangsleuth analyze FILE [--json]

  parse FILE     read a kd/WinDbg/cdb transcript (text, UTF-16, or gzip) and print what the engine read:
                 entity counts, notable threads/ALPC messages/IRPs/queues/locks, unparsed commands, warnings
  analyze FILE   follow every wait to its root blocker: the verdict (hang, no-hang, inconclusive), each
                 finding's pattern, blamed module, chain with evidence, and the next debugger commands
  --json         print the whole model (parse) or the versioned verdict (analyze) as JSON instead

exit codes: 0 read, 1 usage or I/O error, 2 the file is not a text transcript or is too large`;

/** The `hangsleuth` command. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== 'parse' && verb !== 'analyze') {
    console.error(USAGE);
    return verb === '--help' || verb === '-h' ? 0 : 1;
  }
  const json = rest.includes('--json');
  const files = rest.filter((arg) => !arg.startsWith('--'));
  if (files.length !== 1) {
    console.error(USAGE);
    return 1;
  }
  const file = files[0]!;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    console.error(`hangsleuth: cannot read ${file}: ${(error as Error).message}`);
    return 1;
  }
  try {
    if (verb === 'analyze') {
      const { verdict } = analyzeTranscript(bytes);
      console.log(json ? JSON.stringify(verdict, null, 2) : formatVerdict(verdict, basename(file), process.stdout.isTTY ? ANSI : PLAIN));
      return 0;
    }
    const model = parseTranscript(bytes);
    console.log(json ? JSON.stringify(model, null, 2) : formatModel(model, basename(file)));
    return 0;
  } catch (error) {
    if (isTranscriptError(error)) {
      console.error(`hangsleuth: ${file}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
