/** `hangsleuth upload`: send a transcript to the API and, with --wait, print its analysis. */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, ApiError, ConnectionError, MAX_RETRIES, type Report, type RetryListener, type UploadReceipt } from './api-client.ts';
import { ANSI, PLAIN, formatVerdict, type Palette } from './format-verdict.ts';
import { ProgressBar, type ProgressTerminal } from './progress-bar.ts';

export const UPLOAD_SYNOPSIS = 'hangsleuth upload FILE --server NAME [--url URL] [--key KEY] [--wait] [--json] [--ticket ID] [--timeout SECONDS]';

export const UPLOAD_EXIT = { ok: 0, error: 1, analysisFailed: 3, timedOut: 4 } as const;

const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_SECONDS = 300;
const POLL_INTERVAL_MS = 500;

interface UploadArguments {
  file: string;
  server: string;
  ticket: string | undefined;
  url: string;
  key: string;
  wait: boolean;
  json: boolean;
  timeoutSeconds: number;
}

/** Returns the exit code. `env` is the caller's environment (bin/ passes the process environment in). */
export async function runUpload(args: string[], env: Record<string, string | undefined>, terminal: ProgressTerminal = process.stderr): Promise<number> {
  const parsed = parseUploadArguments(args, env);
  if (typeof parsed === 'string') {
    console.error(`hangsleuth: ${parsed}\nusage: ${UPLOAD_SYNOPSIS}`);
    return UPLOAD_EXIT.error;
  }
  const fileName = basename(parsed.file);
  const client = new ApiClient(parsed.url, parsed.key);

  let receipt: UploadReceipt;
  let bar: ProgressBar | null = null;
  try {
    const { size } = await stat(parsed.file);
    bar = ProgressBar.forTerminal(terminal, fileName, size);
    const progress = bar;
    receipt = await client.uploadReport({
      path: parsed.file,
      server: parsed.server,
      ticket: parsed.ticket,
      fileName,
      onProgress: (sent) => progress?.update(sent),
      onRetry: (error, delayMs, retry) => {
        progress?.restart();
        announceRetry(error, delayMs, retry);
      },
    });
  } catch (error) {
    return failure('upload failed', error, parsed.file);
  } finally {
    bar?.clear();
  }

  if (!parsed.wait) {
    console.log(parsed.json ? JSON.stringify(receipt, null, 2) : describeReceipt(receipt));
    return UPLOAD_EXIT.ok;
  }
  console.error(`hangsleuth: ${describeReceipt(receipt).replace('\n', ' ')}; waiting up to ${parsed.timeoutSeconds} s for the analysis`);
  let outcome: { report: Report; timedOut: boolean };
  try {
    outcome = await waitForAnalysis(client, receipt.id, parsed.timeoutSeconds * 1000);
  } catch (error) {
    return failure(`cannot read report ${receipt.id}`, error, parsed.file);
  }

  const { report, timedOut } = outcome;
  if (parsed.json) console.log(JSON.stringify(report, null, 2));
  if (timedOut) {
    console.error(`hangsleuth: report ${report.id} is still ${report.status} after ${parsed.timeoutSeconds} s: ${receipt.links.self}`);
    return UPLOAD_EXIT.timedOut;
  }
  if (report.status === 'failed') {
    console.error(`hangsleuth: analysis failed: ${report.error?.code ?? 'unknown-error'}: ${report.error?.message ?? 'the server gave no reason'}`);
    return UPLOAD_EXIT.analysisFailed;
  }
  if (!parsed.json) {
    const title = `${fileName} (server ${parsed.server})`;
    console.log(formatAnalysis(report, title, receipt.links.self, process.stdout.isTTY ? ANSI : PLAIN));
  }
  return UPLOAD_EXIT.ok;
}

function readOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      server: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      ticket: { type: 'string' },
      timeout: { type: 'string' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
}

function parseUploadArguments(args: string[], env: Record<string, string | undefined>): UploadArguments | string {
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(args);
  } catch (error) {
    return (error as Error).message;
  }
  const { values, positionals } = options;
  if (positionals.length !== 1) return 'upload takes exactly one FILE';
  const server = values.server?.trim();
  if (!server) return '--server NAME is required: the server the transcript was taken on';
  const ticket = values.ticket?.trim();
  if (ticket === '') return '--ticket needs a ticket id';
  const key = (values.key ?? env.HANGSLEUTH_API_KEY)?.trim();
  if (!key) return 'no API key: pass --key KEY or set HANGSLEUTH_API_KEY';
  const url = values.url ?? DEFAULT_URL;
  if (!isHttpUrl(url)) return `--url ${url} is not an http:// or https:// URL`;
  const timeoutSeconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (values.timeout?.trim() === '' || !Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) return `--timeout ${values.timeout} is not a number of seconds`;
  return { file: positionals[0]!, server, ticket, url, key, wait: values.wait ?? false, json: values.json ?? false, timeoutSeconds };
}

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

async function waitForAnalysis(client: ApiClient, id: string, timeoutMs: number): Promise<{ report: Report; timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await client.getReport(id, announceRetry);
    if (report.status === 'analysed' || report.status === 'failed') return { report, timedOut: false };
    const left = deadline - Date.now();
    if (left <= 0) return { report, timedOut: true };
    // The last look is at the deadline itself.
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, left)));
  }
}

function describeReceipt(receipt: UploadReceipt): string {
  const duplicate = receipt.duplicate ? ' (this content was already uploaded for this server)' : '';
  return `report ${receipt.id}: ${receipt.status}${duplicate}\n${receipt.links.self}`;
}

function formatAnalysis(report: Report, title: string, link: string, colour: Palette): string {
  const out = [report.verdict ? formatVerdict(report.verdict, title, colour) : `${title}: analysed, without a verdict`];
  if (report.findings.length > 0) out.push('', 'clusters:');
  report.findings.forEach((finding, index) => {
    const blamed = finding.blamedModule ? ` (${finding.blamedModule})` : '';
    const cluster = finding.cluster ? `cluster ${finding.cluster.id} ${finding.cluster.link}` : 'no cluster';
    out.push(`  ${index + 1}. ${finding.pattern}${blamed}: ${cluster}`);
  });
  out.push('', `report: ${report.links.self ?? link}`);
  return out.join('\n');
}

const announceRetry: RetryListener = (error, delayMs, retry) => {
  console.error(`hangsleuth: ${reason(error)}; retry ${retry} of ${MAX_RETRIES} in ${(delayMs / 1000).toFixed(1)} s`);
};

function reason(error: Error): string {
  return error instanceof ApiError ? `${error.status} ${error.title}` : error.message;
}

function failure(what: string, error: unknown, file: string): number {
  if (error instanceof ApiError) console.error(`hangsleuth: ${what}: ${error.status} ${error.title}: ${error.detail}`);
  else if (error instanceof ConnectionError) console.error(`hangsleuth: ${what}: ${error.message}`);
  // What is left with a syscall is the file system's: the file is missing, unreadable, or a folder.
  else if (error instanceof Error && 'syscall' in error) console.error(`hangsleuth: cannot read ${file}: ${error.message}`);
  else throw error;
  return UPLOAD_EXIT.error;
}
