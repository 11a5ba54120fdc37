// The byte layout of a data piece file (piece format 1): a header, the object bytes, a footer of
// block checksums (XXH3-128, or SHA-256 in pieces written before it or whose blocks were hashed on
// the offload threads: the header names which). Pure encoding/decoding and the checks a reader
// makes; docs/on-disk-format.md.
import { createHash } from 'node:crypto';
import { SHA256, XXH3_128 } from './erasure/block-hash.js';
import type { BlockHash } from './erasure/types.js';

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
/** A block hash as a piece header names it (its id at byte 24). */
export interface PieceHash extends BlockHash {
  readonly id: number;
}
/** Hash algorithm 1: SHA-256, 32-byte digests (every piece written before XXH3-128). */
export const HASH_SHA256 = 1;
/** Hash algorithm 2: XXH3-128, 16-byte digests: 2–3× SHA-256 here (docs/performance.md, "Block hash candidates"). */
export const HASH_XXH3_128 = 2;
export const PIECE_SHA256: PieceHash = { ...SHA256, id: HASH_SHA256 };
export const PIECE_XXH3_128: PieceHash = { ...XXH3_128, id: HASH_XXH3_128 };
/**
 * The block hash of new pieces whose blocks are hashed on the event loop. Pieces whose later blocks
 * go to the offload threads (hash-offload.ts, which run SHA-256) are written with PIECE_SHA256.
 */
export const PIECE_HASH = PIECE_XXH3_128;
/** Digest length of the footer's own check: SHA-256, whatever the block hash. */
const CHECK_SIZE = 32;
/** Footer after the n block digests: the data length (u64) and the SHA-256 of header + digests + length. */
const TRAILER_SIZE = 8 + CHECK_SIZE;

/** The block hash of header algorithm id `id`, or undefined for an unknown id. */
export function pieceHashOf(id: number): PieceHash | undefined {
  return id === HASH_XXH3_128 ? PIECE_XXH3_128 : id === HASH_SHA256 ? PIECE_SHA256 : undefined;
}

export function blockCount(size: number, blockSize = BLOCK_SIZE): number {
  return Math.ceil(size / blockSize);
}

/** Footer length for a piece of `size` data bytes whose block digests are `digestSize` bytes. */
export function footerSize(size: number, blockSize = BLOCK_SIZE, digestSize = PIECE_HASH.size): number {
  return blockCount(size, blockSize) * digestSize + TRAILER_SIZE;
}

/** The file length of a format-1 piece holding `size` bytes. */
export function pieceFileSize(size: number, blockSize = BLOCK_SIZE, digestSize = PIECE_HASH.size): number {
  return HEADER_SIZE + size + footerSize(size, blockSize, digestSize);
}

export function encodeHeader(blockSize = BLOCK_SIZE, hash: PieceHash = PIECE_HASH): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  PIECE_MAGIC.copy(h, 0);
  h.writeUInt32BE(PIECE_FORMAT, 16);
  h.writeUInt32BE(blockSize, 20);
  h.writeUInt32BE(hash.id, 24);
  return h;
}

export function hasMagic(head: Buffer): boolean {
  return head.length >= PIECE_MAGIC.length && head.subarray(0, PIECE_MAGIC.length).equals(PIECE_MAGIC);
}

/** The block size and block hash of a format-1 header, or a description of what is wrong with it. */
export function parseHeader(h: Buffer): { blockSize: number; hash: PieceHash } | { error: string } {
  if (h.length < HEADER_SIZE || !hasMagic(h)) return { error: 'no piece header' };
  const format = h.readUInt32BE(16);
  const blockSize = h.readUInt32BE(20);
  const alg = h.readUInt32BE(24);
  if (format !== PIECE_FORMAT) return { error: `unknown piece format ${format}` };
  const hash = pieceHashOf(alg);
  if (hash === undefined) return { error: `unknown block hash algorithm ${alg}` };
  // A power of two between 4 KiB and 64 MiB: anything else is a damaged header.
  if (blockSize < 4096 || blockSize > 64 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) return { error: `invalid block size ${blockSize}` };
  if (h.readUInt32BE(28) !== 0) return { error: 'reserved header field not zero' };
  return { blockSize, hash };
}

/** The block hash a header written by encodeHeader names. */
function hashOfHeader(header: Buffer): PieceHash {
  const hash = pieceHashOf(header.readUInt32BE(24));
  if (hash === undefined) throw new Error(`unknown block hash algorithm ${header.readUInt32BE(24)}`);
  return hash;
}

export function blockDigest(bytes: Buffer, hash: PieceHash = PIECE_HASH): Buffer {
  return hash.digest(bytes);
}

/** Footer = digests (of the header's block hash), data length, SHA-256(header ‖ digests ‖ length). */
export function encodeFooter(header: Buffer, digests: Buffer[], size: number): Buffer {
  const digestSize = hashOfHeader(header).size;
  const f = Buffer.alloc(digests.length * digestSize + TRAILER_SIZE);
  digests.forEach((d, i) => {
    if (d.length !== digestSize) throw new Error(`a block digest of ${d.length} bytes in a footer of ${digestSize}-byte digests`);
    d.copy(f, i * digestSize);
  });
  const lenAt = digests.length * digestSize;
  f.writeBigUInt64BE(BigInt(size), lenAt);
  createHash('sha256')
    .update(header)
    .update(f.subarray(0, lenAt + 8))
    .digest()
    .copy(f, lenAt + 8);
  return f;
}

/** The block digests of a footer read for a piece of `size` bytes, or what is wrong with it. */
export function parseFooter(header: Buffer, f: Buffer, size: number, blockSize: number, digestSize: number): { digests: Buffer } | { error: string } {
  const n = blockCount(size, blockSize);
  if (f.length !== n * digestSize + TRAILER_SIZE) return { error: 'footer of the wrong length' };
  const lenAt = n * digestSize;
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
 * (and the last, shorter block) get one digest of `hash`. A block's chunks are kept (by reference:
 * the writer holds them until they are written anyway) and hashed together when the block is
 * complete, so the hash runs start to end in one synchronous call (XXH3-128's WebAssembly hasher
 * is one per process: it must never be left half-way across an await).
 */
export class BlockHasher {
  readonly digests: Buffer[] = [];
  private parts: Buffer[] = [];
  private inBlock = 0;

  constructor(
    private readonly blockSize = BLOCK_SIZE,
    private readonly hash: PieceHash = PIECE_HASH,
  ) {}

  update(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(chunk.length - off, this.blockSize - this.inBlock);
      this.parts.push(off === 0 && take === chunk.length ? chunk : chunk.subarray(off, off + take));
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
    this.digests.push(this.hash.digestParts(this.parts));
    this.parts = [];
    this.inBlock = 0;
  }
}
