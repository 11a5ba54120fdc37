// Request bodies. Object bodies are never buffered: `objectBody()` yields the request's bytes
// through one pass that counts them and feeds every hash the request asks us to verify (MD5 for the
// ETag and Content-MD5, SHA-256 for signed payloads, the x-amz-checksum-* algorithm). Verdicts are
// given after the last byte and before the data store commits: a mismatch throws, and the data
// store then removes what it wrote. aws-chunked bodies (STREAMING-*) are decoded, and their chunk
// signatures and trailers verified, on the way (aws-chunked.ts). XML bodies are small: read with a
// bound, verified, parsed.
import { isUtf8 } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import type { AwsChunkedOptions, TrailerHeader } from './aws-chunked.js';
import { AwsChunkedDecoder, decoderOptions, isStreamingMode, STREAMING_UNSIGNED_TRAILER } from './aws-chunked.js';
import type { ChecksumAlgorithm, Hasher } from './checksums.js';
import { CHECKSUM_ALGORITHMS, checksumAlgorithmOfHeader, isValidChecksumValue, newHasher } from './checksums.js';
import { bodyHash } from '../store/hash-offload.js';

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
    // Not base64 of the digest size: InvalidRequest, as S3 answers (a well-formed value that does
    // not match the body is BadDigest, decided after the last byte).
    if (!isValidChecksumValue(alg, v.trim())) {
      throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${alg} header is invalid.`);
    }
    found = { alg, value: v.trim() };
  }
  const sdkDeclared = header(ctx, 'x-amz-sdk-checksum-algorithm');
  const declared = sdkDeclared ?? header(ctx, 'x-amz-checksum-algorithm');
  if (declared !== undefined) {
    const alg = declared.trim().toLowerCase();
    if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new S3Error(
        'InvalidRequest',
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
      );
    }
    // Declaring one algorithm and sending another's value: S3 refuses it, naming the declaration.
    if (found && found.alg !== alg) {
      const name = sdkDeclared !== undefined ? 'x-amz-sdk-checksum-algorithm' : 'x-amz-checksum-algorithm';
      throw new S3Error('InvalidRequest', `Value for ${name} header is invalid.`);
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

/** The checksum trailer `x-amz-trailer` announces; only the STREAMING-*-TRAILER modes may have one. */
function declaredTrailer(ctx: RequestContext, allowed: boolean): ChecksumAlgorithm | undefined {
  const v = header(ctx, 'x-amz-trailer');
  if (v === undefined || v.trim() === '') return undefined;
  if (!allowed) {
    throw new S3Error('MalformedTrailerError', 'x-amz-trailer was sent, but x-amz-content-sha256 is not a STREAMING-*-TRAILER mode.');
  }
  const alg = checksumAlgorithmOfHeader(v);
  if (!alg)
    throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported', {
      ArgumentName: 'x-amz-trailer',
      ArgumentValue: v,
    });
  return alg;
}

/** How an aws-chunked (x-amz-content-sha256: STREAMING-*) body is to be read. */
interface StreamingPlan {
  decoder: AwsChunkedOptions;
  /** x-amz-decoded-content-length: the payload size, if the client declared it. */
  decodedLength?: number;
  /** The checksum the trailer must carry. */
  trailer?: ChecksumAlgorithm;
}

function streamingPlan(ctx: RequestContext, mode: string): StreamingPlan {
  const auth = ctx.auth;
  // SigV4 refuses SigV4a and unknown values itself; a SigV2 request only gets here with the header.
  if (!isStreamingMode(mode)) throw new S3Error('NotImplemented', `x-amz-content-sha256 ${mode} is not supported.`);
  const signing =
    auth && auth.signingKey.length > 0 && auth.signature !== ''
      ? { signingKey: auth.signingKey, seedSignature: auth.signature, scope: auth.scope, amzDate: auth.amzDate }
      : undefined;
  if (!signing && mode !== STREAMING_UNSIGNED_TRAILER) {
    throw new S3Error('InvalidRequest', `x-amz-content-sha256 ${mode} needs Signature Version 4 header authentication.`);
  }
  // The encoded body needs a known end: Content-Length (encoded size) or HTTP chunking (aws-sdk-js
  // v3 streams: aws-chunked inside Transfer-Encoding: chunked, which node has already removed).
  const cl = header(ctx, 'content-length');
  if (cl === undefined && ctx.headers['transfer-encoding'] === undefined) throw new S3Error('MissingContentLength');
  if (cl !== undefined && !/^\d+$/.test(cl)) throw new S3Error('InvalidArgument', 'Content-Length must be a non-negative integer.');
  let decodedLength: number | undefined;
  const dcl = header(ctx, 'x-amz-decoded-content-length');
  if (dcl !== undefined) {
    if (!/^\d+$/.test(dcl.trim())) {
      throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer.', {
        ArgumentName: 'x-amz-decoded-content-length',
        ArgumentValue: dcl,
      });
    }
    decodedLength = Number(dcl.trim());
    if (decodedLength > MAX_OBJECT_SIZE) {
      throw new S3Error('EntityTooLarge', undefined, { ProposedSize: decodedLength, MaxSizeAllowed: MAX_OBJECT_SIZE });
    }
  }
  const decoder = decoderOptions(mode, signing, MAX_OBJECT_SIZE);
  return { decoder, decodedLength, trailer: declaredTrailer(ctx, decoder.trailer !== 'none') };
}

export interface ObjectBody {
  source: AsyncIterable<Buffer>;
  /** Available once `source` has been consumed without error. */
  digest(): BodyDigest;
}

/**
 * Validates the upload headers up front (before any byte is read) and returns the verifying
 * source. Throws S3Errors for bad headers; the source itself throws BadDigest, IncompleteBody,
 * XAmzContentSHA256Mismatch, SignatureDoesNotMatch or MalformedTrailerError, at the latest at its
 * end. Plain bodies and aws-chunked ones (all three STREAMING-* modes) alike; generic over the
 * operation (PutObject, UploadPart).
 */
export function objectBody(ctx: RequestContext): ObjectBody {
  if (ctx.bodyPolicy !== 'stream') throw bodyPolicyViolation(ctx, 'a streamed object body');
  const payloadHash = ctx.auth?.payloadHash ?? 'UNSIGNED-PAYLOAD';
  // The framing is decided by what the client declares even when its auth did not sign the claim
  // (SigV2): storing chunk headers inside the object is the one outcome that must never happen.
  const claimed = header(ctx, 'x-amz-content-sha256')?.trim() ?? '';
  const mode = payloadHash.startsWith(STREAMING_PREFIX) ? payloadHash : claimed.startsWith(STREAMING_PREFIX) ? claimed : undefined;
  const streaming = mode !== undefined ? streamingPlan(ctx, mode) : undefined;
  if (!streaming) declaredTrailer(ctx, false);
  const length = streaming ? streaming.decodedLength : declaredLength(ctx);
  const md5Expected = expectedMd5(ctx);
  const checksum = expectedChecksum(ctx);
  if (checksum && streaming?.trailer && checksum.alg !== streaming.trailer) {
    throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const sha256Expected = /^[0-9a-f]{64}$/i.test(payloadHash) ? payloadHash.toLowerCase() : undefined;

  let result: BodyDigest | undefined;
  const req = ctx.req;

  async function* verify(): AsyncGenerator<Buffer> {
    // A large body's MD5 (and signed SHA-256) runs on a worker thread while the event loop goes on
    // receiving and writing (store/hash-offload.ts); a small one's here, a thread's round trip
    // would cost more. The verdicts are the same either way, given after the last byte.
    const hashes = bodyHash(sha256Expected ? ['md5', 'sha256'] : ['md5'], length);
    const hashers = new Map<ChecksumAlgorithm, Hasher>();
    if (checksum) hashers.set(checksum.alg, newHasher(checksum.alg));
    if (streaming?.trailer && !hashers.has(streaming.trailer)) hashers.set(streaming.trailer, newHasher(streaming.trailer));
    const decoder = streaming ? new AwsChunkedDecoder(streaming.decoder) : undefined;
    // Expect: 100-continue: the client sends the body only after this (or gets the refusal instead).
    await ctx.continueBody?.();
    // Not `for await (… of req)`: leaving that loop early destroys the request and with it the
    // socket, and the client would get a reset instead of our error response.
    const raw = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    let size = 0;
    let ok = false;
    try {
      for await (const chunk of decoder ? decoder.decode(raw) : raw) {
        size += chunk.length;
        if (size > MAX_OBJECT_SIZE) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: MAX_OBJECT_SIZE });
        if (length !== undefined && size > length) throw new S3Error('IncompleteBody', 'The request body is longer than the declared length.');
        const behind = hashes.update(chunk);
        if (behind) await behind;
        for (const h of hashers.values()) h.update(chunk);
        yield chunk;
      }
      // Node ends the stream early without an error when the client closes mid-body.
      if (!req.complete || (length !== undefined && size !== length)) {
        throw new S3Error('IncompleteBody');
      }
      const { digests } = await hashes.digest();
      const md5Bytes = digests.md5!;
      const sha256Hex = digests.sha256?.toString('hex');
      if (md5Expected && !timingSafeEqual(md5Bytes, md5Expected)) {
        throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
          ExpectedDigest: md5Expected.toString('base64'),
          CalculatedDigest: md5Bytes.toString('base64'),
        });
      }
      if (sha256Expected && sha256Hex !== sha256Expected) {
        throw new S3Error('XAmzContentSHA256Mismatch', undefined, { ClientComputedContentSHA256: sha256Expected });
      }
      const checksums: BodyDigest['checksums'] = {};
      if (checksum) {
        const actual = await hashers.get(checksum.alg)!.digest();
        if (actual !== checksum.value) {
          throw new S3Error('BadDigest', `The ${checksum.alg.toUpperCase()} you specified did not match the calculated checksum.`);
        }
        checksums[checksum.alg] = actual;
      }
      if (decoder) {
        const value = trailerChecksum(decoder.trailers, streaming?.trailer);
        if (value !== undefined && streaming?.trailer) {
          const alg = streaming.trailer;
          const actual = checksums[alg] ?? (await hashers.get(alg)!.digest());
          if (actual !== value) {
            throw new S3Error('BadDigest', `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`);
          }
          checksums[alg] = actual;
        }
      }
      result = { size, md5: md5Bytes.toString('hex'), checksums };
      ok = true;
    } finally {
      // On any failure (ours or the consumer's) let the rest of the body flow away instead of
      // stalling the connection; the send stage adds Connection: close when that is a lot.
      if (!ok) {
        hashes.abort();
        req.resume();
      }
    }
  }

  return {
    source: verify(),
    digest() {
      if (!result) throw new Error('body digest read before the body was consumed');
      return result;
    },
  };
}

/**
 * The value of the announced checksum trailer. A declared trailer that never came, or a checksum
 * trailer that was not declared, is MalformedTrailerError; a value that is not base64 of the
 * digest size is InvalidRequest.
 */
function trailerChecksum(trailers: readonly TrailerHeader[], declared: ChecksumAlgorithm | undefined): string | undefined {
  let value: string | undefined;
  for (const t of trailers) {
    const alg = checksumAlgorithmOfHeader(t.name);
    if (alg === undefined) {
      if (t.name.startsWith('x-amz-checksum-')) throw new S3Error('MalformedTrailerError', `Unsupported trailer ${t.name}.`);
      continue; // other trailers carry nothing we verify or store
    }
    if (alg !== declared) throw new S3Error('MalformedTrailerError', `The trailer ${t.name} was not announced in x-amz-trailer.`);
    if (!isValidChecksumValue(alg, t.value)) throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${alg} trailing header is invalid.`);
    value = t.value;
  }
  if (declared !== undefined && value === undefined) {
    throw new S3Error('MalformedTrailerError', `The x-amz-checksum-${declared} trailer announced in x-amz-trailer was not sent.`, {
      TrailerHeader: `x-amz-checksum-${declared}`,
    });
  }
  return value;
}

