// The byte layout of one shard file of an erasure-coded piece (shard format 1): a fixed header,
// then for every block of the piece this shard's part of it followed by that part's checksum.
// Pure encoding/decoding; docs/on-disk-format.md, "Erasure-coded pieces".
import { createHash } from 'node:crypto';

/** First 16 bytes of every shard file (PNG-style, like the piece magic of piece-format.ts, another name). */
export const SHARD_MAGIC = Buffer.from([0x89, 0x53, 0x54, 0x52, 0x41, 0x54, 0x41, 0x20, 0x53, 0x48, 0x41, 0x52, 0x44, 0x0d, 0x0a, 0x1a]);
export const SHARD_FORMAT = 1;
/** Header length; the header is written last (at offset 0, before the fsync) because it holds the piece's size. */
export const SHARD_HEADER_SIZE = 96;
const HASH_NAME_AT = 56;
const HASH_NAME_MAX = 16;
/** The header's own checksum: the first 16 bytes of SHA-256 of bytes 0..79. */
const HEADER_SUM_AT = 80;

/** What a shard header says. */
export interface ShardHeader {
  /** The piece's id (32 hex characters). */
  id: string;
  /** Shard index (= the drive's index in the set). */
  index: number;
  k: number;
  m: number;
  /** Plaintext bytes per block (the last block may be shorter). */
  blockSize: number;
  /** Name of the block hash (BlockHash.name). */
  hash: string;
  /** Plaintext size of the whole piece. */
  size: number;
}

/** The geometry of a piece's shard files, computed from its header fields. */
export class ShardLayout {
  /** Number of blocks (0 for an empty piece). */
  readonly blocks: number;
  /** Shard bytes of a full block (ceil(blockSize / k)). */
  readonly fullShard: number;

  constructor(
    readonly size: number,
    readonly k: number,
    readonly blockSize: number,
    readonly digestSize: number,
  ) {
    this.blocks = Math.ceil(size / blockSize);
    this.fullShard = Math.ceil(blockSize / k);
  }

  /** Plaintext bytes of block `b`. */
  blockLength(b: number): number {
    return Math.min(this.blockSize, this.size - b * this.blockSize);
  }

  /** This shard's bytes of block `b` (the block's plaintext split in k, the last part zero-padded). */
  shardLength(b: number): number {
    return b < this.blocks - 1 ? this.fullShard : Math.ceil(this.blockLength(b) / this.k);
  }

  /** Offset in the shard file of block `b` (its shard bytes, then its digest). */
  offset(b: number): number {
    return SHARD_HEADER_SIZE + b * (this.fullShard + this.digestSize);
  }

  /** The length every shard file of this piece has. */
  fileLength(): number {
    if (this.blocks === 0) return SHARD_HEADER_SIZE;
    return this.offset(this.blocks - 1) + this.shardLength(this.blocks - 1) + this.digestSize;
  }
}

export function encodeShardHeader(h: ShardHeader): Buffer {
  const b = Buffer.alloc(SHARD_HEADER_SIZE);
  SHARD_MAGIC.copy(b, 0);
  b.writeUInt32BE(SHARD_FORMAT, 16);
  b.writeUInt8(h.k, 20);
  b.writeUInt8(h.m, 21);
  b.writeUInt8(h.index, 22);
  const name = Buffer.from(h.hash, 'ascii');
  if (name.length === 0 || name.length > HASH_NAME_MAX) throw new Error(`block hash name ${JSON.stringify(h.hash)} does not fit a shard header`);
  b.writeUInt8(name.length, 23);
  b.writeUInt32BE(h.blockSize, 24);
  Buffer.from(h.id, 'hex').copy(b, 32);
  b.writeBigUInt64BE(BigInt(h.size), 48);
  name.copy(b, HASH_NAME_AT);
  headerSum(b).copy(b, HEADER_SUM_AT);
  return b;
}

function headerSum(b: Buffer): Buffer {
  return createHash('sha256').update(b.subarray(0, HEADER_SUM_AT)).digest().subarray(0, 16);
}

/** The fields of a shard header, or what is wrong with it. */
export function parseShardHeader(b: Buffer): ShardHeader | { error: string } {
  if (b.length < SHARD_HEADER_SIZE) return { error: 'shard file shorter than its header' };
  if (!b.subarray(0, 16).equals(SHARD_MAGIC)) return { error: 'no shard header' };
  if (!headerSum(b).equals(b.subarray(HEADER_SUM_AT, HEADER_SUM_AT + 16))) return { error: 'shard header checksum mismatch' };
  const format = b.readUInt32BE(16);
  if (format !== SHARD_FORMAT) return { error: `unknown shard format ${format}` };
  const k = b.readUInt8(20);
  const m = b.readUInt8(21);
  const index = b.readUInt8(22);
  const nameLen = b.readUInt8(23);
  const blockSize = b.readUInt32BE(24);
  if (k < 1 || index >= k + m) return { error: `invalid shard geometry ${k}+${m}, shard ${index}` };
  if (blockSize < 4096 || blockSize > 64 * 1024 * 1024) return { error: `invalid block size ${blockSize}` };
  if (nameLen < 1 || nameLen > HASH_NAME_MAX) return { error: 'invalid block hash name' };
  const size = b.readBigUInt64BE(48);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return { error: 'invalid piece size' };
  return {
    id: b.subarray(32, 48).toString('hex'),
    index,
    k,
    m,
    blockSize,
    hash: b.subarray(HASH_NAME_AT, HASH_NAME_AT + nameLen).toString('ascii'),
    size: Number(size),
  };
}
