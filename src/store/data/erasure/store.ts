// Object bytes erasure-coded across the drives of a DriveSet (issue 16). A piece is cut into
// blocks; each block into k data shards and m parity shards, one shard per drive (shard i on
// drive i), each drive's part of every block followed by its checksum (shard-format.ts). Writes
// succeed with write quorum; reads need any k good shards and rebuild the others on the fly.
// Layout, format and protocol: docs/on-disk-format.md, "Erasure-coded pieces".
import { randomBytes } from 'node:crypto';
import { mkdir, opendir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { closeSource, nextOrAbort } from '../../abort.js';
import { StoreError } from '../../errors.js';
import type { DataReadOptions, DataRef, DataStore, DataWriteOptions, PieceSource } from '../../types.js';
import { newWriteStats, type WriteStats } from '../batch-writer.js';
import { giveBack } from '../block-pool.js';
import { DURABILITY_CALLS, mapWriteError, sweepDirectory, type DurabilityCalls } from '../dir.js';
import { maintainPiece } from './maintenance.js';
import { BLOCK_HASH, blockHashNamed } from './block-hash.js';
import { createCodec } from './codec.js';
import { PieceShards, type ReadContext } from './shard-reader.js';
import { ShardSetWriter, shardPath, type DriveIo } from './shard-writer.js';
import type { BlockHash, DegradedSink, DriveSet, ErasureCodec, ErasureMaintenance, PieceCheck } from './types.js';

const ID_RE = /^[0-9a-f]{32}$/;
const PREFIX_RE = /^[0-9a-f]{2}$/;
const newId = (): string => randomBytes(16).toString('hex');
const errCode = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;

/** Plaintext bytes per block unless the options say otherwise. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Blocks read (checked, rebuilt if need be) ahead of the one being yielded. */
const READ_AHEAD = 2;

export interface ErasureStoreOptions {
  /** The Reed–Solomon engine for k data and m parity shards (one per (k, m) is made and kept). */
  codec?: (k: number, m: number) => ErasureCodec;
  /** Where pieces with bad or unwritten shards are reported (the heal queue). */
  sink?: DegradedSink;
  log?: Logger;
  /** The block hash of new shards (older shards are read with the hash their header names). */
  hash?: BlockHash;
  /** Plaintext bytes per block of new pieces. */
  blockSize?: number;
  /** The durability calls (fsync, rename, directory fsync), injectable for tests as in dir.ts. */
  calls?: DurabilityCalls;
}

const NO_SINK: DegradedSink = { degraded: () => {} };

/** Write quorum: k shards, or k + 1 when k = m (two halves could otherwise each hold a "complete" write). */
export const writeQuorum = (k: number, m: number): number => (k === m ? k + 1 : k);

export class ErasureDataStore implements DataStore, ErasureMaintenance {
  private readonly codecs = new Map<string, ErasureCodec>();
  private readonly io: DriveIo;
  private readonly reading: ReadContext;
  private readonly sink: DegradedSink;
  private readonly hash: BlockHash;
  private readonly blockSize: number;
  private readonly log?: Logger;
  /** What the shard writes of this store did (count and sizes of the writev batches). */
  readonly writeStats: WriteStats = newWriteStats();

  private constructor(
    readonly drives: DriveSet,
    private readonly makeCodec: (k: number, m: number) => ErasureCodec,
    opts: ErasureStoreOptions,
  ) {
    this.sink = opts.sink ?? NO_SINK;
    this.hash = opts.hash ?? BLOCK_HASH;
    this.blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.log = opts.log;
    this.io = {
      set: drives,
      calls: opts.calls ?? DURABILITY_CALLS,
      knownDirs: drives.drives.map(() => new Set<string>()),
      stats: this.writeStats,
    };
    this.reading = {
      set: drives,
      sink: this.sink,
      codecFor: (k, m) => this.codecFor(k, m),
      hashFor: (name) => (name === this.hash.name ? this.hash : blockHashNamed(name)),
    };
  }

  /**
   * A store over `set` (its drives formatted and locked by drives.ts). Creates tmp/ and shards/ on
   * every drive that lacks them; a drive that cannot be prepared is reported to the set (and
   * treated like any failing drive afterwards). Call sweepTemp() at startup.
   */
  static async open(set: DriveSet, opts: ErasureStoreOptions = {}): Promise<ErasureDataStore> {
    const store = new ErasureDataStore(set, opts.codec ?? createCodec, opts);
    const calls = store.io.calls;
    await Promise.all(
      set.drives.map(async (drive) => {
        if (drive.state === 'offline') return;
        try {
          const a = await mkdir(join(drive.path, 'tmp'), { recursive: true });
          const b = await mkdir(join(drive.path, 'shards'), { recursive: true });
          if (a !== undefined || b !== undefined) await calls.syncDir(drive.path, 'root');
        } catch (err) {
          set.failed(drive.index, err);
        }
      }),
    );
    return store;
  }

  private codecFor(k: number, m: number): ErasureCodec {
    const key = `${k}+${m}`;
    let c = this.codecs.get(key);
    if (!c) {
      c = this.makeCodec(k, m);
      this.codecs.set(key, c);
    }
    return c;
  }

  private checkId(id: string): void {
    // Ids come from our own metadata, but paths are built from them: refuse anything else.
    if (!ID_RE.test(id)) throw new Error(`invalid data id: ${JSON.stringify(id)}`);
  }

  /** (k, m) of a new piece of the given storage class. */
  private geometryFor(storageClass: string | undefined): { k: number; m: number } {
    const n = this.drives.drives.length;
    const m = this.drives.parityFor(storageClass);
    if (!(m >= 0 && m < n)) throw new Error(`parity ${m} impossible on ${n} drives`);
    return { k: n - m, m };
  }

  async write(source: PieceSource, signal?: AbortSignal, opts?: DataWriteOptions): Promise<DataRef> {
    signal?.throwIfAborted();
    const id = newId();
    const { k, m } = this.geometryFor(opts?.storageClass);
    const n = k + m;
    const codec = this.codecFor(k, m);
    const hash = this.hash;
    const blockSize = this.blockSize;
    const quorum = writeQuorum(k, m);
    const writer = new ShardSetWriter(this.io, { id, k, m, blockSize, hash: hash.name }, [...Array(n).keys()]);
    const fullShard = Math.ceil(blockSize / k);
    let sourceFailed = false;
    let it: AsyncIterator<Buffer> | undefined;
    /** Errors of the source (or the abort reason) are rethrown as they are. */
    const sourceError = (err: unknown): never => {
      sourceFailed = true;
      throw err;
    };
    const checkQuorum = (): void => {
      if (writer.alive().length < quorum) throw this.quorumLost(id, k, m, writer.failures());
    };
    try {
      await writer.open();
      checkQuorum();
      it = (typeof source === 'function' ? source(id) : source)[Symbol.asyncIterator]();
      let block = Buffer.allocUnsafe(fullShard * k);
      let fill = 0;
      let size = 0;
      /** Splits the block into k data shards (zero-padded), encodes the parity, hashes and queues every shard. */
      const flushBlock = async (): Promise<void> => {
        const s = Math.ceil(fill / k);
        block.fill(0, fill, s * k);
        const data = Array.from({ length: k }, (_, i) => block.subarray(i * s, (i + 1) * s));
        const shards = m > 0 ? [...data, ...(await codec.encode(data))] : data;
        const live = new Set(writer.alive());
        const parts = shards.map((sh, i) => (live.has(i) ? [sh, hash.digest(sh)] : []));
        await writer.add((i) => parts[i]!);
        checkQuorum();
        block = Buffer.allocUnsafe(fullShard * k);
        fill = 0;
      };
      for (;;) {
        const r = await nextOrAbort(it, signal).catch(sourceError);
        if (r.done) break;
        const chunk = r.value;
        size += chunk.length;
        for (let off = 0; off < chunk.length; ) {
          const take = Math.min(chunk.length - off, blockSize - fill);
          chunk.copy(block, fill, off, off + take);
          fill += take;
          off += take;
          if (fill === blockSize) await flushBlock();
        }
      }
      signal?.throwIfAborted();
      if (fill > 0) await flushBlock();
      const committed = await writer.commit(size);
      if (committed.length < quorum) throw this.quorumLost(id, k, m, writer.failures());
      const failed = writer.failures().map((f) => f.index);
      if (failed.length > 0) {
        this.log?.warn({ dataId: id, drives: failed }, 'piece written without some of its shards (queued for healing)');
        this.sink.degraded(id, failed, 'write-failed');
      }
      return { id, size };
    } catch (err) {
      // Nothing may remain: no metadata references the piece yet.
      await writer.discard();
      if (it) closeSource(it);
      throw sourceFailed ? err : mapWriteError(err);
    }
  }

  /** The error of a write that lost its quorum: out of space when every failed drive was full. */
  private quorumLost(id: string, k: number, m: number, failures: Array<{ index: number; error: unknown }>): StoreError {
    const detail = failures.map((f) => `drive ${f.index}: ${(f.error as Error)?.message ?? String(f.error)}`).join('; ');
    this.log?.error({ dataId: id, k, m, failed: failures.map((f) => f.index), detail }, 'write quorum lost');
    const full = failures.length > 0 && failures.every((f) => ['ENOSPC', 'EDQUOT'].includes(errCode(f.error) ?? ''));
    if (full) return new StoreError('NoSpace', `write of piece ${id}: drives full (${detail})`);
    return new StoreError('Unavailable', `write of piece ${id} at ${k}+${m}: fewer than ${writeQuorum(k, m)} drives took their shard (${detail})`);
  }

  /**
   * Bytes [start, end] of the piece, verified block by block; a bad data shard is rebuilt from the
   * parity (and reported), the caller sees no difference. Every block is checked whatever
   * `opts.blockChecks` says: without the checks a damaged shard would fail a sealed read (its GCM
   * tag) that parity could have served.
   */
  read(ref: DataRef, range?: { start: number; end: number }, _opts?: DataReadOptions): AsyncIterable<Buffer> {
    this.checkId(ref.id);
    return this.readPiece(ref, range?.start ?? 0, range?.end ?? ref.size - 1);
  }

  private async *readPiece(ref: DataRef, start: number, end: number): AsyncGenerator<Buffer> {
    const size = ref.size;
    if (start < 0 || end >= size || end < start - 1) throw new RangeError(`range ${start}-${end} outside a piece of ${size} bytes`);
    const shards = new PieceShards(this.reading, ref.id, size);
    const ahead: Array<Promise<Buffer[]>> = [];
    try {
      await shards.init(this.geometryFor(undefined).k);
      if (end < start) return;
      const { layout } = shards.geo;
      const bs = layout.blockSize;
      const first = Math.floor(start / bs);
      const last = Math.floor(end / bs);
      let next = first;
      const fill = (): void => {
        while (next <= last && ahead.length < READ_AHEAD) {
          const p = shards.readBlock(next++, true);
          p.catch(() => undefined); // awaited below, or dropped when the reader stops early
          ahead.push(p);
        }
      };
      for (let b = first; b <= last; b++) {
        fill();
        const data = await ahead.shift()!;
        fill();
        // Yield the part of each data shard inside [start, end] and inside the block's real bytes.
        const blockStart = b * bs;
        const from = Math.max(start, blockStart) - blockStart;
        const to = Math.min(end, blockStart + layout.blockLength(b) - 1) - blockStart;
        const s = layout.shardLength(b);
        for (let i = 0; i < data.length; i++) {
          const a = Math.max(from - i * s, 0);
          const z = Math.min(to - i * s + 1, s);
          // A shard outside the range (a range read's first or last block) goes back to the pool.
          if (z > a) yield a === 0 && z === s ? data[i]! : data[i]!.subarray(a, z);
          else giveBack(data[i]!);
        }
      }
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Unavailable') this.log?.error({ dataId: ref.id, detail: err.message }, 'piece unreadable: too few shards');
      throw err;
    } finally {
      await Promise.allSettled(ahead);
      await shards.close();
    }
  }

  async remove(id: string): Promise<void> {
    this.checkId(id);
    await this.eachDrive(async (path) => {
      try {
        await unlink(shardPath(path, id));
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
      }
    });
  }

  /** Runs `fn` on every drive not offline, in parallel; a drive's error is reported to the set, not thrown. */
  private async eachDrive(fn: (path: string, index: number) => Promise<void>): Promise<void> {
    await Promise.all(
      this.drives.drives.map(async (d) => {
        if (d.state === 'offline') return;
        try {
          await fn(d.path, d.index);
        } catch (err) {
          this.drives.failed(d.index, err);
        }
      }),
    );
  }

  /**
   * Pieces with a shard on drive `only` (or on any drive), one prefix directory at a time (memory:
   * the ids of one prefix), with `times` each with the newest mtime of its shards (a stat each).
   */
  private async *scan(only?: number, times = false, after = ''): AsyncGenerator<{ id: string; newest: number }> {
    const drives = this.drives.drives.filter((d) => d.state !== 'offline' && (only === undefined || d.index === only));
    const prefixes = new Set<string>();
    await Promise.all(
      drives.map(async (d) => {
        try {
          for (const name of await readdir(join(d.path, 'shards'))) if (PREFIX_RE.test(name)) prefixes.add(name);
        } catch (err) {
          if (errCode(err) !== 'ENOENT') this.drives.failed(d.index, err);
        }
      }),
    );
    for (const prefix of [...prefixes].sort()) {
      if (prefix < after.slice(0, 2)) continue; // all its ids sort before `after`
      const found = new Map<string, number>();
      await Promise.all(
        drives.map(async (d) => {
          const dir = join(d.path, 'shards', prefix);
          try {
            for await (const entry of await opendir(dir)) {
              if (!ID_RE.test(entry.name) || entry.name.slice(0, 2) !== prefix) continue;
              if (!times) {
                if (entry.isFile()) found.set(entry.name, 0);
                continue;
              }
              const st = await stat(join(dir, entry.name)).catch(() => undefined);
              if (st?.isFile()) found.set(entry.name, Math.max(found.get(entry.name) ?? 0, st.mtimeMs));
            }
          } catch (err) {
            if (errCode(err) !== 'ENOENT') this.drives.failed(d.index, err);
          }
        }),
      );
      for (const id of [...found.keys()].sort()) if (id > after) yield { id, newest: found.get(id)! };
    }
  }

  /** Pieces whose every shard was last written before `before` (a write in progress is never older). */
  async *listIds(before: number): AsyncIterable<string> {
    for await (const { id, newest } of this.scan(undefined, true)) if (newest < before) yield id;
  }

  /**
   * Ids of the pieces with a shard file on drive `index` (or on any drive), in id order; with
   * `after`, only those after it (where a scrub or a rebuild resumes). A drive being rebuilt holds
   * few or none of its shards: its rebuild walks `pieceIds()` (every piece has a shard on every
   * drive) and heals each.
   */
  async *pieceIds(index?: number, after?: string): AsyncIterable<string> {
    for await (const { id } of this.scan(index, false, after)) yield id;
  }

  /** Removes temp files on every drive (all, or those last modified before `before`, as dir.ts). */
  async sweepTemp(before?: number): Promise<number> {
    let n = 0;
    await this.eachDrive(async (path) => {
      const swept = await sweepDirectory(join(path, 'tmp'), before);
      n += swept;
    });
    return n;
  }

  verifyPiece(pieceId: string, signal?: AbortSignal): Promise<PieceCheck | undefined> {
    this.checkId(pieceId);
    return maintainPiece(this.reading, this.io, pieceId, false, signal).then((r) => r && { bad: r.bad, bytesRead: r.bytesRead });
  }

  async healPiece(pieceId: string, signal?: AbortSignal): Promise<{ healed: readonly number[]; bytesWritten: number } | undefined> {
    this.checkId(pieceId);
    const r = await maintainPiece(this.reading, this.io, pieceId, true, signal);
    if (r && r.healed.length > 0) this.log?.info({ dataId: pieceId, drives: r.healed, bytes: r.bytesWritten }, 'piece healed');
    return r && { healed: r.healed, bytesWritten: r.bytesWritten };
  }

  async close(): Promise<void> {
    // No handles are kept open between calls: nothing to release.
  }
}
