// Multipart helpers: CRC combination and composite checksums against the tests' own table-driven
// CRCs (test/helpers/crc.ts, never the code under test) and node:crypto, the multipart
// ETag, upload ids, CreateMultipartUpload checksum rules and the CompleteMultipartUpload body.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkCrcVectors, compositeBase64, crcBase64 } from '../../test/helpers/crc.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import {
  bareEtag,
  checksumTypeOf,
  combineCrc,
  compositeChecksum,
  multipartEtag,
  newUploadId,
  parsePartNumber,
  uploadChecksumFromRequest,
  withoutPartCount,
} from './multipart.js';
import { parseCompleteBody } from './operations/complete-multipart-upload.js';
import { parseCopySourceRange } from './operations/upload-part-copy.js';
import { parseObjectAttributes } from './operations/get-object-attributes.js';

/** The CRC of the concatenated buffers, by the test's own implementation (checked against the standard vectors). */
function checksumOf(alg: 'crc32' | 'crc32c' | 'crc64nvme', ...bufs: Buffer[]): string {
  checkCrcVectors();
  return crcBase64(alg, Buffer.concat(bufs));
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 7)) & 0xff;
  return b;
}

function s3Code(code: string) {
  return (err: unknown) => err instanceof S3Error && err.code === code;
}

/** Just enough of a RequestContext for the header/query parsers. */
function fakeCtx(headers: Record<string, string> = {}, query: Record<string, string> = {}): RequestContext {
  return {
    headers,
    query: new Map(Object.entries(query)),
    endpoint: { op: 'UploadPart', uploadId: query.uploadId, partNumber: query.partNumber },
  } as unknown as RequestContext;
}

describe('combineCrc', () => {
  for (const alg of ['crc32', 'crc32c', 'crc64nvme'] as const) {
    it(`${alg} › combined part CRCs → equal the CRC of the concatenated bytes`, async () => {
      const parts = [bytes(1000, 1), bytes(1, 2), bytes(0, 3), bytes(70_001, 4), bytes(1000, 5)];
      const values = parts.map((p) => checksumOf(alg, p));
      const combined = combineCrc(
        alg,
        parts.map((p, i) => ({ value: values[i]!, size: p.length })),
      );
      assert.equal(combined, checksumOf(alg, ...parts));
    });
  }

  it('crc64nvme › check value of "123456789" split in two → 0xAE8B14860A799888', async () => {
    const a = Buffer.from('1234');
    const b = Buffer.from('56789');
    const v = combineCrc('crc64nvme', [
      { value: checksumOf('crc64nvme', a), size: a.length },
      { value: checksumOf('crc64nvme', b), size: b.length },
    ]);
    assert.equal(Buffer.from(v, 'base64').toString('hex'), 'ae8b14860a799888');
  });

  it('sha256 › cannot be combined → throws', () => {
    assert.throws(() => combineCrc('sha256', [{ value: 'AAAA', size: 1 }]));
  });
});

describe('compositeChecksum', () => {
  for (const alg of ['crc32', 'crc32c'] as const) {
    it(`${alg} › checksum of the concatenated binary part checksums, then -N`, async () => {
      const p = [bytes(10, 1), bytes(20, 2), bytes(5000, 3)];
      const values = p.map((x) => checksumOf(alg, x));
      assert.equal(await compositeChecksum(alg, values), compositeBase64(alg, p));
    });
  }

  it('crc32c › known vector: parts "1234" and "56789" → crc32c(crc32c("1234") ‖ crc32c("56789"))-2 = wClZWQ==-2', async () => {
    // crc32c("1234") = 0xf63af4ee, crc32c("56789") = 0x83b565d8, crc32c(f63af4ee 83b565d8) = 0xc0295959
    // (computed bit by bit with a separate Python implementation).
    const values = [Buffer.from('f63af4ee', 'hex'), Buffer.from('83b565d8', 'hex')].map((b) => b.toString('base64'));
    assert.deepEqual(values, [checksumOf('crc32c', Buffer.from('1234')), checksumOf('crc32c', Buffer.from('56789'))]);
    assert.equal(await compositeChecksum('crc32c', values), 'wClZWQ==-2');
  });

  for (const alg of ['sha1', 'sha256'] as const) {
    it(`${alg} › the ${alg} of the concatenated binary part ${alg}s (node:crypto), then -N`, async () => {
      const p = [bytes(10, 1), bytes(20, 2)];
      const digest = (b: Buffer) => createHash(alg).update(b).digest();
      const values = p.map((x) => digest(x).toString('base64'));
      assert.equal(await compositeChecksum(alg, values), `${digest(Buffer.concat(p.map(digest))).toString('base64')}-2`);
    });
  }

  it('checksumTypeOf / withoutPartCount › -N marks COMPOSITE; stripped for GetObjectAttributes', () => {
    assert.equal(checksumTypeOf('AAAAAA==-3'), 'COMPOSITE');
    assert.equal(checksumTypeOf('AAAAAA=='), 'FULL_OBJECT');
    assert.equal(withoutPartCount('AAAAAA==-12'), 'AAAAAA==');
  });
});

describe('multipartEtag', () => {
  it('ETags with and without quotes → "md5(concat of binary md5s)-N"', () => {
    const md5s = [createHash('md5').update('a').digest('hex'), createHash('md5').update('b').digest('hex')];
    const expected = createHash('md5')
      .update(Buffer.concat(md5s.map((m) => Buffer.from(m, 'hex'))))
      .digest('hex');
    assert.equal(multipartEtag([`"${md5s[0]}"`, md5s[1]!]), `"${expected}-2"`);
    assert.equal(bareEtag(' W/"abc" '), 'abc');
  });
});

