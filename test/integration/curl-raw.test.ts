// Raw HTTP checks with curl (/usr/bin/curl signs with SigV4 via --aws-sigv4): anonymous access,
// signed requests, common response headers, HEAD without body, unimplemented sub-resources.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CURL, describeRun, isolatedClientEnv, newBucketName, run, type RunResult } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

interface CurlResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  run: RunResult;
}

/** Parses a curl -D dump; the last block is the final response (after any `100 Continue`). */
function parseHeaderDump(dump: string): { status: number; headers: Record<string, string> } {
  const blocks = dump.split(/\r?\n\r?\n/).filter((b) => b.startsWith('HTTP/'));
  const last = blocks[blocks.length - 1] ?? '';
  const [statusLine = '', ...lines] = last.split(/\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers };
}

/** The XML element text `<name>…</name>` (first occurrence), or undefined. */
const xmlText = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

describe('curl (raw HTTP, SigV4 via --aws-sigv4)', () => {
  let server: RunningServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  let seq = 0;
  const bucket = newBucketName('curl');

  /** Signing options; curl 7.88 does not add x-amz-content-sha256 itself, S3 requires it. */
  const signArgs = (payloadHash: string) => [
    '--aws-sigv4',
    `aws:amz:${REGION}:s3`,
    '--user',
    `${ACCESS_KEY}:${SECRET_KEY}`,
    '-H',
    `x-amz-content-sha256: ${payloadHash}`,
  ];

  async function curl(
    method: 'GET' | 'HEAD' | 'PUT' | 'DELETE',
    path: string,
    opts: { signed?: boolean; upload?: Buffer; payloadHash?: string; headers?: string[] } = {},
  ): Promise<CurlResponse> {
    seq += 1;
    const headerFile = join(work, `h${seq}`);
    const bodyFile = join(work, `b${seq}`);
    // With --head curl writes the headers to the -o file too: HEAD bodies go to /dev/null
    // (whether a body follows a HEAD response is checked over a reused connection instead).
    const args = ['-sS', '-D', headerFile, '-o', method === 'HEAD' ? '/dev/null' : bodyFile];
    if (method === 'HEAD') args.push('--head');
    else if (opts.upload) {
      const up = join(work, `u${seq}`);
      await writeFile(up, opts.upload);
      args.push('-T', up);
      if (method !== 'PUT') args.push('-X', method);
    } else if (method !== 'GET') args.push('-X', method);
    if (opts.signed !== false) {
      args.push(...signArgs(opts.payloadHash ?? (opts.upload ? sha256(opts.upload) : EMPTY_SHA256)));
    }
    for (const h of opts.headers ?? []) args.push('-H', h);
    args.push(`${server.url}${path}`);
    const r = await run(CURL, args, { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, describeRun(`curl ${args.join(' ')}`, r));
    const { status, headers } = parseHeaderDump(await readFile(headerFile, 'utf8'));
    const body = method === 'HEAD' ? Buffer.alloc(0) : await readFile(bodyFile).catch(() => Buffer.alloc(0));
    const res = { status, headers, body, run: r };
    assertCommonHeaders(`${method} ${path}`, res);
    return res;
  }

  /** Every S3 response carries a request id, an id-2 and a current Date. */
  function assertCommonHeaders(what: string, res: CurlResponse) {
    const dump = `${what} → ${res.status} ${JSON.stringify(res.headers)}`;
    assert.ok(res.headers['x-amz-request-id'], `x-amz-request-id missing: ${dump}`);
    assert.ok(res.headers['x-amz-id-2'], `x-amz-id-2 missing: ${dump}`);
    assert.ok(res.headers.date, `Date missing: ${dump}`);
    const skew = Math.abs(Date.parse(res.headers.date!) - Date.now());
    assert.ok(skew < 60_000, `Date ${res.headers.date} is ${skew} ms from now: ${dump}`);
  }

  before(async () => {
    server = await startServer();
    const isolated = await isolatedClientEnv();
    env = isolated.env;
    work = isolated.dir;
    cleanupEnv = isolated.cleanup;
  });

  after(async () => {
    await server?.stop();
    await cleanupEnv?.();
  });

  it('ListBuckets › anonymous GET / → 403 AccessDenied XML', async () => {
    const res = await curl('GET', '/', { signed: false });
    const xml = res.body.toString('utf8');
    assert.equal(res.status, 403, xml);
    assert.match(res.headers['content-type'] ?? '', /xml/);
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
    assert.equal(xmlText(xml, 'Code'), 'AccessDenied', xml);
    assert.equal(xmlText(xml, 'RequestId'), res.headers['x-amz-request-id'], xml);
  });

  it('ListBuckets › signed GET / → 200 ListAllMyBucketsResult', async () => {
    const res = await curl('GET', '/');
    const xml = res.body.toString('utf8');
    assert.equal(res.status, 200, xml);
    assert.match(res.headers['content-type'] ?? '', /xml/);
    assert.match(xml, /<ListAllMyBucketsResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
    assert.match(xml, /<Owner><ID>[^<]+<\/ID>/);
  });

  const body = Buffer.from('hello from curl\n');

  it('CreateBucket › signed PUT /bucket → 200', async () => {
    const res = await curl('PUT', `/${bucket}`);
    assert.equal(res.status, 200, res.body.toString());
    const list = await curl('GET', '/');
    assert.match(list.body.toString(), new RegExp(`<Name>${bucket}</Name>`));
  });

  it('PutObject › signed payload hash → 200 with md5 ETag; GET returns the bytes', async () => {
    const put = await curl('PUT', `/${bucket}/hello.txt`, { upload: body });
    assert.equal(put.status, 200, put.body.toString());
    assert.equal(put.headers.etag, `"${md5(body)}"`);
    const get = await curl('GET', `/${bucket}/hello.txt`);
    assert.equal(get.status, 200, get.body.toString());
    assert.deepEqual(get.body, body);
    assert.equal(get.headers.etag, `"${md5(body)}"`);
    assert.equal(get.headers['content-length'], String(body.length));
    assert.ok(get.headers['last-modified'] && !Number.isNaN(Date.parse(get.headers['last-modified'])));
  });

  it('PutObject › UNSIGNED-PAYLOAD, 64 KiB (curl sends Expect: 100-continue) → 200; GET returns the bytes', async () => {
    const data = randomBytes(64 * 1024);
    const put = await curl('PUT', `/${bucket}/unsigned.bin`, { upload: data, payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(put.status, 200, put.body.toString());
    assert.equal(put.headers.etag, `"${md5(data)}"`);
    const get = await curl('GET', `/${bucket}/unsigned.bin`);
    assert.equal(get.status, 200);
    assert.ok(get.body.equals(data), 'GET body differs from the uploaded bytes');
  });

  it('PutObject › wrong x-amz-content-sha256 → 400 XAmzContentSHA256Mismatch, nothing stored', async () => {
    const put = await curl('PUT', `/${bucket}/mismatch.txt`, { upload: body, payloadHash: sha256(Buffer.from('other')) });
    const xml = put.body.toString();
    assert.equal(put.status, 400, xml);
    assert.equal(xmlText(xml, 'Code'), 'XAmzContentSHA256Mismatch', xml);
    const head = await curl('HEAD', `/${bucket}/mismatch.txt`);
    assert.equal(head.status, 404);
  });

  it('GetObject › missing key → 404 NoSuchKey XML with Key', async () => {
    const res = await curl('GET', `/${bucket}/missing.txt`);
    const xml = res.body.toString();
    assert.equal(res.status, 404, xml);
    assert.equal(xmlText(xml, 'Code'), 'NoSuchKey', xml);
    assert.equal(xmlText(xml, 'Key'), 'missing.txt', xml);
  });

  it('HeadObject › missing key → 404 without body; the connection stays usable', async () => {
    const res = await curl('HEAD', `/${bucket}/missing.txt`);
    assert.equal(res.status, 404);
    // A body after a HEAD response would be read as the start of the next response on the same
    // keep-alive connection: send HEAD then GET over one connection (curl --next reuses it).
    const h1 = join(work, 'next-h1');
    const h2 = join(work, 'next-h2');
    const b2 = join(work, 'next-b2');
    const args = [
      '-sS',
      '-v',
      '--head',
      '-D',
      h1,
      '-o',
      '/dev/null',
      ...signArgs(EMPTY_SHA256),
      `${server.url}/${bucket}/missing.txt`,
      '--next',
      '-sS',
      '-D',
      h2,
      '-o',
      b2,
      ...signArgs(EMPTY_SHA256),
      `${server.url}/${bucket}/hello.txt`,
    ];
    const r = await run(CURL, args, { env, timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun('curl HEAD --next GET', r));
    assert.match(r.stderr, /Re-using existing connection/i, 'curl did not reuse the connection');
    assert.equal(parseHeaderDump(await readFile(h1, 'utf8')).status, 404);
    assert.equal(parseHeaderDump(await readFile(h2, 'utf8')).status, 200);
    assert.deepEqual(await readFile(b2), body);
  });

  it('DeleteObjectTagging › DELETE /bucket/key?tagging → 204, the object kept', async () => {
    // `?tagging=` on the wire: curl 7.88 signs a bare `?tagging` with the canonical query
    // `tagging` instead of SigV4's `tagging=` (a curl bug, fixed later), so S3 would answer
    // SignatureDoesNotMatch. `tagging=` is the same sub-resource to S3.
    const res = await curl('DELETE', `/${bucket}/hello.txt?tagging=`);
    assert.equal(res.status, 204, res.body.toString());
    const get = await curl('GET', `/${bucket}/hello.txt`);
    assert.equal(get.status, 200, 'DELETE ?tagging must not delete the object');
    assert.deepEqual(get.body, body);
  });

  it('DeleteObject / DeleteBucket › signed DELETE → 204; bucket gone', async () => {
    for (const key of ['hello.txt', 'unsigned.bin']) {
      const del = await curl('DELETE', `/${bucket}/${key}`);
      assert.equal(del.status, 204, del.body.toString());
    }
    const delBucket = await curl('DELETE', `/${bucket}`);
    assert.equal(delBucket.status, 204, delBucket.body.toString());
    const head = await curl('HEAD', `/${bucket}`);
    assert.equal(head.status, 404);
  });
});
