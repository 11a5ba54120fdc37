// Copies of the metadata database on several drives (issue 16): the primary `meta.db` lives on one
// drive, and every other copy drive holds a byte copy of its `meta.db` + `meta.db-wal`. Each group
// commit (wal-sync.ts) copies the WAL frames committed so far to every copy, under SQLite's write
// lock, and acknowledges once the WAL and every copy are fdatasync'ed. Only this module checkpoints
// (auto-checkpoint is off), after every frame is copied, so SQLite never restarts the WAL over
// frames a copy lacks; when it restarts, each copy applies its WAL to its own database and copies
// the new generation from offset 0. A `meta-copy.json` per
// copy records the membership epoch: a copy dropped at runtime (I/O error) is recorded as dropped
// on the others before any later write is acknowledged, so it is never chosen at start over them.
// The scheme and why it is safe: docs/on-disk-format.md, "Metadata copies".
import { closeSync, constants, fdatasync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { busyBackoff, busyError, isBusyError, sleep } from './sqlite-busy.js';
import { SqliteMetaStore, type SqliteOptions } from './sqlite.js';
import type { WalMirrorHook } from './wal-sync.js';
import {
  WAL_HEADER,
  type WalContents,
  applyWalContents,
  parseWalHeader,
  readAll,
  readShmHeader,
  readWalContents,
  sameFrames,
  walLength,
  writeAll,
} from './wal-frames.js';
import type { Db } from './sqlite-sql.js';
import { HeldFrames } from './wal-held.js';
import { reachable, writeFreshCopy } from './mirror-readmit.js';
import { type CopyState, DB_FILE, followCopies, readCopyState, startCopies, writeCopyState } from './mirror-start.js';

/**
 * Beside the primary: how far the copies hold the WAL's current generation (its salts, then the
 * byte offset), written under the write lock by whichever process copied last, so that the other
 * processes do not copy the same frames again. A hint (never synced, reset at start): a round copies
 * from it only while it names the generation the wal-index names (docs/on-disk-format.md).
 * Then (bytes 16–23) the membership change counter: see WalMirror.follow.
 */
export const PROGRESS_FILE = 'meta-copy.progress';
const PROGRESS_LEN = 24;
const CHANGES_AT = 16;

export interface MirrorOptions extends SqliteOptions {
  /**
   * true in the one process that opens the store before any other (single server, cluster
   * primary): it chooses the freshest copy and rebuilds stale, missing and new ones. false in a
   * worker: it follows the membership the starting process wrote.
   */
  start: boolean;
  /** Checkpoint once the WAL holds this many frames (SQLite's default auto-checkpoint: 1000). */
  checkpointFrames?: number;
  log?: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /**
   * false: a copy directory that does not exist is an unreachable drive (the drive set created the
   * directories of a new set; a missing one later is an unmounted or pulled disk, never re-created).
   * Default true.
   */
  createDirs?: boolean;
  /** fdatasync of a copy's WAL (tests make a drive fail). */
  syncCopy?: (slot: number, fd: number) => Promise<void>;
  /**
   * Tests (a power cut in the middle of a copy's switch): called as the switch of copy `slot` is
   * about to overwrite pages of its database, and once they are written, before they are synced;
   * `walSyncedNow`: the switch synced the copy's WAL itself first (else a round had: isSynced).
   */
  onSwitchPages?: (slot: number, stage: 'before' | 'written', dbPath: string, walSyncedNow: boolean) => void;
  /** A copy failed with `err` and is dropped (startup.ts tells the drive set, which probes the drive). */
  copyFailed?: (dir: string, err: unknown) => void;
}

const fdatasyncP = (fd: number): Promise<void> => new Promise((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())));

/** The copies' hook of each store opened with several (tests, diagnostics). */
export const MIRRORS = new WeakMap<SqliteMetaStore, WalMirror>();

/**
 * Opens the metadata store over copy directories `dirs` (one per drive chosen for a copy, in slot
 * order). One directory: exactly SqliteMetaStore.open (no copies, nothing changes).
 */
