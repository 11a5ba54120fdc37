// The console's dashboard end to end: after a known workload (50 PutObject made by aws-sdk-js) the
// page — polling the admin API's metrics/history and usage every 10 s — shows those 50 requests
// in its per-operation totals and the objects and buckets in its counters; a user without
// admin:ServerInfo sees the refusal (AccessDenied), not an empty page. Screenshots in light and dark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { consolePage, launchBrowser, screenshot } from './ui-b-harness.js';

const PUTS = 50;

describe('console dashboard', () => {
  let server: RunningServer;
  let s3: S3Client;
  let browser: Browser;

  before(async () => {
    server = await startServer({ console: true, users: [{ name: 'viewer', policies: ['readonly'] }] });
    s3 = testClient(server.url);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it(`shows the ${PUTS} PUTs of a known workload in its totals, and the objects and buckets stored`, async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'dash' }));
    for (let i = 0; i < PUTS; i++) await s3.send(new PutObjectCommand({ Bucket: 'dash', Key: `k${i}`, Body: `body ${i}` }));
    const { page, context } = await consolePage(browser, server);
    try {
      await page.goto(`${server.consoleUrl}/#/`);
      // The server samples every 10 s and the page polls every 10 s: bounded wait for both.
      await page.waitForFunction((n) => document.querySelector('[data-testid="op-PutObject"]')?.textContent === String(n), PUTS, { timeout: 90_000 });
      assert.equal(await page.getByTestId('stat-objects').textContent(), String(PUTS));
      assert.equal(await page.getByTestId('stat-buckets').textContent(), '1');
      assert.match((await page.getByTestId('capacity').textContent()) ?? '', /used · .* free of /);
      // The chart has drawn (uPlot's canvas) and its figures are given as text too.
      await page.locator('[data-testid=chart-requests] canvas').first().waitFor();
      assert.match((await page.getByTestId('chart-requests-latest').textContent()) ?? '', /PutObject: /);
      await screenshot(page, 'dashboard');
      await page.getByRole('button', { name: 'Switch to dark theme' }).click();
      await screenshot(page, 'dashboard-dark');
    } finally {
      await context.close();
    }
  });

  it('tells a user without admin:ServerInfo that the metrics are refused (AccessDenied)', async () => {
    const viewer = server.users[0]!;
    const { page, context } = await consolePage(browser, server, { accessKeyId: viewer.accessKey, secretAccessKey: viewer.secretKey });
    try {
      await page.goto(`${server.consoleUrl}/#/`);
      const alert = page.getByTestId('dashboard-error').first();
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /AccessDenied/);
      assert.equal(await page.locator('[data-testid=chart-requests]').count(), 0);
    } finally {
      await context.close();
    }
  });
});
