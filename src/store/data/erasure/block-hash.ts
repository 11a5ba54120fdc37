// The checksum kept for every block of every shard (BlockHash, types.ts): XXH3-128 (hash-wasm's
// WebAssembly build), 2-3x SHA-256 on shard-sized buffers here (docs/performance.md, "Erasure
// coding engine"). It guards against bit rot and torn or misplaced writes, not against someone who
// can write the drives: no cryptographic hash is needed for that (MinIO uses HighwayHash). Its name
// goes into shard headers; blockHashNamed finds the hash of a header, so shards written with an
// earlier choice stay readable.
import { createHash } from 'node:crypto';
import { createXXHash128 } from 'hash-wasm';
import type { BlockHash } from './types.js';

// One hasher for the process: digest() runs it start to end synchronously, so calls never interleave.
const xxh128 = await createXXHash128();

/** XXH3-128 with seed 0, the 16-byte digest in the canonical (big-endian) order of the xxHash spec. */
export const XXH3_128: BlockHash = {
  name: 'xxh3-128',
  size: 16,
  digest: (data: Buffer): Buffer => {
    const d = xxh128.init().update(data).digest('binary');
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  },
  digestParts: (parts: readonly Buffer[]): Buffer => {
    const h = xxh128.init();
    for (const p of parts) h.update(p);
    const d = h.digest('binary');
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  },
};

export const SHA256: BlockHash = {
  name: 'sha256',
  size: 32,
  digest: (data: Buffer): Buffer => createHash('sha256').update(data).digest(),
  digestParts: (parts: readonly Buffer[]): Buffer => {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest();
  },
};

/** The hash new shards are written with. */
export const BLOCK_HASH: BlockHash = XXH3_128;

/** The hash named in a shard header (undefined: unknown name, so the shard cannot be checked). */
export function blockHashNamed(name: string): BlockHash | undefined {
  return name === XXH3_128.name ? XXH3_128 : name === SHA256.name ? SHA256 : undefined;
}
