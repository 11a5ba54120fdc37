// End-to-end harness of the web console: a real Strata server with its console listener
// (startServer({ console: true }): the built dist/console), Debian's Chromium driven by
// playwright-core, and the steps every console test takes — open a page at 1280×720 in a chosen
// colour scheme, log in through the login form, go to a route, save a screenshot.
//
//   const h = await startConsole({ users: [...] });
//   const page = await h.newPage();            // light; { colorScheme: 'dark' } for dark
//   await login(page, ACCESS_KEY, SECRET_KEY);  // throws with the page's error code if refused
//   await h.goto(page, '/buckets');
//   await screenshot(page, 'buckets-light');    // .test-tmp/screenshots/buckets-light.png
//   await h.close();
//
// scripts/test.sh installs Debian's chromium and builds the console (npm run build:console);
// without them these tests fail with a message saying so.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.js';
import { REPO_ROOT, startServer, type RunningServer, type StartServerOptions } from '../helpers/server.js';

export { CHROMIUM, CHROMIUM_ARGS };
/** A laptop screen: what the console must fit. */
export const VIEWPORT = { width: 1280, height: 720 };
export const SCREENSHOT_DIR = join(REPO_ROOT, '.test-tmp', 'screenshots');
/** How long a step may wait for the page (a loaded machine: generous, never a timing assertion). */
export const STEP_TIMEOUT_MS = 20_000;

export interface ConsoleHarness {
  server: RunningServer;
  /** `http://127.0.0.1:PORT` of the console listener. */
  consoleUrl: string;
  browser: Browser;
  /** A new browser context (its own cookies: a second user) at 1280×720. */
  newContext: (opts?: { colorScheme?: 'light' | 'dark' }) => Promise<BrowserContext>;
  /** A page in a new context, with the console's login page open. */
  newPage: (opts?: { colorScheme?: 'light' | 'dark' }) => Promise<Page>;
  /** Opens a console route (`/buckets`, `/identity/users`…) on the page. */
  goto: (page: Page, route: string) => Promise<void>;
  /** The browser's console and page errors seen so far (for failure messages). */
  browserLog: () => string[];
  /** Closes the browser and stops the server. Idempotent. */
  close: () => Promise<void>;
}

function requireBuilt(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)`);
  if (!existsSync(join(REPO_ROOT, 'dist', 'console', 'index.html'))) throw new Error('dist/console is not built: run `npm run build:console`');
}

/** Starts a server with its console and a headless Chromium. */
export async function startConsole(opts: StartServerOptions = {}): Promise<ConsoleHarness> {
  requireBuilt();
  const server = await startServer({ ...opts, console: true });
  const consoleUrl = server.consoleUrl;
  if (consoleUrl === undefined) {
    await server.stop();
    throw new Error('the server reported no console port');
  }
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const log: string[] = [];
  const newContext = async (o: { colorScheme?: 'light' | 'dark' } = {}) => {
    const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: o.colorScheme ?? 'light', baseURL: consoleUrl });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.on('page', (p) => watch(p, log));
    return context;
  };
  const goto = async (page: Page, route: string) => {
    await page.goto(`${consoleUrl}/#${route}`);
  };
  let closed = false;
  return {
    server,
    consoleUrl,
    browser,
    newContext,
    newPage: async (o) => {
      const context = await newContext(o);
      const page = await context.newPage();
      await goto(page, '/login');
      await page.getByLabel('Access key').waitFor();
      return page;
    },
    goto,
    browserLog: () => [...log],
    close: async () => {
      if (closed) return;
      closed = true;
      await browser.close().catch(() => undefined);
      await server.stop();
    },
  };
}

function watch(page: Page, log: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
}

export interface LoginOutcome {
  ok: boolean;
  /** The error code the login page shows (e.g. InvalidAccessKeyId, SignatureDoesNotMatch). */
  code?: string;
  message?: string;
}

/**
 * Fills and submits the login form (the page must show it: newPage() does, and logging out returns
 * to it), then waits for either the shell (logged in) or the error alert.
 */
export async function attemptLogin(page: Page, accessKey: string, secretKey: string): Promise<LoginOutcome> {
  await page.getByLabel('Access key').fill(accessKey);
  await page.getByLabel('Secret key').fill(secretKey);
  await page.getByRole('button', { name: 'Log in' }).click();
  const whoami = page.getByTestId('whoami');
  const alert = page.getByRole('alert');
  await whoami.or(alert).first().waitFor();
  if (await whoami.isVisible()) return { ok: true };
  const code = (await alert.locator('.mantine-Alert-title').textContent())?.trim() ?? '';
  const message = (await alert.locator('.mantine-Alert-message').textContent())?.trim() ?? '';
  return { ok: false, code, message };
}

/** Logs in through the form; throws with the page's error code and message when refused. */
export async function login(page: Page, accessKey: string, secretKey: string): Promise<void> {
  const r = await attemptLogin(page, accessKey, secretKey);
  if (!r.ok) throw new Error(`login as ${accessKey} refused: ${r.code}: ${r.message}`);
}

/**
 * Saves a viewport screenshot to .test-tmp/screenshots/<name>.png and returns its path. The
 * transient success notifications are left out of the picture (they would cover the page).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // Let transitions and notifications settle so the picture is of the page, not of an animation.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.screenshot({ path, animations: 'disabled', style: '.mantine-Notifications-root { display: none !important; }' });
  return path;
}

/**
 * The text of `locator` once it reads `expected` (trimmed), or what it reads when the step timeout
 * passes first: the caller asserts equality, so a failure shows the value the page settled on.
 */
export async function settledText(locator: Locator, expected: string): Promise<string | undefined> {
  await locator
    .filter({ hasText: new RegExp(`^\\s*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) })
    .first()
    .waitFor()
    .catch(() => undefined);
  return (await locator.first().textContent())?.trim();
}

/** The page's shown errors (ErrorAlert: the code is the title). */
export async function shownErrorCodes(page: Page): Promise<string[]> {
  const titles = await page.getByTestId('error').locator('.mantine-Alert-title').allTextContents();
  return titles.map((t) => t.trim());
}
