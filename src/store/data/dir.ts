// Object bytes as files in one directory tree: <root>/tmp/ for writes in progress,
// <root>/objects/<2 hex>/<id> for committed pieces (piece format 1: header, bytes, block
// checksums; piece-format.ts). Write protocol and format: docs/on-disk-format.md.

import { randomBytes } from 'node:crypto';
import { mkdir, open, opendir, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import type { DataReadOptions, DataRef, DataStore, PieceSource } from '../types.js';
import { closeSource, nextOrAbort } from '../abort.js';
import { syncSkipped } from '../sync-switch.js';
import { OffloadedHash, offloads } from '../hash-offload.js';
import { BatchWriter, newWriteStats, type WriteStats } from './batch-writer.js';
import { BLOCK_SIZE, BlockHasher, encodeFooter, encodeHeader, PIECE_HASH, PIECE_SHA256 } from './piece-format.js';
import { readPiece } from './piece-reader.js';

/**
 * Ids are 32 random hex characters (128 bits). Random rather than time-ordered on purpose: the
 * shard directory is the first two characters, and a time prefix would put every piece written
 * in the same decade into one shard. The orphan sweep uses file mtimes instead of id order.
 */
const ID_RE = /^[0-9a-f]{32}$/;
const SHARD_RE = /^[0-9a-f]{2}$/;
const newId = (): string => randomBytes(16).toString('hex');

function errCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/** File-system out-of-space errors become StoreError('NoSpace'); others pass through. */
export function mapWriteError(err: unknown): unknown {
  const code = errCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StoreError('NoSpace', (err as Error).message);
  return err;
}

/** fsync a directory so that entries created or renamed in it survive a crash. */
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The calls that make a piece durable, in the order write() makes them. Injectable only so a test
 * can record that order (src/store/write-order.test.ts); the default honours the test-only
 * STRATA_TEST_SKIP_SYNC switch (../sync-switch.ts), which the power-cut test uses to prove it fails.
 */
export interface DurabilityCalls {
  /** fsync of the piece's temp file. */
  syncFile(fh: FileHandle, path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync of a directory: 'dir' after the rename, 'shard' (objects/) after creating a shard, 'root' at open. */
  syncDir(path: string, why: 'dir' | 'shard' | 'root'): Promise<void>;
}

export const DURABILITY_CALLS: DurabilityCalls = {
  syncFile: (fh) => (syncSkipped('data') ? Promise.resolve() : fh.sync()),
  rename,
  syncDir: (path, why) => (why !== 'root' && syncSkipped(why) ? Promise.resolve() : syncDir(path)),
};

/** Removes the entries of `dir` (all, or those last modified before `before`, ms); answers how many. */
export async function sweepDirectory(dir: string, before?: number): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (before !== undefined) {
      const st = await stat(path).catch(() => undefined);
      if (!st || st.mtimeMs >= before) continue;
    }
    await rm(path, { recursive: true, force: true });
    n++;
  }
  return n;
}

export class DirDataStore implements DataStore {
  private readonly tmpDir: string;
  private readonly objectsDir: string;
  /** Shard directories known to exist (and to be durable in objects/). */
  private readonly shards = new Set<string>();
  /** What the piece writes of this store did (their count and sizes): tests read it. */
  readonly writeStats: WriteStats = newWriteStats();

  private constructor(
    readonly root: string,
    private readonly fs: DurabilityCalls,
  ) {
    this.tmpDir = join(root, 'tmp');
    this.objectsDir = join(root, 'objects');
  }

  /** Opens (creating if needed) the data directory. Call sweepTemp() at startup. */
  static async open(root: string, calls: DurabilityCalls = DURABILITY_CALLS): Promise<DirDataStore> {
    const store = new DirDataStore(root, calls);
    const createdTmp = await mkdir(store.tmpDir, { recursive: true });
    const createdObjects = await mkdir(store.objectsDir, { recursive: true });
    // objects/ must not vanish in a power loss once pieces in it are committed: make its entry in
    // the root durable (a shard's entry in objects/ is made durable when the shard is created).
    if (createdTmp !== undefined || createdObjects !== undefined) await calls.syncDir(root, 'root');
    return store;
  }

  private pathOf(id: string): string {
    // Ids come from our own metadata, but a path is built from them: refuse anything else.
    if (!ID_RE.test(id)) throw new Error(`invalid data id: ${JSON.stringify(id)}`);
    return join(this.objectsDir, id.slice(0, 2), id);
  }

