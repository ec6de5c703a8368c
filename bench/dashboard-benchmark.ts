/**
 * Dashboard benchmark: the fleet page's time to first screen in real headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core), with the Fleet API benchmark's data (10 k clusters over 1 M reports,
 * `hangsleuth_bench_fleet`, generated or reused as bench/fleet-api-benchmark.ts does), beside an empty page served
 * by the same API process in the same run.
 *
 * Called by bench/run-benchmarks.ts (`npm run bench`; section "Dashboard: the fleet page at 10 k clusters"), or
 * alone (prints that section):
 *   node bin/run-ts.js bench/dashboard-benchmark.ts
 * Environment: BENCH_DASHBOARD=0 skips it in `npm run bench`; BENCH_DASHBOARD_RUNS (navigations per kind, default
 * 10), BENCH_DASHBOARD_UNCACHED=0 (no second pass with the API's answer cache off), BENCH_CHROMIUM (default
 * /usr/bin/chromium); the data's own settings are the Fleet API benchmark's (BENCH_FLEET_REGENERATE, …).
 *
 * What is measured. "First screen" is the moment the page, after a navigation, shows what a user came for above the
 * fold: for the fleet page, the stacked 14-day trend chart drawn (its canvas) and the first rows of the cluster table
 * (a screenful: 10 rows, or all of them when fewer); for the empty page (`GET /healthz`, 15 bytes through the same
 * Fastify stack), its text. The page itself is polled at every animation frame; the time is its `performance.now()`
 * at the first frame where that holds, i.e. milliseconds since the navigation started (the browser's clock, DNS and
 * connection included). Kinds of navigation, interleaved round after round so that the machine's noise falls on all:
 *   - empty page, in a new browser context (no cache, new connection);
 *   - fleet page, cold: a new browser context (no HTTP cache: the whole bundle is downloaded and compiled), signed in
 *     by an API key put into sessionStorage before the page's scripts run;
 *   - fleet page, warm: the same page navigated to again in that context (assets from the HTTP cache, as on a
 *     second visit).
 * The very first fleet navigation after the API started (its answer cache empty) is reported on its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { issueApiKey } from '../services/auth/api-keys.ts';
import { createDatabase } from '../services/db/create-prisma-client.ts';
import { DEFAULT_FLEET_OPTIONS, FLEET_DATABASE, fleetOptionsFromEnv, prepareFleetData, startFleetApi, type FleetApiOptions, type FleetData } from './fleet-api-benchmark.ts';
import { readFleetMarker } from './generate-fleet.ts';
import { databaseUrl, REPOSITORY_ROOT, withClient } from './support/child-processes.ts';
import { median, progressLog, type Log } from './support/measure.ts';

export const DASHBOARD_GOAL_MS = 2000;
export const DASHBOARD_SECTION_HEADING = '## Dashboard: the fleet page at 10 k clusters';
const FLEET_CACHE_SETTING = 'FLEET_CACHE_TTL_MS';
const KEY_STORAGE = 'hangsleuth.apiKey';
const VIEWPORT = { width: 1440, height: 900 };
/** The machine notes' flags for Debian's chromium; playwright adds --headless. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Rows that fill the table's first screen. */
const SCREENFUL_ROWS = 10;

export interface DashboardOptions {
  runs: number;
  chromium: string;
  uncachedPass: boolean;
  fleet: FleetApiOptions;
}

export interface Navigation {
  /** ms from navigation start to the first screen (the page's clock). */
  firstScreenMs: number;
  /** Bytes over the network for the document and its resources (0 for those from the HTTP cache). */
  transferredBytes: number;
  /** Requests the page made up to its first screen (the document included). */
  requests: number;
  /** Cluster rows shown at that moment. */
  rows: number;
}

export interface DashboardPass {
  apiEnv: Record<string, string>;
  firstAfterStart: Navigation;
  empty: Navigation[];
  cold: Navigation[];
  warm: Navigation[];
  consoleErrors: string[];
  apiWarnings: string[];
}

export interface DashboardBenchmark {
  options: DashboardOptions;
  data: FleetData;
  chromiumVersion: string;
  bundle: { files: number; bytes: number };
  passes: DashboardPass[];
  cores: number;
  loadAtStart: number[];
  loadAtEnd: number[];
  seconds: number;
}

const defaultLog = progressLog('dashboard');

