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
import { closeSync, constants, fdatasync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { busyBackoff, busyError, isBusyError, sleep } from './sqlite-busy.js';
import { SqliteMetaStore, type SqliteOptions } from './sqlite.js';
import type { WalMirrorHook } from './wal-sync.js';
import { WAL_HEADER, parseWalHeader, readAll, readShmHeader, walLength, writeAll } from './wal-frames.js';
import type { Db } from './sqlite-sql.js';
import { reachable, writeFreshCopy } from './mirror-readmit.js';
import { MirrorThread } from './mirror-thread.js';
import { type CopyState, DB_FILE, followCopies, readCopyState, startCopies, writeCopyState } from './mirror-start.js';

/**
 * Beside the primary: how far the copies hold the WAL's current generation (its salts, then the
 * byte offset), written under the write lock by whichever process copied last, so that the other
 * processes do not copy the same frames again. A hint (never synced, reset at start): a round copies
 * from it only while it names the generation the wal-index names (docs/on-disk-format.md).
 */
export const PROGRESS_FILE = 'meta-copy.progress';
/** Its length: the copied offset (16 bytes), then the applied offset (24, see preApply). */
const PROGRESS_BYTES = 40;

/**
 * Beside the primary: an empty SQLite database whose write lock (BEGIN IMMEDIATE, never a write)
 * makes the copies' switches to a new WAL generation one at a time across processes, without
 * holding the metadata database's own write lock (switchCopies).
 */
export const SWITCH_LOCK_FILE = 'meta-copy.lock';

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
   * false: the copies' switches to a new WAL generation run on the event loop instead of the
   * copies' threads (mirror-thread.ts; tests). Default true.
   */
  offThread?: boolean;
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
}

/** The group commit's hook: copies WAL frames to every copy, checkpoints, drops failed copies. */
export class WalMirror implements WalMirrorHook {
  private copies: Copy[] = [];
  private lockDb: Db | undefined;
  private ckptDb: Db | undefined;
  /** The switch lock: BEGIN IMMEDIATE on `meta-copy.lock` beside the primary (see switchCopies). */
  private switchDb: Db | undefined;
  /** Run the copies' switches off the event loop (mirror-thread.ts): one thread per copy, so that they switch side by side. */
  private threads: MirrorThread[] = [];
  /** This process's locked sections and switches run one after another (one connection each for the locks). */
  private chain: Promise<unknown> = Promise.resolve();
  /** The generation to which this process has seen every member copy switched (see switchCopies). */
  private switchedTo: Buffer | undefined;
  private shmFd: number | undefined;
  private walFd: number | undefined;
  private progressFd: number | undefined;
  private readonly progressBuf = Buffer.alloc(PROGRESS_BYTES);
  /** The WAL generation this process last copied, and how far. */
  private salts: Buffer | undefined;
  private copied = 0;
  private readonly shmBuf = Buffer.alloc(136);
  private readonly checkpointFrames: number;
  private readonly primaryPath: string;
  /** Rounds, complete checkpoints of the primary, generations applied by copies, copies dropped (tests, diagnostics). */
  stats = { rounds: 0, checkpoints: 0, switches: 0, dropped: 0, bytesCopied: 0, preApplies: 0, preApplied: 0 };
  /** A switch of copies is running (tests). */
  switching = false;
  /** TEMP timing (ns). */
  t = { swOut: 0, lockWait: 0, locked: 0, follow: 0, shm: 0, copyBytes: 0, sw: 0, ckpt: 0, sync: 0, lockedMax: 0, hist: [0, 0, 0, 0, 0, 0] };

