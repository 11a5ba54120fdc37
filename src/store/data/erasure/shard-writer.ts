// Writes the shard files of one piece, one per drive, in parallel: each through its own batching
// writer into <drive>/tmp/, then (commit) the same durability protocol as dir.ts on every drive:
// fsync the file, create the shard directory (fsync shards/), rename into place, fsync the
// directory. A drive that fails at any step is reported to the drive set and dropped; the others go on.
import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DurabilityCalls } from '../dir.js';
import { BatchWriter, WRITE_BATCH, type WriteStats } from '../batch-writer.js';
import { giveBack } from '../block-pool.js';
import { SHARD_HEADER_SIZE, encodeShardHeader, type ShardHeader } from './shard-format.js';
import type { DriveSet } from './types.js';

/** What the writers and readers of one erasure store share. */
export interface DriveIo {
  readonly set: DriveSet;
  readonly calls: DurabilityCalls;
  /** Per drive: the shard directories known to exist there (and durable in shards/). */
  readonly knownDirs: Set<string>[];
  readonly stats: WriteStats;
}

const errCode = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;

export const shardPath = (drivePath: string, id: string): string => join(drivePath, 'shards', id.slice(0, 2), id);

interface Slot {
  index: number;
  tmp: string;
  fh?: FileHandle;
  writer?: BatchWriter;
  /** Set once the file is in its final place (removed again by discard()). */
  final?: string;
  error?: unknown;
}

export class ShardSetWriter {
  private readonly slots: Slot[];

  /**
   * `indexes`: the drives (= shard indexes) to write. `heal`: the temp names get a random suffix
   * (a write of the same piece may still own `tmp/<id>` in principle; two heals must not collide),
   * and each buffer added goes back to the block pool once written: the caller must not use a
   * shard after add(), nor add one buffer for two drives.
   */
  constructor(
    private readonly io: DriveIo,
    private readonly head: Omit<ShardHeader, 'index' | 'size'>,
    indexes: readonly number[],
    private readonly heal = false,
  ) {
    const suffix = heal ? `.heal-${randomBytes(4).toString('hex')}` : '';
    this.slots = indexes.map((index) => ({ index, tmp: join(io.set.drives[index]!.path, 'tmp', `${head.id}${suffix}`) }));
  }

  /** Shard indexes still being written. */
  alive(): number[] {
    return this.slots.filter((s) => s.error === undefined).map((s) => s.index);
  }

  /** Shard indexes dropped (offline drive or an I/O error), with their errors. */
  failures(): Array<{ index: number; error: unknown }> {
    return this.slots.filter((s) => s.error !== undefined).map((s) => ({ index: s.index, error: s.error }));
  }

  private fail(slot: Slot, err: unknown, report = true): void {
    if (slot.error !== undefined) return;
    slot.error = err ?? new Error('failed');
    if (report) this.io.set.failed(slot.index, err);
  }

