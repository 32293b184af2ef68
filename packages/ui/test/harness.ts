import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { managementClient, servicesRequired } from '@gatehouse/testing';

/**
 * End-to-end harness for the web UIs: a real all-in-one node, the built apps, one Chromium per
 * test file. Helpers: `signIn` through the Key Manager's page, `checkA11y` (axe-core, fails on
 * serious and critical), `screenshot` into packages/ui/test-artifacts/.
 *
 * @example
 * ```ts
 * const skip = chromiumSkip();
 * describe('Publisher', { skip }, () => {
 *   let ui: UiHarness;
 *   before(async () => (ui = await startUi()));
 *   after(() => ui?.close());
 *   it('lists APIs', async () => {
 *     const page = await ui.page();
 *     await page.goto(`${ui.baseUrl}/publisher/apis`);
 *     await signIn(page, 'admin', ui.adminPassword);
 *     await checkA11y(page);
 *     await screenshot(page, 'publisher-apis');
 *   });
 * });
 * ```
 */

const here = dirname(fileURLToPath(import.meta.url));
export const UI_ROOT = dirname(here);
export const ARTIFACTS = join(UI_ROOT, 'test-artifacts');
export const CHROMIUM_PATH = process.env.GATEHOUSE_TEST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `false` when Chromium is there; otherwise a skip message (or a throw with GATEHOUSE_TEST_REQUIRE_SERVICES=1). */
export function chromiumSkip(): false | string {
  if (existsSync(CHROMIUM_PATH)) return false;
  const message = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set GATEHOUSE_TEST_CHROMIUM)`;
  if (servicesRequired()) throw new Error(`${message} and GATEHOUSE_TEST_REQUIRE_SERVICES=1`);
  process.stderr.write(`# NOTE: skipping the web UI end-to-end tests: ${message}\n`);
  return `${message} (skipped)`;
}

/** Builds packages/ui/dist when a source is newer than the last build (parallel test files share one build). */
export async function ensureUiBuilt(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(UI_ROOT, 'scripts', 'build.js'), '--if-stale'], { cwd: UI_ROOT, timeout: 5 * 60_000 });
  assert.ok(existsSync(join(UI_ROOT, 'dist', 'publisher', 'index.html')), 'the UI build produced no dist/publisher/index.html (is Vite installed?)');
}

/** Problems a page reported while a test used it: CSP violations, uncaught errors, console errors (not failed HTTP calls). */
export interface PageProblems {
  readonly errors: string[];
}

export interface UiHarness {
  readonly node: TestNode;
  readonly browser: Browser;
  /** `http://127.0.0.1:<port>` of the node's control plane. */
  readonly baseUrl: string;
  readonly adminPassword: string;
  /** A fresh browser context (own cookies and sessionStorage) and page, laptop-sized by default. */
  page(options?: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } }): Promise<Page>;
  /** What the page reported so far (CSP violations, page errors, console errors). */
  problems(page: Page): PageProblems;
  /** A management token for the REST APIs (WSO2 DCR + password grant), to set data up. */
  token(scope: string, user?: string, password?: string): Promise<string>;
  /** Calls a REST API on the node, with a token unless it is ''. */
  call<T = unknown>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/**
 * Builds the UIs if needed, starts an all-in-one node (fresh data directory, ports from the OS)
 * and launches Chromium. Extra `argv` go to the node's config (`['--profile', 'control-plane']`).
 */
export async function startUi(argv: readonly string[] = []): Promise<UiHarness> {
  await ensureUiBuilt();
  const node = await startTestNode(argv);
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  } catch (err) {
    await node.close();
    throw err;
  }
  const contexts = new Set<BrowserContext>();
  const problems = new WeakMap<Page, string[]>();
  const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'ui-e2e-tests' });
  return {
    node,
    browser,
    baseUrl: node.baseUrl,
    adminPassword: node.adminPassword,
    async page(options = {}) {
      // Reduced motion: no collapse or modal is caught mid-animation when axe reads its colours.
      const context = await browser.newContext({ viewport: options.viewport ?? { width: 1366, height: 800 }, colorScheme: options.colorScheme ?? 'light', reducedMotion: 'reduce' });
      contexts.add(context);
      // Fail within seconds, not Playwright's 30 s: every page here answers locally.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const list: string[] = [];
      problems.set(page, list);
      page.on('pageerror', (err) => list.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        // HTTP errors the app shows (a 400 a form test provokes) are the app's business, not a page problem.
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) list.push(`console: ${msg.text()}`);
      });
      return page;
    },
    problems(page) {
      return { errors: [...(problems.get(page) ?? [])] };
    },
    token(scope, user = 'admin', password = node.adminPassword) {
      return mgmt.token(user, password, scope);
    },
    async call(method, path, token, body) {
      const res = await fetch(`${node.baseUrl}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as never };
    },
    async close() {
      await Promise.allSettled([...contexts].map((c) => c.close()));
      await browser.close().catch(() => undefined);
      await node.close();
    },
  };
}

/**
 * Signs in on the Key Manager's page. Call it when the page is on (or on its way to) the sign-in
 * form, e.g. right after `page.goto('/publisher/')`; resolves once the app shows its signed-in shell.
 */
export async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.waitForURL(/\/oauth2\/authorize/);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in and allow' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/oauth2/') && !url.pathname.endsWith('/callback'));
  await page.getByTestId('user-menu').waitFor();
}

let axeSource: string | undefined;

/** axe-core's violations on the page; fails the test on any serious or critical one (WCAG 2.x A/AA and best practices). */
export async function checkA11y(page: Page, options: { exclude?: string[] } = {}): Promise<void> {
  axeSource ??= await readFile(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');
  // evaluate, not addScriptTag: the page's CSP refuses inline scripts, as it should.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  const result = await page.evaluate(async (exclude) => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[]; failureSummary?: string }[] }[] }> } }).axe;
    return axe.run({ exclude: exclude.map((s) => [s]) }, { resultTypes: ['violations'] });
  }, options.exclude ?? []);
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const describe = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')} ${n.failureSummary?.split('\n').slice(1, 3).join(' ') ?? ''}`).join('\n')}`);
  assert.equal(bad.length, 0, `axe-core found ${bad.length} serious or critical violations on ${page.url()}:\n${describe.join('\n')}`);
}

/** Saves a full-page PNG as packages/ui/test-artifacts/<name>.png (CI keeps the folder). */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await writeFile(path, await page.screenshot({ fullPage: true, animations: 'disabled' }));
  return path;
}
