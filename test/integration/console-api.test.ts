// The console's HTTP API (docs/console.md, "How the console authenticates"): a real Strata process
// with its console listener, spoken to as the page does (Node's fetch, the session cookie, the CSRF
// header), with --workers 2 and --workers 1. Login (right, wrong, unknown, disabled key), the
// cookie's flags, the CSRF and Origin guards, anonymous callers refused; S3 and the admin API through
// the proxy (list, put, get, a multipart upload with a 10 MiB part, S3's XML errors) as root and as a
// read-only user; presigned links opened with curl and compared with aws-sdk-js's own presigner,
// and expiring; zips read back byte for byte with Python's zipfile; /api/explain against what S3
// then does for that user.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@aws-crypto/sha256-js';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { TestUser } from '../helpers/admin.js';
import { CURL, DEBIAN_PYTHON, newBucketName, run, writeSelfSignedCert } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
  bytes: Buffer;
}

/** The cookie a login set (name=value), and the whole Set-Cookie line. */
function cookieOf(headers: Headers): { cookie: string; line: string } {
  const line = headers.getSetCookie().find((l) => l.startsWith('strata_console='));
  assert.ok(line, 'a strata_console cookie is set');
  return { cookie: line.split(';')[0]!, line };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const workers of [2, 1]) {
  describe(`console API (--workers ${workers})`, () => {
    let server: RunningServer;
    let base: string;
    let rootCookie: string;
    let reader: TestUser;
    let lister: TestUser;
    const bucket = newBucketName('console');

    /** A console call as the page makes it: the session cookie and the CSRF header (unless told otherwise). */
    const call = async (
      method: string,
      path: string,
      o: { cookie?: string | undefined; body?: string | Buffer | object; csrf?: boolean; headers?: Record<string, string> } = {},
    ): Promise<Answer> => {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.cookie !== undefined) headers.cookie = o.cookie;
      if (o.csrf !== false) headers['x-strata-console'] = '1';
      let body: string | Blob | undefined;
      if (o.body !== undefined && !(typeof o.body === 'string' || Buffer.isBuffer(o.body))) {
        body = JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
      } else body = typeof o.body === 'string' ? o.body : o.body && new Blob([new Uint8Array(o.body)]);
      const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined && { body }), redirect: 'manual' });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      return { status: res.status, headers: res.headers, text, bytes, json: () => JSON.parse(text) as Record<string, unknown> };
    };
    const login = async (accessKeyId: string, secretAccessKey: string) => {
      const r = await call('POST', '/api/session', { body: { accessKeyId, secretAccessKey }, csrf: false });
      assert.equal(r.status, 200, r.text);
      return cookieOf(r.headers).cookie;
    };

    before(async () => {
      server = await startServer({
        console: true,
        args: ['--workers', String(workers)],
        users: [{ name: 'reader', policies: ['readonly'] }, { name: 'lister' }],
      });
      [reader, lister] = server.users as [TestUser, TestUser];
      assert.ok(server.consoleUrl, 'the listening line reports the console port');
      base = server.consoleUrl;
      assert.ok(server.stderr().includes(`The web console is at ${base}\n`), server.stderr());
      rootCookie = await login(ACCESS_KEY, SECRET_KEY);
    });
    after(async () => {
      await server?.stop();
    });

    it('serves the page (or the not-built page) with a strict CSP, index no-store, and the SPA fallback', async () => {
      for (const path of ['/', '/buckets/some/route']) {
        const r = await call('GET', path, { csrf: false });
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        const csp = r.headers.get('content-security-policy') ?? '';
        for (const part of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' blob: data:", "media-src 'self' blob: data:"])
          assert.ok(csp.includes(part), `CSP has ${part}: ${csp}`);
        assert.match(r.text, /<html/);
      }
    });

    it('logs in with the right key: JSON without the secret, an HttpOnly SameSite=Strict cookie (not Secure over HTTP)', async () => {
      const r = await call('POST', '/api/session', { body: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, csrf: false });
      assert.equal(r.status, 200);
      const body = r.json();
      assert.equal(body.accessKeyId, ACCESS_KEY);
      assert.equal(body.kind, 'root');
      assert.equal(body.arn, 'arn:aws:iam::000000000000:root');
      assert.ok(Date.parse(String(body.expiresAt)) > Date.now() + 11 * 3600_000);
      assert.ok(!r.text.includes(SECRET_KEY), 'no secret in the answer');
      const { cookie, line } = cookieOf(r.headers);
      assert.match(line, /; HttpOnly/);
      assert.match(line, /; SameSite=Strict/);
      assert.match(line, /; Path=\//);
      assert.doesNotMatch(line, /Secure/);
      assert.ok(
        !cookie.includes(SECRET_KEY) && !Buffer.from(cookie.split('=')[1]!, 'base64url').toString('latin1').includes(SECRET_KEY),
        'the cookie is sealed',
      );
      const who = await call('GET', '/api/session', { cookie, csrf: false });
      assert.equal(who.status, 200);
      assert.deepEqual(who.json(), body);
      const out = await call('DELETE', '/api/session', { cookie, csrf: false });
      assert.equal(out.status, 204);
      assert.match(cookieOf(out.headers).line, /Max-Age=0/);
    });

    it('refuses a wrong secret (SignatureDoesNotMatch), an unknown key (InvalidAccessKeyId), a bad body; GET without a session is NoSession', async () => {
      const wrong = await call('POST', '/api/session', { body: { accessKeyId: ACCESS_KEY, secretAccessKey: 'not-the-secret' }, csrf: false });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.json().code, 'SignatureDoesNotMatch');
      assert.equal(wrong.headers.getSetCookie().length, 0);
      const unknown = await call('POST', '/api/session', { body: { accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'whatever1' }, csrf: false });
      assert.equal(unknown.status, 403);
      assert.equal(unknown.json().code, 'InvalidAccessKeyId');
      const bad = await call('POST', '/api/session', { body: { accessKeyId: ACCESS_KEY }, csrf: false });
      assert.equal(bad.status, 400);
      const none = await call('GET', '/api/session', { csrf: false });
      assert.equal(none.status, 401);
      assert.equal(none.json().code, 'NoSession');
      const forged = await call('GET', '/api/session', { cookie: 'strata_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', csrf: false });
      assert.equal(forged.status, 401);
    });

    it('refuses anonymous callers on every API but the login, and a call without the CSRF header or from another origin', async () => {
      for (const [method, path] of [
        ['GET', '/api/s3/'],
        ['PUT', `/api/s3/${bucket}-anon`],
        ['GET', '/api/admin/v1/users'],
        ['POST', '/api/presign'],
        ['GET', `/api/zip?bucket=${bucket}`],
        ['POST', '/api/explain'],
      ] as const) {
        const r = await call(method, path);
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.json().code, 'NoSession');
      }
      for (const [method, path] of [
        ['PUT', `/api/s3/${bucket}-nohdr`],
        ['DELETE', `/api/s3/${bucket}`],
        ['GET', '/api/admin/v1/users'],
        ['POST', '/api/presign'],
        ['POST', '/api/explain'],
      ] as const) {
        const noHeader = await call(method, path, { cookie: rootCookie, csrf: false });
        assert.equal(noHeader.status, 403, `${method} ${path}`);
        assert.equal(noHeader.json().code, 'MissingCsrfHeader');
      }
      // Reads the page opens as links (downloads) need no header, and no other origin may embed them.
      const linkRead = await call('GET', '/api/s3/', { cookie: rootCookie, csrf: false });
      assert.equal(linkRead.status, 200);
      assert.equal(linkRead.headers.get('cross-origin-resource-policy'), 'same-origin');
      const foreign = await call('PUT', `/api/s3/${bucket}-x`, { cookie: rootCookie, headers: { origin: 'https://evil.example' } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.json().code, 'ForeignOrigin');
    });

    it('speaks S3 through /api/s3 as root: create, put, get (ETag readable), list, S3 XML errors', async () => {
      assert.equal((await call('PUT', `/api/s3/${bucket}`, { cookie: rootCookie })).status, 200);
      const put = await call('PUT', `/api/s3/${bucket}/docs/a.txt`, { cookie: rootCookie, body: 'hello console' });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.headers.get('etag'), `"${createHash('md5').update('hello console').digest('hex')}"`);
      const got = await call('GET', `/api/s3/${bucket}/docs/a.txt`, { cookie: rootCookie });
      assert.equal(got.text, 'hello console');
      assert.equal(got.headers.get('etag'), put.headers.get('etag'));
      const list = await call('GET', `/api/s3/${bucket}?list-type=2&delimiter=/&prefix=`, { cookie: rootCookie });
      assert.equal(list.status, 200);
      assert.match(list.text, /<CommonPrefixes><Prefix>docs\/<\/Prefix><\/CommonPrefixes>/);
      const buckets = await call('GET', '/api/s3/', { cookie: rootCookie });
      assert.match(buckets.text, new RegExp(`<Name>${bucket}</Name>`));
      const missing = await call('GET', `/api/s3/${bucket}/nope`, { cookie: rootCookie });
      assert.equal(missing.status, 404);
      assert.match(missing.headers.get('content-type') ?? '', /xml/);
      assert.match(missing.text, /<Code>NoSuchKey<\/Code>/);
      const noBucket = await call('GET', `/api/s3/${bucket}-missing?list-type=2`, { cookie: rootCookie });
      assert.equal(noBucket.status, 404);
      assert.match(noBucket.text, /<Code>NoSuchBucket<\/Code>/);
      // The object is the S3 address's too (one store).
      const s3 = testClient(server.url);
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/a.txt' }))).Body!.transformToString(), 'hello console');
      s3.destroy();
    });

    it('copy (a version restored), HEAD and bulk delete through the proxy, as the object browser uses them', async () => {
      assert.equal((await call('PUT', `/api/s3/${bucket}/copy/src.txt`, { cookie: rootCookie, body: 'source' })).status, 200);
      const copied = await call('PUT', `/api/s3/${bucket}/copy/dst.txt`, { cookie: rootCookie, headers: { 'x-amz-copy-source': `/${bucket}/copy/src.txt` } });
      assert.equal(copied.status, 200, copied.text);
      assert.match(copied.text, /<CopyObjectResult[ >]/);
      const head = await call('HEAD', `/api/s3/${bucket}/copy/dst.txt`, { cookie: rootCookie });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '6');
      const xml = '<Delete><Object><Key>copy/src.txt</Key></Object><Object><Key>copy/dst.txt</Key></Object></Delete>';
      const deleted = await call('POST', `/api/s3/${bucket}?delete`, { cookie: rootCookie, body: xml });
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal((deleted.text.match(/<Deleted>/g) ?? []).length, 2);
      assert.equal((await call('HEAD', `/api/s3/${bucket}/copy/dst.txt`, { cookie: rootCookie })).status, 404);
    });

    it('runs a multipart upload through the proxy (a 10 MiB part and a last one), read back byte for byte', async () => {
      const key = 'big/upload.bin';
      const created = await call('POST', `/api/s3/${bucket}/${key}?uploads`, { cookie: rootCookie });
      assert.equal(created.status, 200, created.text);
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!;
      const parts = [randomBytes(10 * 1024 * 1024), randomBytes(123_457)];
      const etags: string[] = [];
      for (const [i, part] of parts.entries()) {
        const r = await call('PUT', `/api/s3/${bucket}/${key}?partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`, {
          cookie: rootCookie,
          body: part,
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers.get('etag'), `"${createHash('md5').update(part).digest('hex')}"`);
        etags.push(r.headers.get('etag')!);
      }
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
      const done = await call('POST', `/api/s3/${bucket}/${key}?uploadId=${encodeURIComponent(uploadId)}`, { cookie: rootCookie, body: xml });
      assert.equal(done.status, 200, done.text);
      assert.match(done.text, /<CompleteMultipartUploadResult/);
      const got = await call('GET', `/api/s3/${bucket}/${key}`, { cookie: rootCookie });
      assert.equal(sha(got.bytes), sha(Buffer.concat(parts)));
      const badPart = await call('PUT', `/api/s3/${bucket}/${key}?partNumber=1&uploadId=nope`, { cookie: rootCookie, body: 'x' });
      assert.equal(badPart.status, 404);
      assert.match(badPart.text, /<Code>NoSuchUpload<\/Code>/);
    });

    it('speaks the admin API through /api/admin as root (JSON), and creates the lister policy', async () => {
      const users = await call('GET', '/api/admin/v1/users', { cookie: rootCookie });
      assert.equal(users.status, 200, users.text);
      const names = (users.json().users as Array<{ name: string }>).map((u) => u.name);
      assert.ok(names.includes('reader') && names.includes('lister'));
      const policy = {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
          { Sid: 'ReadDocs', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
          { Sid: 'NotBig', Effect: 'Deny', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/big/*` },
        ],
      };
      const made = await call('POST', '/api/admin/v1/policies', { cookie: rootCookie, body: { name: 'console-lister', document: policy } });
      assert.equal(made.status, 200, made.text);
      const attached = await call('POST', '/api/admin/v1/policies/console-lister/attach', { cookie: rootCookie, body: { user: 'lister' } });
      assert.equal(attached.status, 200, attached.text);
      const nope = await call('GET', '/api/admin/v1/nothing-here', { cookie: rootCookie });
      assert.equal(nope.status, 404);
    });

    it('a read-only user: reads go through, writes and admin calls are refused (AccessDenied)', async () => {
      const cookie = await login(reader.accessKey, reader.secretKey);
      const who = (await call('GET', '/api/session', { cookie, csrf: false })).json();
      assert.equal(who.user, 'reader');
      assert.equal(who.kind, 'user');
      assert.equal(who.arn, 'arn:aws:iam::000000000000:user/reader');
      assert.equal((await call('GET', `/api/s3/${bucket}/docs/a.txt`, { cookie })).text, 'hello console');
      const put = await call('PUT', `/api/s3/${bucket}/docs/b.txt`, { cookie, body: 'no' });
      assert.equal(put.status, 403);
      assert.match(put.text, /<Code>AccessDenied<\/Code>/);
      const mkb = await call('PUT', `/api/s3/${bucket}-reader`, { cookie });
      assert.equal(mkb.status, 403);
      const admin = await call('GET', '/api/admin/v1/users', { cookie });
      assert.equal(admin.status, 403);
      assert.equal(admin.json().Code, 'AccessDenied');
    });

    it('presigns GET and PUT links on the S3 address: curl opens them, they equal aws-sdk-js presigner output, they expire', async () => {
      const r = await call('POST', '/api/presign', { cookie: rootCookie, body: { bucket, key: 'docs/a.txt', method: 'GET', expiresSeconds: 300 } });
      assert.equal(r.status, 200, r.text);
      const { url, expiresAt } = r.json() as { url: string; expiresAt: string };
      assert.ok(url.startsWith(`${server.url}/${bucket}/docs/a.txt?`), url);
      const curl = await run(CURL, ['-sS', '-f', url]);
      assert.equal(curl.code, 0, curl.stderr);
      assert.equal(curl.stdout, 'hello console');
      // aws-sdk-js's S3 presigner on the same request (key, second, expiry): the very same signature.
      const signedAt = new Date(Date.parse(expiresAt) - 300_000);
      const presigner = new S3RequestPresigner({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, region: REGION, sha256: Sha256 });
      const theirs = await presigner.presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: server.host,
          port: server.port,
          path: `/${bucket}/docs/a.txt`,
          headers: { host: `${server.host}:${server.port}` },
          query: {},
        },
        { expiresIn: 300, signingDate: signedAt },
      );
      assert.equal(new URL(url).searchParams.get('X-Amz-Signature'), theirs.query?.['X-Amz-Signature']);
      // …and a link aws-sdk-js's presigner makes works on the S3 address as the link does.
      const sdk = testClient(server.url);
      const sdkUrl = await getSignedUrl(sdk, new GetObjectCommand({ Bucket: bucket, Key: 'docs/a.txt' }), { expiresIn: 300 });
      sdk.destroy();
      assert.equal(await (await fetch(sdkUrl)).text(), 'hello console');
      // PUT: curl uploads with it.
      const p = await call('POST', '/api/presign', { cookie: rootCookie, body: { bucket, key: 'shared/up.txt', method: 'PUT', expiresSeconds: 60 } });
      const dir = await mkdtemp(join(tmpdir(), 'console-presign-'));
      await writeFile(join(dir, 'up.txt'), 'uploaded by link');
      const up = await run(CURL, ['-sS', '-f', '-T', join(dir, 'up.txt'), (p.json() as { url: string }).url]);
      await rm(dir, { recursive: true, force: true });
      assert.equal(up.code, 0, up.stderr);
      assert.equal((await call('GET', `/api/s3/${bucket}/shared/up.txt`, { cookie: rootCookie })).text, 'uploaded by link');
      // Expiry: a one-second link is refused once its second is over.
      const short = await call('POST', '/api/presign', { cookie: rootCookie, body: { bucket, key: 'docs/a.txt', method: 'GET', expiresSeconds: 1 } });
      const shortUrl = (short.json() as { url: string }).url;
      await new Promise((res) => setTimeout(res, 2100));
      const late = await fetch(shortUrl);
      assert.equal(late.status, 403);
      assert.match(await late.text(), /Request has expired/);
      // Bad input and a method the principal may not use.
      assert.equal((await call('POST', '/api/presign', { cookie: rootCookie, body: { bucket, key: 'k', method: 'GET', expiresSeconds: 604801 } })).status, 400);
      const readerCookie = await login(reader.accessKey, reader.secretKey);
      const refused = await call('POST', '/api/presign', { cookie: readerCookie, body: { bucket, key: 'docs/x', method: 'PUT', expiresSeconds: 60 } });
      assert.equal(refused.status, 403);
      assert.equal(refused.json().code, 'AccessDenied');
      const allowed = await call('POST', '/api/presign', { cookie: readerCookie, body: { bucket, key: 'docs/a.txt', method: 'GET', expiresSeconds: 60 } });
      assert.equal(allowed.status, 200);
      const byReader = await fetch((allowed.json() as { url: string }).url);
      assert.equal(await byReader.text(), 'hello console');
    });

    it('zips a folder as a stream, byte for byte (Python zipfile); refused objects go to _skipped.txt; no ListBucket → 403', async () => {
      const files = new Map<string, Buffer>([
        ['zipme/one.txt', Buffer.from('one')],
        ['zipme/sub/two.bin', randomBytes(1024 * 1024 + 17)],
        ['zipme/sub/deeper/three.txt', Buffer.from('three, with ünïcode')],
      ]);
      for (const [k, v] of files) assert.equal((await call('PUT', `/api/s3/${bucket}/${k}`, { cookie: rootCookie, body: v })).status, 200);
      const dir = await mkdtemp(join(tmpdir(), 'console-zip-'));
      try {
        const readZip = async (bytes: Buffer): Promise<Record<string, string>> => {
          const path = join(dir, `${randomBytes(4).toString('hex')}.zip`);
          await writeFile(path, bytes);
          const py =
            'import hashlib,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))';
          const r = await run(DEBIAN_PYTHON, ['-c', py, path]);
          assert.equal(r.code, 0, r.stderr);
          return JSON.parse(r.stdout) as Record<string, string>;
        };
        const z = await call('GET', `/api/zip?bucket=${bucket}&prefix=zipme/`, { cookie: rootCookie });
        assert.equal(z.status, 200, z.text);
        assert.equal(z.headers.get('content-type'), 'application/zip');
        assert.match(z.headers.get('content-disposition') ?? '', /attachment; filename="zipme.zip"/);
        assert.deepEqual(await readZip(z.bytes), Object.fromEntries([...files].map(([k, v]) => [k.slice('zipme/'.length), sha(v)])));
        // The lister may list and read, but not under big/: that object is named in _skipped.txt.
        const listerCookie = await login(lister.accessKey, lister.secretKey);
        const whole = await call('GET', `/api/zip?bucket=${bucket}`, { cookie: listerCookie });
        assert.equal(whole.status, 200, whole.text);
        const names = await readZip(whole.bytes);
        assert.equal(names['zipme/sub/two.bin'], sha(files.get('zipme/sub/two.bin')!));
        assert.equal(names['big/upload.bin'], undefined);
        assert.ok(names['_skipped.txt'], 'a _skipped.txt entry');
        await writeFile(join(dir, 'whole.zip'), whole.bytes);
        const skipped = await run('/usr/bin/unzip', ['-p', join(dir, 'whole.zip'), '_skipped.txt']);
        assert.equal(skipped.code, 0, skipped.stderr);
        assert.match(skipped.stdout, /big\/upload\.bin\tAccessDenied/);
        // The reader may not list: the zip is refused before any byte.
        const readerCookie = await login(reader.accessKey, reader.secretKey);
        const refused = await call('GET', `/api/zip?bucket=${bucket}&prefix=zipme/`, { cookie: readerCookie });
        assert.equal(refused.status, 403);
        assert.equal(refused.json().code, 'AccessDenied');
        const missing = await call('GET', `/api/zip?bucket=${bucket}-none`, { cookie: rootCookie });
        assert.equal(missing.status, 404);
        assert.equal(missing.json().code, 'NoSuchBucket');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("explains a user's rights, and S3 then does exactly that for the user", async () => {
      const cases: Array<[string, string]> = [
        ['s3:GetObject', `arn:aws:s3:::${bucket}/docs/a.txt`],
        ['s3:GetObject', `arn:aws:s3:::${bucket}/big/upload.bin`],
        ['s3:PutObject', `arn:aws:s3:::${bucket}/docs/new.txt`],
      ];
      const r = await call('POST', '/api/explain', {
        cookie: rootCookie,
        body: { user: 'lister', actions: ['s3:GetObject', 's3:PutObject'], resources: cases.map((c) => c[1]) },
      });
      assert.equal(r.status, 200, r.text);
      const results = (
        r.json() as {
          results: Array<{ action: string; resource: string; decision: string; matched: Array<{ policy: string; statementSid?: string; effect: string }> }>;
        }
      ).results;
      const decision = (action: string, resource: string) => results.find((x) => x.action === action && x.resource === resource)!;
      assert.equal(decision(...cases[0]!).decision, 'allow');
      assert.deepEqual(decision(...cases[0]!).matched, [{ policy: 'console-lister', source: 'identity', statementSid: 'ReadDocs', effect: 'Allow' }]);
      assert.equal(decision(...cases[1]!).decision, 'deny');
      assert.ok(decision(...cases[1]!).matched.some((m) => m.statementSid === 'NotBig' && m.effect === 'Deny'));
      assert.equal(decision(...cases[2]!).decision, 'implicitDeny');
      assert.deepEqual(decision(...cases[2]!).matched, []);
      // What S3 does for the lister, with its own key.
      const s3 = testClient(server.url, { credentials: { accessKeyId: lister.accessKey, secretAccessKey: lister.secretKey } });
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/a.txt' }))).Body!.transformToString(), 'hello console');
      assert.equal((await errorOf(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/upload.bin' })))).name, 'AccessDenied');
      assert.equal((await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'docs/new.txt', Body: 'x' })))).name, 'AccessDenied');
      s3.destroy();
      // The caller's own rights need no admin:GetUser; another user's do.
      const readerCookie = await login(reader.accessKey, reader.secretKey);
      const own = await call('POST', '/api/explain', { cookie: readerCookie, body: { actions: ['s3:GetObject'], resources: [`${bucket}/docs/a.txt`] } });
      assert.equal(own.status, 200, own.text);
      assert.equal((own.json() as { results: Array<{ decision: string }> }).results[0]!.decision, 'allow');
      const other = await call('POST', '/api/explain', { cookie: readerCookie, body: { user: 'lister', actions: ['s3:GetObject'], resources: ['*'] } });
      assert.equal(other.status, 403);
      const bad = await call('POST', '/api/explain', { cookie: rootCookie, body: { actions: ['iam:Nope'], resources: ['*'] } });
      assert.equal(bad.status, 400);
    });

    it("explains a bucket policy's grant too, and S3 then honours it for that user through the proxy", async () => {
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ReaderDrops',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:user/reader' },
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${bucket}/drop/*`,
          },
        ],
      };
      const put = await call('PUT', `/api/s3/${bucket}?policy`, { cookie: rootCookie, body: JSON.stringify(policy) });
      assert.equal(put.status, 204, put.text);
      const r = await call('POST', '/api/explain', {
        cookie: rootCookie,
        body: { user: 'reader', actions: ['s3:PutObject'], resources: [`${bucket}/drop/x.txt`, `${bucket}/docs/x.txt`] },
      });
      assert.equal(r.status, 200, r.text);
      const [drop, docs] = (r.json() as { results: Array<{ decision: string; matched: Array<{ source: string; statementSid?: string }> }> }).results;
      assert.equal(drop!.decision, 'allow');
      assert.deepEqual(
        drop!.matched.map((m) => [m.source, m.statementSid]),
        [['resource', 'ReaderDrops']],
      );
      assert.equal(docs!.decision, 'implicitDeny');
      const cookie = await login(reader.accessKey, reader.secretKey);
      assert.equal((await call('PUT', `/api/s3/${bucket}/drop/x.txt`, { cookie, body: 'dropped' })).status, 200);
      assert.equal((await call('PUT', `/api/s3/${bucket}/docs/x.txt`, { cookie, body: 'no' })).status, 403);
      assert.equal((await call('DELETE', `/api/s3/${bucket}?policy`, { cookie: rootCookie })).status, 204);
    });

    it('logs in with STS credentials: the session is the role, capped by the token; links carry the token; a deleted role ends it', async () => {
      const role = `console-role-${workers}`;
      const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] };
      const made = await call('POST', '/api/admin/v1/roles', { cookie: rootCookie, body: { name: role, trustPolicy: trust, policies: ['readonly'] } });
      assert.equal(made.status, 200, made.text);
      const sts = new STSClient({
        endpoint: server.url,
        region: REGION,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        maxAttempts: 1,
      });
      const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::000000000000:role/${role}`, RoleSessionName: 'web', DurationSeconds: 900 }));
      sts.destroy();
      const c = out.Credentials!;
      const wrong = await call('POST', '/api/session', {
        body: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: `${c.SessionToken}x` },
        csrf: false,
      });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.json().code, 'InvalidToken');
      const r = await call('POST', '/api/session', {
        body: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
        csrf: false,
      });
      assert.equal(r.status, 200, r.text);
      const who = r.json();
      assert.equal(who.kind, 'user');
      assert.equal(who.user, `${role}/web`);
      assert.equal(who.arn, `arn:aws:sts::000000000000:assumed-role/${role}/web`);
      // (The STS answer's Expiration has whole seconds.)
      assert.ok(Date.parse(String(who.expiresAt)) < c.Expiration!.getTime() + 1000, 'capped by the STS session');
      const cookie = cookieOf(r.headers).cookie;
      assert.equal((await call('GET', `/api/s3/${bucket}/docs/a.txt`, { cookie })).text, 'hello console');
      assert.equal((await call('PUT', `/api/s3/${bucket}/docs/sts.txt`, { cookie, body: 'x' })).status, 403);
      const link = await call('POST', '/api/presign', { cookie, body: { bucket, key: 'docs/a.txt', method: 'GET', expiresSeconds: 604800 } });
      assert.equal(link.status, 200, link.text);
      const { url, expiresAt } = link.json() as { url: string; expiresAt: string };
      assert.equal(new URL(url).searchParams.get('X-Amz-Security-Token'), c.SessionToken);
      assert.ok(Date.parse(expiresAt) < c.Expiration!.getTime() + 1000, 'the link does not outlive the session');
      assert.equal(await (await fetch(url)).text(), 'hello console');
      assert.equal((await call('DELETE', `/api/admin/v1/roles/${role}`, { cookie: rootCookie })).status, 200);
      assert.equal((await call('GET', `/api/s3/${bucket}/docs/a.txt`, { cookie })).status, 401);
    });

    it('a disabled key or user ends its sessions at once, and can no longer log in', async () => {
      const cookie = await login(reader.accessKey, reader.secretKey);
      assert.equal((await call('GET', `/api/s3/${bucket}/docs/a.txt`, { cookie })).status, 200);
      const off = await call('POST', `/api/admin/v1/keys/${reader.accessKey}/disable`, { cookie: rootCookie });
      assert.equal(off.status, 200, off.text);
      const after = await call('GET', `/api/s3/${bucket}/docs/a.txt`, { cookie });
      assert.equal(after.status, 401);
      assert.equal(after.json().code, 'NoSession');
      assert.equal((await call('GET', '/api/session', { cookie, csrf: false })).status, 401);
      const again = await call('POST', '/api/session', { body: { accessKeyId: reader.accessKey, secretAccessKey: reader.secretKey }, csrf: false });
      assert.equal(again.status, 403);
      assert.equal(again.json().code, 'InvalidAccessKeyId');
      // A disabled user: its sessions end too.
      const listerCookie = await login(lister.accessKey, lister.secretKey);
      assert.equal((await call('POST', '/api/admin/v1/users/lister/disable', { cookie: rootCookie })).status, 200);
      assert.equal((await call('GET', '/api/session', { cookie: listerCookie, csrf: false })).status, 401);
      // Nothing the server wrote holds a user's secret (the default root pair is printed on purpose, as a warning).
      const logs = server.logs();
      for (const secret of [reader.secretKey, lister.secretKey]) assert.ok(!logs.includes(secret), 'no secret in the logs');
    });
  });
}

describe('console API over TLS (--certs)', () => {
  let server: RunningServer;
  let certDir: string;
  const bucket = newBucketName('console-tls');
  /** curl trusting the test certificate: the status line, headers and body. */
  const curl = (args: string[]) => run(CURL, ['-sS', '--cacert', join(certDir, 'public.crt'), '-D', '-', ...args]);

  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'console-tls-'));
    await writeSelfSignedCert(certDir);
    server = await startServer({ console: true, tls: true, args: ['--certs', certDir, '--workers', '1'] });
  });
  after(async () => {
    await server?.stop();
    await rm(certDir, { recursive: true, force: true });
  });

  it('serves HTTPS with the S3 certificate: the cookie is Secure; S3, presign and zip work through it', async () => {
    const base = server.consoleUrl!;
    assert.match(base, /^https:\/\//);
    const login = await curl([
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }),
      `${base}/api/session`,
    ]);
    assert.equal(login.code, 0, login.stderr);
    const line = /^set-cookie: (strata_console=[^\r\n]+)/im.exec(login.stdout)?.[1] ?? '';
    assert.match(line, /; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+; Secure$/);
    const cookie = line.split(';')[0]!;
    const auth = ['-H', `cookie: ${cookie}`, '-H', 'x-strata-console: 1'];
    assert.match((await curl([...auth, '-X', 'PUT', `${base}/api/s3/${bucket}`])).stdout, /^HTTP\/1\.1 200/);
    assert.match((await curl([...auth, '-X', 'PUT', '--data-binary', 'over tls', `${base}/api/s3/${bucket}/t/x.txt`])).stdout, /^HTTP\/1\.1 200/);
    const link = await curl([
      ...auth,
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({ bucket, key: 't/x.txt', method: 'GET', expiresSeconds: 60 }),
      `${base}/api/presign`,
    ]);
    const url = (JSON.parse(link.stdout.slice(link.stdout.indexOf('\r\n\r\n') + 4)) as { url: string }).url;
    assert.ok(url.startsWith(`${server.url}/${bucket}/t/x.txt?`), url);
    const opened = await run(CURL, ['-sS', '-f', '--cacert', join(certDir, 'public.crt'), url]);
    assert.equal(opened.stdout, 'over tls');
    const zipPath = join(certDir, 't.zip');
    const zip = await run(CURL, ['-sS', '-f', '--cacert', join(certDir, 'public.crt'), ...auth, '-o', zipPath, `${base}/api/zip?bucket=${bucket}&prefix=t/`]);
    assert.equal(zip.code, 0, zip.stderr);
    const content = await run('/usr/bin/unzip', ['-p', zipPath, 'x.txt']);
    assert.equal(content.stdout, 'over tls');
  });
});