/**
 * The items of `source` until `signal` aborts; then its reason is thrown at once, even while the
 * source waits for bytes that will never come (the server failed the body: IncompleteBody).
 */
async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    signal.throwIfAborted();
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** A reader called for an operation whose body policy is another: a programming error (500). */
export function bodyPolicyViolation(ctx: RequestContext, what: string): Error {
  return new Error(`${ctx.op} has body policy '${ctx.bodyPolicy}': it may not read ${what}`);
}

/**
 * What an operation's XML body may hold, checked while it is read: most bytes, and (for lists) most
 * start tags of the repeated element. AWS documents the counts (1000 keys per DeleteObjects, 10,000
 * parts, a 64 KB CORS configuration); the byte bounds follow from the largest valid document with
 * room for escapes (a 1024-byte key written with `&amp;`s takes 5 KiB; nobody sends 1000 of those).
 * Over either: MalformedXML, as S3 answers a DeleteObjects of 1001 keys.
 */
export interface XmlBodyLimit {
  maxBytes: number;
  /** The repeated element and its most occurrences (counted on the raw bytes, before parsing). */
  element?: { name: string; max: number };
}

const KIB = 1024;
export const XML_BODY_LIMITS: Readonly<Record<string, XmlBodyLimit>> = {
  // 1000 × (a 1024-byte key three times over for escapes, a version id, ETag/Size/LastModifiedTime).
  DeleteObjects: { maxBytes: 4 * KIB * KIB, element: { name: 'Object', max: 1000 } },
  // 10,000 × (<Part> with number, quoted ETag and every checksum field, indented): ~400 bytes each.
  CompleteMultipartUpload: { maxBytes: 4 * KIB * KIB, element: { name: 'Part', max: 10_000 } },
  // "The maximum size of a CORS configuration is 64 KB" (AWS, CORS documentation).
  PutBucketCors: { maxBytes: 64 * KIB },
  // lifecycle slice: up to 1000 rules, each with an ID (≤ 255), a prefix (a key: ≤ 1024 bytes, more
  // escaped) and tags; the count itself is checked by the parser (InvalidRequest).
  PutBucketLifecycleConfiguration: { maxBytes: 4 * KIB * KIB },
};
/** Every other XML body (CreateBucketConfiguration, ...): a few elements. */
export const DEFAULT_XML_BODY_LIMIT: XmlBodyLimit = { maxBytes: 64 * KIB };

