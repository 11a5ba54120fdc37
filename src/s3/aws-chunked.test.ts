// Unit tests for aws-chunked uploads: the decoder (framing at every split point, chained chunk
// signatures, signed/unsigned trailers, garbage) and objectBody() on STREAMING-* requests (decoded
// length, Content-MD5, the five checksum algorithms as trailer or header). Bodies are built by an
// encoder and signer written here with node:crypto, independent of the code under test, and checked
// against the AWS documentation's multi-chunk example.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { AuthResult } from './auth/sigv4.js';
import {
  AwsChunkedDecoder,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  stripAwsChunked,
  type AwsChunkedOptions,
  type ChunkSigning,
} from './aws-chunked.js';
import { objectBody, type BodyDigest } from './body.js';
import type { RequestContext } from './context.js';
import { S3Error, type S3ErrorCode } from './errors.js';
import { metaFromRequest } from './object-meta.js';

// ---------------------------------------------------------------------------------------------
// An independent encoder and signer

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

const SECRET = 'rustfssecret';
const AMZ_DATE = '20250115T120000Z';
const SCOPE = '20250115/us-east-1/s3/aws4_request';
const KEY = signingKey(SECRET, '20250115', 'us-east-1');
const SEED = sha256hex('any seed: the chain only needs a starting point');
const SIGNING: ChunkSigning = { signingKey: KEY, seedSignature: SEED, scope: SCOPE, amzDate: AMZ_DATE };

interface EncodeOptions {
  /** Sign chunks (and, with signTrailer, the trailer) chained from signing.seedSignature. */
  signing?: ChunkSigning;
  trailers?: Array<[string, string]>;
  signTrailer?: boolean;
  /** Extra chunk extensions, e.g. ';foo=bar'. */
  ext?: string;
  /** Put the extension before the signature rather than after it. */
  extFirst?: boolean;
  /** Leave out the last CRLF of the body. */
  noFinalCrlf?: boolean;
  /** Hook to corrupt a chunk's signature: (chunk index, signature) → signature sent. */
  sigFor?: (index: number, sig: string) => string;
}

/** Encodes `payload` in chunks of `sizes` (cycled; the final 0-size chunk is added). */
function encode(payload: Buffer, sizes: number[], o: EncodeOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let prev = o.signing?.seedSignature ?? '';
  let off = 0;
  let index = 0;
  const chunkHead = (n: number, data: Buffer): string => {
    let head = n.toString(16);
    if (o.extFirst && o.ext) head += o.ext;
    if (o.signing) {
      const sts = ['AWS4-HMAC-SHA256-PAYLOAD', o.signing.amzDate, o.signing.scope, prev, EMPTY_SHA256, sha256hex(data)].join('\n');
      prev = hmac(o.signing.signingKey, sts).toString('hex');
      head += `;chunk-signature=${o.sigFor ? o.sigFor(index, prev) : prev}`;
    }
    if (!o.extFirst && o.ext) head += o.ext;
    index += 1;
    return `${head}\r\n`;
  };
  for (let i = 0; off < payload.length; i++) {
    const n = Math.min(sizes[i % sizes.length], payload.length - off);
    const data = payload.subarray(off, off + n);
    parts.push(Buffer.from(chunkHead(n, data)), data, Buffer.from('\r\n'));
    off += n;
  }
  parts.push(Buffer.from(chunkHead(0, Buffer.alloc(0))));
  let tail = '';
  if (o.trailers) {
    let block = '';
    for (const [n, v] of o.trailers) block += `${n}:${v}\n`;
    for (const [n, v] of o.trailers) tail += `${n}:${v}\r\n`;
    if (o.signTrailer && o.signing) {
      const sts = ['AWS4-HMAC-SHA256-TRAILER', o.signing.amzDate, o.signing.scope, prev, sha256hex(block)].join('\n');
      tail += `x-amz-trailer-signature:${hmac(o.signing.signingKey, sts).toString('hex')}\r\n`;
    }
  }
  if (!o.noFinalCrlf) tail += '\r\n';
  parts.push(Buffer.from(tail));
  return Buffer.concat(parts);
}

/** An async source yielding `buf` cut at the given offsets. */
async function* pieces(buf: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    if (c > prev) yield buf.subarray(prev, c);
    prev = Math.max(prev, c);
  }
}

