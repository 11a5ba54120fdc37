// The flexible checksums S3 accepts (x-amz-checksum-<alg>): one incremental hasher interface over
// node:crypto, zlib.crc32 and AWS's own pure-JS CRC32C / CRC64NVME packages. Values are base64 of
// the big-endian digest.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { createRequire } from 'node:module';
import type { Crc32c } from '@aws-crypto/crc32c';
import type { Crc64Nvme } from '@aws-sdk/crc64-nvme';

// AWS's CRC packages are loaded on first use (a synchronous require): ~100 ms each of startup on
// the test VM, for the few requests that ask for these two algorithms.
const requireLazily = createRequire(import.meta.url);
function newCrc32c(): Crc32c {
  const { Crc32c } = requireLazily('@aws-crypto/crc32c') as typeof import('@aws-crypto/crc32c');
  return new Crc32c();
}
function newCrc64Nvme(): Crc64Nvme {
  const { Crc64Nvme } = requireLazily('@aws-sdk/crc64-nvme') as typeof import('@aws-sdk/crc64-nvme');
  return new Crc64Nvme();
}

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Digest sizes in bytes, to validate values clients send. */
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };

export interface Hasher {
  update(chunk: Buffer): void;
  /** base64 digest (async because AWS's CRC64NVME implementation is). */
  digest(): Promise<string>;
}

class CryptoHasher implements Hasher {
  private readonly h: Hash;
  constructor(alg: string) {
    this.h = createHash(alg);
  }
  update(chunk: Buffer): void {
    this.h.update(chunk);
  }
  async digest(): Promise<string> {
    return this.h.digest('base64');
  }
}

class Crc32Hasher implements Hasher {
  private value = 0;
  update(chunk: Buffer): void {
    this.value = crc32(chunk, this.value);
  }
  async digest(): Promise<string> {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.value >>> 0);
    return b.toString('base64');
  }
}

class Crc32cHasher implements Hasher {
  private readonly h = newCrc32c();
  update(chunk: Buffer): void {
    this.h.update(chunk);
  }
  async digest(): Promise<string> {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.h.digest() >>> 0);
    return b.toString('base64');
  }
}

class Crc64NvmeHasher implements Hasher {
  private readonly h = newCrc64Nvme();
  update(chunk: Buffer): void {
    this.h.update(chunk);
  }
  async digest(): Promise<string> {
    return Buffer.from(await this.h.digest()).toString('base64');
  }
}

export function newHasher(alg: ChecksumAlgorithm): Hasher {
  switch (alg) {
    case 'crc32':
      return new Crc32Hasher();
    case 'crc32c':
      return new Crc32cHasher();
    case 'crc64nvme':
      return new Crc64NvmeHasher();
    case 'sha1':
      return new CryptoHasher('sha1');
    case 'sha256':
      return new CryptoHasher('sha256');
  }
}

export function isChecksumAlgorithm(s: string): s is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(s);
}

/** True if `value` is base64 of exactly the digest size of `alg`. */
export function isValidChecksumValue(alg: ChecksumAlgorithm, value: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  return Buffer.from(value, 'base64').length === DIGEST_BYTES[alg];
}

const CHECKSUM_HEADER_PREFIX = 'x-amz-checksum-';

/** The algorithm an `x-amz-checksum-<alg>` header (or trailer) name carries, if it is one we know. */
export function checksumAlgorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const n = name.trim().toLowerCase();
  if (!n.startsWith(CHECKSUM_HEADER_PREFIX)) return undefined;
  const alg = n.slice(CHECKSUM_HEADER_PREFIX.length);
  return isChecksumAlgorithm(alg) ? alg : undefined;
}