describe('newUploadId', () => {
  it('URL-safe, unique, and ordered like initiation times', () => {
    const a = newUploadId(1_700_000_000_000);
    const b = newUploadId(1_700_000_000_001);
    const c = newUploadId(1_700_000_000_001);
    assert.match(a, /^[0-9a-f]{44}$/);
    assert.ok(a < b && a < c);
    assert.notEqual(b, c);
  });
});

describe('parsePartNumber', () => {
  it('1..10000 accepted; 0, 10001, -1, x, empty → InvalidArgument', () => {
    assert.equal(parsePartNumber(fakeCtx({}, { partNumber: '1' })), 1);
    assert.equal(parsePartNumber(fakeCtx({}, { partNumber: '10000' })), 10000);
    for (const bad of ['0', '10001', '-1', 'x', '', '1.5']) {
      assert.throws(() => parsePartNumber(fakeCtx({}, { partNumber: bad })), s3Code('InvalidArgument'), bad);
    }
  });
});

describe('uploadChecksumFromRequest', () => {
  const cases: Array<[Record<string, string>, { algorithm?: string; type?: string } | string]> = [
    [{}, {}],
    [{ 'x-amz-checksum-algorithm': 'CRC32' }, { algorithm: 'crc32', type: 'COMPOSITE' }],
    [
      { 'x-amz-checksum-algorithm': 'crc32c', 'x-amz-checksum-type': 'FULL_OBJECT' },
      { algorithm: 'crc32c', type: 'FULL_OBJECT' },
    ],
    [{ 'x-amz-checksum-algorithm': 'CRC64NVME' }, { algorithm: 'crc64nvme', type: 'FULL_OBJECT' }],
    [{ 'x-amz-checksum-algorithm': 'SHA256' }, { algorithm: 'sha256', type: 'COMPOSITE' }],
    [{ 'x-amz-checksum-algorithm': 'SHA1', 'x-amz-checksum-type': 'FULL_OBJECT' }, 'InvalidRequest'],
    [{ 'x-amz-checksum-algorithm': 'CRC64NVME', 'x-amz-checksum-type': 'COMPOSITE' }, 'InvalidRequest'],
    [{ 'x-amz-checksum-type': 'COMPOSITE' }, 'InvalidRequest'],
    [{ 'x-amz-checksum-algorithm': 'MD5' }, 'InvalidRequest'],
    [{ 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'BOTH' }, 'InvalidRequest'],
  ];
  for (const [headers, expected] of cases) {
    it(`${JSON.stringify(headers)} → ${typeof expected === 'string' ? expected : JSON.stringify(expected)}`, () => {
      if (typeof expected === 'string') assert.throws(() => uploadChecksumFromRequest(fakeCtx(headers)), s3Code(expected));
      else assert.deepEqual(uploadChecksumFromRequest(fakeCtx(headers)), expected);
    });
  }
});

describe('parseCompleteBody', () => {
  it('parts with and without namespace, quotes and checksums → listed in request order', () => {
    const xml = `<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Part><ETag>"aa"</ETag><PartNumber>2</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>
      <Part><PartNumber>1</PartNumber><ETag>&quot;bb&quot;</ETag></Part></CompleteMultipartUpload>`;
    assert.deepEqual(parseCompleteBody(xml), [
      { partNumber: 2, etag: '"aa"', checksums: { crc32: 'AAAAAA==' } },
      { partNumber: 1, etag: '"bb"', checksums: {} },
    ]);
  });

  it('no parts, wrong root, missing PartNumber/ETag, non-numeric number → MalformedXML', () => {
    for (const xml of [
      '<CompleteMultipartUpload></CompleteMultipartUpload>',
      '<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>',
      '<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>',
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>',
      '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
      'not xml',
    ]) {
      assert.throws(() => parseCompleteBody(xml), s3Code('MalformedXML'), xml);
    }
  });
});

describe('parseCopySourceRange', () => {
  it('bytes=a-b inside the source → inclusive range; absent → undefined', () => {
    assert.deepEqual(parseCopySourceRange('bytes=0-9', 10), { start: 0, end: 9 });
    assert.deepEqual(parseCopySourceRange('bytes=3-3', 10), { start: 3, end: 3 });
    assert.equal(parseCopySourceRange(undefined, 10), undefined);
  });

  it('malformed, reversed or past the end → InvalidArgument', () => {
    for (const v of ['bytes=0-10', 'bytes=5-2', 'bytes=-5', 'bytes=5-', '0-5', 'bytes=0-1,3-4', 'bytes=a-b']) {
      assert.throws(() => parseCopySourceRange(v, 10), s3Code('InvalidArgument'), v);
    }
  });
});

describe('parseObjectAttributes', () => {
  it('comma list, any case → the attribute set; unknown or empty → InvalidArgument', () => {
    assert.deepEqual([...parseObjectAttributes('etag, ObjectSize,Checksum')], ['ETag', 'ObjectSize', 'Checksum']);
    assert.throws(() => parseObjectAttributes('ETag,Colour'), s3Code('InvalidArgument'));
    assert.throws(() => parseObjectAttributes(''), s3Code('InvalidArgument'));
    assert.throws(() => parseObjectAttributes(undefined), s3Code('InvalidArgument'));
  });
});