export async function openMirroredMeta(dirs: readonly string[], opts: MirrorOptions): Promise<SqliteMetaStore> {
  if (dirs.length <= 1) return SqliteMetaStore.open(join(dirs[0]!, DB_FILE), opts);
  if ((opts.durability ?? 'fsync') !== 'fsync') throw new Error('metadata copies need durability fsync');
  const state = opts.start ? await startCopies(dirs, opts) : followCopies(dirs);
  const mirror = new WalMirror(dirs, state, opts);
  try {
    const store = SqliteMetaStore.open(join(dirs[state.primary]!, DB_FILE), { ...opts, mirror });
    mirror.attach();
    MIRRORS.set(store, mirror);
    return store;
  } catch (err) {
    mirror.abandon();
    throw err;
  }
}

interface Copy {
  slot: number;
  dir: string;
  walFd: number;
  /**
   * Bytes [0, end) of generation `salts` in this copy's WAL are on its drive: a round of this
   * process copied (or found copied) that far, then its fdatasync of this descriptor succeeded.
   */
  synced?: { salts: Buffer; end: number };
}

/** The group commit's hook: copies WAL frames to every copy, checkpoints, drops failed copies. */
export class WalMirror implements WalMirrorHook {
  private copies: Copy[] = [];
  private lockDb: Db | undefined;
  private ckptDb: Db | undefined;
  private shmFd: number | undefined;
  private walFd: number | undefined;
  private progressFd: number | undefined;
  private readonly progressBuf = Buffer.alloc(PROGRESS_LEN);
  /** Bytes of the progress file read by the last follow() (under the lock held now). */
  private progressLen = 0;
  /**
   * The membership change counter (progress file, bytes 16–23) as of which `state` is the
   * primary's `meta-copy.json`; undefined until the first round read it (see follow).
   */
  private changesSeen: bigint | undefined;
  /** What this process copied of the current generation: what the copies' switch applies (switchGeneration). */
  private readonly held = new HeldFrames();
  /** The WAL generation this process last copied, and how far. */
  private salts: Buffer | undefined;
  private copied = 0;
  private readonly shmBuf = Buffer.alloc(136);
  private readonly checkpointFrames: number;
  private readonly primaryPath: string;
  /** Rounds, complete checkpoints of the primary, generations applied by copies, copies dropped (tests, diagnostics). */
  stats = { rounds: 0, checkpoints: 0, switches: 0, dropped: 0, bytesCopied: 0, membershipReads: 0, walReads: 0, switchSyncsSkipped: 0 };

  constructor(
    private readonly dirs: readonly string[],
    private state: CopyState,
    private readonly opts: MirrorOptions,
  ) {
    this.checkpointFrames = opts.checkpointFrames ?? 1000;
    this.primaryPath = join(dirs[state.primary]!, DB_FILE);
    this.openCopies();
  }

  /** Opens the WAL of every member copy of `this.state` (a copy that cannot be opened is dropped at the next round). */
  private openCopies(): void {
    for (const slot of this.state.members) {
      if (slot === this.state.primary) continue;
      const dir = this.dirs[slot]!;
      try {
        this.copies.push({ slot, dir, walFd: openSync(join(dir, `${DB_FILE}-wal`), constants.O_RDWR | constants.O_CREAT) });
      } catch (err) {
        // Its drive failed since the start: recorded as dropped at the first round.
        this.unreachable.push({ slot, dir, walFd: -1 });
        this.opts.log?.warn({ drive: dir, err }, 'metadata copy unreachable');
      }
    }
  }

  /**
   * Under the write lock, before this process copies anything: a membership another process
   * changed since (a copy dropped, or re-admitted with a fresh database and WAL) is followed, every
   * copy's WAL opened again (a re-admitted copy's WAL is a new file). So no process acknowledges a
   * write after a re-admission without copying it to the new member.
   *
   * Reads the progress file (which the round needs anyway) rather than `meta-copy.json` every round:
   * the primary's `meta-copy.json` is read only when the change counter there moved since this
   * process last read it. No change can be missed: every writer of that file at run time
   * (changeMembership) holds the write lock and raises the counter *before* it replaces the file,
   * and this reads the counter, then the file, under the same lock — so a file newer than what this
   * process read comes with a counter other than `changesSeen`. A writer that dies between the two
   * leaves a raised counter over an unchanged file: one read for nothing. The counter only grows
   * (read, +1, written under the lock; never reset); a process's first round always reads the file
   * (`changesSeen` undefined: the membership it opened with was read without the lock).
   */
  private follow(): void {
    const n = readSync(this.progressFd!, this.progressBuf, 0, PROGRESS_LEN, 0);
    this.progressLen = n;
    const changes = n >= PROGRESS_LEN ? this.progressBuf.readBigUInt64LE(CHANGES_AT) : 0n;
    if (changes === this.changesSeen) return;
    this.stats.membershipReads++;
    const current = readCopyState(this.dirs[this.state.primary]!);
    this.changesSeen = changes;
    if (!current || current.epoch <= this.state.epoch) return;
    this.state = current;
    this.abandon();
    this.unreachable = [];
    this.openCopies();
  }

