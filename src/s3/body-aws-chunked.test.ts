// Unit tests for objectBody() on STREAMING-* requests: decoded length, Content-MD5, the five
// checksum algorithms as trailer or header, Content-Encoding with aws-chunked. Bodies come from the
// independent encoder and signer in aws-chunked.fixtures.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { AuthResult } from './auth/sigv4.js';
import { STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER } from './aws-chunked.js';
import { objectBody, type BodyDigest } from './body.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { metaFromRequest } from './object-meta.js';
import { AMZ_DATE, SCOPE, KEY, SEED, SIGNING, encode, pieces, payloadOf } from './aws-chunked.fixtures.js';

// ---------------------------------------------------------------------------------------------
// objectBody() on STREAMING-* requests

/** Independent bitwise CRC32C and CRC64NVME (reflected), small inputs only. */
function crc32cOf(b: Buffer): Buffer {
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}
function crc64nvmeOf(b: Buffer): Buffer {
  const poly = 0x9a6c9329ac4bc9b5n;
  const mask = 0xffffffffffffffffn;
  let c = mask;
  for (const byte of b) {
    c ^= BigInt(byte);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(c ^ mask);
  return out;
}
function checksumOf(alg: string, b: Buffer): string {
  switch (alg) {
    case 'crc32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(b));
      return out.toString('base64');
    }
    case 'crc32c':
      return crc32cOf(b).toString('base64');
    case 'crc64nvme':
      return crc64nvmeOf(b).toString('base64');
    default:
      return createHash(alg).update(b).digest('base64');
  }
}
const ALGS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

function fakeCtx(
  body: Buffer,
  headers: Record<string, string>,
  mode: string,
  opts: { cuts?: number[]; complete?: boolean; auth?: Partial<AuthResult> } = {},
): RequestContext {
  const req = Readable.from(pieces(body, opts.cuts ?? [7]), { objectMode: false }) as Readable & { complete: boolean; rawHeaders: string[] };
  req.complete = opts.complete ?? true;
  req.rawHeaders = Object.entries(headers).flat();
  const auth: AuthResult = {
    accessKey: 'rustfsadmin',
    payloadHash: mode,
    signingKey: KEY,
    signature: SEED,
    scope: SCOPE,
    amzDate: AMZ_DATE,
    presigned: false,
    ...opts.auth,
  };
  return { req, headers: { 'content-length': String(body.length), ...headers }, auth, op: 'PutObject', bodyPolicy: 'stream' } as unknown as RequestContext;
}

async function consume(ctx: RequestContext): Promise<{ data: Buffer; digest: BodyDigest }> {
  const body = objectBody(ctx);
  const parts: Buffer[] = [];
  for await (const b of body.source) parts.push(b);
  return { data: Buffer.concat(parts), digest: body.digest() };
}

