// Unit tests for the aws-chunked decoder: framing at every split point, chained chunk signatures,
// signed/unsigned trailers, garbage. Bodies come from the independent encoder and signer in
// aws-chunked.fixtures.ts, checked against the AWS documentation's multi-chunk example.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { AwsChunkedDecoder, type AwsChunkedOptions, type ChunkSigning } from './aws-chunked.js';
import { S3Error } from './errors.js';
import { sha256hex, hmac, signingKey, SIGNING, encode, pieces, prng, payloadOf, expectCode } from './aws-chunked.fixtures.js';

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
      assert.equal(decoder.trailers[0]?.value, trailers[0]?.[1]);
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
    for (const t of [
      'no colon here',
      ':value',
      'bad name:x',
      `x-amz-meta-a:${'v'.repeat(3000)}\r\nx-amz-meta-b:${'v'.repeat(3000)}\r\nx-amz-meta-c:${'v'.repeat(3000)}\r\nx-amz-meta-d:${'v'.repeat(3000)}\r\nx-amz-meta-e:${'v'.repeat(3000)}\r\nx-amz-meta-f:${'v'.repeat(3000)}`,
    ]) {
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
      'PUT',
      '/examplebucket/chunkObject.txt',
      '',
      'content-encoding:aws-chunked',
      'content-length:66824',
      'host:s3.amazonaws.com',
      'x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-date:20130524T000000Z',
      'x-amz-decoded-content-length:66560',
      'x-amz-storage-class:REDUCED_REDUNDANCY',
      '',
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
    tampered[at]! ^= 1;
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
    const wrongKey = encode(payload, [1024], {
      signing: { ...SIGNING, signingKey: signingKey('other', '20250115', 'us-east-1') },
      trailers,
      signTrailer: true,
    });
    await expectCode(decodeError(pieces(wrongKey, []), opts), 'SignatureDoesNotMatch', 403);
  });

  it('Unsigned trailer › no x-amz-trailer-signature → accepted; a stray one is not required to verify', async () => {
    const payload = Buffer.from('unsigned trailer');
    const none = encode(payload, [5], { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    assert.deepEqual((await decode(pieces(none, []), { trailer: 'unsigned' })).data, payload);
    const stray = encode(payload, [5], {
      trailers: [
        ['x-amz-checksum-crc32', 'AAAAAA=='],
        ['x-amz-trailer-signature', 'f'.repeat(64)],
      ],
    });
    const { decoder } = await decode(pieces(stray, []), { trailer: 'unsigned' });
    assert.deepEqual(
      decoder.trailers.map((t) => t.name),
      ['x-amz-checksum-crc32'],
    );
  });
});