/**
 * Counts start tags `<name>`, `<name/>`, `<name attr…>` (any namespace prefix) in a body arriving in
 * chunks, without decoding it: in well-formed XML a `<` in text is always escaped, so every `<name`
 * outside comments and CDATA is a tag. (A comment holding such a tag may be over-counted: a refusal
 * of a document no client writes.)
 */
class TagCounter {
  count = 0;
  private carry = '';
  private readonly re: RegExp;
  constructor(name: string) {
    this.re = new RegExp(`<(?:[A-Za-z_][-A-Za-z0-9_.]*:)?${name}(?=[\\s/>])`, 'g');
  }
  add(chunk: Buffer): void {
    // latin1 keeps one character per byte: the tag is ASCII, multi-byte text cannot fake it.
    const s = this.carry + chunk.toString('latin1');
    for (const _ of s.matchAll(this.re)) this.count++;
    // A tag split across chunks: keep the tail from its last '<' (if short) for the next chunk.
    const lt = s.lastIndexOf('<');
    const tail = lt === -1 ? '' : s.slice(lt);
    this.carry = tail.length <= 80 && !this.re.test(tail) ? tail : '';
    this.re.lastIndex = 0;
  }
}

/**
 * Reads a small XML request body with a size bound (the operation's, XML_BODY_LIMITS), verifying
 * Content-MD5, a signed SHA-256 and (unless `checksumHeaderDescribesObject`) an x-amz-checksum-*
 * header. CompleteMultipartUpload sets that option: there the checksum headers carry the whole
 * object's checksum, not the XML's. A declared Content-Length over the bound is refused before a
 * byte is read; a chunked body as soon as it passes the bound or lists one element too many.
 */
