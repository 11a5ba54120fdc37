// The console's object browser end to end: Debian's Chromium (playwright-core) logged in to a real
// server's console uploads a 50 MiB file (multipart, the total progress seen going through
// intermediate values) and a folder of 200 files (a webkitdirectory input), and aws-sdk-js checks
// every byte and ETag; then browse and paginate, search by prefix, preview text/JSON/image, make a
// share link and open it from a second browser context with no session, download one object and a
// folder as a zip (entries checked), delete many, list and restore versions, and see a read-only
// user's upload refused with S3's code. Screenshots go to .test-tmp/screenshots/.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Page, Route } from 'playwright-core';
import { testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/server.js';
import { type ConsoleHarness, login, screenshot, startConsole } from './harness.js';
import { readZip } from './unzip.js';

const MiB = 1024 * 1024;
const BIG = 50 * MiB;
const PART = 8 * MiB;
const FILES = 200;
const UP = 'up-bucket';
const VER = 'ver-bucket';
const PNG_1x1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest();
const quoted = (b: Buffer | string) => `"${md5(b).toString('hex')}"`;
/** S3's ETag of a multipart upload: the MD5 of the parts' MD5s, then "-" and the part count. */
function multipartEtag(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let o = 0; o < data.length; o += partSize) digests.push(md5(data.subarray(o, o + partSize)));
  return `"${md5(Buffer.concat(digests)).toString('hex')}-${digests.length}"`;
}
const fileBody = (i: number) => randomBytes(1 + ((i * 37) % 3000));
const fileName = (i: number) => `f${String(i).padStart(3, '0')}.txt`;

async function bodyOf(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

async function rowKeys(page: Page): Promise<string[]> {
  return page.locator('[data-testid=object-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key') ?? ''));
}

/** Waits until the table shows exactly `keys` (the listing reloads asynchronously). */
async function waitForRows(page: Page, first: string, count: number): Promise<void> {
  await page.waitForFunction(
    ([f, n]) => {
      const rows = Array.from(document.querySelectorAll('[data-testid=object-row]'));
      return rows.length === n && rows[0]?.getAttribute('data-key') === f;
    },
    [first, count] as const,
    { timeout: 30_000 },
  );
}

/**
 * Waits for the versions drawer to show `n` rows. On a timeout it fails with what the drawer shows
 * instead (an error alert, a loader, other rows) and leaves a screenshot, so a failure in CI says why.
 */
async function waitForVersionRows(page: Page, n: number): Promise<void> {
  try {
    await page.waitForFunction((k) => document.querySelectorAll('[data-testid=version-row]').length === k, n, { timeout: 30_000 });
  } catch (err) {
    const rows = await page
      .locator('[data-testid=version-row]')
      .count()
      .catch(() => -1);
    const shown = await page
      .getByRole('dialog')
      .allTextContents()
      .catch(() => [] as string[]);
    const shot = await screenshot(page, `versions-timeout-${n}`).catch(() => 'none');
    throw new Error(`versions drawer: ${rows} rows, ${n} expected; it shows: ${shown.join(' | ').slice(0, 600)} (screenshot ${shot})`, { cause: err });
  }
}

