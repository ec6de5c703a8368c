/**
 * The benchmarks' child processes: the service's own commands (`node bin/hangsleuth.js api|worker`), s3rver and
 * helpers, each with its last output lines and its warnings kept for the report, killed when this process exits.
 * Also where the benchmarks find PostgreSQL and Redis (BENCH_PG_ADMIN_URL, BENCH_REDIS_URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CONFIG_VARIABLES } from '../../services/config/load-config.ts';

/** The repository's root, from bench/support (run with tsx) or dist/bench/support (compiled). */
export const REPOSITORY_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../../..' : '../..', import.meta.url));
export const PG_ADMIN_URL = process.env['BENCH_PG_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface Child {
  name: string;
  process: ChildProcess;
  /** Its last lines of output (stdout and stderr). */
  lines: string[];
  /** pino log lines at warn or above (the first few kept) and their number. */
  warnings: string[];
  warningCount: number;
  exited: Promise<number | null>;
}

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** `node ARGS` in the repository's root with `env`; `ipc` opens a message channel to it. */
export function startChild(name: string, args: string[], env: Record<string, string>, ipc = false): Child {
  const child = spawn(process.execPath, args, { cwd: REPOSITORY_ROOT, env, stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const record: Child = {
    name,
    process: child,
    lines: [],
    warnings: [],
    warningCount: 0,
    exited: new Promise((resolve) =>
      child.once('exit', (code) => {
        liveChildren.delete(child);
        resolve(code);
      }),
    ),
  };
  const collectLine = (line: string) => {
    if (line.trim() === '') return;
    record.lines.push(line.slice(0, 500));
    if (record.lines.length > 50) record.lines.shift();
    let level = 0;
    try {
      level = Number((JSON.parse(line) as { level?: unknown }).level) || 0;
    } catch {
      // not a log line (Node's own warnings on stderr, say)
    }
    if (level >= 40) {
      record.warningCount++;
      if (record.warnings.length < 5) record.warnings.push(line.slice(0, 500));
    }
  };
  const collector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) collectLine(line);
    };
  };
  child.stdout!.on('data', collector());
  child.stderr!.on('data', collector());
  return record;
}

export const alive = (child: Child): boolean => child.process.exitCode === null && child.process.signalCode === null;

export async function stopChild(child: Child, timeoutMs = 10_000): Promise<void> {
  if (!alive(child)) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

export function describeExit(child: Child): string {
  return `${child.name} exited (${child.process.exitCode ?? child.process.signalCode}); its last output:\n${child.lines.slice(-15).join('\n')}`;
}

/** This process' environment without any of the service's variables, plus `variables`. */
export function cleanEnv(variables: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !(name in CONFIG_VARIABLES)) env[name] = value;
  }
  return { ...env, ...variables };
}

/** Polls `check` until it holds; fails early when one of `children` dies. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, children: Child[], intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = children.find((child) => !alive(child));
    if (dead) throw new Error(`while waiting for ${what}: ${describeExit(dead)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${children.map((child) => `${child.name}'s last output:\n${child.lines.slice(-10).join('\n')}`).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once the child printed `listening PORT`. */
export async function portOf(child: Child): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString('utf8'));
      if (match) {
        child.process.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.process.stdout!.on('data', onData);
    void child.exited.then(() => reject(new Error(describeExit(child))));
  });
}

/** s3rver in a child process of its own over `directory`; resolves with its endpoint once it listens. */
export async function startS3rver(directory: string): Promise<{ child: Child; endpoint: string }> {
  const code = [
    "import S3rver from 's3rver';",
    "const server = new S3rver({ port: 0, address: '127.0.0.1', directory: process.argv[1], silent: true });",
    'const address = await server.run();',
    "process.stdout.write(`listening ${address.port}\\n`);",
    "process.once('SIGTERM', () => server.close().then(() => process.exit(0)));",
  ].join('\n');
  const child = startChild('s3rver', ['--input-type=module', '-e', code, directory], cleanEnv({}));
  return { child, endpoint: `http://127.0.0.1:${await portOf(child)}` };
}

/** Resolves once `GET /readyz` answers 200. */
export async function waitForReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  await waitUntil(`${child.name} to be ready`, async () => (await fetch(`${url}/readyz`)).status === 200, timeoutMs, [child], 200);
}

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    return (await admin.query<T>(sql, values)).rows;
  } finally {
    await admin.end();
  }
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