export function dashboardOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<DashboardOptions> {
  const options: Partial<DashboardOptions> = {};
  if (env['BENCH_DASHBOARD_RUNS']) {
    const runs = Number(env['BENCH_DASHBOARD_RUNS']);
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_DASHBOARD_RUNS=${env['BENCH_DASHBOARD_RUNS']}: a whole number ≥ 1`);
    options.runs = runs;
  }
  if (env['BENCH_DASHBOARD_UNCACHED'] === '0') options.uncachedPass = false;
  if (env['BENCH_CHROMIUM']) options.chromium = env['BENCH_CHROMIUM'];
  return options;
}

export async function benchmarkDashboard(overrides: Partial<DashboardOptions> = {}, log: Log = defaultLog): Promise<DashboardBenchmark> {
  const options: DashboardOptions = {
    runs: 10,
    chromium: '/usr/bin/chromium',
    uncachedPass: true,
    fleet: { ...DEFAULT_FLEET_OPTIONS, ...fleetOptionsFromEnv() },
    ...overrides,
  };
  if (!existsSync(options.chromium)) throw new Error(`${options.chromium} is missing: install Debian's chromium package (apt-get install -y chromium)`);
  const started = performance.now();
  const loadAtStart = os.loadavg();
  const bundle = ensureDashboardBuilt(log);
  const { data } = await prepareFleetData(options.fleet, log);
  const url = databaseUrl(FLEET_DATABASE);
  const marker = await withClient(url, async (client) => (await readFleetMarker(client))!);
  const db = createDatabase({ url, poolSize: 1 });
  let key: { id: string; key: string };
  try {
    key = await issueApiKey(db, marker.tenantId, 'dashboard-benchmark', ['read']);
  } finally {
    await db.$disconnect();
  }
  const browser = await chromium.launch({ executablePath: options.chromium, headless: true, args: CHROMIUM_ARGS });
  try {
    const passes = [await measurePass(browser, options, key.key, {}, log)];
    if (options.uncachedPass) passes.push(await measurePass(browser, options, key.key, { [FLEET_CACHE_SETTING]: '0' }, log));
    return { options, data, chromiumVersion: browser.version(), bundle, passes, cores: os.cpus().length, loadAtStart, loadAtEnd: os.loadavg(), seconds: (performance.now() - started) / 1000 };
  } finally {
    await browser.close();
    await withClient(url, (client) => client.query('DELETE FROM api_keys WHERE id = $1', [key.id])).catch(() => undefined);
  }
}

/** web/dist as the API serves it; built first when missing. Its size: what a cold navigation downloads at most. */
function ensureDashboardBuilt(log: Log): { files: number; bytes: number } {
  const dist = join(REPOSITORY_ROOT, 'web', 'dist');
  if (!existsSync(join(dist, 'index.html'))) {
    log('web/dist is missing: npm run build:web …');
    execFileSync('npm', ['run', 'build:web'], { cwd: REPOSITORY_ROOT, stdio: 'ignore' });
  }
  const listing = execFileSync('find', [dist, '-type', 'f', '!', '-name', '*.map', '-printf', '%s\n'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  return { files: listing.length, bytes: listing.reduce((sum, size) => sum + Number(size), 0) };
}

async function measurePass(browser: Browser, options: DashboardOptions, key: string, apiEnv: Record<string, string>, log: Log): Promise<DashboardPass> {
  const label = Object.keys(apiEnv).length > 0 ? Object.entries(apiEnv).map(([name, value]) => `${name}=${value}`).join(' ') : 'default settings';
  const { api, url: apiUrl, stop } = await startFleetApi('dashboard', apiEnv);
  const consoleErrors: string[] = [];
  try {
    const fleetUrl = `${apiUrl}/#/fleet`;
    const emptyUrl = `${apiUrl}/healthz`;
    // Console errors and failed requests of the fleet page's navigations (the empty page's favicon request is not the dashboard's).
    let recording = false;
    const openContext = async () => {
      const context = await browser.newContext({ viewport: VIEWPORT });
      await context.addInitScript(
        ([name, value]) => {
          // Signed in as the sign-in page would leave it; about:blank has no storage to write.
          const globals = globalThis as unknown as { location: { protocol: string }; sessionStorage: { setItem(name: string, value: string): void } };
          if (globals.location.protocol.startsWith('http')) globals.sessionStorage.setItem(name, value);
        },
        [KEY_STORAGE, key] as const,
      );
      const page = await context.newPage();
      const note = (text: string) => {
        if (recording && consoleErrors.length < 10) consoleErrors.push(text.slice(0, 300));
      };
      page.on('console', (message) => {
        if (message.type() === 'error') note(`${message.text()} (${message.location().url})`);
      });
      page.on('pageerror', (error) => note(`uncaught: ${error.message}`));
      page.on('response', (response) => {
        if (response.status() >= 400) note(`${response.status()} for ${response.url()}`);
      });
      return { context, page };
    };
    const fleetNavigation = async (page: Page) => {
      recording = true;
      try {
        return await navigate(page, fleetUrl, 'fleet');
      } finally {
        recording = false;
      }
    };

    log(`${label}: the first fleet navigation after the API started …`);
    const first = await openContext();
    const firstAfterStart = await fleetNavigation(first.page);
    await first.context.close();

    const empty: Navigation[] = [];
    const cold: Navigation[] = [];
    const warm: Navigation[] = [];
    log(`${label}: ${options.runs} rounds of empty page, fleet cold, fleet warm …`);
    for (let round = 0; round < options.runs; round++) {
      const blank = await openContext();
      empty.push(await navigate(blank.page, emptyUrl, 'empty'));
      await blank.context.close();
      const fleet = await openContext();
      cold.push(await fleetNavigation(fleet.page));
      await fleet.page.goto('about:blank');
      warm.push(await fleetNavigation(fleet.page));
      await fleet.context.close();
    }
    const medianMs = (runs: Navigation[]) => median(runs.map((run) => run.firstScreenMs)).toFixed(0);
    log(`${label}: first screen median: empty ${medianMs(empty)} ms, fleet cold ${medianMs(cold)} ms, warm ${medianMs(warm)} ms`);
    return { apiEnv, firstAfterStart, empty, cold, warm, consoleErrors, apiWarnings: api.warnings };
  } finally {
    await stop();
  }
}

/** Browser-side globals the page functions use (this project's tsconfig has no DOM library). */
interface PageGlobals {
  document: { querySelector(selector: string): unknown; querySelectorAll(selector: string): { length: number }; body: { textContent: string | null } | null };
  performance: { now(): number; getEntriesByType(type: string): { transferSize?: number; startTime: number }[] };
}

async function navigate(page: Page, url: string, kind: 'fleet' | 'empty'): Promise<Navigation> {
  await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
  const handle = await page.waitForFunction(
    ({ kind, screenful }) => {
      const globals = globalThis as unknown as PageGlobals;
      const { document, performance } = globals;
      let rows = 0;
      if (kind === 'empty') {
        if (!document.body || !document.body.textContent) return false;
      } else {
        rows = document.querySelectorAll('[data-testid=cluster-rows] [role=row]').length;
        const status = document.querySelector('.table-status') as { textContent: string | null } | null;
        const allShown = status !== null && /^\d+ cluster/.test(status.textContent ?? '');
        if (!document.querySelector('.trend-chart canvas') || (rows < screenful && !(allShown && rows > 0))) return false;
      }
      const now = performance.now();
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].filter((entry) => entry.startTime <= now);
      return { firstScreenMs: now, transferredBytes: entries.reduce((sum, entry) => sum + (entry.transferSize ?? 0), 0), requests: entries.length, rows };
    },
    { kind, screenful: SCREENFUL_ROWS },
    { polling: 'raf', timeout: 60_000 },
  );
  return (await handle.jsonValue()) as Navigation;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const whole = (ms: number): string => Math.round(ms).toLocaleString('en-US');
const kib = (bytes: number): string => `${(bytes / 1024).toLocaleString('en-US', { maximumFractionDigits: bytes < 10_240 ? 1 : 0 })} KiB`;

/** The judged figure: the slowest cold navigation of the first pass (the service's default settings). */
export function dashboardGoal(result: DashboardBenchmark | null): { measured: string; pass: boolean | null } {
  if (!result) return { measured: 'not measured', pass: null };
  const pass = result.passes[0]!;
  const slowest = Math.max(...pass.cold.map((run) => run.firstScreenMs));
  const coldMedian = median(pass.cold.map((run) => run.firstScreenMs));
  return {
    measured: `cold: median ${whole(coldMedian)} ms, slowest ${whole(slowest)} ms of ${pass.cold.length} (empty page: median ${whole(median(pass.empty.map((run) => run.firstScreenMs)))} ms)`,
    pass: slowest < DASHBOARD_GOAL_MS && pass.consoleErrors.length === 0,
  };
}

function passTable(pass: DashboardPass): string[] {
  const row = (name: string, runs: Navigation[]) => {
    const times = runs.map((run) => run.firstScreenMs);
    const sorted = [...times].sort((a, b) => a - b);
    return `| ${name} | ${runs.length} | ${whole(median(times))} | ${whole(sorted[0]!)} | ${whole(sorted[sorted.length - 1]!)} | ${kib(median(runs.map((run) => run.transferredBytes)))} | ${median(runs.map((run) => run.requests))} | ${median(runs.map((run) => run.rows))} |`;
  };
  return [
    '| Navigation | Runs | First screen median (ms) | fastest (ms) | slowest (ms) | Transferred (median) | Requests (median) | Rows shown |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('Empty page: `GET /healthz` (baseline)', pass.empty),
    row('**Fleet page, cold** (new context: no HTTP cache)', pass.cold),
    row('Fleet page, warm (same context, assets cached)', pass.warm),
    row('Fleet page, the first after the API started (its answer cache empty)', [pass.firstAfterStart]),
  ];
}

export function dashboardSection(result: DashboardBenchmark | null, context: { machine: string; command: string; revision: string | null }): string[] {
  const lines = [DASHBOARD_SECTION_HEADING, ''];
  if (!result) return [...lines, 'Not measured in this run.', ''];
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  lines.push(
    `- Run: ${new Date().toISOString()}, ${context.command}, ${result.seconds.toFixed(0)} s; machine: ${context.machine}; load average (1/5/15 min) ${load(result.loadAtStart)} at start, ${load(result.loadAtEnd)} at end`,
    `- Service code: ${context.revision ?? 'unknown'}; Chromium ${result.chromiumVersion} (${result.options.chromium}, headless, driven by playwright-core), viewport ${VIEWPORT.width}×${VIEWPORT.height}`,
    '',
    `Data: the Fleet API benchmark's database \`${result.data.database}\` (${result.data.reused ? 'reused' : 'generated in this run'}): ${result.data.parameters.clusters.toLocaleString('en-US')} clusters, ` +
      `${result.data.parameters.reports.toLocaleString('en-US')} reports, ${result.data.parameters.servers.toLocaleString('en-US')} servers over ${result.data.parameters.days} days. ` +
      `The dashboard: web/dist as built (${result.bundle.files} files, ${kib(result.bundle.bytes)} without source maps), served by the API process (\`node bin/hangsleuth.js api\`) that also answers its /v1 calls; a read-only API key in sessionStorage.`,
    '',
    "First screen: the time from the navigation's start to the first animation frame at which the page shows what it is for above the fold, read from the page's own clock " +
      `(\`performance.now()\`, polled every frame): for the fleet page, the 14-day stacked trend chart drawn and the cluster table's first ${SCREENFUL_ROWS} rows (the page fetches \`/v1/trends\` and the first page of \`/v1/clusters\`, ` +
      'of 100, and draws only the visible rows); for the empty page, its text. Rounds of empty page (new context), fleet cold (new context) and fleet warm (the same context again) interleaved. ' +
      'Transferred: bytes over the network (the document and resources up to that moment; 0 for a file from the HTTP cache).',
    '',
  );
  for (const [index, pass] of result.passes.entries()) {
    const settings = Object.keys(pass.apiEnv).length > 0 ? Object.entries(pass.apiEnv).map(([name, value]) => `${name}=${value}`).join(' ') : '';
    lines.push(
      index === 0
        ? 'With the service\'s default settings (judged):'
        : `The same with ${settings}: the API's answer cache off, every answer computed (for information, not judged):`,
      '',
      ...passTable(pass),
      '',
    );
    if (pass.consoleErrors.length > 0) lines.push(`Console errors and failed requests in the fleet page's navigations: ${pass.consoleErrors.map((text) => `\`${text}\``).join('; ')}`, '');
    if (pass.apiWarnings.length > 0) lines.push(`The API logged warnings, e.g. \`${pass.apiWarnings[0]!.slice(0, 200)}\``, '');
    lines.push(`All runs (ms): cold ${pass.cold.map((run) => whole(run.firstScreenMs)).join(', ')}; warm ${pass.warm.map((run) => whole(run.firstScreenMs)).join(', ')}; empty ${pass.empty.map((run) => whole(run.firstScreenMs)).join(', ')}`, '');
  }
  const goal = dashboardGoal(result);
  lines.push(`- Goal: the fleet page's first screen < ${whole(DASHBOARD_GOAL_MS)} ms with 10 k clusters, judged on the slowest cold navigation, no console error: ${goal.measured} → **${goal.pass ? 'PASS' : 'FAIL'}**.`, '');
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchmarkDashboard(dashboardOptionsFromEnv());
  process.stdout.write(`${dashboardSection(result, { machine: `${os.cpus().length} cores`, command: '`node bin/run-ts.js bench/dashboard-benchmark.ts`', revision: null }).join('\n')}\n`);
}