export async function readXmlBody(ctx: RequestContext): Promise<string> {
  // The operation's body policy (registry) decides: 'xml' bodies are read by the pipeline,
  // 'xml-after-checks' (CompleteMultipartUpload) by the handler, whose checksum headers describe
  // the object being completed, not this XML.
  if (ctx.bodyPolicy !== 'xml' && ctx.bodyPolicy !== 'xml-after-checks') throw bodyPolicyViolation(ctx, 'an XML body');
  const limit = XML_BODY_LIMITS[ctx.op] ?? DEFAULT_XML_BODY_LIMIT;
  return readSmallBody(ctx, limit, {
    tooLarge: () => new S3Error('MalformedXML', `The XML body is larger than this operation accepts (${limit.maxBytes} bytes).`),
    notText: () => new S3Error('MalformedXML', 'The XML you provided was not valid UTF-8.'),
  });
}

/** A bucket policy's bound: "bucket policies are limited to 20 KB" (AWS, bucket policy documentation). */
export const JSON_BODY_LIMIT: XmlBodyLimit = { maxBytes: 20 * KIB };

/**
 * Reads the JSON body of a 'json' operation (PutBucketPolicy) with JSON_BODY_LIMIT and the same
 * integrity checks as XML bodies; over the bound or not UTF-8 is MalformedPolicy, as S3 answers.
 */
