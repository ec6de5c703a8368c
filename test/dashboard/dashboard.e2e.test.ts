/**
 * The dashboard end to end, in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core)
 * against the real service (PostgreSQL, Redis, s3rver, a worker): sign in, drop the example transcript on the
 * upload page, follow it to its verdict, open its cluster, find the root blocker highlighted in the chain graph,
 * acknowledge and resolve it. Every page is audited by axe-core (WCAG 2.1 A and AA rules: labels, contrast, roles,
 * keyboard names) on the way. Screenshots of the upload, cluster and fleet pages go to test-artifacts/screenshots.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import Fastify from 'fastify';
import type { Core } from 'cytoscape';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_DIST_DIRECTORY, registerWebRoutes } from '../../services/api/routes/web-routes.ts';
import { getJson, startPipeline, type Pipeline } from '../support/pipeline-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const EXAMPLE = join(ROOT, 'examples', 'hung-logon-worker-queue.txt');
/** The Delayed work queue's worker thread, waiting in FabrikamDSM: the example's root blocker. */
const ROOT_NODE = 'thread:fffffa8039d0a660';
// The machine notes' flags; playwright adds --headless, and the profile is a new empty folder.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let pipeline: Pipeline;
let key: string;
let context: BrowserContext;
let profile: string;
let page: Page;
const consoleErrors: string[] = [];

