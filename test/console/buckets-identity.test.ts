// The console's buckets and identity pages end to end: Debian Chromium (playwright-core) on the
// console of a real server (2 workers, the integration suite's default), every change made by
// clicking and typing in the page, then checked with other clients (aws-sdk-js, boto3, plain
// fetch as an anonymous caller, the admin API) to see it really took effect on the server.
// Screenshots of each page go to .test-tmp/screenshots/ (light, and dark for some).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { adminCall } from '../helpers/admin.js';
import { VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY } from '../helpers/server.js';
import { type ConsoleHarness, attemptLogin, login, screenshot, settledText, shownErrorCodes, startConsole } from './harness.js';

const ROOT = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

describe('console: buckets and identity pages', { timeout: 600_000 }, () => {
  let h: ConsoleHarness;
  let s3: S3Client;
  let page: Page;
  const versioned = newBucketName('console-ver');
  const locked = newBucketName('console-lock');
  const doomed = newBucketName('console-gone');
  const reader = 'console-reader';
  let readerKey: { accessKey: string; secretKey: string } | undefined;

  /** Fails with what the page and the browser said, when an expectation about the page is not met. */
  const context = async () => `errors shown: ${JSON.stringify(await shownErrorCodes(page))}; browser log: ${h.browserLog().slice(-10).join(' | ')}`;

  const dialog = (name: string | RegExp) => page.getByRole('dialog', { name });

  /** Picks an option of a Mantine Select by its label and the option's text. */
  async function choose(label: string, option: string | RegExp): Promise<void> {
    await page.getByRole('textbox', { name: label }).click();
    await page.getByRole('option', { name: option }).click();
  }

  async function createBucketInPage(name: string, opts: { versioning?: boolean; objectLock?: boolean; encryption?: string | RegExp }): Promise<void> {
    await h.goto(page, '/buckets');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    const d = dialog('Create bucket');
    await d.getByLabel('Bucket name').fill(name);
    if (opts.versioning) await d.getByLabel('Versioning').check();
    if (opts.objectLock) await d.getByLabel('Object lock').check();
    if (opts.encryption) await choose('Default encryption', opts.encryption);
    await d.getByRole('button', { name: 'Create', exact: true }).click();
    await d.waitFor({ state: 'hidden' });
    await page.getByRole('row').filter({ hasText: name }).waitFor();
  }

  before(async () => {
    h = await startConsole({ kms: true }); // SSE-S3 needs the key service
    s3 = testClient(h.server.url);
    page = await h.newPage();
  });

  after(async () => {
    s3?.destroy();
    await h?.close();
  });

  it('login: a wrong secret and an unknown key show S3 error codes; the right keys log in', async () => {
    await screenshot(page, 'login-light');
    const wrong = await attemptLogin(page, ACCESS_KEY, 'not-the-secret');
    assert.equal(wrong.ok, false);
    assert.equal(wrong.code, 'SignatureDoesNotMatch', JSON.stringify(wrong));
    await screenshot(page, 'login-error');
    const unknown = await attemptLogin(page, 'NOSUCHKEY1234567890X', 'whatever-secret');
    assert.equal(unknown.code, 'InvalidAccessKeyId', JSON.stringify(unknown));
    await login(page, ACCESS_KEY, SECRET_KEY);
    assert.match((await page.getByTestId('whoami').textContent()) ?? '', new RegExp(ACCESS_KEY));

    const dark = await h.newPage({ colorScheme: 'dark' });
    await screenshot(dark, 'login-dark');
    await dark.context().close();
  });

  it('creates buckets with versioning, with object lock and SSE-S3: S3 reports those settings', async () => {
    await createBucketInPage(versioned, { versioning: true });
    const v = await s3.send(new GetBucketVersioningCommand({ Bucket: versioned }));
    assert.equal(v.Status, 'Enabled');

    await createBucketInPage(locked, { objectLock: true, encryption: /SSE-S3/ });
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: locked }));
    assert.equal(lock.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: locked }));
    assert.equal(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256');
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: locked }))).Status, 'Enabled');
  });

  it('keyboard only: the skip link comes first, and a bucket is created with Tab, Space and Enter', async () => {
    const name = newBucketName('console-keys');
    await h.goto(page, '/buckets');
    await page.reload(); // a fresh document: the focus starts at its top
    await page.getByRole('heading', { name: 'Buckets' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.getByRole('button', { name: 'Create bucket' }).focus();
    await page.keyboard.press('Enter');
    const d = dialog('Create bucket');
    await d.waitFor();
    // The dialog puts the focus in the name field.
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'INPUT');
    await page.keyboard.type(name);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space'); // Versioning
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // submits the form
    await d.waitFor({ state: 'hidden' });
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: name }))).Status, 'Enabled');
  });

  it('lists each bucket with its object count and size after aws-sdk-js puts objects', async () => {
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'a.txt', Body: 'x'.repeat(1000) }));
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'docs/b.txt', Body: 'y'.repeat(24) }));
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'a.txt', Body: 'z'.repeat(2000) })); // a second version of a.txt
    await h.goto(page, '/buckets');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.getByRole('row').filter({ hasText: versioned });
    await row.waitFor();
    const objects = await settledText(row.getByTestId('objects'), '2');
    const bytes = await settledText(row.getByTestId('bytes'), '3.0 KiB');
    const versions = await settledText(row.getByTestId('versions'), '3');
    // Two keys listed (a.txt, docs/b.txt); three versions stored, 1000 + 2000 + 24 bytes.
    assert.equal(objects, '2', await context());
    assert.equal(versions, '3', await context());
    assert.equal(bytes, '3.0 KiB', await context());
    await screenshot(page, 'buckets-light');
    const dark = await h.newPage({ colorScheme: 'dark' });
    await login(dark, ACCESS_KEY, SECRET_KEY);
    await h.goto(dark, '/buckets');
    await dark.getByRole('row').filter({ hasText: versioned }).getByTestId('objects').filter({ hasText: '2' }).waitFor();
    await screenshot(dark, 'buckets-dark');
    await dark.context().close();
  });

  it('bucket settings: versioning suspended, tags, CORS, lifecycle rule: each read back by aws-sdk-js or boto3', async () => {
    await h.goto(page, `/buckets/${versioned}/settings?tab=versioning`);
    await page.getByTestId('versioning-status').filter({ hasText: 'Enabled' }).waitFor();
    await screenshot(page, 'bucket-settings-versioning');
    await page.getByLabel('Suspended').check();
    await page.getByRole('button', { name: 'Save versioning' }).click();
    await page.getByTestId('versioning-status').filter({ hasText: 'Suspended' }).waitFor();
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: versioned }))).Status, 'Suspended');

    await page.getByRole('tab', { name: 'Tags' }).click();
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByLabel('Tag 1 key').fill('team');
    await page.getByLabel('Tag 1 value').fill('storage');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await page.getByLabel('Tag 2 key').fill('env');
    await page.getByLabel('Tag 2 value').fill('test dev');
    await page.getByRole('button', { name: 'Save tags' }).click();
    await page.getByText(`Tags of ${versioned} saved.`).waitFor();
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: versioned }));
    assert.deepEqual((tags.TagSet ?? []).map((t) => `${t.Key}=${t.Value}`).sort(), ['env=test dev', 'team=storage']);

    await page.getByRole('tab', { name: 'CORS' }).click();
    await page.getByRole('button', { name: 'Add CORS rule' }).click();
    await page.getByLabel('Allowed origins (one a line)').fill('https://app.example.com');
    await page.getByRole('button', { name: 'Save CORS rules' }).click();
    await page.getByText(`CORS rules of ${versioned} saved.`).waitFor();
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: versioned }));
    assert.deepEqual(cors.CORSRules?.[0]?.AllowedOrigins, ['https://app.example.com']);
    assert.deepEqual([...(cors.CORSRules?.[0]?.AllowedMethods ?? [])].sort(), ['GET', 'HEAD']);

    await page.getByRole('tab', { name: 'Lifecycle' }).click();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Key prefix (empty: every object)').fill('logs/');
    await page.getByLabel('Expire current versions after (days)').fill('7');
    await page.getByLabel('Delete noncurrent versions after (days)').fill('3');
    await screenshot(page, 'bucket-settings-lifecycle');
    await page.getByRole('button', { name: 'Save lifecycle rules' }).click();
    await page.getByText(`Lifecycle rules of ${versioned} saved.`).waitFor();
    // boto3 reads the configuration back.
    const { env, cleanup } = await isolatedClientEnv({ S3_ENDPOINT: h.server.url, S3_ACCESS_KEY: ACCESS_KEY, S3_SECRET_KEY: SECRET_KEY, S3_BUCKET: versioned });
    try {
      const script = [
        'import boto3, json, os',
        "c = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'], aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1')",
        "print(json.dumps(c.get_bucket_lifecycle_configuration(Bucket=os.environ['S3_BUCKET'])['Rules']))",
      ].join('\n');
      const r = await run(VENV_PYTHON, ['-c', script], { env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, describeRun('boto3 get_bucket_lifecycle_configuration', r));
      const rules = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as Array<Record<string, unknown>>;
      assert.equal(rules.length, 1);
      const rule = rules[0] as {
        ID: string;
        Status: string;
        Filter: { Prefix?: string };
        Expiration: { Days: number };
        NoncurrentVersionExpiration: { NoncurrentDays: number };
      };
      assert.equal(rule.ID, 'rule-1');
      assert.equal(rule.Status, 'Enabled');
      assert.equal(rule.Filter.Prefix, 'logs/');
      assert.equal(rule.Expiration.Days, 7);
      assert.equal(rule.NoncurrentVersionExpiration.NoncurrentDays, 3);
    } finally {
      await cleanup();
    }
  });

  it('bucket settings: object lock default retention and default encryption, read back by aws-sdk-js', async () => {
    await h.goto(page, `/buckets/${locked}/settings?tab=object-lock`);
    await page.getByTestId('object-lock-status').filter({ hasText: 'enabled' }).waitFor();
    await page.getByLabel('Governance').check();
    await page.getByLabel('Retention period').fill('2');
    await screenshot(page, 'bucket-settings-object-lock');
    await page.getByRole('button', { name: 'Save object lock' }).click();
    await page.getByText(`Object lock of ${locked} saved.`).waitFor();
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: locked }));
    assert.deepEqual(lock.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'GOVERNANCE', Days: 2 });

    await page.getByRole('tab', { name: 'Encryption' }).click();
    await choose('Encryption of new objects', /SSE-KMS/);
    await page.getByRole('button', { name: 'Save encryption' }).click();
    await page.getByText(`Default encryption of ${locked} saved.`).waitFor();
    const algorithm = async () =>
      (await s3.send(new GetBucketEncryptionCommand({ Bucket: locked }))).ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm;
    assert.equal(await algorithm(), 'aws:kms');
    // Back to no rule on the bucket (DeleteBucketEncryption): S3 answers that there is none.
    await choose('Encryption of new objects', /Server's default/);
    await page.getByRole('button', { name: 'Save encryption' }).click();
    await page.getByText(`Default encryption of ${locked} saved.`).nth(1).waitFor();
    assert.equal((await errorOf(algorithm())).name, 'ServerSideEncryptionConfigurationNotFoundError');
  });

  it('bucket policy: a refused document shows MalformedPolicy; the canned readonly for everyone lets an anonymous caller read', async () => {
    const objectUrl = `${h.server.url}/${versioned}/docs/b.txt`;
    assert.equal((await fetch(objectUrl)).status, 403, 'anonymous read before any policy');
    await h.goto(page, `/buckets/${versioned}/settings?tab=policy`);
    const editor = page.getByLabel('Policy document');
    await editor.fill('{"Statement": [');
    await page.getByTestId('json-problems').filter({ hasText: 'Not valid JSON' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save policy' }).isDisabled(), true);
    // Well formed, but names another bucket: the server refuses it and the page shows its code.
    const foreign = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::some-other-bucket/*' }],
    };
    await editor.fill(JSON.stringify(foreign));
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByTestId('error').filter({ hasText: 'MalformedPolicy' }).waitFor();

    await choose('Start from a canned policy', /^readonly:/);
    await page.getByRole('button', { name: 'Use template' }).click();
    await screenshot(page, 'bucket-settings-policy');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(`Policy of ${versioned} saved.`).waitFor();
    const stored = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: versioned }))).Policy ?? '{}') as {
      Statement: Array<{ Action: string[]; Principal: unknown }>;
    };
    assert.ok(
      stored.Statement.some((s) => s.Action.includes('s3:GetObject') && s.Principal === '*'),
      JSON.stringify(stored),
    );
    const anon = await fetch(objectUrl);
    assert.equal(anon.status, 200);
    assert.equal(await anon.text(), 'y'.repeat(24));
    // readonly does not include writes: an anonymous PUT is still refused.
    assert.equal((await fetch(`${h.server.url}/${versioned}/anon.txt`, { method: 'PUT', body: 'no' })).status, 403);
  });

  it('deletes a bucket only once its name is typed; a non-empty bucket is refused with BucketNotEmpty', async () => {
    await createBucketInPage(doomed, {});
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'keep.txt', Body: 'k' }));
    await h.goto(page, '/buckets');
    await page.getByRole('button', { name: `Delete bucket ${versioned}` }).click();
    let d = dialog(`Delete bucket ${versioned}`);
    await d.getByLabel(`Type ${versioned} to confirm`).fill(versioned);
    await d.getByRole('button', { name: 'Delete bucket' }).click();
    await d.getByTestId('error').filter({ hasText: 'BucketNotEmpty' }).waitFor();
    await d.getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: `Delete bucket ${doomed}` }).click();
    d = dialog(`Delete bucket ${doomed}`);
    const confirm = d.getByRole('button', { name: 'Delete bucket' });
    await d.getByLabel(`Type ${doomed} to confirm`).fill(doomed.slice(0, -1));
    assert.equal(await confirm.isDisabled(), true, 'a name typed wrong does not enable the button');
    await screenshot(page, 'buckets-delete-confirm');
    await d.getByLabel(`Type ${doomed} to confirm`).fill(doomed);
    await confirm.click();
    await d.waitFor({ state: 'hidden' });
    await page.getByRole('row').filter({ hasText: doomed }).waitFor({ state: 'detached' });
    const gone = await errorOf(s3.send(new HeadBucketCommand({ Bucket: doomed })));
    assert.equal(gone.$metadata.httpStatusCode, 404);
  });

  it('identity: creates a read-only user with a key whose secret is shown once, and it works with aws-sdk-js', async () => {
    await h.goto(page, '/identity/users');
    await page.getByRole('button', { name: 'Create user' }).click();
    const d = dialog('Create user');
    await d.getByLabel('User name').fill(reader);
    await d.getByRole('textbox', { name: 'Policies to attach' }).click();
    await page.getByRole('option', { name: 'readonly', exact: true }).click();
    await page.keyboard.press('Tab'); // leaves the field: its list closes
    await d.getByRole('button', { name: 'Create user' }).click();
    const secret = dialog(`New access key of ${reader}`);
    await secret.waitFor();
    const accessKey = (await secret.getByTestId('new-access-key').textContent())?.trim() ?? '';
    const secretKey = (await secret.getByTestId('new-secret-key').textContent())?.trim() ?? '';
    assert.match(accessKey, /^[A-Z0-9]{20}$/);
    assert.equal(secretKey.length, 40);
    assert.ok(await secret.getByRole('button', { name: 'Copy secret key' }).isVisible());
    await screenshot(page, 'identity-secret-once');
    await secret.getByRole('button', { name: 'I have saved the secret' }).click();
    // The user's page: the key is listed, its secret is nowhere.
    await page.getByRole('heading', { name: `User ${reader}` }).waitFor();
    await page.getByRole('cell', { name: accessKey, exact: true }).waitFor();
    assert.equal(await page.getByText(secretKey).count(), 0, 'the secret is shown once only');
    await screenshot(page, 'identity-user');
    readerKey = { accessKey, secretKey };

    const as = testClient(h.server.url, { credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
    try {
      const got = await as.send(new GetObjectCommand({ Bucket: versioned, Key: 'keep.txt' }));
      assert.equal(await got.Body?.transformToString(), 'k');
      const refused = await errorOf(as.send(new PutObjectCommand({ Bucket: versioned, Key: 'nope.txt', Body: 'n' })));
      assert.equal(refused.name, 'AccessDenied');
    } finally {
      as.destroy();
    }
    const info = await adminCall(h.server.url, ROOT, 'GET', `users/${reader}`);
    assert.deepEqual(info.body.policies, ['readonly']);
    await h.goto(page, '/identity/users');
    await page.getByRole('link', { name: reader }).waitFor();
    await screenshot(page, 'identity-users');
  });

  it('the read-only user, logged in in a second browser context, sees a write refused with AccessDenied', async () => {
    assert.ok(readerKey, 'made by the previous test');
    const other = await h.newPage();
    try {
      await login(other, readerKey.accessKey, readerKey.secretKey);
      assert.match((await other.getByTestId('whoami').textContent()) ?? '', new RegExp(reader));
      await h.goto(other, '/buckets');
      // readonly has no s3:ListAllMyBuckets: the list itself is refused, and says so.
      await other.getByTestId('error').filter({ hasText: 'AccessDenied' }).first().waitFor();
      // A bucket it may read can still be opened by name.
      await other.getByLabel('Open a bucket by name').waitFor();
      await other.getByRole('button', { name: 'Create bucket' }).click();
      const d = other.getByRole('dialog', { name: 'Create bucket' });
      await d.getByLabel('Bucket name').fill(newBucketName('console-denied'));
      await d.getByRole('button', { name: 'Create', exact: true }).click();
      const alert = d.getByTestId('error');
      await alert.waitFor();
      assert.equal((await alert.locator('.mantine-Alert-title').textContent())?.trim(), 'AccessDenied');
      await screenshot(other, 'buckets-refused');
    } finally {
      await other.context().close();
    }
  });

  it('groups and policies: a group with the user as member and a managed policy made in the editor', async () => {
    await h.goto(page, '/identity/policies/new');
    await page.getByLabel('Policy name').fill('console-list');
    const doc = { Version: '2012-10-17', Statement: [{ Sid: 'List', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${versioned}`] }] };
    await page.getByLabel('Policy document').fill(JSON.stringify(doc));
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('heading', { name: 'Policy console-list' }).waitFor();
    await screenshot(page, 'identity-policy');
    const stored = await adminCall(h.server.url, ROOT, 'GET', 'policies/console-list');
    assert.equal(stored.status, 200);
    const document = stored.body.document;
    assert.deepEqual(typeof document === 'string' ? JSON.parse(document) : document, doc);

    await h.goto(page, '/identity/groups');
    await page.getByRole('button', { name: 'Create group' }).click();
    const d = dialog('Create group');
    await d.getByLabel('Group name').fill('console-listers');
    await d.getByRole('textbox', { name: 'Members' }).click();
    await page.getByRole('option', { name: reader, exact: true }).click();
    await page.keyboard.press('Tab');
    await d.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Group console-listers' }).waitFor();
    await page.getByRole('textbox', { name: 'Policies to attach' }).click();
    await page.getByRole('option', { name: 'console-list', exact: true }).click();
    await page.keyboard.press('Tab');
    await page.getByRole('button', { name: 'Add: Policies to attach' }).click();
    await page.getByText('Policy console-list attached to console-listers.').waitFor();
    await screenshot(page, 'identity-group');
    const group = await adminCall(h.server.url, ROOT, 'GET', 'groups/console-listers');
    assert.deepEqual(group.body.members, [reader]);
    assert.deepEqual(group.body.policies, ['console-list']);
  });

  it('effective rights: allow for s3:GetObject, implicit deny for s3:PutObject, in words', async () => {
    await h.goto(page, `/identity/explain?user=${reader}`);
    const resources = page.getByRole('textbox', { name: 'Resources' });
    await resources.click();
    await resources.press('Backspace'); // removes the default arn:aws:s3:::*
    await resources.fill(`arn:aws:s3:::${versioned}/keep.txt`);
    await resources.press('Enter');
    await page.getByRole('button', { name: 'Explain' }).click();
    const get = page.locator('tr[data-action="s3:GetObject"]');
    const put = page.locator('tr[data-action="s3:PutObject"]');
    await get.waitFor();
    assert.equal(await get.getAttribute('data-decision'), 'allow', await context());
    assert.equal(await put.getAttribute('data-decision'), 'implicitDeny', await context());
    assert.match((await get.textContent()) ?? '', /may s3:GetObject .* allowed by .*readonly/);
    assert.match((await put.textContent()) ?? '', /may not s3:PutObject .*\(implicit deny\)/);
    await page.getByRole('table', { name: 'Decisions' }).evaluate((t) => t.scrollIntoView({ block: 'end' }));
    await screenshot(page, 'identity-explain');
    const darkPage = await h.newPage({ colorScheme: 'dark' });
    await login(darkPage, ACCESS_KEY, SECRET_KEY);
    await h.goto(darkPage, `/identity/users/${reader}`);
    await darkPage.getByRole('heading', { name: `User ${reader}` }).waitFor();
    await screenshot(darkPage, 'identity-user-dark');
    await darkPage.context().close();
  });

  it('disabling the user in the page ends its console session and its keys', async () => {
    assert.ok(readerKey);
    const other = await h.newPage();
    try {
      await login(other, readerKey.accessKey, readerKey.secretKey);
      await h.goto(page, `/identity/users/${reader}`);
      await page.getByRole('button', { name: 'Disable user' }).click();
      await page.getByRole('button', { name: 'Enable user' }).waitFor();
      // The reader's next call finds its session gone: back to the login page.
      await h.goto(other, '/identity/users');
      await other.getByLabel('Access key').waitFor();
      await other.getByTestId('session-ended').waitFor();
      const again = await attemptLogin(other, readerKey.accessKey, readerKey.secretKey);
      assert.equal(again.code, 'InvalidAccessKeyId');
    } finally {
      await other.context().close();
    }
  });
});
