// x-amz-checksum-* as S3 treats it, against a real server: a malformed header value (not base64, or
// not the digest's size) is 400 InvalidRequest, a well-formed value that does not match the body is
// 400 BadDigest (raw requests); the POST form fields x-amz-checksum-* / x-amz-checksum-algorithm are
// verified like the header (curl -F, a hand-signed SigV4 policy); and aws-sdk-js presigned PUTs: the
// x-amz-checksum-crc32 its presigner puts in the query (over an empty body) is not verified, as on
// S3, while a checksum kept as a signed header is.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CURL, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { amzDate } from '../helpers/hand-sign.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, rawExchange, signRequest } from '../hardening/raw-http.js';

const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};
const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const xmlText = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

describe('x-amz-checksum-* (raw, POST form, presigned)', () => {
  let server: RunningServer;
  let s3: S3Client;
  const bucket = newBucketName('cksum');

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  /** HEAD with x-amz-checksum-mode: ENABLED → the stored checksums (undefined: no such object). */
  async function storedChecksums(key: string): Promise<Record<string, string | undefined> | undefined> {
    try {
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      return { crc32: h.ChecksumCRC32, sha256: h.ChecksumSHA256, type: h.ChecksumType };
    } catch (err) {
      if ((err as { name?: string }).name === 'NotFound') return undefined;
      throw err;
    }
  }

  async function rawPut(key: string, body: Buffer, headers: Record<string, string>) {
    const signed = await signRequest({ method: 'PUT', port: server.port, path: `/${bucket}/${key}`, body, headers });
    return rawExchange(server.port, buildRequest({ method: 'PUT', target: signed.target, headers: signed.headers, body }));
  }

  const MALFORMED: Array<[string, string]> = [
    ['x-amz-checksum-crc32', 'not base64!'],
    ['x-amz-checksum-crc32', 'AAAA'], // 3 bytes
    ['x-amz-checksum-crc32', 'AAAAAAAA'], // 6 bytes
    ['x-amz-checksum-crc32c', '%%%%'],
    ['x-amz-checksum-sha256', 'AAAAAA=='], // a CRC's size, not SHA-256's
    ['x-amz-checksum-sha1', ''],
  ];
  for (const [name, value] of MALFORMED) {
    it(`PutObject › ${name}: ${JSON.stringify(value)} (malformed) → 400 InvalidRequest "Value for ${name} header is invalid."; nothing stored`, async () => {
      const key = `bad-${randomBytes(4).toString('hex')}`;
      const res = await rawPut(key, Buffer.from('hello'), { [name]: value });
      assert.equal(res.status, 400);
      const err = assertS3Error(res, `${name}: ${value}`);
      assert.equal(err.code, 'InvalidRequest');
      assert.equal(err.message, `Value for ${name} header is invalid.`);
      assert.equal(await storedChecksums(key), undefined);
    });
  }

  it('PutObject › x-amz-checksum-crc32 well-formed but of other bytes → 400 BadDigest; the right one → 200, stored, returned on HEAD with ChecksumMode', async () => {
    const body = randomBytes(1000);
    const wrong = await rawPut('crc-wrong', body, { 'x-amz-checksum-crc32': crc32b64(Buffer.from('other')) });
    assert.equal(wrong.status, 400);
    assert.equal(assertS3Error(wrong, 'wrong crc32').code, 'BadDigest');
    assert.equal(await storedChecksums('crc-wrong'), undefined);
    const right = await rawPut('crc-right', body, { 'x-amz-checksum-crc32': crc32b64(body) });
    assert.equal(right.status, 200, right.body.toString());
    assert.deepEqual(await storedChecksums('crc-right'), { crc32: crc32b64(body), sha256: undefined, type: 'FULL_OBJECT' });
  });

  it('PutObject › x-amz-sdk-checksum-algorithm CRC32 with an x-amz-checksum-crc32c value → 400 InvalidRequest naming the declaration; nothing stored', async () => {
    const body = Buffer.from('declared one, sent another');
    const res = await rawPut('alg-mismatch', body, { 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-crc32c': 'ImIEBA==' });
    assert.equal(res.status, 400);
    const err = assertS3Error(res, 'algorithm mismatch');
    assert.equal(err.code, 'InvalidRequest');
    assert.equal(err.message, 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    assert.equal(await storedChecksums('alg-mismatch'), undefined);
    const same = await rawPut('alg-same', body, { 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-crc32': crc32b64(body) });
    assert.equal(same.status, 200, same.body.toString());
  });

  // ---------------------------------------------------------------------------------------------
  // POST Object forms with checksum fields (SigV4 policy signed here, submitted by curl -F)

  /** Submits a SigV4-signed form whose policy covers every field; returns status and body. */
  async function postForm(key: string, extra: Record<string, string>, file: Buffer): Promise<{ status: number; body: string }> {
    const when = amzDate(Date.now());
    const day = when.slice(0, 8);
    const credential = `${ACCESS_KEY}/${day}/${REGION}/s3/aws4_request`;
    const fields: Record<string, string> = { key, 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': when, ...extra };
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [{ bucket }, ...Object.entries(fields).map(([k, v]) => ({ [k]: v }))],
      }),
    ).toString('base64');
    let k: Buffer | string = `AWS4${SECRET_KEY}`;
    for (const part of [day, REGION, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
    const signature = createHmac('sha256', k).update(policy).digest('hex');
    const { env, dir, cleanup } = await isolatedClientEnv();
    try {
      const path = join(dir, 'file.bin');
      await writeFile(path, file);
      const args = ['-sS', '-w', '\n%{http_code}'];
      for (const [n, v] of Object.entries({ ...fields, policy, 'x-amz-signature': signature })) args.push('--form-string', `${n}=${v}`);
      args.push('-F', `file=@${path}`, `${server.url}/${bucket}`);
      const r = await run(CURL, args, { env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, describeRun('curl -F', r));
      const nl = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
    } finally {
      await cleanup();
    }
  }

  it('PostObject › form field x-amz-checksum-crc32 right → 204, stored and returned on HEAD with ChecksumMode; wrong → 400 BadDigest, nothing stored', async () => {
    const file = randomBytes(5000);
    const ok = await postForm('form-crc', { 'x-amz-checksum-crc32': crc32b64(file) }, file);
    assert.equal(ok.status, 204, ok.body);
    assert.deepEqual(await storedChecksums('form-crc'), { crc32: crc32b64(file), sha256: undefined, type: 'FULL_OBJECT' });
    const bad = await postForm('form-crc-bad', { 'x-amz-checksum-crc32': crc32b64(Buffer.from('x')) }, file);
    assert.equal(bad.status, 400, bad.body);
    assert.equal(xmlText(bad.body, 'Code'), 'BadDigest');
    assert.equal(await storedChecksums('form-crc-bad'), undefined);
  });

  it('PostObject › malformed x-amz-checksum-* field → 400 InvalidRequest as for the header; unknown x-amz-checksum-algorithm → 400 InvalidRequest', async () => {
    const file = Buffer.from('form body');
    const bad = await postForm('form-malformed', { 'x-amz-checksum-crc32': 'AAAA' }, file);
    assert.equal(bad.status, 400, bad.body);
    assert.equal(xmlText(bad.body, 'Code'), 'InvalidRequest');
    assert.equal(xmlText(bad.body, 'Message'), 'Value for x-amz-checksum-crc32 header is invalid.');
    const alg = await postForm('form-alg-bad', { 'x-amz-checksum-algorithm': 'MD4' }, file);
    assert.equal(alg.status, 400, alg.body);
    assert.equal(xmlText(alg.body, 'Code'), 'InvalidRequest');
    const mismatch = await postForm('form-alg-mismatch', { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-crc32': crc32b64(file) }, file);
    assert.equal(mismatch.status, 400, mismatch.body);
    assert.equal(xmlText(mismatch.body, 'Code'), 'InvalidRequest');
    for (const key of ['form-malformed', 'form-alg-bad', 'form-alg-mismatch']) assert.equal(await storedChecksums(key), undefined, key);
  });

  it('PostObject › x-amz-checksum-algorithm SHA256 alone → the server computes and stores the SHA-256; with its value → verified', async () => {
    const file = randomBytes(3000);
    const computed = await postForm('form-alg', { 'x-amz-checksum-algorithm': 'SHA256' }, file);
    assert.equal(computed.status, 204, computed.body);
    assert.equal((await storedChecksums('form-alg'))?.sha256, sha256b64(file));
    const both = await postForm('form-alg-both', { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': sha256b64(file) }, file);
    assert.equal(both.status, 204, both.body);
    assert.equal((await storedChecksums('form-alg-both'))?.sha256, sha256b64(file));
  });

  // ---------------------------------------------------------------------------------------------
  // aws-sdk-js presigned PUT

  it("PutObject presigned by aws-sdk-js › the presigner's query x-amz-checksum-crc32 (of an empty body) is not verified, as on S3: any body → 200, no checksum stored", async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned-default' }), { expiresIn: 300 });
    const query = new URL(url).searchParams;
    assert.equal(query.get('x-amz-checksum-crc32'), 'AAAAAA==', 'what this aws-sdk-js version puts in the query');
    const body = Buffer.from('hello from a browser');
    const res = await fetch(url, { method: 'PUT', body });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get('etag'), `"${createHash('md5').update(body).digest('hex')}"`);
    assert.deepEqual(await storedChecksums('presigned-default'), { crc32: undefined, sha256: undefined, type: undefined });
  });

  it('PutObject presigned by aws-sdk-js › ChecksumCRC32 kept as a signed header (unhoistableHeaders): right body → 200 and stored; another body → 400 BadDigest', async () => {
    const body = randomBytes(2048);
    const value = crc32b64(body);
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned-header', ChecksumCRC32: value }), {
      expiresIn: 300,
      unhoistableHeaders: new Set(['x-amz-checksum-crc32']),
    });
    assert.equal(new URL(url).searchParams.get('x-amz-checksum-crc32'), null);
    assert.match(new URL(url).searchParams.get('X-Amz-SignedHeaders') ?? '', /x-amz-checksum-crc32/);
    const wrong = await fetch(url, { method: 'PUT', body: Buffer.from('not the signed body'), headers: { 'x-amz-checksum-crc32': value } });
    assert.equal(wrong.status, 400);
    assert.equal(xmlText(await wrong.text(), 'Code'), 'BadDigest');
    assert.equal(await storedChecksums('presigned-header'), undefined);
    const right = await fetch(url, { method: 'PUT', body, headers: { 'x-amz-checksum-crc32': value } });
    assert.equal(right.status, 200, await right.text());
    assert.equal((await storedChecksums('presigned-header'))?.crc32, value);
    // Without the header the signature does not hold (it was signed).
    const missing = await fetch(url, { method: 'PUT', body });
    assert.equal(missing.status, 403);
    // The SDK's own client sees the same BadDigest for a mismatching header checksum.
    const e = await errorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk-bad', Body: body, ChecksumCRC32: crc32b64(Buffer.from('x')) })));
    assert.equal(e.name, 'BadDigest');
  });
});