  async write(source: PieceSource, signal?: AbortSignal): Promise<DataRef> {
    signal?.throwIfAborted();
    const id = newId();
    const tmp = join(this.tmpDir, id);
    const final = this.pathOf(id);
    const shard = id.slice(0, 2);
    // 'wx': never reuse or truncate an existing file, even on an (astronomically unlikely) id clash.
    const fh: FileHandle = await open(tmp, 'wx').catch((err: unknown) => {
      throw mapWriteError(err);
    });
    let closed = false;
    let renamed = false;
    let size = 0;
    let sourceFailed = false; // errors of the source (or the abort reason) are rethrown as they are
    const it = (typeof source === 'function' ? source(id) : source)[Symbol.asyncIterator]();
    // Piece format 1: header, the bytes, then the footer with one checksum per 1 MiB block, all in
    // the temp file before its fsync (the checksums are as durable as the bytes they cover).
    // The first block is hashed here; the blocks after it (a large piece) by a worker thread where
    // the offload is on, so the event loop only copies them (hash-offload.ts), else here too. Block
    // digests are independent of each other. The offload threads run SHA-256: a piece written with
    // them keeps it; hashed here, a piece gets XXH3-128 (PIECE_HASH, 2–3× cheaper).
    const offloading = offloads(Number.POSITIVE_INFINITY);
    const blockHash = offloading ? PIECE_SHA256 : PIECE_HASH;
    const header = encodeHeader(BLOCK_SIZE, blockHash);
    const hasher = new BlockHasher(BLOCK_SIZE, blockHash);
    let laterBlocks: OffloadedHash | undefined;
    const writer = new BatchWriter(fh, this.writeStats);
    try {
      writer.add(header);
      for (;;) {
        const r = await nextOrAbort(it, signal).catch((err: unknown) => {
          sourceFailed = true;
          throw err;
        });
        if (r.done) break;
        const chunk = r.value;
        const inFirst = Math.max(0, Math.min(chunk.length, BLOCK_SIZE - size));
        if (inFirst > 0) hasher.update(inFirst === chunk.length ? chunk : chunk.subarray(0, inFirst));
        if (inFirst < chunk.length && !offloading) {
          hasher.update(inFirst === 0 ? chunk : chunk.subarray(inFirst));
        } else if (inFirst < chunk.length) {
          laterBlocks ??= new OffloadedHash([], BLOCK_SIZE);
          const behind = laterBlocks.update(inFirst === 0 ? chunk : chunk.subarray(inFirst));
          if (behind) await behind;
        }
        size += chunk.length;
        // Chunks are gathered into one large write (writev), with one write in flight while the
        // next batch gathers: a thread-pool round trip per batch, not per 64 KiB chunk.
        const full = writer.add(chunk);
        if (full) await full;
      }
      signal?.throwIfAborted();
      const digests = hasher.finish();
      if (laterBlocks) digests.push(...(await laterBlocks.digest()).blocks);
      writer.add(encodeFooter(header, digests, size));
      await writer.flush();
      // 1. The bytes must be durable before the file gets its final name: otherwise a crash could
      //    leave a committed name (soon referenced by metadata) pointing at a short/empty file.
      await this.fs.syncFile(fh, tmp);
      await fh.close();
      closed = true;
      // 2. The shard directory must exist, and its entry in objects/ must be durable too.
      if (!this.shards.has(shard)) {
        const created = await mkdir(join(this.objectsDir, shard), { recursive: true });
        if (created !== undefined) await this.fs.syncDir(this.objectsDir, 'shard');
        this.shards.add(shard);
      }
      // 3. rename is atomic: readers see either no piece or the whole piece, never a partial one.
      await this.fs.rename(tmp, final);
      renamed = true;
      // 4. fsync the directory so the rename itself survives a crash. Only after this may the
      //    caller commit metadata that references the id (the commit point of the object).
      await this.fs.syncDir(join(this.objectsDir, shard), 'dir');
      return { id, size };
    } catch (err) {
      // Nothing may remain: the piece is not referenced by any metadata yet.
      laterBlocks?.abort();
      await writer.settle();
      if (!closed) await fh.close().catch(() => {});
      await unlink(renamed ? final : tmp).catch(() => {});
      // Let the source release its resources (a generator's finally, a stream's destroy).
      closeSource(it);
      throw sourceFailed ? err : mapWriteError(err);
    }
  }

  /**
   * Verified bytes of a piece (piece-reader.ts): each 1 MiB block is one read on libuv's thread
   * pool and is checked against its SHA-256 before it is yielded; legacy pieces (no checksums) are
   * read in 1 MiB chunks and checked for their length only.
   */
  read(ref: DataRef, range?: { start: number; end: number }, opts?: DataReadOptions): AsyncIterable<Buffer> {
    const file = this.pathOf(ref.id); // throws at once for an invalid id
    return readPiece(ref, file, range?.start ?? 0, range?.end ?? ref.size - 1, opts?.blockChecks ?? true);
  }

  async remove(id: string): Promise<void> {
    try {
      await unlink(this.pathOf(id));
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    }
  }

  async *listIds(before: number): AsyncIterable<string> {
    const top = await opendir(this.objectsDir);
    for await (const shard of top) {
      if (!shard.isDirectory() || !SHARD_RE.test(shard.name)) continue;
      // opendir streams the entries: a shard may hold very many pieces.
      let dir;
      try {
        dir = await opendir(join(this.objectsDir, shard.name));
      } catch (err) {
        if (errCode(err) === 'ENOENT') continue;
        throw err;
      }
      for await (const entry of dir) {
        const name = entry.name;
        if (!ID_RE.test(name) || name.slice(0, 2) !== shard.name) continue;
        try {
          const st = await stat(join(this.objectsDir, shard.name, name));
          if (st.isFile() && st.mtimeMs < before) yield name;
        } catch (err) {
          if (errCode(err) !== 'ENOENT') throw err; // removed meanwhile: not an orphan any more
        }
      }
    }
  }

  /**
   * Removes everything in tmp/ (only safe before any write starts, i.e. at startup of a process
   * that holds the directory alone), or with `before` the files last modified before it (writes
   * in progress in other processes are newer: see Store.sweepTemp).
   */
  sweepTemp(before?: number): Promise<number> {
    return sweepDirectory(this.tmpDir, before);
  }

  async close(): Promise<void> {
    // No handles are kept open between calls: nothing to release.
  }
}