  /**
   * Under the write lock: records membership `next` on the primary (raising the change counter
   * first: see follow) and makes it this process's. The caller then records it on the members.
   */
  private changeMembership(next: CopyState): void {
    const b = Buffer.alloc(8);
    const changes = (readSync(this.progressFd!, b, 0, 8, CHANGES_AT) === 8 ? b.readBigUInt64LE(0) : 0n) + 1n;
    b.writeBigUInt64LE(changes, 0);
    writeAll(this.progressFd!, b, CHANGES_AT);
    writeCopyState(this.dirs[next.primary]!, next);
    this.state = next;
    // Only once the file holds `next`: if writing it failed, the next round reads it again.
    this.changesSeen = changes;
  }

  /**
   * Gives every copy slot of `slots` (default: all) that is not a member now (dropped at run time)
   * and whose directory is there a fresh copy, and admits it (a new epoch on the primary, then on every member), all under
   * the write lock: writes wait meanwhile (the time to copy the database file). Answers the slots
   * admitted. A slot whose copy cannot be written stays out (logged).
   */
  async readmit(slots?: readonly number[]): Promise<number[]> {
    if (!this.lockDb) return [];
    const admitted: number[] = [];
    await this.locked(() => {
      this.follow();
      const out = this.dirs.map((_, i) => i).filter((i) => (slots ?? [i]).includes(i) && !this.state.members.includes(i) && reachable(this.dirs[i]!));
      if (out.length === 0) return;
      const h = readShmHeader(this.shmFd!, this.shmBuf);
      const wal = h && h.mxFrame > 0 ? readAll(this.walFd!, 0, walLength(h.mxFrame, h.pageSize)) : Buffer.alloc(0);
      for (const slot of out) {
        try {
          writeFreshCopy(this.primaryPath, wal, this.dirs[slot]!);
          admitted.push(slot);
        } catch (err) {
          this.opts.log?.warn({ drive: this.dirs[slot], err }, 'metadata copy could not be rebuilt; still out');
        }
      }
      if (admitted.length === 0) return;
      const next: CopyState = { epoch: this.state.epoch + 1, members: [...this.state.members, ...admitted].sort((a, b) => a - b), primary: this.state.primary };
      this.changeMembership(next);
      this.abandon();
      this.unreachable = [];
      this.openCopies();
      for (const c of [...this.copies]) {
        if (this.state !== next) break; // a copy failed: dropped, and a newer epoch written by that drop
        try {
          writeCopyState(c.dir, next);
        } catch (err) {
          this.warn(c, err);
          this.drop([c.slot]);
        }
      }
      for (const slot of admitted) this.opts.log?.info({ drive: this.dirs[slot] }, 'metadata copy rebuilt while serving: a member again');
    });
    return admitted.filter((s) => this.state.members.includes(s));
  }

  /**
   * The drive of copy `slot` failed (the drive set took it offline): the copy is dropped now, under
   * the write lock (a new epoch), rather than at its own next I/O error, which a drive moved or
   * unmounted under an open file may never give. Its return brings a fresh copy (readmit).
   */
  async dropCopy(slot: number, why: string): Promise<void> {
    if (!this.lockDb || slot === this.state.primary) return;
    await this.locked(() => {
      this.follow();
      if (!this.state.members.includes(slot)) return;
      this.opts.log?.warn({ drive: this.dirs[slot], error: why }, 'metadata copy dropped: its drive is offline');
      this.drop([slot]);
    });
  }

  /** The membership this process follows (tests, diagnostics). */
  get membership(): Readonly<CopyState> {
    return this.state;
  }

