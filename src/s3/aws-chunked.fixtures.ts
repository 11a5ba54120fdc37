// Test fixtures for aws-chunked bodies: an encoder and chunk signer written with node:crypto,
// independent of the code under test (aws-chunked.ts, body.ts), shared by aws-chunked.test.ts and
// body-aws-chunked.test.ts.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import type { ChunkSigning } from './aws-chunked.js';
import type { S3Error, S3ErrorCode } from './errors.js';

export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
export const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export const SECRET = 'rustfssecret';
export const AMZ_DATE = '20250115T120000Z';
export const SCOPE = '20250115/us-east-1/s3/aws4_request';
export const KEY = signingKey(SECRET, '20250115', 'us-east-1');
export const SEED = sha256hex('any seed: the chain only needs a starting point');
export const SIGNING: ChunkSigning = { signingKey: KEY, seedSignature: SEED, scope: SCOPE, amzDate: AMZ_DATE };

export interface EncodeOptions {
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
export function encode(payload: Buffer, sizes: number[], o: EncodeOptions = {}): Buffer {
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
    const n = Math.min(sizes[i % sizes.length]!, payload.length - off);
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
export async function* pieces(buf: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    if (c > prev) yield buf.subarray(prev, c);
    prev = Math.max(prev, c);
  }
}

/** Deterministic PRNG (mulberry32) for the random splits. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function payloadOf(n: number, seed = 1): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export async function expectCode(p: Promise<S3Error>, code: S3ErrorCode, status: number): Promise<void> {
  const e = await p;
  assert.equal(e.code, code, e.message);
  assert.equal(e.status, status);
}
