// The checksum kept for every block of every shard (BlockHash, types.ts): SHA-256 through node:crypto
// (OpenSSL, using the CPU's SHA extensions where it has them). Its name goes into shard headers, so
// a later choice can still read shards written with this one (docs/performance.md, "Erasure coding
// engine", has the measurement behind the choice).
import { createHash } from 'node:crypto';
import type { BlockHash } from './types.js';

export const BLOCK_HASH: BlockHash = {
  name: 'sha256',
  size: 32,
  digest: (data: Buffer): Buffer => createHash('sha256').update(data).digest(),
};