  /** Opens every temp file ('wx': never an existing one). Offline drives are dropped without a try. */
  async open(): Promise<void> {
    const batch = Math.max(256 * 1024, Math.floor(WRITE_BATCH / this.head.k));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (this.io.set.drives[slot.index]!.state === 'offline') return this.fail(slot, new Error(`drive ${slot.index} is offline`), false);
        try {
          slot.fh = await open(slot.tmp, 'wx').catch(async (err: unknown) => {
            // A drive adopted empty may lack tmp/: made here (never the drive's root itself).
            if (errCode(err) !== 'ENOENT') throw err;
            await this.makeDir(dirname(slot.tmp));
            return open(slot.tmp, 'wx');
          });
          // A heal's shards are rebuilt into block-pool buffers that nothing else holds: back to the
          // pool once written. (A write's data shards are views of one block buffer: not handed back.)
          slot.writer = new BatchWriter(slot.fh, this.io.stats, batch, this.heal ? giveBack : undefined);
          // The header's place: its real bytes (with the piece's size) are written at commit.
          slot.writer.add(Buffer.alloc(SHARD_HEADER_SIZE));
        } catch (err) {
          this.fail(slot, err);
        }
      }),
    );
  }

  /**
   * Appends one block: `parts[i]` (shard bytes, then its digest) to shard i's file, for every live
   * slot. Waits while a drive's previous batch is still being written (memory stays bounded); a
   * drive whose write fails is dropped.
   */
  async add(parts: (index: number) => readonly Buffer[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const slot of this.slots) {
      if (slot.error !== undefined) continue;
      for (const b of parts(slot.index)) {
        const full = slot.writer!.add(b);
        if (full) waits.push(full.catch((err: unknown) => this.fail(slot, err)));
      }
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  /**
   * Makes every live shard durable in its final place (header with the piece's `size` written
   * last at offset 0, fsync, rename, directory fsync; drives in parallel). Answers the shard
   * indexes committed; the failed ones are dropped (and their files removed).
   */
  async commit(size: number): Promise<number[]> {
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.error !== undefined) return this.cleanup(slot);
        try {
          await this.commitOne(slot, size);
        } catch (err) {
          this.fail(slot, err);
          await this.cleanup(slot);
        }
      }),
    );
    return this.alive();
  }

  private async commitOne(slot: Slot, size: number): Promise<void> {
    const { calls, knownDirs } = this.io;
    const header = encodeShardHeader({ ...this.head, index: slot.index, size });
    await slot.writer!.flush();
    await slot.fh!.write(header, 0, header.length, 0);
    // 1. The bytes are durable before the file gets its final name (dir.ts, step by step).
    await calls.syncFile(slot.fh!, slot.tmp);
    const fh = slot.fh!;
    slot.fh = undefined;
    await fh.close();
    const drive = this.io.set.drives[slot.index]!.path;
    const prefix = this.head.id.slice(0, 2);
    // 2. The shard directory exists, and its entry in shards/ is durable.
    if (!knownDirs[slot.index]!.has(prefix)) {
      await this.makeDir(join(drive, 'shards'));
      if (await this.makeDir(join(drive, 'shards', prefix), false)) await calls.syncDir(join(drive, 'shards'), 'shard');
      knownDirs[slot.index]!.add(prefix);
    }
    // 3. Atomic rename (a heal replaces a damaged shard in one step), 4. the rename made durable.
    const final = shardPath(drive, this.head.id);
    try {
      await calls.rename(slot.tmp, final);
    } catch (err) {
      // The drive was emptied under us (replaced, adopted while serving: its shards/ is new): the
      // directory known to exist is gone. Made again, once (heal: a drive rebuilt without a restart).
      if ((err as { code?: string } | null)?.code !== 'ENOENT') throw err;
      knownDirs[slot.index]!.delete(prefix);
      await mkdir(join(drive, 'shards', prefix), { recursive: true });
      await calls.syncDir(join(drive, 'shards'), 'shard');
      knownDirs[slot.index]!.add(prefix);
      await calls.rename(slot.tmp, final);
    }
    slot.final = final;
    await calls.syncDir(join(drive, 'shards', prefix), 'dir');
  }

  /**
   * Creates `path` unless it exists — never its parents: a drive whose root vanished (unmounted)
   * must fail, not get a fresh tree on another filesystem. With `syncParent`, a new entry is made
   * durable in its parent here. Answers whether it was created.
   */
  private async makeDir(path: string, syncParent = true): Promise<boolean> {
    try {
      await mkdir(path);
    } catch (err) {
      if (errCode(err) === 'EEXIST') return false;
      throw err;
    }
    if (syncParent) await this.io.calls.syncDir(dirname(path), 'root');
    return true;
  }

  private async cleanup(slot: Slot): Promise<void> {
    await slot.writer?.settle();
    const fh = slot.fh;
    slot.fh = undefined;
    if (fh) await fh.close().catch(() => {});
    await unlink(slot.final ?? slot.tmp).catch(() => {});
    slot.final = undefined;
  }

  /** Removes everything this writer made (temp files and shards already renamed): nothing remains. */
  async discard(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.cleanup(slot)));
  }
}
