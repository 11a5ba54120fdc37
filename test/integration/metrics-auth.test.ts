// Who may read /metrics (--metrics-auth) and the S3 namespace it must not shadow: sigv4 (the
// default: root or a key allowed admin:Prometheus; anonymous, a wrong signature and a user without
// the action refused), bearer (right, wrong and missing token), public; bucket `metrics` takes the
// path back for S3; a query or a virtual-hosted Host stays S3's; the admin calls' own refusals.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { adminCall } from '../helpers/admin.js';
import { CURL, run } from '../helpers/clients.js';
import { parsePrometheus, scrape, value } from '../helpers/prometheus.js';
import { testClient } from '../helpers/s3.js';
import { ACCESS_KEY, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

const ROOT = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

describe('--metrics-auth sigv4 (the default)', () => {
  let server: RunningServer;
  let s3: S3Client;
  before(async () => {
    server = await startServer({
      args: ['--domain', 'localhost'],
      console: true,
      users: [
        { name: 'ops', policies: ['diagnostics'] },
        { name: 'reader', policies: ['readonly'] },
      ],
    });
    s3 = testClient(server.url);
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('root → 200 in the text format; a user whose policies allow admin:Prometheus → 200', async () => {
    for (const keys of [ROOT, server.users[0]!]) {
      const r = await scrape(server.url, { keys });
      assert.equal(r.status, 200, r.text);
      assert.equal(value(parsePrometheus(r.text), 'strata_build_info', { version: '0.1.0' }), 1);
    }
  });

  it('the console address serves /metrics too, with the same authentication (root and admin:Prometheus 200, anonymous 401, reader 403)', async () => {
    const consoleUrl = server.consoleUrl!;
    for (const keys of [ROOT, server.users[0]!]) {
      const r = await scrape(consoleUrl, { keys });
      assert.equal(r.status, 200, r.text);
      assert.equal(value(parsePrometheus(r.text), 'strata_build_info', { version: '0.1.0' }), 1);
    }
    assert.equal((await scrape(consoleUrl)).status, 401);
    assert.equal((await scrape(consoleUrl, { keys: server.users[1]! })).status, 403);
  });

  it('anonymous → 401; a user without admin:Prometheus → 403; a wrong secret → 403 SignatureDoesNotMatch; a bearer token → 403', async () => {
    const anonymous = await scrape(server.url);
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.text, /strata_/);
    const reader = await scrape(server.url, { keys: server.users[1]! });
    assert.equal(reader.status, 403);
    assert.match(reader.text, /AccessDenied/);
    const wrong = await scrape(server.url, { keys: { accessKey: ACCESS_KEY, secretKey: 'not-the-secret' } });
    assert.equal(wrong.status, 403);
    assert.match(wrong.text, /SignatureDoesNotMatch/);
    assert.equal((await scrape(server.url, { headers: { authorization: 'Bearer whatever-token' } })).status, 403);
  });

  it('admin usage, metrics/history and jobs: admin:ServerInfo (the diagnostics policy), refused to a reader and to anonymous', async () => {
    for (const path of ['usage', 'metrics/history', 'jobs']) {
      assert.equal((await adminCall(server.url, server.users[0]!, 'GET', path)).status, 200, path);
      const refused = await adminCall(server.url, server.users[1]!, 'GET', path);
      assert.equal(refused.status, 403, path);
      assert.equal(refused.body.Code, 'AccessDenied');
      assert.equal((await adminCall(server.url, undefined, 'GET', path)).status, 403, path);
      assert.equal((await adminCall(server.url, ROOT, 'POST', path, {})).status, 405, path);
    }
  });

  it('bucket `metrics` exists → GET /metrics is its ListObjects (signed or anonymous); deleted → /metrics again', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'metrics' }));
    try {
      const listed = await scrape(server.url, { keys: ROOT });
      assert.equal(listed.status, 200);
      assert.match(listed.text, /<ListBucketResult/);
      const anonymous = await scrape(server.url);
      assert.equal(anonymous.status, 403);
      assert.match(anonymous.text, /<Code>AccessDenied<\/Code>/);
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: 'metrics' }));
    }
    assert.equal((await scrape(server.url, { keys: ROOT })).status, 200);
  });

  it('S3 keeps what is not exactly GET /metrics: a query, a trailing slash, a virtual-hosted Host, another method', async () => {
    const query = await scrape(server.url, { keys: ROOT, path: '/metrics?list-type=2' });
    assert.equal(query.status, 404);
    assert.match(query.text, /<Code>NoSuchBucket<\/Code>/);
    const slash = await scrape(server.url, { keys: ROOT, path: '/metrics/' });
    assert.match(slash.text, /<Code>NoSuchBucket<\/Code>/);
    const vhost = await run(CURL, ['-sS', '-H', `Host: b.localhost:${server.port}`, `${server.url}/metrics`]);
    assert.match(vhost.stdout, /<Error>/);
    const put = await run(CURL, ['-sS', '-X', 'PUT', `${server.url}/metrics`]);
    assert.match(put.stdout, /<Code>AccessDenied<\/Code>/);
  });
});

describe('--metrics-auth bearer (token from a file) and public', () => {
  let bearer: RunningServer;
  let open: RunningServer;
  const token = 'prometheus-scrape-token-1234';
  before(async () => {
    open = await startServer({ args: ['--workers', '1', '--metrics-auth', 'public'] });
    const file = join(open.dataDir, 'token');
    await writeFile(file, `${token}\n`);
    bearer = await startServer({ args: ['--workers', '1', '--metrics-auth', 'bearer', '--metrics-token-file', file] });
  });
  after(async () => {
    await bearer?.stop();
    await open?.stop();
  });

  it('bearer: the right token → 200; a wrong one → 403; none (or a SigV4 signature) → 401 with a Bearer challenge', async () => {
    const ok = await run(CURL, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${token}`, `${bearer.url}/metrics`]);
    assert.equal(ok.stdout, '200');
    assert.equal((await scrape(bearer.url, { headers: { authorization: `Bearer ${token}x` } })).status, 403);
    assert.equal((await scrape(bearer.url, { headers: { authorization: 'Bearer short' } })).status, 403);
    const none = await run(CURL, ['-sS', '-i', `${bearer.url}/metrics`]);
    assert.match(none.stdout, /^HTTP\/1\.1 401/);
    assert.match(none.stdout, /www-authenticate: Bearer realm="strata metrics"/i);
    assert.equal((await scrape(bearer.url, { keys: ROOT })).status, 401);
  });

  it('public: anyone → 200 (GET and HEAD)', async () => {
    const r = await scrape(open.url);
    assert.equal(r.status, 200);
    assert.equal(value(parsePrometheus(r.text), 'strata_workers'), 1);
    const head = await run(CURL, ['-sS', '-I', `${open.url}/metrics`]);
    assert.match(head.stdout, /^HTTP\/1\.1 200/);
  });

  it('a bearer configuration without its token, or with an empty token file, is refused at start, naming the flag', async () => {
    const bad = await startServer({ args: ['--metrics-auth', 'bearer'] }).then(
      async (s) => (await s.stop(), 'started'),
      (err: Error) => err.message,
    );
    assert.match(bad, /--metrics-token/);
    const empty = join(open.dataDir, 'empty-token');
    await writeFile(empty, '\n');
    const refused = await startServer({ args: ['--workers', '1', '--metrics-auth', 'bearer', '--metrics-token-file', empty] }).then(
      async (s) => (await s.stop(), 'started'),
      (err: Error) => err.message,
    );
    assert.match(refused, /--metrics-token-file .*at least 8 characters/);
  });
});