async function consumeError(ctx: RequestContext | (() => RequestContext)): Promise<S3Error> {
  try {
    await consume(typeof ctx === 'function' ? ctx() : ctx);
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  assert.fail('expected objectBody to throw');
}

describe('objectBody with aws-chunked', () => {
  const payload = payloadOf(5000, 21);
  const trailerHeaders = (alg: string) => ({
    'x-amz-trailer': `x-amz-checksum-${alg}`,
    'x-amz-decoded-content-length': String(payload.length),
    'content-encoding': 'aws-chunked',
  });

  for (const alg of ALGS) {
    it(`PutObject › STREAMING-UNSIGNED-PAYLOAD-TRAILER with a right ${alg} trailer → stored checksum; wrong → 400 BadDigest`, async () => {
      const right = checksumOf(alg, payload);
      const body = encode(payload, [1000, 37], { trailers: [[`x-amz-checksum-${alg}`, right]] });
      const { data, digest } = await consume(fakeCtx(body, trailerHeaders(alg), STREAMING_UNSIGNED_TRAILER));
      assert.ok(data.equals(payload));
      assert.deepEqual(digest.checksums, { [alg]: right });
      assert.equal(digest.size, payload.length);
      assert.equal(digest.md5, createHash('md5').update(payload).digest('hex'));

      const wrong = checksumOf(alg, Buffer.from('something else'));
      const bad = encode(payload, [1000, 37], { trailers: [[`x-amz-checksum-${alg}`, wrong]] });
      const e = await consumeError(fakeCtx(bad, trailerHeaders(alg), STREAMING_UNSIGNED_TRAILER));
      assert.equal(e.code, 'BadDigest');
      assert.equal(e.status, 400);
    });

    it(`PutObject › STREAMING-AWS4-HMAC-SHA256-PAYLOAD with x-amz-checksum-${alg} as a header → verified against the decoded bytes`, async () => {
      const headers = { 'x-amz-decoded-content-length': String(payload.length) };
      const body = encode(payload, [4096], { signing: SIGNING });
      const right = checksumOf(alg, payload);
      const { digest } = await consume(fakeCtx(body, { ...headers, [`x-amz-checksum-${alg}`]: right }, STREAMING_SIGNED));
      assert.deepEqual(digest.checksums, { [alg]: right });
      const wrong = checksumOf(alg, payload.subarray(1));
      const e = await consumeError(fakeCtx(body, { ...headers, [`x-amz-checksum-${alg}`]: wrong }, STREAMING_SIGNED));
      assert.equal(e.code, 'BadDigest');
    });
  }

  it('PutObject › signed chunks + signed trailer through objectBody → payload, checksum stored', async () => {
    const right = checksumOf('crc32c', payload);
    const body = encode(payload, [1024], { signing: SIGNING, trailers: [['x-amz-checksum-crc32c', right]], signTrailer: true });
    const { data, digest } = await consume(fakeCtx(body, trailerHeaders('crc32c'), STREAMING_SIGNED_TRAILER));
    assert.ok(data.equals(payload));
    assert.equal(digest.checksums.crc32c, right);
    const tampered = Buffer.from(body);
    tampered[200]! ^= 0x20;
    const e = await consumeError(fakeCtx(tampered, trailerHeaders('crc32c'), STREAMING_SIGNED_TRAILER));
    assert.equal(e.code, 'SignatureDoesNotMatch');
  });

  it('PutObject › x-amz-decoded-content-length larger or smaller than the payload → 400 IncompleteBody', async () => {
    const body = encode(payload, [1000], { signing: SIGNING });
    for (const n of [payload.length + 1, payload.length - 1, 0]) {
      const e = await consumeError(fakeCtx(body, { 'x-amz-decoded-content-length': String(n) }, STREAMING_SIGNED));
      assert.equal(e.code, 'IncompleteBody', String(n));
    }
    const ok = await consume(fakeCtx(body, {}, STREAMING_SIGNED)); // absent: accepted
    assert.equal(ok.digest.size, payload.length);
    const bad = await consumeError(() => fakeCtx(body, { 'x-amz-decoded-content-length': '12abc' }, STREAMING_SIGNED));
    assert.equal(bad.code, 'InvalidArgument');
    const huge = await consumeError(() => fakeCtx(body, { 'x-amz-decoded-content-length': String(5 * 1024 ** 3 + 1) }, STREAMING_SIGNED));
    assert.equal(huge.code, 'EntityTooLarge');
  });

  it('PutObject › a declared trailer that never comes, or an undeclared checksum trailer → 400 MalformedTrailerError', async () => {
    const noTrailer = encode(payload, [1000]);
    const e1 = await consumeError(fakeCtx(noTrailer, trailerHeaders('crc32'), STREAMING_UNSIGNED_TRAILER));
    assert.equal(e1.code, 'MalformedTrailerError');
    assert.equal(e1.status, 400);
    const other = encode(payload, [1000], { trailers: [['x-amz-checksum-sha1', checksumOf('sha1', payload)]] });
    const e2 = await consumeError(fakeCtx(other, trailerHeaders('crc32'), STREAMING_UNSIGNED_TRAILER));
    assert.equal(e2.code, 'MalformedTrailerError');
    const undeclared = { 'x-amz-decoded-content-length': String(payload.length) };
    const e3 = await consumeError(fakeCtx(other, undeclared, STREAMING_UNSIGNED_TRAILER));
    assert.equal(e3.code, 'MalformedTrailerError');
    // A trailer that is not a checksum is ignored.
    const meta = encode(payload, [1000], { trailers: [['x-amz-meta-foo', 'bar']] });
    assert.deepEqual((await consume(fakeCtx(meta, undeclared, STREAMING_UNSIGNED_TRAILER))).digest.checksums, {});
  });

  it('PutObject › malformed trailer checksum value → 400 InvalidRequest', async () => {
    const body = encode(payload, [1000], { trailers: [['x-amz-checksum-crc32', 'not-base64!']] });
    const e = await consumeError(fakeCtx(body, trailerHeaders('crc32'), STREAMING_UNSIGNED_TRAILER));
    assert.equal(e.code, 'InvalidRequest');
  });

  it('PutObject › x-amz-trailer that is not a checksum, or without a trailer mode → 400 before any byte is read', async () => {
    const body = encode(payload, [1000]);
    const e1 = await consumeError(() => fakeCtx(body, { 'x-amz-trailer': 'x-amz-checksum-md5' }, STREAMING_UNSIGNED_TRAILER));
    assert.equal(e1.code, 'InvalidRequest');
    const e2 = await consumeError(() => fakeCtx(body, { 'x-amz-trailer': 'x-amz-checksum-crc32' }, STREAMING_SIGNED));
    assert.equal(e2.code, 'MalformedTrailerError');
    const e3 = await consumeError(() => fakeCtx(payload, { 'x-amz-trailer': 'x-amz-checksum-crc32' }, 'UNSIGNED-PAYLOAD'));
    assert.equal(e3.code, 'MalformedTrailerError');
    const e4 = await consumeError(() =>
      fakeCtx(body, { ...trailerHeaders('crc32'), 'x-amz-checksum-sha1': checksumOf('sha1', payload) }, STREAMING_UNSIGNED_TRAILER),
    );
    assert.equal(e4.code, 'InvalidRequest');
  });

  it('PutObject › Content-MD5 is checked against the decoded bytes', async () => {
    const body = encode(payload, [999], { trailers: [['x-amz-checksum-crc32', checksumOf('crc32', payload)]] });
    const md5 = createHash('md5').update(payload).digest('base64');
    const { digest } = await consume(fakeCtx(body, { ...trailerHeaders('crc32'), 'content-md5': md5 }, STREAMING_UNSIGNED_TRAILER));
    assert.equal(digest.md5, createHash('md5').update(payload).digest('hex'));
    const encodedMd5 = createHash('md5').update(body).digest('base64');
    const e = await consumeError(fakeCtx(body, { ...trailerHeaders('crc32'), 'content-md5': encodedMd5 }, STREAMING_UNSIGNED_TRAILER));
    assert.equal(e.code, 'BadDigest');
  });

  it('PutObject › no Content-Length: accepted with Transfer-Encoding chunked, else 411 MissingContentLength', async () => {
    const body = encode(payload, [1000], { trailers: [['x-amz-checksum-crc32', checksumOf('crc32', payload)]] });
    const ctx = fakeCtx(body, { ...trailerHeaders('crc32'), 'transfer-encoding': 'chunked' }, STREAMING_UNSIGNED_TRAILER);
    delete (ctx.headers as Record<string, unknown>)['content-length'];
    assert.ok((await consume(ctx)).data.equals(payload));
    const ctx2 = fakeCtx(body, trailerHeaders('crc32'), STREAMING_UNSIGNED_TRAILER);
    delete (ctx2.headers as Record<string, unknown>)['content-length'];
    const e = await consumeError(() => ctx2);
    assert.equal(e.code, 'MissingContentLength');
    assert.equal(e.status, 411);
  });

  it('PutObject › SigV2 request declaring STREAMING-UNSIGNED-PAYLOAD-TRAILER → decoded, never stored framed; signed modes → 400 InvalidRequest', async () => {
    const sigv2 = { payloadHash: 'UNSIGNED-PAYLOAD', signingKey: Buffer.alloc(0), signature: '', scope: '', amzDate: '' };
    const body = encode(payload, [1000], { trailers: [['x-amz-checksum-crc32', checksumOf('crc32', payload)]] });
    const headers = { ...trailerHeaders('crc32'), 'x-amz-content-sha256': STREAMING_UNSIGNED_TRAILER };
    const { data, digest } = await consume(fakeCtx(body, headers, 'UNSIGNED-PAYLOAD', { auth: sigv2 }));
    assert.ok(data.equals(payload));
    assert.equal(digest.checksums.crc32, checksumOf('crc32', payload));
    const signed = encode(payload, [1000], { signing: SIGNING });
    const e = await consumeError(() => fakeCtx(signed, { 'x-amz-content-sha256': STREAMING_SIGNED }, 'UNSIGNED-PAYLOAD', { auth: sigv2 }));
    assert.equal(e.code, 'InvalidRequest');
  });

  it('PutObject › the client goes away after a complete-looking body → 400 IncompleteBody', async () => {
    const body = encode(payload, [1000], { trailers: [['x-amz-checksum-crc32', checksumOf('crc32', payload)]] });
    const e = await consumeError(fakeCtx(body, trailerHeaders('crc32'), STREAMING_UNSIGNED_TRAILER, { complete: false }));
    assert.equal(e.code, 'IncompleteBody');
  });
});

describe('Content-Encoding with aws-chunked', () => {
  it('metaFromRequest › Content-Encoding gzip,aws-chunked → stored as gzip; aws-chunked alone → not stored', () => {
    const ctx = (ce: string) => fakeCtx(Buffer.alloc(0), { 'content-encoding': ce }, STREAMING_UNSIGNED_TRAILER);
    assert.equal(metaFromRequest(ctx('gzip,aws-chunked')).contentEncoding, 'gzip');
    assert.equal(metaFromRequest(ctx('aws-chunked, gzip')).contentEncoding, 'gzip');
    assert.equal(metaFromRequest(ctx('aws-chunked')).contentEncoding, undefined);
    assert.equal(metaFromRequest(ctx('br')).contentEncoding, 'br');
  });
});