  /** Copies that could not be opened: dropped (under the write lock) by the first round. */
  private unreachable: Copy[] = [];

  /** After the store opened the primary (the WAL and wal-index exist): the lock and checkpoint connections. */
  attach(): void {
    const open = (): Db => {
      const db = new Database(this.primaryPath);
      db.pragma('busy_timeout = 0');
      db.pragma('wal_autocheckpoint = 0');
      return db;
    };
    this.lockDb = open();
    this.ckptDb = open();
    this.walFd = openSync(`${this.primaryPath}-wal`, 'r');
    this.shmFd = openSync(`${this.primaryPath}-shm`, 'r');
    this.progressFd = openSync(join(this.dirs[this.state.primary]!, PROGRESS_FILE), constants.O_RDWR | constants.O_CREAT);
    // The starting process (before any other writes): a hint left by an earlier run names nothing.
    if (this.opts.start) writeAll(this.progressFd, Buffer.alloc(16), 0);
  }

  /**
   * The offset up to which every copy holds the generation `salts` (0 when the hint names another),
   * as the progress file was read by this locked section's follow().
   */
  private sharedProgress(salts: Buffer): number {
    const b = this.progressBuf;
    if (this.progressLen < 16 || !b.subarray(0, 8).equals(salts)) return 0;
    return Number(b.readBigUInt64LE(8));
  }

  private setSharedProgress(salts: Buffer, end: number): void {
    const b = this.progressBuf;
    salts.copy(b, 0);
    b.writeBigUInt64LE(BigInt(end), 8);
    writeAll(this.progressFd!, b.subarray(0, 16), 0);
    this.progressLen = Math.max(this.progressLen, 16);
  }

  abandon(): void {
    for (const c of this.copies) closeSync(c.walFd);
    this.copies = [];
  }

  /** Copy slots this process still writes. */
  get liveSlots(): number[] {
    return this.copies.map((c) => c.slot);
  }

  async round(syncPrimary: () => Promise<void>): Promise<void> {
    this.stats.rounds++;
    await this.locked(() => this.copy(false));
    // Every byte of [0, copied) of the generation was written to each copy before its sync below starts.
    const synced = this.salts ? { salts: this.salts, end: this.copied } : undefined;
    const syncCopy = this.opts.syncCopy ?? ((_slot: number, fd: number) => fdatasyncP(fd));
    const failed: Copy[] = [];
    const copies = [...this.copies];
    const syncOne = (c: Copy): Promise<void> =>
      syncCopy(c.slot, c.walFd).catch((err: unknown) => {
        failed.push(c);
        this.warn(c, err);
      });
    await Promise.all([syncPrimary(), ...copies.map(syncOne)]);
    for (const c of copies) if (!failed.includes(c)) c.synced = synced;
    if (failed.length > 0) await this.locked(() => this.drop(failed.map((c) => c.slot)));
  }

  async close(syncPrimary: () => Promise<void>): Promise<void> {
    if (!this.lockDb) return;
    try {
      await this.locked(() => this.copy(true));
      await this.round(syncPrimary);
    } finally {
      this.lockDb.close();
      this.ckptDb!.close();
      this.lockDb = this.ckptDb = undefined;
      closeSync(this.walFd!);
      closeSync(this.shmFd!);
      closeSync(this.progressFd!);
      this.abandon();
    }
  }

  private warn(c: Copy, err: unknown): void {
    this.opts.log?.warn({ drive: c.dir, err }, 'metadata copy failed; dropped until its drive is back (or the next start)');
    this.opts.copyFailed?.(c.dir, err);
  }

  /** Runs `fn` holding SQLite's write lock (BEGIN IMMEDIATE on our own connection), retried while busy. */
  private async locked(fn: () => void): Promise<void> {
    const deadline = Date.now() + (this.opts.busyRetryMs ?? 3000);
    for (let attempt = 0; ; attempt++) {
      try {
        this.lockDb!.exec('BEGIN IMMEDIATE');
        break;
      } catch (err) {
        if (!isBusyError(err)) throw err;
        if (Date.now() >= deadline) throw busyError();
      }
      await sleep(busyBackoff(attempt));
    }
    try {
      fn();
    } finally {
      this.lockDb!.exec('ROLLBACK');
    }
  }