export async function readJsonBody(ctx: RequestContext): Promise<string> {
  if (ctx.bodyPolicy !== 'json') throw bodyPolicyViolation(ctx, 'a JSON body');
  return readSmallBody(ctx, JSON_BODY_LIMIT, {
    tooLarge: () => new S3Error('MalformedPolicy', 'Policy exceeds the maximum allowed document size.'),
    notText: () => new S3Error('MalformedPolicy', 'This policy contains invalid Json'),
  });
}

/** The answers of readSmallBody for a body over its bound and for bytes that are not UTF-8. */
interface SmallBodyErrors {
  tooLarge: () => S3Error;
  notText: () => S3Error;
}

/** The bounded read behind readXmlBody and readJsonBody (the rest of the body flows away after a refusal). */
async function readSmallBody(ctx: RequestContext, limit: XmlBodyLimit, errors: SmallBodyErrors): Promise<string> {
  const md5Expected = expectedMd5(ctx);
  const checksum = ctx.bodyPolicy === 'xml-after-checks' ? undefined : expectedChecksum(ctx);
  const payloadHash = ctx.auth?.payloadHash ?? 'UNSIGNED-PAYLOAD';
  if (payloadHash.startsWith(STREAMING_PREFIX)) throw new S3Error('InvalidRequest', 'Streaming payloads are only allowed for object uploads.');
  const tooLarge = errors.tooLarge;
  const tooMany = (): S3Error =>
    new S3Error(
      'MalformedXML',
      `The XML you provided was not well-formed or did not validate against our published schema: more than ${limit.element!.max} ${limit.element!.name} elements.`,
    );
  const declared = header(ctx, 'content-length');
  if (declared !== undefined && Number(declared) > limit.maxBytes) throw tooLarge();
  await ctx.continueBody?.();
  const counter = limit.element && new TagCounter(limit.element.name);
  const chunks: Buffer[] = [];
  let size = 0;
  // Not `for await (… of req)`: leaving that loop early (a body over the bound) destroys the request
  // and its socket, and the client gets a reset instead of MalformedXML. The rest of the body flows
  // away instead; the send stage closes the connection after the answer.
  for await (const chunk of untilAborted(ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>, ctx.signal)) {
    size += chunk.length;
    if (size > limit.maxBytes) {
      ctx.req.resume();
      throw tooLarge();
    }
    if (counter) {
      counter.add(chunk);
      if (counter.count > limit.element!.max) {
        ctx.req.resume();
        throw tooMany();
      }
    }
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
  // XML and JSON are text: bytes that are not UTF-8 are no document, not U+FFFD keys.
  if (!isUtf8(body)) throw errors.notText();
  return body.toString('utf8');
}
