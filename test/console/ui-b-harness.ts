// Browser set-up for ui-b's console tests until the shared harness (harness.ts) lands: Debian's
// Chromium via playwright-core, a context logged in through POST /api/session, screenshots.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ACCESS_KEY, REPO_ROOT, SECRET_KEY, type RunningServer } from '../helpers/server.js';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** A new 1280×720 context logged in to the console (root's key unless `creds`), and a page in it. */
export async function consolePage(
  browser: Browser,
  server: RunningServer,
  creds: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
  const res = await context.request.post(`${server.consoleUrl}/api/session`, { data: creds });
  if (res.status() !== 200) throw new Error(`console login: ${res.status()} ${await res.text()}`);
  const page = await context.newPage();
  await page.goto(`${server.consoleUrl}/`);
  await page.getByTestId('whoami').waitFor();
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join(REPO_ROOT, '.test-tmp', 'screenshots');
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}
