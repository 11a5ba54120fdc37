// The console's dashboard end to end: after a known workload (50 PutObject made by aws-sdk-js) the
// page — polling the admin API's metrics/history and usage every 10 s — shows those 50 requests
// in its per-operation totals and the objects and buckets in its counters; a user without
// admin:ServerInfo sees the refusal (AccessDenied), not an empty page. With worker processes (the
// primary merges their counts) and with --workers 1. Screenshots in light and dark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/server.js';
import { type ConsoleHarness, login, screenshot, startConsole } from './harness.js';

const PUTS = 50;

// Sampled every second (a test-only setting) rather than every 10 s: the page's own 10 s poll stays.
const FAST_SAMPLES = { STRATA_TEST_METRICS_INTERVAL_MS: '1000' };

for (const mode of [
  { name: 'workers (cluster)', args: [] as string[] },
  { name: '--workers 1', args: ['--workers', '1'] },
])
  describe(`console dashboard, ${mode.name}`, () => {
    let h: ConsoleHarness;
    let s3: S3Client;

    before(async () => {
      h = await startConsole({ args: mode.args, env: FAST_SAMPLES, users: [{ name: 'viewer', policies: ['readonly'] }] });
      s3 = testClient(h.server.url);
    });

    after(async () => {
      await h?.close();
    });

    it(`shows the ${PUTS} PUTs of a known workload in its totals, and the objects and buckets stored`, async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'dash' }));
      for (let i = 0; i < PUTS; i++) await s3.send(new PutObjectCommand({ Bucket: 'dash', Key: `k${i}`, Body: `body ${i}` }));
      const page = await h.newPage();
      try {
        await login(page, ACCESS_KEY, SECRET_KEY);
        await h.goto(page, '/');
        // The server samples every 10 s and the page polls every 10 s: bounded wait for both.
        await page.waitForFunction((n) => document.querySelector('[data-testid="op-PutObject"]')?.textContent === String(n), PUTS, { timeout: 90_000 });
        assert.equal(await page.getByTestId('stat-objects').textContent(), String(PUTS));
        assert.equal(await page.getByTestId('stat-buckets').textContent(), '1');
        assert.match((await page.getByTestId('capacity').textContent()) ?? '', /used · .* free of /);
        // The chart has drawn (uPlot's canvas) and its figures are given as text too.
        await page.locator('[data-testid=chart-requests] canvas').first().waitFor();
        assert.match((await page.getByTestId('chart-requests-latest').textContent()) ?? '', /PutObject: /);
        if (mode.args.length === 0) {
          await screenshot(page, 'dashboard');
          await page.getByRole('button', { name: 'Switch to dark theme' }).click();
          await screenshot(page, 'dashboard-dark');
        }
      } finally {
        await page.context().close();
      }
    });

    it('tells a user without admin:ServerInfo that the metrics are refused (AccessDenied)', async () => {
      const viewer = h.server.users[0]!;
      const page = await h.newPage();
      try {
        await login(page, viewer.accessKey, viewer.secretKey);
        await h.goto(page, '/');
        const alert = page.getByTestId('dashboard-error').first();
        await alert.waitFor();
        assert.match((await alert.textContent()) ?? '', /AccessDenied/);
        assert.equal(await page.locator('[data-testid=chart-requests]').count(), 0);
      } finally {
        await page.context().close();
      }
    });
  });
