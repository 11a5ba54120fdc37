// Shared pieces of the multipart operations: limits, upload ids, part numbers, the multipart
// ETag, composite and full-object (CRC-combined) checksums, and the CompleteMultipartUpload body
// reader. Rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html and
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
import { createHash, randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { UploadRecord } from '../store/types.js';
import type { ChecksumAlgorithm, Hasher } from './checksums.js';
import { CHECKSUM_ALGORITHMS, isChecksumAlgorithm, newHasher } from './checksums.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';

export const MAX_PART_NUMBER = 10_000;
/** Every part but the last must be at least this large (checked at completion). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MAX_MULTIPART_OBJECT_SIZE = 5 * 1024 ** 4;
/** Default and largest page of ListParts / ListMultipartUploads. */
export const MAX_LIST_PARTS = 1000;

/** The XML / SDK member names of each checksum algorithm (ChecksumCRC32, ...). */
export const CHECKSUM_FIELD: Record<ChecksumAlgorithm, string> = {
  crc32: 'ChecksumCRC32',
  crc32c: 'ChecksumCRC32C',
  crc64nvme: 'ChecksumCRC64NVME',
  sha1: 'ChecksumSHA1',
  sha256: 'ChecksumSHA256',
};

const CRC_ALGORITHMS = new Set<string>(['crc32', 'crc32c', 'crc64nvme']);

/**
 * A new upload id: 12 hex digits of the initiation time in ms, then 128 random bits in hex.
 * Unguessable and URL-safe, and its string order is its initiation order, which is what
 * ListMultipartUploads' upload-id-marker ("upload ids lexicographically greater") relies on.
 */
export function newUploadId(initiated: number): string {
  return initiated.toString(16).padStart(12, '0') + randomBytes(16).toString('hex');
}

/** The upload id query parameter (the router only resolves multipart operations with it). */
export function uploadIdOf(ctx: RequestContext): string {
  return ctx.endpoint.uploadId ?? '';
}

/** `PUT ?partNumber=N` without uploadId: S3's InvalidArgument, not a lookup of the empty upload id. */
export function requireUploadId(ctx: RequestContext): void {
  if (ctx.endpoint.uploadId === undefined) {
    throw new S3Error('InvalidArgument', 'This operation does not accept partNumber without uploadId', {
      ArgumentName: 'partNumber',
      ArgumentValue: 'partNumber',
    });
  }
}

/** partNumber as S3 validates it: an integer in 1..10000, else InvalidArgument. */
export function parsePartNumber(ctx: RequestContext): number {
  const v = ctx.endpoint.partNumber ?? '';
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: v,
    });
  }
  return n;
}

/** A non-negative integer query parameter or header (max-parts, part-number-marker...). */
export function parseCount(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value)) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: value });
  }
  return Number(value);
}

/** Strips W/ and the quotes of an entity tag (clients send part ETags with or without quotes). */
export function bareEtag(tag: string): string {
  let t = tag.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

/** `"` + hex(md5(concatenated binary part MD5s)) + `-N"`: the multipart ETag clients recompute. */
export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash('md5');
  for (const e of partEtags) md5.update(Buffer.from(bareEtag(e), 'hex'));
  return `"${md5.digest('hex')}-${partEtags.length}"`;
}

// ---- checksums ---------------------------------------------------------------------------------

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/**
 * x-amz-checksum-algorithm / x-amz-checksum-type of CreateMultipartUpload, validated. CRC64NVME
 * supports only FULL_OBJECT (and defaults to it); SHA-1/SHA-256 only COMPOSITE; the CRC32s both
 * (default COMPOSITE).
 */
