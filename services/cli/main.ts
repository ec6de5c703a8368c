import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { analyzeTranscript, isTranscriptError, parseTranscript } from '../engine/index.ts';
import { ANSI, PLAIN, formatVerdict } from './format-verdict.ts';
import { formatModel } from './format-model.ts';
import { UPLOAD_SYNOPSIS, runUpload } from './upload-command.ts';
import { isServiceCommand, runServiceCommand } from './service-commands.ts';

const USAGE = `usage: hangsleuth parse FILE [--json]
       hangsleuth analyze FILE [--json]
       ${UPLOAD_SYNOPSIS}
       hangsleuth serve [--no-demo] | api | worker | migrate

  parse FILE     read a kd/WinDbg/cdb transcript (text, UTF-16, or gzip) and print what the engine read:
                 entity counts, notable threads/ALPC messages/IRPs/queues/locks, unparsed commands, warnings
  analyze FILE   follow every wait to its root blocker: the verdict (hang, no-hang, inconclusive), each
                 finding's pattern, blamed module, chain with evidence, and the next debugger commands
  upload FILE    send a transcript to the HangSleuth API (streamed from disk, with a progress bar on a terminal);
                 a retried or repeated upload of the same file for the same server never makes a second report
    --server NAME    the server the transcript was taken on (required)
    --url URL        the API (default http://127.0.0.1:8080)
    --key KEY        an API key with the upload scope (default: the HANGSLEUTH_API_KEY environment variable)
    --ticket ID      the ticket the hang is tracked in
    --wait           wait for the analysis and print its verdict and each finding's cluster
    --timeout SECS   how long --wait waits (default 300)
  serve          the whole service in one process on local defaults (npm start): migrations, API, worker,
                 embedded S3 endpoint when none is configured, a development key, and the example analysed
  api | worker   the HTTP API, or the analysis worker and reconciler, as separate processes (docs/CONFIGURATION.md)
  migrate        apply the database migrations and exit
  --json         print the whole model (parse), the versioned verdict (analyze), or the report (upload) as JSON instead

exit codes: 0 read, 1 usage or I/O error, 2 the file is not a text transcript or is too large;
            upload: 0 uploaded (and analysed, with --wait), 1 usage, I/O or API error, 3 the analysis failed, 4 --wait timed out`;

/** The `hangsleuth` command. Returns the process exit code; `env` is the process environment, passed in by bin/. */
export async function main(argv: string[], env: Record<string, string | undefined> = {}): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'upload') return runUpload(rest, env);
  if (isServiceCommand(verb)) return runServiceCommand(verb, rest, env);
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