  constructor(
    private readonly dirs: readonly string[],
    private state: CopyState,
    private readonly opts: MirrorOptions,
  ) {
    this.checkpointFrames = Number(process.env.STRATA_BENCH_CKPT_FRAMES) || (opts.checkpointFrames ?? 1000);
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
   */
  private follow(): void {
    const current = readCopyState(this.dirs[this.state.primary]!);
    if (!current || current.epoch <= this.state.epoch) return;
    this.state = current;
    this.abandon();
    this.unreachable = [];
    this.openCopies();
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
    // Under the switch lock too: no copy is switched while the membership changes.
    await this.serial(() =>
      this.switchLocked(() =>
        this.lockedNow(() => {
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
          const next: CopyState = {
            epoch: this.state.epoch + 1,
            members: [...this.state.members, ...admitted].sort((a, b) => a - b),
            primary: this.state.primary,
          };
          writeCopyState(this.dirs[next.primary]!, next);
          this.state = next;
          this.abandon();
          this.unreachable = [];
          this.openCopies();
          for (const c of [...this.copies]) {
            try {
              writeCopyState(c.dir, next);
            } catch (err) {
              this.warn(c, err);
              this.drop([c]);
            }
          }
          for (const slot of admitted) this.opts.log?.info({ drive: this.dirs[slot] }, 'metadata copy rebuilt while serving: a member again');
        }),
      ),
    );
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
      const c = this.copies.find((x) => x.slot === slot) ?? (this.state.members.includes(slot) ? { slot, dir: this.dirs[slot]!, walFd: -1 } : undefined);
      if (!c) return;
      if (!this.copies.includes(c)) this.copies.push(c);
      this.opts.log?.warn({ drive: c.dir, error: why }, 'metadata copy dropped: its drive is offline');
      this.drop([c]);
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
    this.switchDb = new Database(join(this.dirs[this.state.primary]!, SWITCH_LOCK_FILE));
    this.switchDb.pragma('busy_timeout = 0');
    const onThread = process.env.STRATA_BENCH_MIRROR_SYNC ? false : (this.opts.offThread ?? true);
    this.threads = Array.from({ length: onThread ? Math.max(1, Math.min(4, this.dirs.length - 1)) : 1 }, () => new MirrorThread(onThread));
    this.walFd = openSync(`${this.primaryPath}-wal`, 'r');
    this.shmFd = openSync(`${this.primaryPath}-shm`, 'r');
    this.progressFd = openSync(join(this.dirs[this.state.primary]!, PROGRESS_FILE), constants.O_RDWR | constants.O_CREAT);
    // The starting process (before any other writes): a hint left by an earlier run names nothing.
    if (this.opts.start) writeAll(this.progressFd, Buffer.alloc(PROGRESS_BYTES), 0);
  }

  /** The offset up to which every copy holds the generation `salts` (0 when the hint names another). */
  private sharedProgress(salts: Buffer): number {
    const b = this.progressBuf;
    if (readSync(this.progressFd!, b, 0, 16, 0) < 16 || !b.subarray(0, 8).equals(salts)) return 0;
    return Number(b.readBigUInt64LE(8));
  }

  /**
   * How far every member copy's database holds the generation `salts` applied (bytes 16-40 of the
   * progress file: salts, offset, membership epoch; written under the switch lock by preApply):
   * WAL_HEADER when the record names another generation or another epoch.
   */
  private appliedUpTo(salts: Buffer, epoch: number): number {
    const b = Buffer.alloc(24);
    if (readSync(this.progressFd!, b, 0, 24, 16) < 24 || !b.subarray(0, 8).equals(salts) || Number(b.readBigUInt64LE(16)) !== epoch) return WAL_HEADER;
    return Number(b.readBigUInt64LE(8));
  }

  private setApplied(salts: Buffer, end: number, epoch: number): void {
    const b = Buffer.alloc(24);
    salts.copy(b, 0);
    b.writeBigUInt64LE(BigInt(end), 8);
    b.writeBigUInt64LE(BigInt(epoch), 16);
    writeAll(this.progressFd!, b, 16);
  }

  private setSharedProgress(salts: Buffer, end: number): void {
    const b = this.progressBuf;
    salts.copy(b, 0);
    b.writeBigUInt64LE(BigInt(end), 8);
    writeAll(this.progressFd!, b, 0);
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
    const t0 = process.hrtime.bigint();
    await this.copyAll(false);
    const t1 = process.hrtime.bigint();
    const syncCopy = this.opts.syncCopy ?? ((_slot: number, fd: number) => fdatasyncP(fd));
    const failed: Copy[] = [];
    const copies = [...this.copies];
    const syncOne = (c: Copy): Promise<void> =>
      syncCopy(c.slot, c.walFd).catch((err: unknown) => {
        failed.push(c);
        this.warn(c, err);
      });
    await Promise.all([syncPrimary(), ...copies.map(syncOne)]);
    if (failed.length === 0) this.preApply();
    this.t.sync += Number(process.hrtime.bigint() - t1);
    void t0;
    if (failed.length > 0) await this.locked(() => this.drop(failed));
    if (process.env.STRATA_BENCH_MIRROR_TIMING && this.stats.rounds % 20 === 0) {
      writeFileSync(join(process.env.STRATA_BENCH_MIRROR_TIMING, `mirror-${process.pid}.json`), JSON.stringify({ ...this.stats, ...this.t }));
    }
  }

  async close(syncPrimary: () => Promise<void>): Promise<void> {
    if (!this.lockDb) return;
    try {
      await this.preApplying;
      await this.copyAll(true);
      await this.round(syncPrimary);
      await this.preApplying;
    } finally {
      this.lockDb.close();
      this.ckptDb!.close();
      this.switchDb!.close();
      this.lockDb = this.ckptDb = this.switchDb = undefined;
      await Promise.all(this.threads.map((t) => t.close()));
      this.threads = [];
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

  /** Runs `fn` after this process's earlier locked sections and switches (one at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` holding SQLite's write lock (BEGIN IMMEDIATE on our own connection), retried while busy. */
  private locked<T>(fn: () => T): Promise<T> {
    return this.serial(() => this.lockedNow(fn));
  }

  /** Takes `db`'s write lock (BEGIN IMMEDIATE), retried with backoff while busy, for up to the busy retry time. */
  private async begin(db: Db): Promise<void> {
    const deadline = Date.now() + (this.opts.busyRetryMs ?? 3000);
    for (let attempt = 0; ; attempt++) {
      try {
        db.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if (!isBusyError(err)) throw err;
        if (Date.now() >= deadline) throw busyError();
      }
      await sleep(busyBackoff(attempt));
    }
  }

  /**
   * Runs `fn` holding the switch lock (not the database's write lock: commits go on); in this
   * process, after the earlier holders (a switch and a pre-apply may ask for it at once).
   */
  private switchLocked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.switchChain.then(async () => {
      await this.begin(this.switchDb!);
      try {
        return await fn();
      } finally {
        this.switchDb!.exec('ROLLBACK');
      }
    });
    this.switchChain = run.catch(() => undefined);
    return run;
  }
  private switchChain: Promise<unknown> = Promise.resolve();

  /**
   * Between rounds, once this process's last round made the generation's first `checkpointFrames`
   * frames durable on every copy (its copy, then its syncs): applies them to every member copy's
   * database ahead of the switch, so that the switch, which answers wait for, has only the frames
   * committed since left to apply (and the checkpoint waits for it: see copy()). Under the switch
   * lock (so never at once with a switch, nor with an admission), on the threads, the WAL and the
   * database of each member opened by path; recorded (applied offset, generation, membership epoch)
   * only if every member applied it. Safe at any point: a copy's WAL keeps every frame of its
   * generation until the switch, which comes after this, so its database plus its WAL reads the
   * same whatever part of them was applied, and a crash leaves the whole generation to apply again.
   */
  private preApply(): void {
    const salts = this.salts;
    const to = this.copied;
    if (this.preApplying || !salts || this.pageSize === 0 || to < walLength(this.checkpointFrames, this.pageSize)) return;
    const primaryDir = this.dirs[this.state.primary]!;
    const run = this.switchLocked(async () => {
      const st = readCopyState(primaryDir);
      if (!st || !this.switchDb) return;
      // Still the primary's generation (else the switch applies it), not applied that far yet.
      if (!parseWalHeader(readAll(this.walFd!, 0, WAL_HEADER))?.salts.equals(salts)) return;
      const from = this.appliedUpTo(salts, st.epoch);
      if (from >= to) return;
      const ends = await Promise.all(
        st.members
          .filter((slot) => slot !== st.primary)
          .map((slot) =>
            this.threads[slot % this.threads.length]!.apply({
              walPath: join(this.dirs[slot]!, `${DB_FILE}-wal`),
              dbPath: join(this.dirs[slot]!, DB_FILE),
              from,
              to,
              salts,
            }).catch(() => undefined),
          ),
      );
      if (ends.every((e) => e === to)) {
        this.setApplied(salts, to, st.epoch);
        this.stats.preApplies++;
      }
    });
    this.preApplying = run
      .catch((err: unknown) => this.opts.log?.warn({ err }, 'metadata copies: applying ahead of the switch failed (the switch applies everything)'))
      .finally(() => {
        this.preApplying = undefined;
      });
  }
  private preApplying: Promise<void> | undefined;
  /** The WAL's page size, as the wal-index last gave it (0 before the first round). */
  private pageSize = 0;

  private async lockedNow<T>(fn: () => T): Promise<T> {
    const w0 = process.hrtime.bigint();
    await this.begin(this.lockDb!);
    const l0 = process.hrtime.bigint();
    this.t.lockWait += Number(l0 - w0);
    try {
      return fn();
    } finally {
      this.lockDb!.exec('ROLLBACK');
      const d = Number(process.hrtime.bigint() - l0);
      this.t.locked += d;
      this.t.lockedMax = Math.max(this.t.lockedMax, d);
      const ms = d / 1e6;
      this.t.hist[ms < 0.1 ? 0 : ms < 0.3 ? 1 : ms < 1 ? 2 : ms < 3 ? 3 : ms < 10 ? 4 : 5]!++;
    }
  }

  /**
   * Copies what was committed so far to every copy (and checkpoints when due, or `force`): under
   * the write lock, unless the WAL is in a generation to which this process has not seen the copies
   * switched — then the switch comes first, without the write lock (switchCopies), and the copy
   * after it. Bounded: each pass means that other processes took the WAL to a newer generation.
   */
  private async copyAll(force: boolean): Promise<void> {
    for (let pass = 0; ; pass++) {
      const header = await this.locked(() => this.copy(force));
      if (!header) return;
      if (pass >= 16) throw new Error('metadata copies: the WAL went through new generations faster than the copies could switch');
      await this.switchCopies(header);
    }
  }

  /**
   * Under the write lock: copies the committed frames this process has not copied yet to every
   * copy (same offsets: idempotent with the other processes' copies), then checkpoints when the WAL
   * is long enough (or `force`). If the WAL is in a generation to which this process has not seen
   * every copy switched, it copies nothing and answers that generation's header (copyAll switches).
   */
  private copy(force: boolean): Buffer | undefined {
    const a = process.hrtime.bigint();
    this.follow();
    const b = process.hrtime.bigint();
    this.t.follow += Number(b - a);
    if (this.unreachable.length > 0) {
      const gone = this.unreachable;
      this.unreachable = [];
      this.copies.push(...gone);
      this.drop(gone);
    }
    const h = readShmHeader(this.shmFd!, this.shmBuf);
    if (!h || h.mxFrame === 0) return undefined;
    const c0 = process.hrtime.bigint();
    this.t.shm += Number(c0 - b);
    if (!this.salts?.equals(h.salts)) {
      if (!this.switchedTo?.equals(h.salts)) {
        // A generation this process has not seen: the copies still holding the previous one switch first.
        const header = readAll(this.walFd!, 0, WAL_HEADER);
        if (!parseWalHeader(header)?.salts.equals(h.salts)) throw new Error('metadata copies: the WAL header does not name the wal-index generation');
        return header;
      }
      this.salts = h.salts;
      this.copied = 0;
    }
    // What another process copied of this generation since (every member holds it: each process
    // follows the newest membership first, under this same lock, and copies a generation only to
    // copies switched to it) is not copied again.
    const from = Math.max(this.copied, this.sharedProgress(h.salts));
    this.pageSize = h.pageSize;
    const end = walLength(h.mxFrame, h.pageSize);
    const c1 = process.hrtime.bigint();
    if (end > from) {
      const bytes = readAll(this.walFd!, from, end);
      if (bytes.length !== end - from) throw new Error('metadata copies: the WAL is shorter than its committed frames');
      for (const c of [...this.copies]) {
        try {
          writeAll(c.walFd, bytes, from);
        } catch (err) {
          this.warn(c, err);
          this.drop([c]);
        }
      }
      this.stats.bytesCopied += bytes.length;
      this.setSharedProgress(h.salts, end);
    }
    this.copied = Math.max(from, end);
    const c2 = process.hrtime.bigint();
    this.t.copyBytes += Number(c2 - c1);
    // The checkpoint waits until the member copies applied the first checkpointFrames frames ahead
    // of the switch (preApply), so that the switch has little left; at twice that, it waits no more.
    const due =
      h.mxFrame >= this.checkpointFrames &&
      (h.mxFrame >= 2 * this.checkpointFrames || this.appliedUpTo(h.salts, this.state.epoch) >= walLength(this.checkpointFrames, h.pageSize));
    if (force || due) this.checkpoint(h.mxFrame);
    this.t.ckpt += Number(process.hrtime.bigint() - c2);
    return undefined;
  }

  /**
   * The primary's WAL restarted (new salts, `header` its new header). A restart needs a complete
   * checkpoint, which only checkpoint() makes, after copying every frame to every member; so each
   * member copy's WAL holds either all of the previous generation, continuation frames included,
   * or the new generation's header already (another process switched it), or a retired header
   * (zeros: a switch of an older version). A copy not switched yet applies its WAL to its database
   * (synced) and gets the new header in place of the old one (synced; the frames behind it carry
   * older salts, so the WAL is empty until the new generation is copied from offset 0).
   *
   * Without the database's write lock, so commits go on meanwhile (their answers wait: a round
   * copies the new generation only after this), on a thread (the event loop goes on), the copies
   * side by side — and under the switch lock, which makes the switches of all processes one at a
   * time: a process copies a generation only after it saw, under that lock, every member switched
   * to it (switchedTo), so no switch ever runs on a copy that holds frames of the new generation,
   * and none on a copy another process is switching. The WAL cannot move on to yet another
   * generation meanwhile: that needs every member to hold this one's frames, so to be switched.
   */
  private switchCopies(header: Buffer): Promise<void> {
    const salts = Buffer.from(header.subarray(16, 24));
    return this.serial(async () => {
      const t0 = process.hrtime.bigint();
      const failed: Copy[] = [];
      const current = await this.switchLocked(async () => {
        this.follow(); // a re-admission (under this lock too) since the decision
        // Still the primary's generation? If not, other processes switched every copy to it and
        // the WAL went on: the next locked pass decides again.
        const now = parseWalHeader(readAll(this.walFd!, 0, WAL_HEADER));
        if (!now?.salts.equals(salts)) return false;
        await Promise.all(
          [...this.copies].map(async (c) => {
            try {
              const head = fstatSync(c.walFd).size >= WAL_HEADER ? parseWalHeader(readAll(c.walFd, 0, WAL_HEADER)) : undefined;
              if (head?.salts.equals(salts)) return;
              this.switching = true;
              // What a pre-apply already put in the member databases (under this lock) is not applied again.
              const from = head ? this.appliedUpTo(head.salts, this.state.epoch) : WAL_HEADER;
              await this.threads[c.slot % this.threads.length]!.apply({ walFd: c.walFd, dbPath: join(c.dir, DB_FILE), from, header });
              this.stats.switches++;
              if (from > WAL_HEADER) this.stats.preApplied++;
            } catch (err) {
              this.warn(c, err);
              failed.push(c);
            }
          }),
        );
        this.switching = false;
        return true;
      });
      // A copy that could not be switched is dropped before anything of the generation is answered.
      if (failed.length > 0) await this.lockedNow(() => this.drop(failed));
      if (current) this.switchedTo = salts;
      this.t.swOut += Number(process.hrtime.bigint() - t0);
    });
  }

  /**
   * Every frame is on every copy: checkpoint the primary (PASSIVE, from a second connection while
   * ours holds the write lock, so nothing is appended meanwhile). If it completes, SQLite restarts
   * the WAL at a later write (or appends to it, when a reader holds a snapshot then): either way the
   * copies hold every frame of this generation, and apply them at the switch (switchCopies).
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
   * Under the write lock: removes failed copies from the membership recorded on the primary and
   * every remaining copy (a new epoch), before any write that did not reach them is acknowledged.
   */
  private drop(failed: Copy[]): void {
    const gone = new Set(failed.map((c) => c.slot));
    for (const c of failed) {
      if (!this.copies.includes(c)) continue;
      this.copies = this.copies.filter((x) => x !== c);
      try {
        if (c.walFd >= 0) closeSync(c.walFd);
      } catch {
        // already unusable
      }
      this.stats.dropped++;
    }
    const current = readCopyState(this.dirs[this.state.primary]!) ?? this.state;
    const members = current.members.filter((s) => !gone.has(s));
    if (members.length === current.members.length && current.epoch >= this.state.epoch) return;
    const next: CopyState = { epoch: Math.max(current.epoch, this.state.epoch) + 1, members, primary: this.state.primary };
    // The primary's record must succeed (else this write fails); a copy whose record fails is dropped too.
    writeCopyState(this.dirs[next.primary]!, next);
    this.state = next;
    for (const c of [...this.copies]) {
      if (!members.includes(c.slot)) continue;
      try {
        writeCopyState(c.dir, next);
      } catch (err) {
        this.warn(c, err);
        this.drop([c]);
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