/** The little of the browser's globals the page functions below use (the root tsconfig has no DOM library). */
interface BrowserGlobals {
  sessionStorage: { getItem(name: string): string | null };
  localStorage: { length: number };
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: string[], name: string, options: { type: string }) => unknown;
}
type GraphElement = { cy: Core };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); .ci/run does`);
  if (!existsSync(join(WEB_DIST_DIRECTORY, 'index.html'))) execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'ignore' });
  await mkdir(SCREENSHOTS, { recursive: true });
  pipeline = await startPipeline();
  ({ key } = await pipeline.createTenant('dashboard', ['upload', 'read', 'admin']));
  profile = await mkdtemp(join(tmpdir(), 'hangsleuth-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  page.setDefaultTimeout(20_000);
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await pipeline?.close();
});

describe('the dashboard, in Chromium against the real service', () => {
  it('signs in, uploads the example, shows its chain with the root blocker highlighted, and triages it', async () => {
    await page.goto(`${pipeline.api.url}/`);
    await page.getByLabel('API key').waitFor();
    await expectAccessible(page, 'sign-in page');
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
    await page.getByText('No reports in the last 14 days.').waitFor();
    await expectAccessible(page, 'fleet page, empty');
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).sessionStorage.getItem('hangsleuth.apiKey'))).toBe(key);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).localStorage.length)).toBe(0);

    // Upload: the transcript dropped on the drop zone, as a user's drag-and-drop delivers it.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upload', exact: true }).click();
    await page.getByRole('heading', { name: 'Upload a transcript' }).waitFor();
    const text = await readFile(EXAMPLE, 'utf8');
    const dataTransfer = await page.evaluateHandle(({ body, name }) => {
      const globals = globalThis as unknown as BrowserGlobals;
      const transfer = new globals.DataTransfer();
      transfer.items.add(new globals.File([body], name, { type: 'text/plain' }));
      return transfer;
    }, { body: text, name: 'hung-logon-worker-queue.txt' });
    await page.dispatchEvent('[data-testid=drop-zone]', 'drop', { dataTransfer });
    await page.getByText('Chosen: hung-logon-worker-queue.txt').waitFor();
    await page.getByLabel('Server name').fill('FS-PRD-07');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByTestId('report-status').filter({ hasText: 'analysed' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#upload-progress').evaluate((element) => (element as unknown as { value: number }).value)).toBe(1);
    await expectText(page.getByTestId('report-verdict'), /Verdict: hang/);
    const clusterLink = page.getByTestId('finding-cluster-link').filter({ hasText: 'FabrikamDSM' });
    await clusterLink.waitFor();
    await expectAccessible(page, 'upload page, with its verdict');
    await page.screenshot({ path: join(SCREENSHOTS, 'upload.png'), fullPage: true });

    // Cluster: the chain graph, its root blocker highlighted, an edge's evidence, the next commands.
    await clusterLink.click();
    await page.getByRole('heading', { name: /worker-queue-starvation/, level: 1 }).waitFor();
    const graph = page.getByTestId('chain-graph');
    await expect.poll(() => graph.getAttribute('data-root-node')).toBe(ROOT_NODE);
    const highlighted = await graph.evaluate((element) => {
      const cy = (element as unknown as GraphElement).cy;
      const roots = cy.$('node.root');
      const last = cy.nodes().last();
      return { ids: roots.map((node) => node.id()), label: roots.first().data('label') as string, border: roots.first().style('border-color'), width: roots.first().style('border-width'), lastIsRoot: last.id() === roots.first().id(), nodes: cy.nodes().length };
    });
    expect(highlighted.ids).toEqual([ROOT_NODE]);
    expect(highlighted.label).toContain('fffffa8039d0a660');
    expect(highlighted.lastIsRoot).toBe(true);
    expect(highlighted.border).toBe('rgb(185,28,28)');
    expect(highlighted.nodes).toBeGreaterThanOrEqual(10);
    await expectText(page.getByTestId('root-blocker'), /fffffa8039d0a660[\s\S]*FabrikamDSM\+0x8d3c/);

    // Clicking the last edge (work queue → its worker thread) on the canvas shows its evidence lines.
    await graph.scrollIntoViewIfNeeded();
    const point = await graph.evaluate((element) => {
      const cy = (element as unknown as GraphElement).cy;
      const edge = cy.edges().last();
      const source = edge.source().renderedPosition();
      const target = edge.target().renderedPosition();
      // A point on the edge a little past its middle (where its label sits).
      return { x: source.x + (target.x - source.x) * 0.6, y: source.y + (target.y - source.y) * 0.6 };
    });
    const box = (await graph.boundingBox())!;
    await page.mouse.click(box.x + point.x, box.y + point.y);
    await expectText(page.getByTestId('edge-evidence'), /serviced-by-worker/);
    await expectText(page.getByTestId('edge-evidence'), /\d+\s+\S/);
    // The same evidence from the keyboard: the steps list.
    await page.getByRole('button', { name: /waits-for-irp/ }).focus();
    await page.keyboard.press('Enter');
    await expectText(page.getByTestId('edge-evidence'), /waits-for-irp/);
    await expectText(page.getByTestId('missing-commands'), /!stacks 2 FabrikamDSM/);
    await expectAccessible(page, 'cluster page');
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster.png'), fullPage: true });

    // Triage through the page.
    const clusterId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]!);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByTestId('cluster-state').filter({ hasText: 'acknowledged' }).waitFor();
    await page.getByLabel('Resolved in version').fill('FabrikamDSM 4.2.1');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByTestId('cluster-state').filter({ hasText: 'resolved' }).waitFor();
    const detail = await getJson(`${pipeline.api.url}/v1/clusters/${clusterId}`, key);
    expect(detail.status).toBe(200);
    expect(detail.body.state).toBe('resolved');
    expect(detail.body.triage.resolvedInVersion).toBe('FabrikamDSM 4.2.1');

    // Fleet: the cluster's row, its state, the trend chart.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet', exact: true }).click();
    const row = page.getByTestId('cluster-rows').getByRole('row').filter({ hasText: 'FabrikamDSM' });
    await row.waitFor();
    await expectText(row, /resolved/);
    await page.locator('.trend-chart canvas').waitFor();
    await row.locator('.sparkline canvas').waitFor();
    await expectAccessible(page, 'fleet page, one cluster');
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet.png'), fullPage: true });

    // Server history.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Servers', exact: true }).click();
    await page.getByRole('link', { name: 'FS-PRD-07' }).click();
    await page.getByRole('cell', { name: /hang/ }).first().waitFor();
    await expectAccessible(page, 'server page');

    // The API reference renders under the same Content-Security-Policy (a violation would be a console error).
    await page.goto(`${pipeline.api.url}/docs`);
    await page.getByRole('heading', { name: /HangSleuth API/ }).first().waitFor();
    await page.getByText('/v1/clusters', { exact: true }).first().waitFor();

    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('serves the built files, index.html for client routes, and problem+json for unknown /v1 paths', async () => {
    const root = await fetch(`${pipeline.api.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
    // Only its own scripts, never framed, no sniffing: the API key in sessionStorage has nowhere to leak to.
    const policy = root.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/script-src[^;]*unsafe/);
    expect(root.headers.get('x-content-type-options')).toBe('nosniff');
    expect(root.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect((await fetch(`${pipeline.api.url}/docs/`)).headers.get('content-security-policy')).toBe(policy);
    // Answers for programs, never rendered as pages, skip them.
    expect((await fetch(`${pipeline.api.url}/healthz`)).headers.get('content-security-policy')).toBeNull();
    const clientRoute = await fetch(`${pipeline.api.url}/clusters/some-id`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(clientRoute.status).toBe(200);
    expect(await clientRoute.text()).toContain('<div id="root">');
    // Not a page load (an API client's */*): the API's own 404.
    const notAPage = await fetch(`${pipeline.api.url}/clusters/some-id`);
    expect(notAPage.status).toBe(404);
    expect(notAPage.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const unknownApiFromBrowser = await fetch(`${pipeline.api.url}/v1/nothing-here`, { headers: { accept: 'text/html' } });
    expect(unknownApiFromBrowser.status).toBe(404);
    expect(unknownApiFromBrowser.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const unknownApi = await fetch(`${pipeline.api.url}/v1/no-such-thing`);
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const missingAsset = await fetch(`${pipeline.api.url}/assets/missing-file.js`);
    expect(missingAsset.status).toBe(404);
    const docs = await fetch(`${pipeline.api.url}/openapi.json`);
    expect(docs.status).toBe(200);
  });

  it('answers 503 with the build command when the dashboard is not built', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hangsleuth-web-'));
    const app = Fastify();
    try {
      await registerWebRoutes(app, { directory: empty });
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('npm run build:web');
    } finally {
      await app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

/** No violation of axe-core's WCAG 2.0/2.1 level A and AA rules on the page as it is now. */
async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const violations = results.violations.map(
    (violation) => `${name}: ${violation.id} (${violation.impact ?? 'no impact'}): ${violation.help}; at ${violation.nodes.slice(0, 3).map((node) => node.target.join(' ')).join(' | ')}`,
  );
  expect(violations).toEqual([]);
  expect(results.passes.length).toBeGreaterThan(5);
}

async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp): Promise<void> {
  await expect.poll(async () => (await locator.textContent()) ?? '', { timeout: 20_000 }).toMatch(pattern);
}