  /**
   * Under the write lock: copies the committed frames this process has not copied yet to every
   * copy (same offsets: idempotent with the other processes' copies), then checkpoints when the WAL
   * is long enough (or `force`).
   */
  private copy(force: boolean): void {
    this.follow();
    if (this.unreachable.length > 0) {
      const gone = this.unreachable;
      this.unreachable = [];
      this.drop(gone.map((c) => c.slot));
    }
    const h = readShmHeader(this.shmFd!, this.shmBuf);
    if (!h || h.mxFrame === 0) return;
    let switched = false;
    if (!this.salts?.equals(h.salts)) {
      // A generation this process has not seen: each copy still holding the previous one (the
      // first round of any process after SQLite restarted the WAL) applies it first.
      switched = this.switchGeneration(h.salts);
      this.salts = h.salts;
      this.copied = 0;
      this.held.reset(h.salts);
    }
    // What another process copied of this generation since (every member holds it: each copy
    // follows the newest membership first, under this same lock) is not copied again. Not after
    // this process switched a copy: that copy holds nothing of the generation yet.
    const from = switched ? 0 : Math.max(this.copied, this.sharedProgress(h.salts));
    const end = walLength(h.mxFrame, h.pageSize);
    if (end > from) {
      const bytes = this.held.read(this.walFd!, from, end);
      if (bytes.length !== end - from) throw new Error('metadata copies: the WAL is shorter than its committed frames');
      for (const c of [...this.copies]) {
        try {
          writeAll(c.walFd, bytes, from);
        } catch (err) {
          this.warn(c, err);
          this.drop([c.slot]);
        }
      }
      this.stats.bytesCopied += bytes.length;
      this.setSharedProgress(h.salts, end);
    }
    this.copied = Math.max(from, end);
    if (force || h.mxFrame >= this.checkpointFrames) this.checkpoint(h.mxFrame);
  }

  /**
   * The primary's WAL restarted (new salts). A restart needs a complete checkpoint, which only
   * checkpoint() makes, after copying every frame; and every generation is copied by some round
   * before it can be checkpointed. So a copy's WAL holds either the new generation already
   * (another process switched it), or all of the previous one, continuation frames included, or a
   * retired header (a switch whose copy did not follow: a crash, a failed write): applied to the
   * copy's database (synced), the WAL's header retired (zeroed and synced; the file keeps its
   * length, see applyWal), the new generation is then copied from offset 0. Answers whether a copy
   * may lack frames of the new generation (then the round copies it from offset 0).
   *
   * The previous generation is taken from what this process copied of it (HeldFrames: the ranges
   * other processes copied read from the first copy to switch, if its header names that generation),
   * else read once from the first copy that holds it; its pages are applied to every copy whose WAL
   * holds the same frames (sameFrames: same header, same last commit frame and cumulative checksum,
   * no later frame of the generation) — the first one included. They normally all do: every round
   * writes the same bytes at the same offsets to every member, a member that missed a write is
   * dropped, and a copy re-admitted during the generation got the primary WAL's bytes from offset 0
   * (its database, the primary's then, may hold some of the generation already: applying every
   * page's newest version gives the same file). A copy whose WAL differs (torn by a process killed
   * mid-write and not yet repaired, retired, of another generation) is read and applied on its own.
   */
  private switchGeneration(salts: Buffer): boolean {
    let switched = false;
    let source: { buf: Buffer; wal: WalContents } | undefined;
    for (const c of [...this.copies]) {
      try {
        const size = fstatSync(c.walFd).size;
        if (size === 0) {
          switched = true;
          continue;
        }
        const head = parseWalHeader(readAll(c.walFd, 0, WAL_HEADER));
        if (head?.salts.equals(salts)) continue;
        switched = true;
        const dbPath = join(c.dir, DB_FILE);
        // The generation this process last copied, if the copy holds that one (its header's salts).
        if (!source && this.salts && head?.salts.equals(this.salts)) source = this.held.complete(this.salts, c.walFd, this.sharedProgress(this.salts));
        const hook = this.opts.onSwitchPages;
        const onPages = hook && ((stage: 'before' | 'written', walSyncedNow: boolean) => hook(c.slot, stage, dbPath, walSyncedNow));
        if (source && sameFrames(c.walFd, source.buf, source.wal)) {
          applyWalContents(c.walFd, dbPath, source.buf, source.wal, 'invalidate', this.isSynced(c, source.wal), onPages);
        } else {
          this.stats.walReads++;
          const buf = readAll(c.walFd, 0, size);
          const wal = readWalContents(buf, true);
          applyWalContents(c.walFd, dbPath, buf, wal, 'invalidate', wal !== undefined && this.isSynced(c, wal), onPages);
          if (wal && wal.pages.size > 0) source ??= { buf, wal };
        }
        this.stats.switches++;
      } catch (err) {
        this.warn(c, err);
        this.drop([c.slot]);
      }
    }
    return switched;
  }

