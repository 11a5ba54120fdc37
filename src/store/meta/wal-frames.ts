// SQLite's WAL file and wal-index (-shm) formats, as far as the metadata copies need them
// (mirror.ts): the WAL header, the frames' salts and cumulative checksums, the wal-index header's
// committed frame count, and applying a WAL copy to its database copy (what a checkpoint does).
// Formats: https://www.sqlite.org/fileformat2.html#walformat and https://www.sqlite.org/walformat.html
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync, writevSync } from 'node:fs';

export const WAL_HEADER = 32;
export const FRAME_HEADER = 24;
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;

export interface WalHeader {
  pageSize: number;
  /** Salt-1 and salt-2 as the 8 raw bytes of the header: a new WAL generation has new salts. */
  salts: Buffer;
  bigEndian: boolean;
}

/** The header of a WAL image, or undefined if `buf` does not start with a valid one. */
export function parseWalHeader(buf: Buffer): WalHeader | undefined {
  if (buf.length < WAL_HEADER) return undefined;
  const magic = buf.readUInt32BE(0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) return undefined;
  const bigEndian = magic === WAL_MAGIC_BE;
  const [c0, c1] = checksum(buf, 0, 24, bigEndian, 0, 0);
  if (c0 !== buf.readUInt32BE(24) || c1 !== buf.readUInt32BE(28)) return undefined;
  const raw = buf.readUInt32BE(8);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  return { pageSize, salts: Buffer.from(buf.subarray(16, 24)), bigEndian };
}

/** SQLite's WAL checksum of buf[start, start+len) (len a multiple of 8), continuing from (s0, s1). */
function checksum(buf: Buffer, start: number, len: number, bigEndian: boolean, s0: number, s1: number): [number, number] {
  const end = start + len;
  for (let i = start; i < end; i += 8) {
    const x0 = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/** What SQLite's WAL recovery would accept of a WAL image: the committed frames with valid salts and checksums. */
export interface WalContents {
  header: WalHeader;
  /** Bytes up to the end of the last valid commit frame (WAL_HEADER if none). */
  end: number;
  /** Database size in pages after the last commit (0 if none). */
  nPage: number;
  /** For each page: offset of its page data in its newest committed frame. */
  pages: Map<number, number>;
}

/**
 * `trusted`: the image holds only committed frames copied from the primary's WAL under its write
 * lock (a running copy), so the frames' checksums need not be recomputed; a copy found at start
 * (after a crash) is read untrusted, exactly as SQLite's recovery reads it.
 */
export function readWalContents(buf: Buffer, trusted = false): WalContents | undefined {
  const header = parseWalHeader(buf);
  if (!header) return undefined;
  const frame = FRAME_HEADER + header.pageSize;
  let [s0, s1] = [buf.readUInt32BE(24), buf.readUInt32BE(28)];
  let end = WAL_HEADER;
  let nPage = 0;
  const pages = new Map<number, number>();
  const pending = new Map<number, number>();
  for (let off = WAL_HEADER; off + frame <= buf.length; off += frame) {
    if (!buf.subarray(off + 8, off + 16).equals(header.salts)) break;
    if (!trusted) {
      [s0, s1] = checksum(buf, off, 8, header.bigEndian, s0, s1);
      [s0, s1] = checksum(buf, off + FRAME_HEADER, header.pageSize, header.bigEndian, s0, s1);
      if (s0 !== buf.readUInt32BE(off + 16) || s1 !== buf.readUInt32BE(off + 20)) break;
    }
    pending.set(buf.readUInt32BE(off), off + FRAME_HEADER);
    const commitSize = buf.readUInt32BE(off + 4);
    if (commitSize !== 0) {
      for (const [p, o] of pending) pages.set(p, o);
      pending.clear();
      nPage = commitSize;
      end = off + frame;
    }
  }
  return { header, end, nPage, pages };
}

/** The wal-index header as the writer left it (read under SQLite's write lock, so stable). */
export interface ShmHeader {
  /** Frames in the WAL that belong to committed transactions. */
  mxFrame: number;
  /** The WAL generation's salts (the same 8 bytes as in the WAL header). */
  salts: Buffer;
  pageSize: number;
  /** Frames already copied into the database by checkpoints. */
  nBackfill: number;
}

const SHM_READ = 136;
/** Bytes of one copy of the wal-index header (the -shm file starts with two, one after the other). */
export const WAL_INDEX_HEADER = 48;

/**
 * The wal-index header in `buf` (the -shm file's first 2 × 48 bytes, as read), or undefined when its
 * two copies differ (a writer updating it: SQLite writes the second copy, then the first).
 */
export function consistentWalIndexHeader(buf: Buffer): Buffer | undefined {
  const first = buf.subarray(0, WAL_INDEX_HEADER);
  return first.equals(buf.subarray(WAL_INDEX_HEADER, 2 * WAL_INDEX_HEADER)) ? first : undefined;
}

/** Reads the wal-index header from the -shm file; undefined if it is not initialised (no WAL yet). */
export function readShmHeader(fd: number, buf = Buffer.alloc(SHM_READ)): ShmHeader | undefined {
  const n = readSync(fd, buf, 0, SHM_READ, 0);
  if (n < SHM_READ) return undefined;
  // Two copies of the 48-byte header (native byte order, little-endian here); equal when consistent.
  if (buf.readUInt32LE(0) !== 3007000 || buf[12] !== 1 || consistentWalIndexHeader(buf) === undefined) {
    throw new Error('metadata copies: unexpected wal-index header (SQLite version or byte order not supported)');
  }
  const raw = buf.readUInt16LE(14);
  return { mxFrame: buf.readUInt32LE(16), salts: Buffer.from(buf.subarray(32, 40)), pageSize: raw === 1 ? 65536 : raw, nBackfill: buf.readUInt32LE(96) };
}

/** Byte length of a WAL holding `frames` frames. */
export function walLength(frames: number, pageSize: number): number {
  return frames === 0 ? 0 : WAL_HEADER + frames * (FRAME_HEADER + pageSize);
}

export function readAll(fd: number, start: number, end: number): Buffer {
  const buf = Buffer.allocUnsafe(end - start);
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, start + done);
    if (n === 0) return buf.subarray(0, done);
    done += n;
  }
  return buf;
}