/** Deterministic PRNG (mulberry32) for the random splits. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function payloadOf(n: number, seed = 1): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

interface Decoded {
  data: Buffer;
  decoder: AwsChunkedDecoder;
  yielded: Buffer[];
}

async function decode(source: AsyncIterable<Buffer>, opts: Partial<AwsChunkedOptions> = {}): Promise<Decoded> {
  const decoder = new AwsChunkedDecoder({ trailer: 'unsigned', maxSize: 5 * 1024 ** 3, ...opts });
  const yielded: Buffer[] = [];
  for await (const b of decoder.decode(source)) yielded.push(b);
  return { data: Buffer.concat(yielded), decoder, yielded };
}

async function decodeError(source: AsyncIterable<Buffer>, opts: Partial<AwsChunkedOptions> = {}): Promise<S3Error> {
  try {
    await decode(source, opts);
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  assert.fail('expected the decoder to throw');
}

async function expectCode(p: Promise<S3Error>, code: S3ErrorCode, status: number): Promise<void> {
  const e = await p;
  assert.equal(e.code, code, e.message);
  assert.equal(e.status, status);
}

// ---------------------------------------------------------------------------------------------
// Framing

describe('aws-chunked decoder', () => {
  it('Decode › unsigned body with a trailer split at every one and every two boundaries → exact payload and trailer', async () => {
    const payload = Buffer.from('hello, aws-chunked world!');
    const body = encode(payload, [3, 1, 7, 9], { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    for (let i = 0; i <= body.length; i++) {
      for (let j = i; j <= body.length; j++) {
        const { data, decoder } = await decode(pieces(body, [i, j]));
        assert.deepEqual(data, payload, `cuts ${i},${j}`);
        assert.deepEqual(decoder.trailers, [{ name: 'x-amz-checksum-crc32', value: 'AAAAAA==' }], `cuts ${i},${j}`);
      }
    }
  });

  it('Decode › signed chunks and signed trailer split at every boundary and byte by byte → verified payload', async () => {
    const payload = payloadOf(40, 7);
    const trailers: Array<[string, string]> = [['x-amz-checksum-sha256', createHash('sha256').update(payload).digest('base64')]];
    const body = encode(payload, [1, 16, 5], { signing: SIGNING, trailers, signTrailer: true });
    const opts = { signing: SIGNING, trailer: 'signed' as const };
    for (let i = 0; i <= body.length; i++) {
      const { data, decoder } = await decode(pieces(body, [i]), opts);
      assert.deepEqual(data, payload, `cut ${i}`);
      assert.equal(decoder.trailers[0]?.value, trailers[0][1]);
    }
    const bytewise = [...Array(body.length).keys()];
    const { data, decoder } = await decode(pieces(body, bytewise), opts);
    assert.deepEqual(data, payload);
    assert.equal(decoder.chunks, 7); // 1+16+5+1+16+1 bytes, then the final chunk
  });

  it('Decode › 1 MiB in mixed chunk sizes cut at seeded random points → exact payload, signed and unsigned', async () => {
    const payload = payloadOf(1024 * 1024 + 17, 3);
    const sizes = [1, 65536, 8192, 3, 100_000, 777, 1024 * 1024];
    const r = prng(42);
    for (const signed of [false, true]) {
      const body = encode(payload, sizes, signed ? { signing: SIGNING } : { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
      for (let round = 0; round < 12; round++) {
        const cuts: number[] = [];
        for (let p = 0; p < body.length; ) {
          p += 1 + Math.floor(r() * (round % 2 === 0 ? 70_000 : 300));
          cuts.push(Math.min(p, body.length));
        }
        const { data } = await decode(pieces(body, cuts), signed ? { signing: SIGNING, trailer: 'none' } : {});
        assert.ok(data.equals(payload), `signed=${signed} round ${round}`);
      }
    }
  });

  it('Decode › 64 KiB chunks → data handed on as views of the input, not copies', async () => {
    const payload = payloadOf(3 * 65536, 9);
    const body = encode(payload, [65536], { signing: SIGNING });
    const { data, yielded } = await decode(pieces(body, []), { signing: SIGNING, trailer: 'none' });
    assert.ok(data.equals(payload));
    assert.equal(yielded.length, 3);
    for (const y of yielded) assert.equal(y.buffer, body.buffer);
  });

  it('Decode › 1-byte signed chunks → every chunk verified, payload exact', async () => {
    const payload = payloadOf(300, 11);
    const body = encode(payload, [1], { signing: SIGNING });
    const { data, decoder } = await decode(pieces(body, [50, 51, 4000]), { signing: SIGNING, trailer: 'none' });
    assert.deepEqual(data, payload);
    assert.equal(decoder.chunks, 301);
  });

  it('Decode › chunk extensions before and after the signature → ignored, signature still checked', async () => {
    const payload = payloadOf(1000, 12);
    for (const extFirst of [false, true]) {
      const body = encode(payload, [333], { signing: SIGNING, ext: ';foo=bar;baz;q="x y"', extFirst });
      const { data } = await decode(pieces(body, [10]), { signing: SIGNING, trailer: 'none' });
      assert.deepEqual(data, payload);
      const unsigned = encode(payload, [333], { ext: ';foo=bar' });
      assert.deepEqual((await decode(pieces(unsigned, []))).data, payload);
    }
  });

  it('Decode › missing final CRLF at end of input → accepted (unsigned trailer and signed)', async () => {
    const payload = Buffer.from('abcdef');
    const t = encode(payload, [4], { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']], noFinalCrlf: true });
    assert.ok(!t.subarray(-4).equals(Buffer.from('\r\n\r\n')));
    assert.deepEqual((await decode(pieces(t, []))).data, payload);
    const s = encode(payload, [4], { signing: SIGNING, noFinalCrlf: true });
    assert.deepEqual((await decode(pieces(s, [3]), { signing: SIGNING, trailer: 'none' })).data, payload);
    // Not even the CRLF of the final chunk line.
    const bare = Buffer.from('3\r\nabc\r\n0');
    assert.deepEqual((await decode(pieces(bare, []))).data, Buffer.from('abc'));
  });

  it('Decode › empty payload (only the final chunk) → no data, still verified', async () => {
    const body = encode(Buffer.alloc(0), [1], { signing: SIGNING });
    const { data, decoder } = await decode(pieces(body, []), { signing: SIGNING, trailer: 'none' });
    assert.equal(data.length, 0);
    assert.equal(decoder.chunks, 1);
    const bad = encode(Buffer.alloc(0), [1], { signing: SIGNING, sigFor: () => 'f'.repeat(64) });
    await expectCode(decodeError(pieces(bad, []), { signing: SIGNING, trailer: 'none' }), 'SignatureDoesNotMatch', 403);
  });

  it('Decode › garbage size lines → 400 IncompleteBody', async () => {
    const cases = [
      'zz\r\nab\r\n0\r\n\r\n',
      '-1\r\n',
      '\r\nab\r\n0\r\n\r\n',
      '0x2\r\nab\r\n0\r\n\r\n',
      '2 3\r\nab\r\n0\r\n\r\n',
      '12345678901234567\r\n',
      '2\nab\r\n0\r\n\r\n', // bare LF
      `${'1'.repeat(5000)}\r\n`, // over-long line
      `2;${'x'.repeat(5000)}`, // over-long line without any line end
      '2;=v\r\nab\r\n0\r\n\r\n', // empty extension name
    ];
    for (const c of cases) {
      await expectCode(decodeError(pieces(Buffer.from(c), [1])), 'IncompleteBody', 400);
    }
  });

  it('Decode › chunk data not followed by CRLF → 400 IncompleteBody', async () => {
    for (const c of ['2\r\nabc\r\n0\r\n\r\n', '2\r\nab\n\r0\r\n\r\n', '2\r\nabXY0\r\n\r\n']) {
      await expectCode(decodeError(pieces(Buffer.from(c), [5])), 'IncompleteBody', 400);
    }
  });

  it('Decode › input ends before the final chunk → 400 IncompleteBody', async () => {
    for (const c of ['', '5\r\nab', '2\r\nab\r\n', '2\r\nab', '2\r\nab\r', '2\r\nab\r\n1']) {
      await expectCode(decodeError(pieces(Buffer.from(c), [])), 'IncompleteBody', 400);
    }
  });

  it('Decode › bytes after the end of the body → 400 IncompleteBody; stray CRLFs tolerated', async () => {
    await expectCode(decodeError(pieces(Buffer.from('2\r\nab\r\n0\r\n\r\nGET / HTTP/1.1'), [])), 'IncompleteBody', 400);
    assert.deepEqual((await decode(pieces(Buffer.from('2\r\nab\r\n0\r\n\r\n\r\n'), []))).data, Buffer.from('ab'));
  });

  it('Decode › chunk sizes adding up past the limit → 400 EntityTooLarge before the data is read', async () => {
    const e = await decodeError(pieces(Buffer.from('100\r\n'), []), { maxSize: 255 });
    assert.equal(e.code, 'EntityTooLarge');
    assert.equal((await decode(pieces(Buffer.from('ff\r\n' + 'a'.repeat(255) + '\r\n0\r\n\r\n'), []), { maxSize: 255 })).data.length, 255);
  });

  it('Decode › trailer lines with a non-trailer mode, or malformed → 400 MalformedTrailerError', async () => {
    const withTrailer = encode(Buffer.from('abc'), [2], { signing: SIGNING, trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    await expectCode(decodeError(pieces(withTrailer, []), { signing: SIGNING, trailer: 'none' }), 'MalformedTrailerError', 400);
    for (const t of ['no colon here', ':value', 'bad name:x', `x-amz-meta-a:${'v'.repeat(3000)}\r\nx-amz-meta-b:${'v'.repeat(3000)}\r\nx-amz-meta-c:${'v'.repeat(3000)}\r\nx-amz-meta-d:${'v'.repeat(3000)}\r\nx-amz-meta-e:${'v'.repeat(3000)}\r\nx-amz-meta-f:${'v'.repeat(3000)}`]) {
      await expectCode(decodeError(pieces(Buffer.from(`1\r\na\r\n0\r\n${t}\r\n\r\n`), [])), 'MalformedTrailerError', 400);
    }
    const twice = Buffer.from('1\r\na\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
    await expectCode(decodeError(pieces(twice, [])), 'MalformedTrailerError', 400);
  });
});

// ---------------------------------------------------------------------------------------------
// Signatures

describe('aws-chunked signatures', () => {
  it('Signed chunks › AWS documentation example (66560 × "a" in 65536+1024+0) → same seed and chunk signatures, accepted', async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html ("Example: PUT Object")
    const key = signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1');
    const scope = '20130524/us-east-1/s3/aws4_request';
    const canonical = [
      'PUT', '/examplebucket/chunkObject.txt', '',
      'content-encoding:aws-chunked', 'content-length:66824', 'host:s3.amazonaws.com',
      'x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-date:20130524T000000Z',
      'x-amz-decoded-content-length:66560', 'x-amz-storage-class:REDUCED_REDUNDANCY', '',
      'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    ].join('\n');
    const seed = hmac(key, `AWS4-HMAC-SHA256\n20130524T000000Z\n${scope}\n${sha256hex(canonical)}`).toString('hex');
    assert.equal(seed, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
    const signing: ChunkSigning = { signingKey: key, seedSignature: seed, scope, amzDate: '20130524T000000Z' };
    const sigs: string[] = [];
    const body = encode(Buffer.alloc(66560, 'a'), [65536], { signing, sigFor: (_i, s) => (sigs.push(s), s) });
    assert.equal(body.length, 66824); // the example's Content-Length
    assert.deepEqual(sigs, [
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]);
    const { data, decoder } = await decode(pieces(body, [1000, 70000]), { signing, trailer: 'none' });
    assert.ok(data.equals(Buffer.alloc(66560, 'a')));
    assert.equal(decoder.chunks, 3);
  });

  const signedOpts = { signing: SIGNING, trailer: 'none' as const };

  it('Signed chunks › one byte of chunk data changed → 403 SignatureDoesNotMatch', async () => {
    const body = encode(payloadOf(5000, 5), [1000], { signing: SIGNING });
    const at = body.indexOf('\r\n') + 2 + 500; // inside the first chunk's data
    const tampered = Buffer.from(body);
    tampered[at] ^= 1;
    await expectCode(decodeError(pieces(tampered, []), signedOpts), 'SignatureDoesNotMatch', 403);
  });

  it('Signed chunks › a tampered, missing or short chunk-signature → 403 SignatureDoesNotMatch', async () => {
    const payload = payloadOf(3000, 6);
    const variants: Array<(i: number, s: string) => string> = [
      (i, s) => (i === 1 ? `${s.slice(0, 63)}${s[63] === '0' ? '1' : '0'}` : s),
      (i, s) => (i === 3 ? 'a'.repeat(64) : s), // the final chunk's
      (i, s) => (i === 0 ? s.slice(0, 40) : s),
    ];
    for (const sigFor of variants) {
      const body = encode(payload, [1000], { signing: SIGNING, sigFor });
      await expectCode(decodeError(pieces(body, []), signedOpts), 'SignatureDoesNotMatch', 403);
    }
    const unsignedChunks = encode(payload, [1000]);
    await expectCode(decodeError(pieces(unsignedChunks, []), signedOpts), 'SignatureDoesNotMatch', 403);
  });

  it('Signed chunks › uppercase hex signatures → accepted', async () => {
    const body = encode(payloadOf(10, 2), [4], { signing: SIGNING, sigFor: (_i, s) => s.toUpperCase() });
    assert.equal((await decode(pieces(body, []), signedOpts)).data.length, 10);
  });

  it('Signed chunks › chunks swapped with their own signatures, or another seed → 403 SignatureDoesNotMatch', async () => {
    const ab = encode(Buffer.concat([Buffer.alloc(100, 'a'), Buffer.alloc(100, 'b')]), [100], { signing: SIGNING });
    // Each record is "64;chunk-signature=<64 hex>\r\n" (85 bytes) + 100 bytes + CRLF.
    const rec = 85 + 100 + 2;
    assert.equal(ab.subarray(rec, rec + 3).toString(), '64;');
    const swapped = Buffer.concat([ab.subarray(rec, 2 * rec), ab.subarray(0, rec), ab.subarray(2 * rec)]);
    await expectCode(decodeError(pieces(swapped, []), signedOpts), 'SignatureDoesNotMatch', 403);
    const otherSeed = { ...SIGNING, seedSignature: sha256hex('other') };
    await expectCode(decodeError(pieces(ab, []), { signing: otherSeed, trailer: 'none' }), 'SignatureDoesNotMatch', 403);
  });

  it('Signed trailer › correct → accepted; value changed, signature missing or wrong → 403 SignatureDoesNotMatch', async () => {
    const payload = payloadOf(2000, 8);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(payload));
    const trailers: Array<[string, string]> = [['x-amz-checksum-crc32', crc.toString('base64')]];
    const opts = { signing: SIGNING, trailer: 'signed' as const };
    const good = encode(payload, [1024], { signing: SIGNING, trailers, signTrailer: true });
    assert.deepEqual((await decode(pieces(good, [2100]), opts)).data, payload);

    const changed = Buffer.from(good.toString('latin1').replace(crc.toString('base64'), 'AAAAAA=='), 'latin1');
    await expectCode(decodeError(pieces(changed, []), opts), 'SignatureDoesNotMatch', 403);
    const unsignedTrailer = encode(payload, [1024], { signing: SIGNING, trailers });
    await expectCode(decodeError(pieces(unsignedTrailer, []), opts), 'SignatureDoesNotMatch', 403);
    const wrongKey = encode(payload, [1024], { signing: { ...SIGNING, signingKey: signingKey('other', '20250115', 'us-east-1') }, trailers, signTrailer: true });
    await expectCode(decodeError(pieces(wrongKey, []), opts), 'SignatureDoesNotMatch', 403);
  });

  it('Unsigned trailer › no x-amz-trailer-signature → accepted; a stray one is not required to verify', async () => {
    const payload = Buffer.from('unsigned trailer');
    const none = encode(payload, [5], { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    assert.deepEqual((await decode(pieces(none, []), { trailer: 'unsigned' })).data, payload);
    const stray = encode(payload, [5], { trailers: [['x-amz-checksum-crc32', 'AAAAAA=='], ['x-amz-trailer-signature', 'f'.repeat(64)]] });
    const { decoder } = await decode(pieces(stray, []), { trailer: 'unsigned' });
    assert.deepEqual(decoder.trailers.map((t) => t.name), ['x-amz-checksum-crc32']);
  });
});

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
  return { req, headers: { 'content-length': String(body.length), ...headers }, auth } as unknown as RequestContext;
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
    tampered[200] ^= 0x20;
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
  it('stripAwsChunked › aws-chunked alone → none; with gzip on either side → gzip', () => {
    assert.equal(stripAwsChunked('aws-chunked'), undefined);
    assert.equal(stripAwsChunked('AWS-Chunked'), undefined);
    assert.equal(stripAwsChunked('aws-chunked,gzip'), 'gzip');
    assert.equal(stripAwsChunked('gzip, aws-chunked'), 'gzip');
    assert.equal(stripAwsChunked('gzip,aws-chunked,br'), 'gzip,br');
    assert.equal(stripAwsChunked('gzip'), 'gzip');
    assert.equal(stripAwsChunked(undefined), undefined);
  });

  it('metaFromRequest › Content-Encoding gzip,aws-chunked → stored as gzip; aws-chunked alone → not stored', () => {
    const ctx = (ce: string) => fakeCtx(Buffer.alloc(0), { 'content-encoding': ce }, STREAMING_UNSIGNED_TRAILER);
    assert.equal(metaFromRequest(ctx('gzip,aws-chunked')).contentEncoding, 'gzip');
    assert.equal(metaFromRequest(ctx('aws-chunked, gzip')).contentEncoding, 'gzip');
    assert.equal(metaFromRequest(ctx('aws-chunked')).contentEncoding, undefined);
    assert.equal(metaFromRequest(ctx('br')).contentEncoding, 'br');
  });
});
