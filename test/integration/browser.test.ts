// A real browser against a real server: headless Debian Chromium (driven by playwright-core) on a
// page served by this file's own node:http harness — a different origin from the S3 server — uses
// only browser APIs (fetch, FormData, DOMParser, an HTML <form>) for what browser uploaders do:
// presigned PUT and GET, presigned multipart UploadPart with the part ETags read from JavaScript,
// POST-policy forms made by boto3 (SigV2 and SigV4), and S3 errors read through CORS. Once with
// bucket CORS rules (PutBucketCors), once with the server-wide --cors-origins default. Every
// object the page writes is then checked with aws-sdk-js (bytes and ETag).
// scripts/test.sh installs Debian's chromium; without /usr/bin/chromium these tests fail.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.js';
import { VENV_PYTHON, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const PART_SIZES = [5 * MiB, 5 * MiB, 1024];

// ---- bytes both sides can make ------------------------------------------------------------

/**
 * Deterministic pseudo-random bytes (xorshift32). Self-contained: its source is also put into the
 * page, so the browser makes the same bytes without shipping megabytes through the driver.
 */
function patternBytes(seed: number, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = Math.imul(seed, 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const bytesOf = (seed: number, length: number) => Buffer.from(patternBytes(seed, length));
const md5Hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const quotedMd5 = (b: Buffer | string) => `"${md5Hex(b)}"`;

declare global {
  interface Window {
    patternBytes: typeof patternBytes;
  }
}

// ---- the harness: the page's origin --------------------------------------------------------

const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Strata browser test</title>
<script>window.patternBytes = ${patternBytes.toString()};</script>
</head><body><h1>Strata browser test</h1></body></html>`;

interface Harness {
  origin: string;
  /** Query parameters of every request to /done (the success_action_redirect target). */
  redirects: Array<Record<string, string>>;
  close: () => Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const redirects: Array<Record<string, string>> = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://harness');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE_HTML);
    } else if (req.method === 'GET' && url.pathname === '/done') {
      redirects.push(Object.fromEntries(url.searchParams));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>done</title><p id="done">upload done</p>');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    redirects,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- boto3 POST forms ------------------------------------------------------------------------

interface Post {
  url: string;
  fields: Record<string, string>;
}

/** [name, sigv4?, key, fields, conditions]; env S3_ENDPOINT, S3_BUCKET; prints {name: post}. */
const FORMS_PY = String.raw`
import json, os, sys, boto3
from botocore.config import Config
kw = dict(endpoint_url=os.environ['S3_ENDPOINT'], aws_access_key_id=os.environ['S3_ACCESS_KEY'],
          aws_secret_access_key=os.environ['S3_SECRET_KEY'], region_name='us-east-1')
default = boto3.client('s3', **kw)
v4 = boto3.client('s3', config=Config(signature_version='s3v4'), **kw)
posts = {}
for name, sigv4, key, fields, conditions in json.loads(sys.stdin.read()):
    c = v4 if sigv4 else default
    posts[name] = c.generate_presigned_post(os.environ['S3_BUCKET'], key, Fields=fields, Conditions=conditions, ExpiresIn=600)
print(json.dumps(posts))
`;

type FormSpec = [name: string, sigv4: boolean, key: string, fields: Record<string, string>, conditions: unknown[]];

async function makeForms(server: RunningServer, bucket: string, specs: FormSpec[]): Promise<Record<string, Post>> {
  const { env, cleanup } = await isolatedClientEnv({
    S3_ENDPOINT: server.url,
    S3_ACCESS_KEY: ACCESS_KEY,
    S3_SECRET_KEY: SECRET_KEY,
    S3_BUCKET: bucket,
  });
  try {
    const r = await run(VENV_PYTHON, ['-c', FORMS_PY], { env, input: JSON.stringify(specs), timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun(`${VENV_PYTHON} (generate_presigned_post)`, r));
    return JSON.parse(r.stdout) as Record<string, Post>;
  } finally {
    await cleanup();
  }
}

const isSigV2Form = (p: Post) => 'AWSAccessKeyId' in p.fields && 'signature' in p.fields && !('x-amz-signature' in p.fields);
const isSigV4Form = (p: Post) => 'x-amz-signature' in p.fields && 'x-amz-credential' in p.fields && !('signature' in p.fields);

// ---- in the page -----------------------------------------------------------------------------
// The functions given to page.evaluate run in Chromium: they may use only browser APIs and their
// arguments, never this module's scope (window.patternBytes comes from the page itself).

interface FetchResult {
  /** Set when fetch itself rejected (a CORS failure is a TypeError with no detail). */
  error?: string;
  status?: number;
  headers?: Record<string, string | null>;
  body?: string;
}

/** `fetch(url, {method})` with a body of patternBytes(seed, size); reads the named headers and the text. */
function fetchInPage(page: Page, url: string, opts: { method: string; seed?: number; size?: number; headers: string[] }): Promise<FetchResult> {
  return page.evaluate(
    async ({ url, method, seed, size, headers }) => {
      try {
        const init: RequestInit = { method };
        if (size !== undefined) init.body = new Blob([window.patternBytes(seed ?? 0, size)], { type: 'application/octet-stream' });
        const res = await fetch(url, init);
        const read: Record<string, string | null> = {};
        for (const h of headers) read[h] = res.headers.get(h);
        return { status: res.status, headers: read, body: await res.text() };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { url, method: opts.method, seed: opts.seed, size: opts.size, headers: opts.headers },
  );
}

interface XmlResult extends FetchResult {
  /** Text of the named elements of the XML body, parsed with DOMParser in the page. */
  xml?: Record<string, string | null>;
}

/** GET `url` and parse the XML answer in the page. */
function fetchXmlInPage(page: Page, url: string, elements: string[]): Promise<XmlResult> {
  return page.evaluate(
    async ({ url, elements }) => {
      try {
        const res = await fetch(url);
        const body = await res.text();
        const doc = new DOMParser().parseFromString(body, 'application/xml');
        const xml: Record<string, string | null> = {};
        for (const name of elements) xml[name] = doc.getElementsByTagName(name)[0]?.textContent ?? null;
        return { status: res.status, body, xml };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { url, elements },
  );
}

/** POST a boto3 form as FormData (fields in order, then the file as a Blob); parse a PostResponse. */
function postFormInPage(page: Page, post: Post, file: { seed: number; size: number; name: string; type: string }): Promise<XmlResult> {
  return page.evaluate(
    async ({ post, file }) => {
      try {
        const fd = new FormData();
        for (const [k, v] of Object.entries(post.fields)) fd.append(k, v);
        fd.append('file', new Blob([window.patternBytes(file.seed, file.size)], { type: file.type }), file.name);
        const res = await fetch(post.url, { method: 'POST', body: fd });
        const body = await res.text();
        const xml: Record<string, string | null> = {};
        if (body !== '') {
          const doc = new DOMParser().parseFromString(body, 'application/xml');
          for (const name of ['Location', 'Bucket', 'Key', 'ETag', 'Code', 'Message']) {
            xml[name] = doc.getElementsByTagName(name)[0]?.textContent ?? null;
          }
        }
        return { status: res.status, headers: { etag: res.headers.get('ETag') }, body, xml };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { post, file },
  );
}

// ---- the suite -------------------------------------------------------------------------------

/** What one describe block shares: a server, a client, a bucket, and a way to get a fresh page. */
interface Env {
  server: RunningServer;
  s3: S3Client;
  bucket: string;
}

describe('Browser (headless Chromium via playwright-core)', { timeout: 90_000 }, () => {
  let harness: Harness;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  /** Why there is no browser: every test that needs a page fails with it (never a skip). */
  let launchError: string | undefined;
  /** Console messages and page errors of every page, for assertion messages. */
  const consoleLog: string[] = [];

  before(async () => {
    harness = await startHarness();
    if (!existsSync(CHROMIUM)) {
      launchError = `${CHROMIUM} not found: the browser tests need Debian's chromium (run \`bash scripts/test.sh\` as root, or \`apt-get install -y chromium\`)`;
      return;
    }
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
      context = await browser.newContext();
    } catch (e) {
      launchError = `could not launch ${CHROMIUM} with playwright-core: ${(e as Error).message}`;
    }
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await harness?.close();
  });

  /** A new tab on the harness page (withPage closes it). */
  async function openPage(): Promise<Page> {
    if (!context) assert.fail(launchError ?? 'no browser context');
    const page = await context.newPage();
    page.on('console', (m) => consoleLog.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLog.push(`[pageerror] ${e.message}`));
    await page.goto(`${harness.origin}/`);
    return page;
  }

  async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    const page = await openPage();
    try {
      return await fn(page);
    } finally {
      await page.close();
    }
  }

  /** An assertion message with the fetch result and what the browser logged (CORS errors show up there). */
  const why = (r: unknown) =>
    `${JSON.stringify(r, (k, v) => (k === 'body' && typeof v === 'string' && v.length > 2000 ? `${v.slice(0, 2000)}…` : v))}\nbrowser console:\n${consoleLog.slice(-20).join('\n')}`;

  async function sdkObject(env: Env, key: string): Promise<{ body: Buffer; etag: string | undefined; contentType: string | undefined }> {
    const res = await env.s3.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }));
    return { body: Buffer.from(await res.Body!.transformToByteArray()), etag: res.ETag, contentType: res.ContentType };
  }

  // The URLs are used exactly as a web app's backend gets them from getSignedUrl. Note: aws-sdk-js
  // >= 3.729 presigns PutObject/UploadPart with x-amz-checksum-crc32=AAAAAA== (the CRC32 of the
  // empty body it saw at signing time); Strata ignores checksum query parameters, as MinIO and
  // LocalStack do, so these uploads work without requestChecksumCalculation: 'WHEN_REQUIRED'.
  const presignPut = (env: Env, key: string) => getSignedUrl(env.s3, new PutObjectCommand({ Bucket: env.bucket, Key: key }), { expiresIn: 600 });
  const presignGet = (env: Env, key: string, extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {}) =>
    getSignedUrl(env.s3, new GetObjectCommand({ Bucket: env.bucket, Key: key, ...extra }), { expiresIn: 600 });

  /** PutObject through a presigned URL from the page; the ETag read by JavaScript is the MD5. */
  async function presignedPutCase(env: Env, key: string, seed: number, size: number): Promise<void> {
    const url = await presignPut(env, key);
    const r = await withPage((page) => fetchInPage(page, url, { method: 'PUT', seed, size, headers: ['ETag'] }));
    assert.equal(r.error, undefined, why(r));
    assert.equal(r.status, 200, why(r));
    const data = bytesOf(seed, size);
    assert.equal(r.headers?.ETag, quotedMd5(data), `ETag as read by the page (needs Access-Control-Expose-Headers: ETag)\n${why(r)}`);
    const obj = await sdkObject(env, key);
    assert.ok(obj.body.equals(data), `stored bytes differ (${obj.body.length} vs ${data.length})`);
    assert.equal(obj.etag, quotedMd5(data));
  }

  /** A presigned GET for a key that does not exist: the page reads 404 and the S3 error XML. */
  async function missingKeyCase(env: Env): Promise<void> {
    const url = await presignGet(env, 'no/such-key.txt');
    const r = await withPage((page) => fetchXmlInPage(page, url, ['Code', 'Key']));
    assert.equal(r.error, undefined, `the browser could not read the error answer (no CORS headers on errors?)\n${why(r)}`);
    assert.equal(r.status, 404, why(r));
    assert.equal(r.xml?.Code, 'NoSuchKey', why(r));
    assert.equal(r.xml?.Key, 'no/such-key.txt', why(r));
  }

  /** A boto3 form posted as FormData with success_action_status=201; the page parses PostResponse. */
  async function formDataPostCase(env: Env, post: Post, key: string, seed: number): Promise<void> {
    const size = 3000;
    const r = await withPage((page) => postFormInPage(page, post, { seed, size, name: 'notes.txt', type: 'text/plain' }));
    assert.equal(r.error, undefined, why(r));
    assert.equal(r.status, 201, why(r));
    const data = bytesOf(seed, size);
    assert.equal(r.xml?.ETag, quotedMd5(data), `PostResponse ETag parsed in the page\n${why(r)}`);
    assert.equal(r.xml?.Key, key, why(r));
    assert.equal(r.xml?.Bucket, env.bucket, why(r));
    assert.equal(r.xml?.Location, `${env.server.url}/${env.bucket}/${key}`, why(r));
    const obj = await sdkObject(env, key);
    assert.ok(obj.body.equals(data), 'stored bytes differ');
    assert.equal(obj.etag, quotedMd5(data));
    assert.equal(obj.contentType, 'text/plain');
  }

  it('Chromium (/usr/bin/chromium, headless, playwright-core) › launch → a browser that reports its version', (t) => {
    if (!browser) assert.fail(launchError ?? 'no browser');
    assert.match(browser.version(), /^\d+\.\d+/);
    t.diagnostic(`chromium ${browser.version()}`);
  });

  // ---------------------------------------------------------------------------------------------
  describe('with bucket CORS rules (PutBucketCors allowing the page origin)', () => {
    const env = {} as Env;
    /** A second bucket on the same server without any CORS configuration (and no server default). */
    const plainBucket = newBucketName('browser-nocors');
    let forms: Record<string, Post>;
    const redirectKeyPrefix = 'form/';

    before(async () => {
      env.server = await startServer();
      env.s3 = testClient(env.server.url);
      env.bucket = newBucketName('browser-rules');
      await env.s3.send(new CreateBucketCommand({ Bucket: env.bucket }));
      await env.s3.send(new CreateBucketCommand({ Bucket: plainBucket }));
      await env.s3.send(
        new PutBucketCorsCommand({
          Bucket: env.bucket,
          CORSConfiguration: {
            CORSRules: [
              {
                AllowedOrigins: [harness.origin],
                AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD', 'DELETE'],
                AllowedHeaders: ['*'],
                ExposeHeaders: ['ETag', 'Content-Disposition', 'x-amz-request-id'],
                MaxAgeSeconds: 600,
              },
            ],
          },
        }),
      );
      forms = await makeForms(env.server, env.bucket, [
        [
          'v2',
          false,
          'post/v2.txt',
          { success_action_status: '201', 'Content-Type': 'text/plain' },
          [{ success_action_status: '201' }, ['starts-with', '$Content-Type', 'text/']],
        ],
        [
          'v4',
          true,
          'post/v4.txt',
          { success_action_status: '201', 'Content-Type': 'text/plain' },
          [{ success_action_status: '201' }, ['starts-with', '$Content-Type', 'text/']],
        ],
        [
          'redirect',
          true,
          `${redirectKeyPrefix}\${filename}`,
          { success_action_redirect: `${harness.origin}/done` },
          [{ success_action_redirect: `${harness.origin}/done` }],
        ],
        ['small', false, 'post/small.txt', { success_action_status: '201' }, [{ success_action_status: '201' }, ['content-length-range', 1, 100]]],
      ]);
    });

    after(async () => {
      env.s3?.destroy();
      await env.server?.stop();
    });

    it('PutObject (presigned SigV4 URL, fetch PUT after a preflight) → 200, ETag readable from JavaScript = MD5 of the body', async () => {
      await presignedPutCase(env, 'put/one.bin', 1, 100_000);
    });

    it('Multipart (CreateMultipartUpload by the SDK, 3 presigned UploadPart URLs PUT by the page) → part ETags readable; Complete → bytes and "<md5 of md5s>-3" ETag', async () => {
      const key = 'multipart/big.bin';
      const created = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: env.bucket, Key: key }));
      const uploadId = created.UploadId!;
      const urls = await Promise.all(
        PART_SIZES.map((_, i) =>
          getSignedUrl(env.s3, new UploadPartCommand({ Bucket: env.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1 }), { expiresIn: 600 }),
        ),
      );
      const parts = PART_SIZES.map((size, i) => ({ url: urls[i]!, seed: 100 + i, size }));

      const r = await withPage((page) =>
        page.evaluate(async (parts) => {
          try {
            const etags: Array<string | null> = [];
            const statuses: number[] = [];
            for (const p of parts) {
              const res = await fetch(p.url, { method: 'PUT', body: new Blob([window.patternBytes(p.seed, p.size)]) });
              statuses.push(res.status);
              etags.push(res.headers.get('ETag'));
              await res.text();
            }
            return { statuses, etags };
          } catch (e) {
            return { error: String(e) };
          }
        }, parts),
      );
      assert.ok(!('error' in r), why(r));
      assert.deepEqual(r.statuses, [200, 200, 200], why(r));
      const data = PART_SIZES.map((size, i) => bytesOf(100 + i, size));
      assert.deepEqual(r.etags, data.map(quotedMd5), `part ETags as read by the page\n${why(r)}`);

      const done = await env.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: env.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: r.etags.map((etag, i) => ({ ETag: etag!, PartNumber: i + 1 })) },
        }),
      );
      const md5s = Buffer.concat(data.map((d) => createHash('md5').update(d).digest()));
      const expectedEtag = `"${md5Hex(md5s)}-3"`;
      assert.equal(done.ETag, expectedEtag);
      const obj = await sdkObject(env, key);
      const whole = Buffer.concat(data);
      assert.equal(obj.body.length, whole.length);
      assert.ok(obj.body.equals(whole), 'stored multipart bytes differ');
      assert.equal(obj.etag, expectedEtag);
    });

    it('PostObject (boto3 default form = SigV2, FormData + Blob, success_action_status=201) → page parses PostResponse, ETag = MD5', async () => {
      assert.ok(isSigV2Form(forms.v2!), `boto3's default form is not SigV2: ${JSON.stringify(forms.v2)}`);
      await formDataPostCase(env, forms.v2!, 'post/v2.txt', 201);
    });

    it('PostObject (boto3 s3v4 form, FormData + Blob, success_action_status=201) → page parses PostResponse, ETag = MD5', async () => {
      assert.ok(isSigV4Form(forms.v4!), `boto3's s3v4 form lacks x-amz-signature: ${JSON.stringify(forms.v4)}`);
      await formDataPostCase(env, forms.v4!, 'post/v4.txt', 202);
    });

    it('PostObject (policy violated: file over content-length-range) → page reads 400 EntityTooLarge through CORS, nothing stored', async () => {
      const r = await withPage((page) => postFormInPage(page, forms.small!, { seed: 203, size: 101, name: 'big.txt', type: 'text/plain' }));
      assert.equal(r.error, undefined, `the browser could not read the POST error (no CORS headers on errors?)\n${why(r)}`);
      assert.equal(r.status, 400, why(r));
      assert.equal(r.xml?.Code, 'EntityTooLarge', why(r));
      const err = await errorOf(env.s3.send(new HeadObjectCommand({ Bucket: env.bucket, Key: 'post/small.txt' })));
      assert.equal(err.$metadata.httpStatusCode, 404);
    });

    it('PostObject (real <form> submit, s3v4, key with ${filename}, success_action_redirect) → 303 to the harness with bucket, key and etag', async () => {
      const post = forms.redirect!;
      assert.ok(isSigV4Form(post), JSON.stringify(post));
      const data = bytesOf(204, 4096);
      const before = harness.redirects.length;
      const landed = await withPage(async (page) => {
        await page.evaluate((post) => {
          const form = document.createElement('form');
          form.method = 'POST';
          form.action = post.url;
          form.enctype = 'multipart/form-data';
          for (const [name, value] of Object.entries(post.fields)) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.appendChild(input);
          }
          const file = document.createElement('input');
          file.type = 'file';
          file.name = 'file';
          form.appendChild(file); // last: S3 ignores fields after the file
          const submit = document.createElement('button');
          submit.type = 'submit';
          submit.textContent = 'Upload';
          form.appendChild(submit);
          document.body.appendChild(form);
        }, post);
        await page.setInputFiles('input[type=file]', { name: 'photo 1.bin', mimeType: 'application/octet-stream', buffer: data });
        await Promise.all([page.waitForURL((u) => u.pathname === '/done', { timeout: 15_000 }), page.click('button[type=submit]')]);
        return { url: page.url(), text: await page.textContent('#done') };
      });
      assert.equal(landed.text, 'upload done', JSON.stringify(landed));
      assert.equal(harness.redirects.length, before + 1, JSON.stringify(harness.redirects));
      const key = `${redirectKeyPrefix}photo 1.bin`;
      assert.deepEqual(harness.redirects.at(-1), { bucket: env.bucket, key, etag: quotedMd5(data) });
      const obj = await sdkObject(env, key);
      assert.ok(obj.body.equals(data), 'stored bytes differ');
      assert.equal(obj.etag, quotedMd5(data));
    });

    it('GetObject (presigned, response-content-disposition and response-content-type) → page reads Content-Disposition (ExposeHeader), Content-Type and the bytes', async () => {
      const key = 'get/report.txt';
      const text = 'quarterly report\n'.repeat(100);
      await env.s3.send(new PutObjectCommand({ Bucket: env.bucket, Key: key, Body: text, ContentType: 'application/octet-stream' }));
      const disposition = 'attachment; filename="report 2026.txt"';
      const url = await presignGet(env, key, { ResponseContentDisposition: disposition, ResponseContentType: 'text/plain; charset=utf-8' });
      const r = await withPage((page) =>
        fetchInPage(page, url, { method: 'GET', headers: ['Content-Disposition', 'Content-Type', 'ETag', 'x-amz-request-id'] }),
      );
      assert.equal(r.error, undefined, why(r));
      assert.equal(r.status, 200, why(r));
      assert.equal(r.headers?.['Content-Disposition'], disposition, `Content-Disposition as read by the page\n${why(r)}`);
      assert.equal(r.headers?.['Content-Type'], 'text/plain; charset=utf-8', why(r));
      assert.equal(r.headers?.ETag, quotedMd5(text), why(r));
      assert.match(r.headers?.['x-amz-request-id'] ?? '', /^\S+$/, why(r));
      assert.equal(r.body, text);
      const obj = await sdkObject(env, key);
      assert.equal(obj.contentType, 'application/octet-stream', 'response-* overrides must not change the stored object');
    });

    it('GetObject (presigned, missing key) → page reads status 404 and <Code>NoSuchKey</Code> (CORS headers on errors)', async () => {
      await missingKeyCase(env);
    });

    it('PutObject (presigned) on a bucket without CORS rules and no server default → preflight refused (403 in the access log), the browser blocks it (fetch TypeError), no PUT sent, nothing stored', async () => {
      const url = await getSignedUrl(env.s3, new PutObjectCommand({ Bucket: plainBucket, Key: 'blocked.bin' }), { expiresIn: 600 });
      const from = env.server.logs().length;
      const r = await withPage((page) => fetchInPage(page, url, { method: 'PUT', seed: 5, size: 100, headers: ['ETag'] }));
      assert.match(r.error ?? '', /TypeError/, `expected a CORS failure, got ${why(r)}`);
      // The browser asked and the server refused: a preflight answered 403, and no PUT reached it.
      const lines = (await env.server.accessLog(from)).filter((l) => l.key === 'blocked.bin');
      assert.deepEqual(
        lines.map((l) => `${l.op} ${l.method} ${l.status}`),
        ['PreflightRequest OPTIONS 403'],
        JSON.stringify(lines),
      );
      const err = await errorOf(env.s3.send(new HeadObjectCommand({ Bucket: plainBucket, Key: 'blocked.bin' })));
      assert.equal(err.$metadata.httpStatusCode, 404, 'the failed preflight must keep the PUT from being sent');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('with the server-wide default (--cors-origins <page origin>, no bucket rules)', () => {
    const env = {} as Env;
    let forms: Record<string, Post>;

    before(async () => {
      env.server = await startServer({ args: ['--cors-origins', harness.origin] });
      env.s3 = testClient(env.server.url);
      env.bucket = newBucketName('browser-default');
      await env.s3.send(new CreateBucketCommand({ Bucket: env.bucket }));
      forms = await makeForms(env.server, env.bucket, [
        [
          'v4',
          true,
          'post/v4.txt',
          { success_action_status: '201', 'Content-Type': 'text/plain' },
          [{ success_action_status: '201' }, ['starts-with', '$Content-Type', 'text/']],
        ],
      ]);
    });

    after(async () => {
      env.s3?.destroy();
      await env.server?.stop();
    });

    it('PutObject (presigned, fetch PUT) → 200, ETag readable from JavaScript = MD5 (ETag in the default exposed headers)', async () => {
      await presignedPutCase(env, 'put/default.bin', 301, 70_000);
    });

    it('PostObject (boto3 s3v4 form, FormData, success_action_status=201) → page parses PostResponse, ETag = MD5', async () => {
      assert.ok(isSigV4Form(forms.v4!), JSON.stringify(forms.v4));
      await formDataPostCase(env, forms.v4!, 'post/v4.txt', 302);
    });

    it('GetObject (presigned, response-content-type) → page reads Content-Type, ETag and x-amz-request-id', async () => {
      const key = 'get/data.json';
      const text = '{"hello":"browser"}';
      await env.s3.send(new PutObjectCommand({ Bucket: env.bucket, Key: key, Body: text }));
      const url = await presignGet(env, key, { ResponseContentType: 'application/json' });
      const r = await withPage((page) => fetchInPage(page, url, { method: 'GET', headers: ['Content-Type', 'ETag', 'x-amz-request-id'] }));
      assert.equal(r.error, undefined, why(r));
      assert.equal(r.status, 200, why(r));
      assert.equal(r.headers?.['Content-Type'], 'application/json', why(r));
      assert.equal(r.headers?.ETag, quotedMd5(text), why(r));
      assert.match(r.headers?.['x-amz-request-id'] ?? '', /^\S+$/, why(r));
      assert.equal(r.body, text);
    });

    it('GetObject (presigned, missing key) → page reads status 404 and <Code>NoSuchKey</Code>', async () => {
      await missingKeyCase(env);
    });

    it('GetObject (presigned, missing bucket) → page reads status 404 and <Code>NoSuchBucket</Code> (the default covers missing buckets)', async () => {
      const url = await getSignedUrl(env.s3, new GetObjectCommand({ Bucket: newBucketName('browser-missing'), Key: 'k' }), { expiresIn: 600 });
      const r = await withPage((page) => fetchXmlInPage(page, url, ['Code']));
      assert.equal(r.error, undefined, why(r));
      assert.equal(r.status, 404, why(r));
      assert.equal(r.xml?.Code, 'NoSuchBucket', why(r));
    });
  });
});