export function uploadChecksumFromRequest(ctx: RequestContext): { algorithm?: ChecksumAlgorithm; type?: ChecksumType } {
  const algHeader = header(ctx, 'x-amz-checksum-algorithm');
  const typeHeader = header(ctx, 'x-amz-checksum-type');
  let type: ChecksumType | undefined;
  if (typeHeader !== undefined && typeHeader !== '') {
    const t = typeHeader.toUpperCase();
    if (t !== 'COMPOSITE' && t !== 'FULL_OBJECT') {
      throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
    }
    type = t;
  }
  if (algHeader === undefined || algHeader === '') {
    if (type !== undefined) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return {};
  }
  const algorithm = algHeader.toLowerCase();
  if (!isChecksumAlgorithm(algorithm)) {
    throw new S3Error(
      'InvalidRequest',
      'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    );
  }
  const resolved = type ?? (algorithm === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (resolved === 'FULL_OBJECT' && !CRC_ALGORITHMS.has(algorithm)) {
    throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toUpperCase()} checksum algorithm.`);
  }
  if (resolved === 'COMPOSITE' && algorithm === 'crc64nvme') {
    throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the CRC64NVME checksum algorithm.');
  }
  return { algorithm, type: resolved };
}

/** The upload's checksum algorithm, if it declared one. */
export function uploadAlgorithm(upload: UploadRecord): ChecksumAlgorithm | undefined {
  const a = upload.checksumAlgorithm;
  return a !== undefined && isChecksumAlgorithm(a) ? a : undefined;
}

/** `{ ChecksumCRC32: value, ... }` for XML bodies, in the table's order. */
export function checksumFields(checksums: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = checksums?.[alg];
    if (v !== undefined) out[CHECKSUM_FIELD[alg]] = v;
  }
  return out;
}

/** COMPOSITE: the algorithm over the concatenated binary part checksums, base64, then `-N`. */
export async function compositeChecksum(alg: ChecksumAlgorithm, partValues: string[]): Promise<string> {
  const h = newHasher(alg);
  for (const v of partValues) h.update(Buffer.from(v, 'base64'));
  return `${await h.digest()}-${partValues.length}`;
}

/** The type a stored checksum value describes: composite values end in `-N`. */
export function checksumTypeOf(value: string): ChecksumType {
  return /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT';
}

/** A checksum value without its `-N` part count (GetObjectAttributes reports it so). */
export function withoutPartCount(value: string): string {
  return value.replace(/-\d+$/, '');
}

// CRC combination: crc(A ‖ B) = crc(A)·x^(8·|B|) mod P  ⊕  crc(B). This holds for the conditioned
// CRCs S3 uses because their initial value equals their final XOR (all ones), which cancels out.
// Arithmetic is in the reflected representation (as zlib's crc32_combine): the top bit is x^0.

interface CrcSpec {
  width: bigint;
  /** Reflected polynomial. */
  poly: bigint;
  /** x^(2^k) mod P for k = 0..63. */
  powers: bigint[];
  /** x^(8·len) mod P by length: parts mostly share one size. */
  shiftCache: Map<number, bigint>;
}

function crcSpec(width: number, poly: bigint): CrcSpec {
  const spec: CrcSpec = { width: BigInt(width), poly, powers: [], shiftCache: new Map() };
  let p = 1n << BigInt(width - 2); // x^1
  for (let k = 0; k < 64; k++) {
    spec.powers.push(p);
    p = multModP(spec, p, p);
  }
  return spec;
}

/** a·b mod P, both in reflected representation. */
function multModP(spec: CrcSpec, a: bigint, b: bigint): bigint {
  if (a === 0n) return 0n;
  let m = 1n << (spec.width - 1n);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ spec.poly : b >> 1n;
  }
  return p;
}

/** x^(8·len) mod P. */
function shiftFor(spec: CrcSpec, len: number): bigint {
  let cached = spec.shiftCache.get(len);
  if (cached !== undefined) return cached;
  let p = 1n << (spec.width - 1n); // x^0
  let n = BigInt(len);
  let k = 3; // 8·len = len·2^3
  while (n > 0n) {
    if (n & 1n) p = multModP(spec, spec.powers[k]!, p);
    n >>= 1n;
    k++;
  }
  if (spec.shiftCache.size > 64) spec.shiftCache.clear();
  spec.shiftCache.set(len, p);
  cached = p;
  return cached;
}

const CRC_SPECS: Partial<Record<ChecksumAlgorithm, CrcSpec>> = {
  crc32: crcSpec(32, 0xedb88320n),
  crc32c: crcSpec(32, 0x82f63b78n),
  crc64nvme: crcSpec(64, 0x9a6c9329ac4bc9b5n),
};

/** Whether full-object checksums of `alg` can be combined from part checksums. */
export function isCrcAlgorithm(alg: string): boolean {
  return CRC_ALGORITHMS.has(alg);
}

/**
 * FULL_OBJECT: the CRC of the whole object from its parts' CRCs (base64) and sizes, without
 * reading a byte: each step is crc = crc·x^(8·size) ⊕ crcPart.
 */
export function combineCrc(alg: ChecksumAlgorithm, parts: Array<{ value: string; size: number }>): string {
  const spec = CRC_SPECS[alg];
  if (!spec) throw new Error(`${alg} checksums cannot be combined`);
  const bytes = Number(spec.width / 8n);
  let crc: bigint | undefined;
  for (const part of parts) {
    const v = BigInt('0x' + (Buffer.from(part.value, 'base64').toString('hex') || '0'));
    crc = crc === undefined ? v : multModP(spec, shiftFor(spec, part.size), crc) ^ v;
  }
  // The CRC of zero bytes is 0 for these algorithms.
  return Buffer.from((crc ?? 0n).toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}

/**
 * Wraps a verified body so that the upload's checksum algorithm is also computed when the client
 * did not send that checksum: every part of an upload with an algorithm has its checksum, which the
 * object's composite or full-object checksum is built from.
 */
export function withChecksum(source: AsyncIterable<Buffer>, alg: ChecksumAlgorithm | undefined): { source: AsyncIterable<Buffer>; hasher?: Hasher } {
  if (!alg) return { source };
  const hasher = newHasher(alg);
  async function* tee(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hasher.update(chunk);
      yield chunk;
    }
  }
  return { source: tee(), hasher };
}

// ---- CompleteMultipartUpload body --------------------------------------------------------------

/** The Location of a completed object, as the client addressed the bucket. */
export function objectLocation(ctx: RequestContext, bucket: string, key: string): string {
  const scheme = (ctx.req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  const host = header(ctx, 'host') ?? 'localhost';
  const path = key.split('/').map(encodeURIComponent).join('/');
  const virtualHosted = host.toLowerCase().startsWith(`${bucket.toLowerCase()}.`);
  return virtualHosted ? `${scheme}://${host}/${path}` : `${scheme}://${host}/${encodeURIComponent(bucket)}/${path}`;
}