export function writeAll(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** Most buffers one writev takes (Linux's IOV_MAX is 1024). */
const MAX_IOV = 512;

/**
 * Writes each page (number → offset of its bytes in `buf`) at its place in the database file `fd`,
 * a run of consecutive page numbers in one writev (pages a generation appended at the end of the
 * file, new overflow pages above all, come in runs).
 */
function writePages(fd: number, buf: Buffer, pages: ReadonlyMap<number, number>, ps: number): void {
  const order = [...pages.keys()].sort((a, b) => a - b);
  for (let i = 0; i < order.length; ) {
    let j = i + 1;
    while (j < order.length && j - i < MAX_IOV && order[j] === order[j - 1]! + 1) j++;
    const run = order.slice(i, j).map((p) => buf.subarray(pages.get(p)!, pages.get(p)! + ps));
    const pos = (order[i]! - 1) * ps;
    if (run.length === 1) writeAll(fd, run[0]!, pos);
    else {
      const n = writevSync(fd, run, pos);
      // A short write (rare on a regular file) finishes page by page from where it stopped.
      if (n < run.length * ps) writeAll(fd, Buffer.concat(run).subarray(n), pos + n);
    }
    i = j;
  }
}

/** Reads bytes [from, to) of file `fd` into `buf` at the same offsets; answers the bytes read (fewer at the end of the file). */
export function readRange(fd: number, buf: Buffer, from: number, to: number): number {
  let done = 0;
  while (from + done < to) {
    const n = readSync(fd, buf, from + done, to - from - done, from + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Checkpoints a WAL copy into its database copy, the way SQLite does: the WAL synced, the newest
 * committed version of each page written at its place, the database cut to its committed size and
 * fdatasync'ed, and only then the WAL retired and synced (same inode: other processes keep their
 * descriptors). A crash at any point leaves a copy that opens consistently (re-applying the whole
 * generation changes nothing). Answers the pages written. `trusted`: see readWalContents.
 *
 * How the WAL is retired (`retire`): `truncate` empties it (ftruncate + fsync: the blocks freed);
 * `invalidate` overwrites its header with zeros (+ fdatasync) and keeps its length, as SQLite keeps
 * its own WAL's across restarts: a WAL without a valid header is empty to SQLite's recovery and to
 * readWalContents, and the next generation, written from offset 0 with a new header (new salts),
 * rewrites blocks already allocated, so its syncs need no journal commit for a growing file and no
 * block is freed and allocated again at every generation. Either way the retirement is durable
 * before the next generation is written, so that a torn write of its first bytes can never leave
 * the old header in front of a prefix of the old frames (an older version of pages already applied).
 */
export function applyWal(walFd: number, dbPath: string, trusted = false, retire: 'truncate' | 'invalidate' = 'truncate'): number {
  const buf = readAll(walFd, 0, fstatSync(walFd).size);
  if (buf.length === 0) return 0;
  return applyWalContents(walFd, dbPath, buf, readWalContents(buf, trusted), retire);
}

/**
 * applyWal with the WAL's contents already read: `buf` + `wal` (readWalContents of it) are the
 * frames of the WAL `walFd` — read from that file, or from another copy's WAL holding the same
 * frames (mirror.ts checks that first: sameFrames). `buf` also tells whether the file's header is
 * already zeros (nothing to retire): it must start with that file's first bytes. `walSynced`: the
 * caller knows those frames of `walFd` are on the drive already (an fdatasync of it that started
 * after they were written has succeeded), so the first sync is left out.
 */
export function applyWalContents(
  walFd: number,
  dbPath: string,
  buf: Buffer,
  wal: WalContents | undefined,
  retire: 'truncate' | 'invalidate',
  walSynced = false,
  onPages?: (stage: 'before' | 'written', walSyncedNow: boolean) => void,
): number {
  if (wal && wal.pages.size > 0) {
    // As SQLite: the WAL is durable before the database is overwritten, so that a crash in the
    // middle replays the whole generation again rather than an older part of it.
    if (!walSynced) fdatasyncSync(walFd);
    // (Tests: a power cut while the pages are written and not yet synced.)
    onPages?.('before', !walSynced);
    const db = openSync(dbPath, 'r+');
    try {
      const ps = wal.header.pageSize;
      writePages(db, buf, wal.pages, ps);
      if (fstatSync(db).size > wal.nPage * ps) ftruncateSync(db, wal.nPage * ps);
      onPages?.('written', !walSynced);
      fdatasyncSync(db);
    } finally {
      closeSync(db);
    }
  }
  if (retire === 'invalidate') {
    // Retired durably: the old generation can never come back under a new one written from offset 0.
    const head = Math.min(buf.length, WAL_HEADER);
    if (!wal && buf.subarray(0, head).every((b) => b === 0)) return 0;
    writeAll(walFd, Buffer.alloc(head), 0);
    fdatasyncSync(walFd);
  } else {
    ftruncateSync(walFd, 0);
    fsyncSync(walFd);
  }
  return wal ? wal.pages.size : 0;
}

/**
 * Whether the WAL file `fd` holds the same committed frames as `wal` (readWalContents of `buf`,
 * another copy's WAL of the same generation) — so that `buf`'s pages can be applied to this copy
 * without reading its own WAL. Reads three small pieces: the header (32 bytes: salts, checkpoint
 * sequence, checksum seeds), the header of the last commit frame (24 bytes: page number, commit
 * size, salts and the cumulative checksum of every frame up to it) and the frame header right after
 * it, which must not carry the generation's salts (the file holds no later frame of it). Equal
 * headers and equal cumulative checksums mean equal frames, exactly as SQLite's recovery trusts a
 * WAL; a copy torn or behind, of another generation, or retired, differs and is read on its own.
 */
export function sameFrames(fd: number, buf: Buffer, wal: WalContents): boolean {
  if (wal.end <= WAL_HEADER) return false;
  const frame = FRAME_HEADER + wal.header.pageSize;
  const last = wal.end - frame;
  const b = Buffer.allocUnsafe(WAL_HEADER + 2 * FRAME_HEADER);
  if (readSync(fd, b, 0, WAL_HEADER, 0) !== WAL_HEADER || !b.subarray(0, WAL_HEADER).equals(buf.subarray(0, WAL_HEADER))) return false;
  const h = b.subarray(WAL_HEADER);
  if (readSync(fd, h, 0, FRAME_HEADER, last) !== FRAME_HEADER || !h.subarray(0, FRAME_HEADER).equals(buf.subarray(last, last + FRAME_HEADER))) return false;
  const next = readSync(fd, h, FRAME_HEADER, FRAME_HEADER, wal.end);
  return next < FRAME_HEADER || !h.subarray(FRAME_HEADER + 8, FRAME_HEADER + 16).equals(wal.header.salts);
}
