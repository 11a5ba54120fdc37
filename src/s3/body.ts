// Request bodies. Object bodies are never buffered: `objectBody()` yields the request's bytes
// through one pass that counts them and feeds every hash the request asks us to verify (MD5 for the
// ETag and Content-MD5, SHA-256 for signed payloads, the x-amz-checksum-* algorithm). Verdicts are
// given after the last byte and before the data store commits: a mismatch throws, and the data
// store then removes what it wrote. XML bodies are small: read with a bound, verified, parsed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import { MAX_XML_BODY } from './xml.js';
import type { ChecksumAlgorithm } from './checksums.js';
import { CHECKSUM_ALGORITHMS, isValidChecksumValue, newHasher } from './checksums.js';

/** Largest single PUT S3 accepts. */
export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

const STREAMING_PREFIX = 'STREAMING-';

export interface BodyDigest {
  size: number;
  /** hex MD5 of the bytes (the ETag of a single-part object). */
  md5: string;
  /** Verified checksums by algorithm (base64), as sent by the client. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

interface ExpectedChecksum {
  alg: ChecksumAlgorithm;
  value: string;
}

/** Content-MD5 as raw bytes, or InvalidDigest if it is not base64 of 16 bytes. */
function expectedMd5(ctx: RequestContext): Buffer | undefined {
  const v = header(ctx, 'content-md5');
  if (v === undefined) return undefined;
  const b = /^[A-Za-z0-9+/]{22}==$/.test(v.trim()) ? Buffer.from(v.trim(), 'base64') : undefined;
  if (!b || b.length !== 16) throw new S3Error('InvalidDigest');
  return b;
}

/** The x-amz-checksum-<alg> header, validated. Several different ones → InvalidRequest. */
function expectedChecksum(ctx: RequestContext): ExpectedChecksum | undefined {
  let found: ExpectedChecksum | undefined;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = header(ctx, `x-amz-checksum-${alg}`);
    if (v === undefined) continue;
    if (found) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    if (!isValidChecksumValue(alg, v.trim())) {
      throw new S3Error('InvalidArgument', `Value for x-amz-checksum-${alg} header is invalid.`);
    }
    found = { alg, value: v.trim() };
  }
  const declared = header(ctx, 'x-amz-sdk-checksum-algorithm') ?? header(ctx, 'x-amz-checksum-algorithm');
  if (declared !== undefined) {
    const alg = declared.toLowerCase();
    if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
    }
  }
  return found;
}

/** The declared body length, enforcing S3's rules for uploads. */
function declaredLength(ctx: RequestContext): number | undefined {
  const cl = header(ctx, 'content-length');
  if (cl === undefined) {
    // Lenient like MinIO: an HTTP-chunked body of unknown length is accepted.
    if (ctx.headers['transfer-encoding'] !== undefined) return undefined;
    throw new S3Error('MissingContentLength');
  }
  if (!/^\d+$/.test(cl)) throw new S3Error('InvalidArgument', 'Content-Length must be a non-negative integer.');
  const n = Number(cl);
  if (n > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: n, MaxSizeAllowed: MAX_OBJECT_SIZE });
  return n;
}

export interface ObjectBody {
  source: AsyncIterable<Buffer>;
  /** Available once `source` has been consumed without error. */
  digest(): BodyDigest;
}

/**
 * Validates the upload headers up front (before any byte is read) and returns the verifying
 * source. Throws S3Errors for bad headers; the source itself throws BadDigest, IncompleteBody or
 * XAmzContentSHA256Mismatch at its end.
 */
export function objectBody(ctx: RequestContext): ObjectBody {
  const payloadHash = ctx.auth?.payloadHash ?? 'UNSIGNED-PAYLOAD';
  if (payloadHash.startsWith(STREAMING_PREFIX)) {
    throw new S3Error('NotImplemented', 'aws-chunked (streaming) uploads are not supported yet.');
  }
  const length = declaredLength(ctx);
  const md5Expected = expectedMd5(ctx);
  const checksum = expectedChecksum(ctx);
  const sha256Expected = /^[0-9a-f]{64}$/i.test(payloadHash) ? payloadHash.toLowerCase() : undefined;

  let result: BodyDigest | undefined;
  const req = ctx.req;

  async function* verify(): AsyncGenerator<Buffer> {
    const md5 = createHash('md5');
    const sha256 = sha256Expected ? createHash('sha256') : undefined;
    const sum = checksum ? newHasher(checksum.alg) : undefined;
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: MAX_OBJECT_SIZE });
      md5.update(chunk);
      sha256?.update(chunk);
      sum?.update(chunk);
      yield chunk;
    }
    // Node ends the stream early without an error when the client closes mid-body.
    if (!req.complete || (length !== undefined && size !== length)) {
      throw new S3Error('IncompleteBody');
    }
    const md5Bytes = md5.digest();
    if (md5Expected && !timingSafeEqual(md5Bytes, md5Expected)) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        ExpectedDigest: md5Expected.toString('base64'),
        CalculatedDigest: md5Bytes.toString('base64'),
      });
    }
    if (sha256 && sha256.digest('hex') !== sha256Expected) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, { ClientComputedContentSHA256: sha256Expected });
    }
    const checksums: BodyDigest['checksums'] = {};
    if (checksum && sum) {
      const actual = await sum.digest();
      if (actual !== checksum.value) {
        throw new S3Error('BadDigest', `The ${checksum.alg.toUpperCase()} you specified did not match the calculated checksum.`);
      }
      checksums[checksum.alg] = actual;
    }
    result = { size, md5: md5Bytes.toString('hex'), checksums };
  }

  return {
    source: verify(),
    digest() {
      if (!result) throw new Error('body digest read before the body was consumed');
      return result;
    },
  };
}

/** Reads a small XML request body with a size bound, verifying Content-MD5 and a signed SHA-256. */
export async function readXmlBody(ctx: RequestContext): Promise<string> {
  const md5Expected = expectedMd5(ctx);
  const checksum = expectedChecksum(ctx);
  const payloadHash = ctx.auth?.payloadHash ?? 'UNSIGNED-PAYLOAD';
  if (payloadHash.startsWith(STREAMING_PREFIX)) throw new S3Error('InvalidRequest', 'Streaming payloads are only allowed for object uploads.');
  const declared = header(ctx, 'content-length');
  if (declared !== undefined && Number(declared) > MAX_XML_BODY) throw new S3Error('MalformedXML', 'The XML body is too large.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_XML_BODY) throw new S3Error('MalformedXML', 'The XML body is too large.');
    chunks.push(chunk);
  }
  if (!ctx.req.complete) throw new S3Error('IncompleteBody');
  const body = Buffer.concat(chunks);
  if (md5Expected && !createHash('md5').update(body).digest().equals(md5Expected)) throw new S3Error('BadDigest');
  if (/^[0-9a-f]{64}$/i.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash.toLowerCase()) {
    throw new S3Error('XAmzContentSHA256Mismatch');
  }
  if (checksum) {
    const h = newHasher(checksum.alg);
    h.update(body);
    if ((await h.digest()) !== checksum.value) throw new S3Error('BadDigest');
  }
  return body.toString('utf8');
}
