// CORS against a real Strata process: PutBucketCors/GetBucketCors/DeleteBucketCors through
// aws-sdk-js v3, preflights and actual requests carrying `Origin` as raw HTTP (what a browser
// sends: the signature never covers Origin), error answers with CORS headers, and the
// server-wide default (--cors-origins).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { newBucketName } from '../helpers/clients.js';
import { testClient as client, errorOf, testSigner } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const APP = 'https://app.example.com';
const UPLOADER = 'http://localhost:5173';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const signer = testSigner;

/**
 * One raw request. `sign` signs it with SigV4 first; `unsigned` headers (Origin, the preflight's
 * Access-Control-Request-*) are added after signing, as a browser adds them.
 */
async function raw(
  server: RunningServer,
  method: string,
  path: string,
  opts: { sign?: boolean; unsigned?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const [pathname = '', search = ''] = path.split('?');
  const query: Record<string, string> = {};
  for (const part of search.split('&').filter(Boolean)) {
    const [k = '', v = ''] = part.split('=');
    query[decodeURIComponent(k)] = decodeURIComponent(v);
  }
  let headers: Record<string, string> = { host: `${server.host}:${server.port}` };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  if (opts.sign) {
    headers['x-amz-content-sha256'] = createHash('sha256')
      .update(opts.body ?? '')
      .digest('hex');
    const signed = await signer.sign({ method, protocol: 'http:', hostname: server.host, port: server.port, path: pathname, query, headers, body: opts.body });
    headers = signed.headers;
  }
  Object.assign(headers, opts.unsigned ?? {});
  return new Promise<RawResponse>((resolve, reject) => {
    const req = http.request({ host: server.host, port: server.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const xmlText = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];
const exposed = (r: RawResponse) => String(r.headers['access-control-expose-headers'] ?? '').split(/\s*,\s*/);

describe('CORS (bucket configuration)', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('cors');
  const plain = newBucketName('cors-plain');

  before(async () => {
    server = await startServer();
    s3 = client(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photo.jpg', Body: 'jpeg bytes', ContentType: 'image/jpeg' }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              ID: 'uploads',
              AllowedOrigins: [UPLOADER],
              AllowedMethods: ['PUT', 'POST', 'DELETE'],
              AllowedHeaders: ['Content-Type', 'x-amz-*', 'Authorization'],
              ExposeHeaders: ['ETag', 'x-amz-request-id'],
              MaxAgeSeconds: 600,
            },
            { ID: 'reads', AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['GET', 'HEAD'], ExposeHeaders: ['ETag', 'Content-Length'] },
          ],
        },
      }),
    );
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('GetBucketCors › after PutBucketCors → the same rules back', async () => {
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.equal(got.$metadata.httpStatusCode, 200);
    assert.deepEqual(got.CORSRules, [
      {
        ID: 'uploads',
        AllowedOrigins: [UPLOADER],
        AllowedMethods: ['PUT', 'POST', 'DELETE'],
        AllowedHeaders: ['Content-Type', 'x-amz-*', 'Authorization'],
        ExposeHeaders: ['ETag', 'x-amz-request-id'],
        MaxAgeSeconds: 600,
      },
      { ID: 'reads', AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['GET', 'HEAD'], ExposeHeaders: ['ETag', 'Content-Length'] },
    ]);
  });

  it('PutBucketCors/DeleteBucketCors › round trip → 200, then 204, then GetBucketCors 404 NoSuchCORSConfiguration', async () => {
    const b = newBucketName('cors-rt');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const noneYet = await errorOf(s3.send(new GetBucketCorsCommand({ Bucket: b })));
    assert.equal(noneYet.name, 'NoSuchCORSConfiguration');
    assert.equal(noneYet.$metadata.httpStatusCode, 404);
    const put = await s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules, [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }]);
    const del = await s3.send(new DeleteBucketCorsCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const gone = await errorOf(s3.send(new GetBucketCorsCommand({ Bucket: b })));
    assert.equal(gone.name, 'NoSuchCORSConfiguration');
  });

  it('PutBucketCors › unsupported method or two wildcards → 400 InvalidRequest; missing bucket → 404 NoSuchBucket', async () => {
    const patch = await errorOf(
      s3.send(new PutBucketCorsCommand({ Bucket: plain, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] } })),
    );
    assert.equal(patch.name, 'InvalidRequest');
    assert.equal(patch.$metadata.httpStatusCode, 400);
    const stars = await errorOf(
      s3.send(
        new PutBucketCorsCommand({ Bucket: plain, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://*.*.com'], AllowedMethods: ['GET'] }] } }),
      ),
    );
    assert.equal(stars.name, 'InvalidRequest');
    const missing = await errorOf(
      s3.send(
        new PutBucketCorsCommand({ Bucket: newBucketName('nope'), CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }),
      ),
    );
    assert.equal(missing.name, 'NoSuchBucket');
    // Nothing was stored by the refused requests.
    assert.equal((await errorOf(s3.send(new GetBucketCorsCommand({ Bucket: plain })))).name, 'NoSuchCORSConfiguration');
  });

  it('PutBucketCors › configuration without rules (raw XML) → 400 MalformedXML', async () => {
    const r = await raw(server, 'PUT', `/${plain}?cors`, {
      sign: true,
      body: '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CORSConfiguration>',
    });
    assert.equal(r.status, 400, r.body);
    assert.equal(xmlText(r.body, 'Code'), 'MalformedXML');
  });

  it("Preflight › allowed origin, method and headers → 200 with the rule's CORS headers", async () => {
    const r = await raw(server, 'OPTIONS', `/${bucket}/uploads/a.bin`, {
      unsigned: {
        origin: UPLOADER,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'Content-Type, X-Amz-Date, x-amz-content-sha256, authorization',
      },
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], UPLOADER);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-allow-methods'], 'PUT, POST, DELETE');
    assert.equal(r.headers['access-control-allow-headers'], 'content-type, x-amz-date, x-amz-content-sha256, authorization');
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.deepEqual(exposed(r), ['ETag', 'x-amz-request-id']);
    assert.match(String(r.headers['vary']), /Origin/);
    assert.equal(r.headers['content-length'], '0');
  });

  it('Preflight › wildcard origin rule matches a subdomain → 200 echoing that origin', async () => {
    const r = await raw(server, 'OPTIONS', `/${bucket}/photo.jpg`, { unsigned: { origin: 'https://cdn.example.com', 'access-control-request-method': 'GET' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], 'https://cdn.example.com');
    assert.equal(r.headers['access-control-allow-methods'], 'GET, HEAD');
  });

  it('Preflight › origin not allowed → 403 AccessForbidden without Allow-Origin', async () => {
    const r = await raw(server, 'OPTIONS', `/${bucket}/photo.jpg`, {
      unsigned: { origin: 'https://evil.example.org', 'access-control-request-method': 'GET' },
    });
    assert.equal(r.status, 403);
    assert.equal(xmlText(r.body, 'Code'), 'AccessForbidden');
    assert.match(xmlText(r.body, 'Message') ?? '', /^CORSResponse: This CORS request is not allowed\./);
    assert.equal(xmlText(r.body, 'Method'), 'GET');
    assert.equal(xmlText(r.body, 'ResourceType'), 'OBJECT');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  it('Preflight › method or a requested header not allowed by any rule → 403 AccessForbidden', async () => {
    const method = await raw(server, 'OPTIONS', `/${bucket}/x`, { unsigned: { origin: 'https://www.example.com', 'access-control-request-method': 'PUT' } });
    assert.equal(method.status, 403);
    const hdr = await raw(server, 'OPTIONS', `/${bucket}/x`, {
      unsigned: { origin: UPLOADER, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-custom-thing' },
    });
    assert.equal(hdr.status, 403);
    assert.equal(xmlText(hdr.body, 'Code'), 'AccessForbidden');
  });

  it('Preflight › without Origin or without Access-Control-Request-Method → 400 BadRequest', async () => {
    const noOrigin = await raw(server, 'OPTIONS', `/${bucket}/x`, { unsigned: { 'access-control-request-method': 'GET' } });
    assert.equal(noOrigin.status, 400);
    assert.equal(xmlText(noOrigin.body, 'Code'), 'BadRequest');
    const noMethod = await raw(server, 'OPTIONS', `/${bucket}/x`, { unsigned: { origin: APP } });
    assert.equal(noMethod.status, 400);
    assert.equal(xmlText(noMethod.body, 'Code'), 'BadRequest');
  });

  it('Preflight › bucket without CORS configuration → 403 AccessForbidden; missing bucket → 404 NoSuchBucket', async () => {
    const none = await raw(server, 'OPTIONS', `/${plain}/x`, { unsigned: { origin: APP, 'access-control-request-method': 'GET' } });
    assert.equal(none.status, 403);
    assert.equal(xmlText(none.body, 'Code'), 'AccessForbidden');
    assert.match(xmlText(none.body, 'Message') ?? '', /CORS is not enabled for this bucket/);
    const missing = await raw(server, 'OPTIONS', `/${newBucketName('nope')}/x`, { unsigned: { origin: APP, 'access-control-request-method': 'GET' } });
    assert.equal(missing.status, 404);
    assert.equal(xmlText(missing.body, 'Code'), 'NoSuchBucket');
  });

  it('GetObject › signed, with an allowed Origin → 200 with Allow-Origin and ETag in Expose-Headers', async () => {
    const r = await raw(server, 'GET', `/${bucket}/photo.jpg`, { sign: true, unsigned: { origin: 'https://www.example.com' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'jpeg bytes');
    assert.equal(r.headers['access-control-allow-origin'], 'https://www.example.com');
    assert.ok(exposed(r).includes('ETag'), String(r.headers['access-control-expose-headers']));
    assert.equal(r.headers['access-control-allow-methods'], 'GET, HEAD');
    assert.match(String(r.headers['vary']), /Origin/);
    assert.ok(r.headers['etag']);
  });

  it('GetObject › missing key, with an allowed Origin → 404 NoSuchKey that still has Allow-Origin', async () => {
    const r = await raw(server, 'GET', `/${bucket}/no-such-key`, { sign: true, unsigned: { origin: 'https://www.example.com' } });
    assert.equal(r.status, 404);
    assert.equal(xmlText(r.body, 'Code'), 'NoSuchKey');
    assert.equal(r.headers['access-control-allow-origin'], 'https://www.example.com');
    assert.ok(exposed(r).includes('ETag'));
  });

  it('GetObject › anonymous, with an allowed Origin → 403 AccessDenied that still has Allow-Origin', async () => {
    const r = await raw(server, 'GET', `/${bucket}/photo.jpg`, { unsigned: { origin: 'https://www.example.com' } });
    assert.equal(r.status, 403);
    assert.equal(xmlText(r.body, 'Code'), 'AccessDenied');
    assert.equal(r.headers['access-control-allow-origin'], 'https://www.example.com');
  });

  it('PutObject › allowed Origin for PUT → 200 with Allow-Origin and ETag exposed (browser uploaders read it)', async () => {
    const r = await raw(server, 'PUT', `/${bucket}/uploads/b.txt`, { sign: true, body: 'hello', unsigned: { origin: UPLOADER } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], UPLOADER);
    assert.deepEqual(exposed(r), ['ETag', 'x-amz-request-id']);
    assert.equal(r.headers['etag'], '"5d41402abc4b2a76b9719d911017c592"');
  });

  it('GetObject › Origin not allowed for the method, or no Origin → no Allow-Origin', async () => {
    const wrongOrigin = await raw(server, 'GET', `/${bucket}/photo.jpg`, { sign: true, unsigned: { origin: 'https://evil.example.org' } });
    assert.equal(wrongOrigin.status, 200);
    assert.equal(wrongOrigin.headers['access-control-allow-origin'], undefined);
    assert.match(String(wrongOrigin.headers['vary']), /Origin/);
    // The uploads rule allows this origin, but not GET.
    const wrongMethod = await raw(server, 'GET', `/${bucket}/photo.jpg`, { sign: true, unsigned: { origin: UPLOADER } });
    assert.equal(wrongMethod.headers['access-control-allow-origin'], undefined);
    const noOrigin = await raw(server, 'GET', `/${bucket}/photo.jpg`, { sign: true });
    assert.equal(noOrigin.status, 200);
    assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
  });

  it('GetObject › bucket without CORS configuration and no server default → no CORS headers', async () => {
    const r = await raw(server, 'GET', `/${plain}/x`, { sign: true, unsigned: { origin: APP } });
    assert.equal(r.status, 404);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.headers['access-control-expose-headers'], undefined);
  });
});

describe('CORS (server-wide default, --cors-origins)', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('cors-default');
  const own = newBucketName('cors-own');

  before(async () => {
    server = await startServer({ args: ['--cors-origins', '*'] });
    s3 = client(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: own }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'data' }));
    await s3.send(new PutBucketCorsCommand({ Bucket: own, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [APP], AllowedMethods: ['GET'] }] } }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('GetObject › bucket without its own configuration, any Origin → Allow-Origin * and the S3 headers exposed', async () => {
    const r = await raw(server, 'GET', `/${bucket}/k`, { sign: true, unsigned: { origin: 'http://anything.test:8080' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    const list = exposed(r);
    for (const h of ['ETag', 'x-amz-version-id', 'x-amz-request-id', 'x-amz-checksum-crc32', 'x-amz-checksum-crc64nvme', 'Content-Range', 'Last-Modified']) {
      assert.ok(list.includes(h), `${h} in ${list.join(',')}`);
    }
    assert.equal(r.headers['access-control-allow-methods'], 'GET, PUT, POST, DELETE, HEAD');
  });

  it('Preflight › bucket without its own configuration → 200 allowing the requested headers', async () => {
    const r = await raw(server, 'OPTIONS', `/${bucket}/upload?partNumber=1&uploadId=x`, {
      unsigned: {
        origin: 'http://anything.test:8080',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization,x-amz-date,x-amz-checksum-crc32',
      },
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-headers'], 'authorization, x-amz-date, x-amz-checksum-crc32');
  });

  it('Preflight and GetObject › bucket with its own configuration → its rules, not the default', async () => {
    const other = await raw(server, 'OPTIONS', `/${own}/k`, { unsigned: { origin: 'http://anything.test:8080', 'access-control-request-method': 'GET' } });
    assert.equal(other.status, 403);
    const allowed = await raw(server, 'OPTIONS', `/${own}/k`, { unsigned: { origin: APP, 'access-control-request-method': 'GET' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], APP);
    const get = await raw(server, 'GET', `/${own}/k`, { sign: true, unsigned: { origin: 'http://anything.test:8080' } });
    assert.equal(get.headers['access-control-allow-origin'], undefined);
  });

  it('Errors › missing bucket and ListBuckets with Origin → Allow-Origin from the default', async () => {
    const missing = await raw(server, 'GET', `/${newBucketName('nope')}/k`, { sign: true, unsigned: { origin: 'http://anything.test:8080' } });
    assert.equal(missing.status, 404);
    assert.equal(xmlText(missing.body, 'Code'), 'NoSuchBucket');
    assert.equal(missing.headers['access-control-allow-origin'], '*');
    const list = await raw(server, 'GET', '/', { sign: true, unsigned: { origin: 'http://anything.test:8080' } });
    assert.equal(list.status, 200);
    assert.equal(list.headers['access-control-allow-origin'], '*');
  });
});
