// The byte layout of a data piece file (piece format 1): a header, the object bytes, a footer of
// SHA-256 block checksums. Pure encoding/decoding and the checks a reader makes; docs/on-disk-format.md.
import { createHash } from 'node:crypto';

export { PieceError, type PieceFault } from '../errors.js';

/**
 * First 16 bytes of every piece written in format 1 (PNG-style: a non-ASCII byte, a name, CR LF,
 * Ctrl-Z), so that a reader tells a format-1 piece from a legacy one (raw bytes, no header) by its
 * first bytes alone, whatever the metadata says. A legacy piece starting with these exact 16 bytes
 * would have to have been written before this format existed: it cannot happen by chance (2^-128).
 */
export const PIECE_MAGIC = Buffer.from([0x89, 0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x20, 0x50, 0x49, 0x45, 0x43, 0x45, 0x0d, 0x0a, 0x1a]);
export const PIECE_FORMAT = 1;
/** Header: magic (16), format u32, block size u32, hash algorithm u32, reserved u32 (0); big-endian. */
export const HEADER_SIZE = 32;
/** Bytes of object data per checksum: one read (one thread-pool job) and one verification per block. */
export const BLOCK_SIZE = 1024 * 1024;
/** Hash algorithm ids in the header. 1 = SHA-256 (SHA-NI on x86 and ARMv8 crypto: measured, see the doc). */
export const HASH_SHA256 = 1;
export const DIGEST_SIZE = 32;
/** Footer after the n block digests: the data length (u64) and the SHA-256 of header + digests + length. */
const TRAILER_SIZE = 8 + DIGEST_SIZE;

export function blockCount(size: number, blockSize = BLOCK_SIZE): number {
  return Math.ceil(size / blockSize);
}

/** Footer length for a piece of `size` data bytes. */
export function footerSize(size: number, blockSize = BLOCK_SIZE): number {
  return blockCount(size, blockSize) * DIGEST_SIZE + TRAILER_SIZE;
}

/** The file length of a format-1 piece holding `size` bytes. */
export function pieceFileSize(size: number, blockSize = BLOCK_SIZE): number {
  return HEADER_SIZE + size + footerSize(size, blockSize);
}

export function encodeHeader(blockSize = BLOCK_SIZE): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  PIECE_MAGIC.copy(h, 0);
  h.writeUInt32BE(PIECE_FORMAT, 16);
  h.writeUInt32BE(blockSize, 20);
  h.writeUInt32BE(HASH_SHA256, 24);
  return h;
}

export function hasMagic(head: Buffer): boolean {
  return head.length >= PIECE_MAGIC.length && head.subarray(0, PIECE_MAGIC.length).equals(PIECE_MAGIC);
}

/** The block size of a format-1 header, or a description of what is wrong with it. */
export function parseHeader(h: Buffer): { blockSize: number } | { error: string } {
  if (h.length < HEADER_SIZE || !hasMagic(h)) return { error: 'no piece header' };
  const format = h.readUInt32BE(16);
  const blockSize = h.readUInt32BE(20);
  const alg = h.readUInt32BE(24);
  if (format !== PIECE_FORMAT) return { error: `unknown piece format ${format}` };
  if (alg !== HASH_SHA256) return { error: `unknown block hash algorithm ${alg}` };
  // A power of two between 4 KiB and 64 MiB: anything else is a damaged header.
  if (blockSize < 4096 || blockSize > 64 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) return { error: `invalid block size ${blockSize}` };
  if (h.readUInt32BE(28) !== 0) return { error: 'reserved header field not zero' };
  return { blockSize };
}

export function blockDigest(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Footer = digests, data length, SHA-256(header ‖ digests ‖ length). */
export function encodeFooter(header: Buffer, digests: Buffer[], size: number): Buffer {
  const f = Buffer.alloc(digests.length * DIGEST_SIZE + TRAILER_SIZE);
  digests.forEach((d, i) => d.copy(f, i * DIGEST_SIZE));
  const lenAt = digests.length * DIGEST_SIZE;
  f.writeBigUInt64BE(BigInt(size), lenAt);
  createHash('sha256')
    .update(header)
    .update(f.subarray(0, lenAt + 8))
    .digest()
    .copy(f, lenAt + 8);
  return f;
}

/** The block digests of a footer read for a piece of `size` bytes, or what is wrong with it. */
export function parseFooter(header: Buffer, f: Buffer, size: number, blockSize: number): { digests: Buffer } | { error: string } {
  const n = blockCount(size, blockSize);
  if (f.length !== n * DIGEST_SIZE + TRAILER_SIZE) return { error: 'footer of the wrong length' };
  const lenAt = n * DIGEST_SIZE;
  const stored = f.readBigUInt64BE(lenAt);
  if (stored !== BigInt(size)) return { error: `footer says ${stored} data bytes, the record ${size}` };
  const check = createHash('sha256')
    .update(header)
    .update(f.subarray(0, lenAt + 8))
    .digest();
  if (!check.equals(f.subarray(lenAt + 8))) return { error: 'footer checksum mismatch (header or block checksum table damaged)' };
  return { digests: f.subarray(0, lenAt) };
}

/**
 * Block digests of a stream of chunks of any sizes, as a piece is written: each BLOCK_SIZE bytes
 * (and the last, shorter block) get one SHA-256.
 */
export class BlockHasher {
  readonly digests: Buffer[] = [];
  private hash = createHash('sha256');
  private inBlock = 0;

  constructor(private readonly blockSize = BLOCK_SIZE) {}

  update(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(chunk.length - off, this.blockSize - this.inBlock);
      this.hash.update(off === 0 && take === chunk.length ? chunk : chunk.subarray(off, off + take));
      off += take;
      this.inBlock += take;
      if (this.inBlock === this.blockSize) this.endBlock();
    }
  }

  /** The digests of every block, the last (partial) one included. */
  finish(): Buffer[] {
    if (this.inBlock > 0) this.endBlock();
    return this.digests;
  }

  private endBlock(): void {
    this.digests.push(this.hash.digest());
    this.hash = createHash('sha256');
    this.inBlock = 0;
  }
}
