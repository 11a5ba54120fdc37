// What the scrub and heal jobs ask of the erasure store (ErasureMaintenance): read and check every
// shard of a piece, and rebuild the bad ones from the good ones onto their drives, written and
// synced like any shard (shard-writer.ts), each replacing the damaged file in one rename.
import { PieceError, StoreError } from '../../errors.js';
import { giveBack } from '../block-pool.js';
import { PieceShards, type ReadContext } from './shard-reader.js';
import { ShardSetWriter, type DriveIo } from './shard-writer.js';

export interface Maintained {
  /** Shards missing, truncated or corrupt (drives offline or failing are not counted: see below). */
  bad: number[];
  bytesRead: number;
  healed: number[];
  bytesWritten: number;
}

/**
 * Checks every shard of `id` and, with `heal`, rewrites the bad ones. `undefined` when no drive
 * holds a shard of the piece (removed). Shards on offline drives are neither counted bad nor
 * healed (the drive set rebuilds a returning or replaced drive as a whole); shards on a drive
 * that fails with an I/O error are counted bad (they could not be read) and are retried by heal.
 * Heal with fewer than k good shards throws (the "fewer than k" StoreError).
 */
export async function maintainPiece(ctx: ReadContext, io: DriveIo, id: string, heal: boolean, signal?: AbortSignal): Promise<Maintained | undefined> {
  signal?.throwIfAborted();
  const shards = new PieceShards(ctx, id, undefined, false);
  const badOnes = (): number[] =>
    [...shards.bad()]
      .filter(([, f]) => f.fault !== 'offline')
      .map(([i]) => i)
      .sort((a, b) => a - b);
  try {
    try {
      await shards.init(shards.width);
    } catch (err) {
      if (err instanceof PieceError && err.fault === 'missing') return undefined;
      if (heal || !(err instanceof StoreError && err.code === 'Unavailable')) throw err;
      return { bad: badOnes(), bytesRead: shards.bytesRead, healed: [], bytesWritten: 0 };
    }
    await shards.openAll();
    const { layout, header, hash } = shards.geo;
    for (let b = 0; b < layout.blocks; b++) {
      signal?.throwIfAborted();
      await shards.checkAll(b);
    }
    const bad = badOnes();
    const result: Maintained = { bad, bytesRead: shards.bytesRead, healed: [], bytesWritten: 0 };
    if (!heal || bad.length === 0) return result;
    if (shards.width - shards.bad().size < header.k) throw shards.tooFew(-1);
    const writer = new ShardSetWriter(io, { id, k: header.k, m: header.m, blockSize: header.blockSize, hash: header.hash }, bad, true);
    try {
      await writer.open();
      for (let b = 0; b < layout.blocks; b++) {
        signal?.throwIfAborted();
        const all = await shards.readBlock(b, true, true);
        await writer.add((i) => [all[i]!, hash.digest(all[i]!)]);
        // The writer takes the bad shards only: the good ones read to rebuild them go back to the
        // block pool (a drive rebuilt at the heal rate made them garbage in the jobs' process).
        for (let i = 0; i < all.length; i++) if (!bad.includes(i)) giveBack(all[i]!);
      }
      signal?.throwIfAborted();
      result.healed = await writer.commit(layout.size);
    } catch (err) {
      await writer.discard();
      throw err;
    }
    result.bytesWritten = result.healed.length * layout.fileLength();
    for (const i of result.healed) shards.bad().delete(i);
    return result;
  } finally {
    await shards.close();
  }
}