  /**
   * Whether the frames `wal` of copy `c` (of its header's generation) are already on its drive, so
   * that the switch need not fdatasync its WAL before writing the database (applyWalContents): a
   * round of this process synced this descriptor after every byte of them was written — always for
   * a single process (its rounds never overlap: the next starts once the last one's syncs are done),
   * and with several when this process copied the generation's last frames. Bytes rewritten there
   * since by another process are the same bytes (a round copies a committed frame, at its offset),
   * and a switch by another process would have changed the header's salts.
   */
  private isSynced(c: Copy, wal: WalContents): boolean {
    const ok = c.synced !== undefined && c.synced.salts.equals(wal.header.salts) && c.synced.end >= wal.end;
    if (ok) this.stats.switchSyncsSkipped++;
    return ok;
  }

  /**
   * Every frame is on every copy: checkpoint the primary (PASSIVE, from a second connection while
   * ours holds the write lock, so nothing is appended meanwhile). If it completes, SQLite restarts
   * the WAL at a later write (or appends to it, when a reader holds a snapshot then): either way the
   * copies hold every frame of this generation, and apply them at the switch (switchGeneration).
   */
  private checkpoint(mxFrame: number): void {
    let r: Array<{ busy: number; log: number; checkpointed: number }>;
    try {
      r = this.ckptDb!.pragma('wal_checkpoint(PASSIVE)') as typeof r;
    } catch (err) {
      if (isBusyError(err)) return; // another connection is checkpointing: a later round does it
      throw err;
    }
    if (r[0]?.busy === 0 && r[0].log === mxFrame && r[0].checkpointed === mxFrame) this.stats.checkpoints++;
  }

  /**
   * Under the write lock: removes the copies of `slots` (failed) from the membership recorded on
   * the primary and every remaining copy (a new epoch), before any write that did not reach them is
   * acknowledged. The membership is followed first: a round's syncs run without the lock, and
   * another process may have changed it since this one's copy (re-admitted a copy, say); the new
   * epoch must not name a member this process has not opened (it would never copy to it).
   */
  private drop(slots: readonly number[]): void {
    this.follow();
    const gone = new Set(slots);
    for (const c of this.copies) {
      if (!gone.has(c.slot)) continue;
      try {
        if (c.walFd >= 0) closeSync(c.walFd);
      } catch {
        // already unusable
      }
    }
    this.copies = this.copies.filter((c) => !gone.has(c.slot));
    const members = this.state.members.filter((s) => !gone.has(s));
    if (members.length === this.state.members.length) return;
    this.stats.dropped += this.state.members.length - members.length;
    const next: CopyState = { epoch: this.state.epoch + 1, members, primary: this.state.primary };
    // The primary's record must succeed (else this write fails); a copy whose record fails is dropped too.
    this.changeMembership(next);
    for (const c of [...this.copies]) {
      if (this.state !== next) break; // a copy failed: dropped, and a newer epoch written by that drop
      if (!members.includes(c.slot)) continue;
      try {
        writeCopyState(c.dir, next);
      } catch (err) {
        this.warn(c, err);
        this.drop([c.slot]);
      }
    }
  }
}

/**
 * The directories that hold a copy of the metadata database, given the set's drives in index order
 * and its STANDARD parity m: the first m+1 drives, so that losing any m drives leaves a copy. One
 * drive: that drive alone (today's `<data>/meta.db`, no copies).
 */
export function metaCopyDirs(drives: readonly string[], parity: number): string[] {
  return drives.slice(0, Math.max(1, Math.min(drives.length, parity + 1)));
}