describe('console object browser', () => {
  let h: ConsoleHarness;
  let s3: S3Client;
  let page: Page;
  let consoleUrl: string;
  let dir: string;
  const bodies = new Map<string, Buffer>();
  let big: Buffer;

  before(async () => {
    h = await startConsole({ users: [{ name: 'viewer', policies: ['readonly'] }] });
    consoleUrl = h.consoleUrl;
    s3 = testClient(h.server.url);
    await s3.send(new CreateBucketCommand({ Bucket: UP }));
    await s3.send(new CreateBucketCommand({ Bucket: VER }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: VER, VersioningConfiguration: { Status: 'Enabled' } }));
    dir = await mkdtemp(join(tmpdir(), 'strata-console-'));
    big = randomBytes(BIG);
    await writeFile(join(dir, 'big.bin'), big);
    await mkdir(join(dir, 'batch'));
    for (let i = 0; i < FILES; i++) {
      const b = fileBody(i);
      bodies.set(fileName(i), b);
      await writeFile(join(dir, 'batch', fileName(i)), b);
    }
    page = await h.newPage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: consoleUrl });
    await login(page, ACCESS_KEY, SECRET_KEY);
  });

  after(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads a 50 MiB file as a multipart upload, the progress going through intermediate values', async () => {
    await page.goto(`${consoleUrl}/#/browse/${UP}/`);
    await page.getByText('This folder is empty').waitFor();
    // Every value the total progress bar takes, recorded in the page as it changes.
    await page.evaluate(() => {
      const w = window as unknown as { progressSeen: number[] };
      w.progressSeen = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=upload-total]');
        const v = el ? Number(el.getAttribute('aria-valuenow')) : Number.NaN;
        if (!Number.isNaN(v) && w.progressSeen[w.progressSeen.length - 1] !== v) w.progressSeen.push(v);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByTestId('upload-files-input').setInputFiles(join(dir, 'big.bin'));
    // A screenshot mid-way (as soon as the bar shows a value between the ends).
    await page.waitForFunction(
      () => {
        const v = Number(document.querySelector('[data-testid=upload-total]')?.getAttribute('aria-valuenow'));
        return v > 0 && v < 100;
      },
      undefined,
      { timeout: 60_000, polling: 'raf' },
    );
    await screenshot(page, 'upload-progress');
    await page.locator('[data-testid=upload-item][data-status=done]').waitFor({ timeout: 180_000 });
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    assert.ok(
      seen.some((v) => v > 0 && v < 100),
      `intermediate progress values: ${seen.join(',')}`,
    );
    assert.equal(seen[seen.length - 1], 100);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `progress never goes back: ${seen.join(',')}`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: UP, Key: 'big.bin' }));
    assert.equal(head.ContentLength, BIG);
    assert.equal(head.ETag, multipartEtag(big, PART), 'a multipart upload of 8 MiB parts');
    assert.ok(md5(await bodyOf(s3, UP, 'big.bin')).equals(md5(big)), 'every byte arrived');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
  });

  it('retries a part that fails, and aborts the multipart upload when cancelled', async () => {
    const mid = randomBytes(20 * MiB); // 3 parts
    await writeFile(join(dir, 'retried.bin'), mid);
    // The first attempt at part 2 answers 500 (S3's InternalError); the retry goes through.
    let failed = 0;
    await page.route(/partNumber=2&/, async (route) => {
      if (failed++ === 0)
        await route.fulfill({ status: 500, contentType: 'application/xml', body: '<Error><Code>InternalError</Code><Message>injected</Message></Error>' });
      else await route.continue();
    });
    await page.getByTestId('upload-files-input').setInputFiles(join(dir, 'retried.bin'));
    await page.locator('[data-testid=upload-item][data-status=done]').waitFor({ timeout: 120_000 });
    await page.unroute(/partNumber=2&/);
    assert.equal(failed, 2, 'part 2 was sent twice');
    const head = await s3.send(new HeadObjectCommand({ Bucket: UP, Key: 'retried.bin' }));
    assert.equal(head.ETag, multipartEtag(mid, PART));
    await page.getByRole('button', { name: 'Clear', exact: true }).click();

    // Part 3 is held until the user cancels: the upload is aborted (no multipart upload left).
    const held: Route[] = [];
    await page.route(/partNumber=3&/, (route) => void held.push(route));
    await page.getByTestId('upload-files-input').setInputFiles(join(dir, 'retried.bin'));
    for (let i = 0; i < 600 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(held.length, 1, 'part 3 was sent');
    const uploading = await s3.send(new ListMultipartUploadsCommand({ Bucket: UP }));
    assert.equal(uploading.Uploads?.length, 1, 'the multipart upload is under way');
    await page.getByRole('button', { name: 'Cancel upload of retried.bin' }).click();
    await page.locator('[data-testid=upload-item][data-status=cancelled]').waitFor();
    await page.unroute(/partNumber=3&/);
    for (const r of held) await r.abort().catch(() => undefined);
    // AbortMultipartUpload follows the cancel: bounded wait for it to be answered.
    for (let i = 0; i < 100; i++) {
      if (((await s3.send(new ListMultipartUploadsCommand({ Bucket: UP }))).Uploads ?? []).length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: UP }))).Uploads ?? [], []);
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
  });

  it('uploads a folder of 200 files with per-file progress; every key, length and ETag arrive', async () => {
    await page.getByTestId('upload-folder-input').setInputFiles(join(dir, 'batch'));
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=upload-item][data-status=done]').length === n, FILES, { timeout: 180_000 });
    assert.equal(await page.locator('[data-testid=upload-item]').count(), FILES);
    assert.match((await page.getByTestId('upload-summary').textContent()) ?? '', new RegExp(`Uploaded ${FILES} of ${FILES} files`));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: UP, Prefix: 'batch/' }));
    assert.equal(listed.KeyCount, FILES);
    for (const o of listed.Contents ?? []) {
      const body = bodies.get(o.Key!.slice('batch/'.length));
      assert.ok(body, `unexpected key ${o.Key}`);
      assert.equal(o.Size, body.length, o.Key);
      assert.equal(o.ETag, quoted(body), o.Key);
    }
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    // The finished uploads show in the listing.
    await page.getByRole('link', { name: 'Open folder batch/' }).waitFor();
  });

  it('uploads files dropped on the page (a DataTransfer) into the folder shown', async () => {
    await page.goto(`${consoleUrl}/#/browse/${UP}/dropped/`);
    await page.getByText('This folder is empty').waitFor();
    const dt = await page.evaluateHandle(() => {
      const d = new DataTransfer();
      d.items.add(new File(['dropped one'], 'one.txt', { type: 'text/plain' }));
      d.items.add(new File(['dropped two!'], 'two.txt', { type: 'text/plain' }));
      return d;
    });
    // Dragging over the page shows the page-wide drop target; the drop lands on it.
    await page.dispatchEvent('body', 'dragenter', { dataTransfer: dt });
    const target = page.locator('.mantine-Dropzone-root');
    await target.waitFor();
    await target.dispatchEvent('dragenter', { dataTransfer: dt });
    await target.dispatchEvent('dragover', { dataTransfer: dt });
    await target.dispatchEvent('drop', { dataTransfer: dt });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=upload-item][data-status=done]').length === 2, undefined, { timeout: 60_000 });
    assert.equal((await bodyOf(s3, UP, 'dropped/one.txt')).toString(), 'dropped one');
    assert.equal((await bodyOf(s3, UP, 'dropped/two.txt')).toString(), 'dropped two!');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.goto(`${consoleUrl}/#/browse/${UP}/`);
  });

  it('browses into the folder and pages through it by continuation token; prefix search narrows it', async () => {
    await page.getByRole('link', { name: 'Open folder batch/' }).click();
    await page.getByLabel('Per page').selectOption('100');
    await waitForRows(page, 'batch/f000.txt', 100);
    assert.match(page.url(), /#\/browse\/up-bucket\/batch\/$/);
    await screenshot(page, 'browser');
    assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Next page' }).click();
    await waitForRows(page, 'batch/f100.txt', 100);
    assert.equal((await rowKeys(page)).at(-1), 'batch/f199.txt');
    assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await waitForRows(page, 'batch/f000.txt', 100);
    // Sorting by size orders the page's rows, largest first on the second click.
    await page.getByRole('button', { name: 'Sort by size' }).click();
    await page.getByRole('button', { name: 'Sort by size' }).click();
    const sizes = (await rowKeys(page)).map((k) => bodies.get(k.slice('batch/'.length))!.length);
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => b - a),
    );
    await page.getByRole('button', { name: 'Sort by name' }).click();
    await page.getByLabel('Search by prefix in this folder').fill('f19');
    await waitForRows(page, 'batch/f190.txt', 10);
    await page.getByLabel('Search by prefix in this folder').fill('');
    await waitForRows(page, 'batch/f000.txt', 100);
  });

  it('previews a text file, a JSON document (pretty-printed) and an image', async () => {
    await s3.send(new PutObjectCommand({ Bucket: UP, Key: 'notes.txt', Body: 'line one\nline two\n', ContentType: 'text/plain' }));
    await s3.send(new PutObjectCommand({ Bucket: UP, Key: 'data.json', Body: '{"name":"strata","list":[1,2]}', ContentType: 'application/json' }));
    await s3.send(new PutObjectCommand({ Bucket: UP, Key: 'pixel.png', Body: PNG_1x1, ContentType: 'image/png' }));
    await page.goto(`${consoleUrl}/#/browse/${UP}/`);
    await page.getByRole('button', { name: 'Preview notes.txt' }).click();
    assert.equal(await page.getByTestId('preview-text').textContent(), 'line one\nline two\n');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Preview data.json' }).click();
    assert.equal(await page.getByTestId('preview-json').textContent(), JSON.stringify({ name: 'strata', list: [1, 2] }, null, 2));
    await screenshot(page, 'preview');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Preview pixel.png' }).click();
    const img = page.getByTestId('preview-image');
    await img.waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid=preview-image]') as HTMLImageElement | null)?.complete === true);
    assert.equal(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth), 1);
    assert.match((await img.getAttribute('src')) ?? '', /^blob:/);
    await page.keyboard.press('Escape');
  });

  it('makes a share link with the chosen expiry, copies it, and it opens in a second browser context with no session', async () => {
    await page.getByRole('button', { name: 'Actions for notes.txt' }).click();
    await page.getByRole('menuitem', { name: 'Share link' }).click();
    await page.getByLabel('Link valid for').selectOption({ label: '12 hours' });
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/presign'));
    await page.getByRole('button', { name: 'Create link' }).click();
    const presigned = (await (await answer).json()) as { url: string; expiresAt: string };
    const left = Date.parse(presigned.expiresAt) - Date.now();
    assert.ok(left > 11.5 * 3600_000 && left <= 12 * 3600_000, `expires in ${left} ms`);
    const url = await page.getByTestId('share-url').inputValue();
    assert.equal(url, presigned.url);
    assert.match((await page.getByTestId('share-expiry').textContent()) ?? '', /^Expires /);
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    await page.keyboard.press('Escape');

    const anonymous = await h.newContext();
    try {
      assert.deepEqual(await anonymous.cookies(), []);
      const other = await anonymous.newPage();
      const res = await other.goto(url);
      assert.equal(res?.status(), 200);
      assert.equal(await res?.text(), 'line one\nline two\n');
    } finally {
      await anonymous.close();
    }
  });

  it('downloads one object, and a folder as a zip whose entries hold the bytes uploaded', async () => {
    await page.getByRole('button', { name: 'Actions for data.json' }).click();
    const single = page.waitForEvent('download');
    await page.getByRole('menuitem', { name: 'Download' }).click();
    const d1 = await single;
    assert.equal(d1.suggestedFilename(), 'data.json');
    assert.equal(await readFile((await d1.path())!, 'utf8'), '{"name":"strata","list":[1,2]}');

    await page.getByRole('link', { name: 'Open folder batch/' }).click();
    await page.locator('[data-testid=object-row]').first().waitFor();
    const zipped = page.waitForEvent('download', { timeout: 120_000 });
    await page.getByRole('button', { name: 'Download folder' }).click();
    const d2 = await zipped;
    assert.equal(d2.suggestedFilename(), 'batch.zip');
    const entries = readZip(await readFile((await d2.path())!));
    assert.deepEqual(entries.map((e) => e.name).sort(), [...bodies.keys()].sort());
    for (const e of entries) assert.ok(e.data.equals(bodies.get(e.name)!), e.name);
  });

  it('deletes many objects at once (the page selected, one DeleteObjects) and a whole folder', async () => {
    await page.getByLabel('Per page').selectOption('100');
    await waitForRows(page, 'batch/f000.txt', 100);
    await page.getByLabel('Select all on this page').check();
    await page.getByRole('button', { name: 'Delete 100 selected' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await waitForRows(page, 'batch/f100.txt', 100);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: UP, Prefix: 'batch/' }));
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      Array.from({ length: 100 }, (_, i) => `batch/${fileName(100 + i)}`),
    );
    // A whole folder: every key under it, listed and deleted page by page.
    await page.goto(`${consoleUrl}/#/browse/${UP}/`);
    await page.getByRole('button', { name: 'Actions for folder dropped/' }).click();
    await page.getByRole('menuitem', { name: 'Delete folder' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByRole('link', { name: 'Open folder dropped/' }).waitFor({ state: 'detached' });
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: UP, Prefix: 'dropped/' }))).KeyCount, 0);
  });

  it('lists the versions of an object, restores an old one over the current, and deletes a version', async () => {
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: VER, Key: 'doc.txt', Body: 'first draft' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: VER, Key: 'doc.txt', Body: 'second draft' }))).VersionId!;
    await page.goto(`${consoleUrl}/#/browse/${VER}/`);
    // By keyboard: the row's menu button opens with Enter, its item is chosen with Enter.
    await page.getByRole('button', { name: 'Actions for doc.txt' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Versions' }).press('Enter');
    await waitForVersionRows(page, 2);
    const ids = await page.locator('[data-testid=version-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-version-id')));
    assert.deepEqual(ids, [v2, v1], 'newest first');
    await screenshot(page, 'versions');
    await page.getByRole('button', { name: `Restore version ${v1}` }).click();
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await waitForVersionRows(page, 3);
    assert.equal((await bodyOf(s3, VER, 'doc.txt')).toString(), 'first draft', 'the old version is current again');
    await page.getByRole('button', { name: `Delete version ${v2}` }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await waitForVersionRows(page, 2);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: VER, Prefix: 'doc.txt' }));
    assert.deepEqual(versions.Versions?.map((v) => v.VersionId).includes(v2), false);
    assert.equal(versions.Versions?.length, 2);
    assert.equal((await bodyOf(s3, VER, 'doc.txt', v1)).toString(), 'first draft');
    await page.keyboard.press('Escape');
  });

  it("a read-only user (MinIO's readonly: GetObject, no listing) sees the listing and an upload refused with S3's AccessDenied", async () => {
    const viewer = h.server.users[0]!;
    const p = await h.newPage();
    try {
      await login(p, viewer.accessKey, viewer.secretKey);
      await p.goto(`${consoleUrl}/#/browse/${UP}/`);
      const refusal = p.getByRole('alert').filter({ hasText: 'AccessDenied' });
      await refusal.waitFor();
      await writeFile(join(dir, 'refused.txt'), 'no');
      await p.getByTestId('upload-files-input').setInputFiles(join(dir, 'refused.txt'));
      const item = p.locator('[data-testid=upload-item][data-status=failed]');
      await item.waitFor();
      assert.match((await item.textContent()) ?? '', /AccessDenied/);
      await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: UP, Key: 'refused.txt' })));
    } finally {
      await p.context().close();
    }
  });
});
