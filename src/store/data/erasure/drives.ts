// The drive set of an erasure-coded server (issue 16, docs/drives.md): opens the drives named by
// --data, checks their format files (or writes them on the first start), refuses a swapped, foreign
// or duplicated drive, adopts a fresh empty drive into a known slot (state `healing`), and keeps each
// drive's state while the server runs: an I/O error that means the drive is gone (failed()) takes it
// offline, and a timer probes it until it answers again.
//
// Start with drives missing: MinIO (since RELEASE.2023-02-09) starts a set when enough drives for
// write quorum are online, and refuses to start otherwise; so does this. Drives that are offline at
// start are not formatted or created (a missing directory is most often an unmounted disk: creating
// it would put that drive's shards on another file system); the probe brings them in when they
// appear, checking their format file first (or adopting them when they come back empty).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultParity, defaultRrsParity, parityProblem } from '../../../config.js';
import { type DriveFormat, type DriveLook, FORMAT_FILE, FORMAT_VERSION, lookAtDrive, newId, parseFormat, writeFormat } from './drive-format.js';
import { writeQuorum } from './store.js';
import type { Drive, DriveSet, DriveState } from './types.js';

/** Where drive events are logged (a pino Logger fits). */
export interface DriveLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** How often an offline drive is probed (ms). */
export const PROBE_INTERVAL_MS = 3000;

/** The drives cannot make a set: the start is refused with this message (naming the drives at fault). */
export class DriveSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriveSetError';
  }
}

export interface DriveSetOptions {
  /** STANDARD parity given by the operator (--parity); absent: the format file's, else the default. */
  parity?: number;
  /** REDUCED_REDUNDANCY parity given (--rrs-parity); absent: the format file's, else min(2, parity). */
  rrsParity?: number;
  log?: DriveLog;
  /** How often offline drives are probed (ms; default PROBE_INTERVAL_MS). */
  probeIntervalMs?: number;
  /**
   * Locks a drive before the probe brings it back (store/lock.ts DrivesLock.lockLater: a drive
   * that was not there at start was not locked); throwing keeps the drive offline.
   */
  lockDrive?: (path: string) => void;
}

/**
 * One drive's last state change, as recorded for the other processes of the server (several
 * workers on one set: docs/drives.md "Several processes"). `at`: ms since the epoch, made unique
 * per drive by the recorder (the latest change wins).
 */
export interface DriveStateRecord {
  readonly id: string;
  readonly state: DriveState;
  readonly reason: string;
  readonly at: number;
}

/**
 * Where the processes of one server record their drives' state changes and read the others'
 * (store/drive-board.ts: the metadata store, shared by every worker).
 */
export interface DriveStateBoard {
  read(): Promise<readonly DriveStateRecord[]>;
  write(record: DriveStateRecord): Promise<void>;
}

class SetDrive implements Drive {
  state: DriveState;
  /** Why it is offline (logged once per distinct reason). */
  reason = '';
  constructor(
    readonly index: number,
    readonly path: string,
    readonly id: string,
    state: DriveState,
  ) {
    this.state = state;
  }
}

/** A drive set opened by openDriveSet: the contract's DriveSet plus what startup, heal and readiness need. */
/** A drive of an opened set: with why it is offline (empty otherwise). */
export interface OpenedDrive extends Drive {
  readonly reason: string;
}

export interface OpenedDriveSet extends DriveSet {
  readonly drives: readonly OpenedDrive[];
  /** STANDARD and REDUCED_REDUNDANCY parity in force. */
  readonly parity: number;
  readonly rrsParity: number;
  /** True when this start created the set (every drive was empty). */
  readonly created: boolean;
  /** Indexes of the drives adopted at this start (empty directories in known slots): heal rebuilds them. */
  readonly adopted: readonly number[];
  /** Drives online or healing (they take writes). */
  available(): number;
  /** Why the set cannot serve reads (fewer than read quorum drives online: readiness fails), undefined when it can. */
  notReady(): string | undefined;
  /** Data shards k of STANDARD objects; reads need k healthy shards. */
  readonly readQuorum: number;
  /** Drives needed for a STANDARD write. */
  readonly writeQuorum: number;
  /** Called on every state change; answers the function that unsubscribes. */
  onChange(listener: (drive: Drive, before: DriveState) => void): () => void;
  /** Probes the offline drives now (the timer calls it; tests and the heal job may too). */
  probe(): Promise<void>;
  /**
   * Shares the drive states with the server's other processes through `board` from now on: every
   * change made here is recorded there, and the changes others recorded are applied at every
   * sync() (the timer syncs every probe interval). `publish`: this process opened the set first
   * (a single server, the cluster primary): its view of every drive is recorded now, replacing
   * what an earlier run left; otherwise (a worker) the board's records are applied now.
   */
  share(board: DriveStateBoard, publish: boolean): Promise<void>;
  /** Applies the state changes other processes recorded since the last sync (none without a board). */
  sync(): Promise<void>;
  /** Stops the probe timer. */
  close(): void;
}

/** Error codes that mean the drive itself is gone or unusable (not one file's problem). */
const DRIVE_ERRORS = new Set(['EIO', 'EROFS', 'ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'ENODEV', 'ENXIO', 'ESTALE', 'ENOTCONN', 'EUCLEAN', 'ENOTDIR']);

/**
 * Opens the set of drives at `paths` (in --data order). Refuses (DriveSetError) a drive of another
 * set, a drive in the wrong position, the same drive twice, a non-empty directory without a format
 * file, and a start with fewer drives available than the write quorum.
 */
export async function openDriveSet(paths: readonly string[], opts: DriveSetOptions = {}): Promise<OpenedDriveSet> {
  const n = paths.length;
  if (n < 2) throw new DriveSetError(`a drive set needs at least 2 drives (given ${n})`);
  const looks = await Promise.all(paths.map((p) => lookAtDrive(p)));
  refuseDuplicates(paths, looks);
  const formatted = looks.flatMap((l, i) => (l.kind === 'formatted' ? [{ i, f: l.format }] : []));
  const notEmpty = looks.flatMap((l, i) =>
    l.kind === 'not-empty' ? [`${paths[i]} (holds ${l.entries.slice(0, 4).join(', ')}${l.entries.length > 4 ? ', …' : ''})`] : [],
  );
  if (notEmpty.length > 0) {
    const single = looks.some((l) => l.kind === 'not-empty' && l.entries.includes('meta.db'));
    throw new DriveSetError(
      `drive ${notEmpty.join(', ')}: not empty and without ${FORMAT_FILE}; a drive joins a set only empty` +
        (single ? ' (a one-directory Strata data directory cannot become a drive of a set: copy its objects to the new server with a client)' : ''),
    );
  }
  const created = formatted.length === 0;
  let ref: DriveFormat;
  if (created) {
    const parity = opts.parity ?? defaultParity(n);
    ref = {
      format: 'strata-drive',
      version: FORMAT_VERSION,
      set: newId(),
      drive: '',
      index: 0,
      drives: paths.map(() => newId()),
      parity,
      rrsParity: opts.rrsParity ?? defaultRrsParity(parity),
    };
  } else {
    ref = referenceFormat(paths, formatted);
  }
  const parity = opts.parity ?? ref.parity;
  const rrsParity = opts.rrsParity ?? (opts.parity !== undefined ? Math.min(ref.rrsParity, parity) : ref.rrsParity);
  const problem = parityProblem(n, parity);
  if (problem) throw new DriveSetError(problem);
  if (rrsParity < 1 || rrsParity > parity) throw new DriveSetError(`REDUCED_REDUNDANCY parity ${rrsParity} must be from 1 to the STANDARD parity ${parity}`);

  const log = opts.log;
  const drives: SetDrive[] = [];
  const adopted: number[] = [];
  for (let i = 0; i < n; i++) {
    const look = looks[i]!;
    const path = paths[i]!;
    const id = ref.drives[i]!;
    const formatOf = (healing: boolean): DriveFormat => ({ ...ref, drive: id, index: i, ...(healing && { healing: true }) });
    if (look.kind === 'formatted') {
      drives.push(new SetDrive(i, path, id, look.format.healing ? 'healing' : 'online'));
    } else if (created && (look.kind === 'empty' || look.kind === 'missing')) {
      // A new set: missing directories are created, as a one-directory server creates its own.
      await mkdir(path, { recursive: true });
      await writeFormat(path, formatOf(false));
      drives.push(new SetDrive(i, path, id, 'online'));
    } else if (look.kind === 'empty') {
      await writeFormat(path, formatOf(true));
      adopted.push(i);
      drives.push(new SetDrive(i, path, id, 'healing'));
      log?.warn({ drive: path, index: i, id }, 'drive adopted: an empty directory in a known slot of the set; its shards will be rebuilt');
      if (look.parentDev === look.dev)
        log?.warn(
          { drive: path },
          'the adopted drive is on the same file system as its parent directory: if a disk should be mounted there, stop the server and mount it',
        );
    } else {
      const d = new SetDrive(i, path, id, 'offline');
      d.reason = look.kind === 'missing' || look.kind === 'unreadable' ? look.error : look.kind;
      drives.push(d);
      log?.error({ drive: path, index: i, error: d.reason }, 'drive offline at start');
    }
  }
  const set = new RunningSet(ref.set, drives, parity, rrsParity, created, adopted, opts, { parity: ref.parity, rrsParity: ref.rrsParity });
  if (set.available() < set.writeQuorum) {
    const off = drives.filter((d) => d.state === 'offline').map((d) => `${d.path} (${d.reason})`);
    set.close();
    throw new DriveSetError(
      `only ${set.available()} of ${n} drives are available, and EC ${n - parity}+${parity} needs at least ${set.writeQuorum} (write quorum) to start; offline: ${off.join(', ')}`,
    );
  }
  if (drives.some((d) => d.state === 'offline')) set.startProbing();
  return set;
}

/**
 * The drives that share a file system with another drive (the same device number), in groups of
 * two or more, in --data order; drives that cannot be looked at are left out. Several drives on
 * one disk survive shard damage, but not that disk's loss, and the small writes' metadata copies
 * all go to it (docs/drives.md, "Giving the drives").
 */
export async function drivesSharingDevice(paths: readonly string[]): Promise<string[][]> {
  const devs = await Promise.all(
    paths.map((p) =>
      stat(p).then(
        (st) => Number(st.dev),
        () => undefined,
      ),
    ),
  );
  const groups = new Map<number, string[]>();
  devs.forEach((dev, i) => {
    if (dev === undefined) return;
    groups.set(dev, [...(groups.get(dev) ?? []), paths[i]!]);
  });
  return [...groups.values()].filter((g) => g.length > 1);
}

/** The same directory given twice (same device and inode: a bind mount, a symlink) or the same drive id twice (a copied drive). */
function refuseDuplicates(paths: readonly string[], looks: readonly DriveLook[]): void {
  const byInode = new Map<string, number>();
  const byId = new Map<string, number>();
  looks.forEach((l, i) => {
    if ('ino' in l && l.ino !== undefined) {
      const key = `${l.dev}:${l.ino}`;
      const j = byInode.get(key);
      if (j !== undefined)
        throw new DriveSetError(`the drives ${paths[j]} and ${paths[i]} are the same directory (same device and inode): give each drive once`);
      byInode.set(key, i);
    }
    if (l.kind === 'formatted') {
      const j = byId.get(l.format.drive);
      if (j !== undefined)
        throw new DriveSetError(
          `the drives ${paths[j]} and ${paths[i]} carry the same drive id ${l.format.drive} (one is a copy of the other): give each drive once, and an empty directory for a new one`,
        );
      byId.set(l.format.drive, i);
    }
  });
}

/**
 * The set the formatted drives agree on, checked: the set most drives belong to (a tie refuses),
 * every formatted drive of it at its own position, every drive list the same, as many drives as
 * --data names. Any drive of another set is refused by path.
 */
function referenceFormat(paths: readonly string[], formatted: ReadonlyArray<{ i: number; f: DriveFormat }>): DriveFormat {
  const bySet = new Map<string, number[]>();
  for (const { i, f } of formatted) bySet.set(f.set, [...(bySet.get(f.set) ?? []), i]);
  const ranked = [...bySet.entries()].sort((a, b) => b[1].length - a[1].length);
  const [setId, members] = ranked[0]!;
  if (ranked.length > 1 && ranked[1]![1].length === members.length) {
    throw new DriveSetError(
      `the drives belong to different sets in equal numbers: ${ranked.map(([s, m]) => `${m.map((i) => paths[i]).join(', ')} to set ${s}`).join('; ')}; give the drives of one set`,
    );
  }
  const problems: string[] = [];
  for (const [other, idx] of ranked.slice(1)) {
    for (const i of idx) problems.push(`drive ${paths[i]} belongs to another set (${other}), not to this server's set ${setId}`);
  }
  const ref = formatted.find((x) => x.f.set === setId)!.f;
  const n = paths.length;
  if (ref.drives.length !== n) {
    throw new DriveSetError(`the set ${setId} has ${ref.drives.length} drives but --data names ${n}: give every drive of the set, in its order`);
  }
  for (const { i, f } of formatted) {
    if (f.set !== setId) continue;
    if (f.drives.join() !== ref.drives.join()) {
      problems.push(`drive ${paths[i]} lists other drives for set ${setId} than the other drives do (its format file is inconsistent)`);
      continue;
    }
    if (f.index !== i) {
      const now = paths[f.index];
      problems.push(`drive ${paths[i]} is drive ${f.index + 1} of the set but is given as drive ${i + 1} (--data gives ${now} as drive ${f.index + 1})`);
    }
  }
  if (problems.length > 0) {
    const order = formatted.some(({ i, f }) => f.set === setId && f.index !== i) ? ': the drives were given in another order' : '';
    throw new DriveSetError(`${problems.join('; ')}${order}. Give the set's drives in the order they were first given; do not mix in drives of other servers.`);
  }
  return ref;
}

class RunningSet implements OpenedDriveSet {
  readonly readQuorum: number;
  readonly writeQuorum: number;
  private readonly listeners = new Set<(drive: Drive, before: DriveState) => void>();
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private board: DriveStateBoard | undefined;
  /** By drive id: `at` of the latest record applied or written here (older ones are not applied). */
  private readonly seen = new Map<string, number>();
  private syncing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly drives: readonly SetDrive[],
    readonly parity: number,
    readonly rrsParity: number,
    readonly created: boolean,
    readonly adopted: readonly number[],
    private readonly opts: DriveSetOptions,
    /** The parities the format files record (the set's own; the flags may override them for this run). */
    private readonly stored: { parity: number; rrsParity: number },
  ) {
    this.readQuorum = drives.length - parity;
    this.writeQuorum = writeQuorum(this.readQuorum, parity);
  }

  parityFor(storageClass?: string): number {
    return storageClass === 'REDUCED_REDUNDANCY' ? this.rrsParity : this.parity;
  }

  available(): number {
    return this.drives.filter((d) => d.state !== 'offline').length;
  }

  notReady(): string | undefined {
    const online = this.drives.filter((d) => d.state === 'online');
    if (online.length >= this.readQuorum) return undefined;
    const off = this.drives.filter((d) => d.state !== 'online').map((d) => `${d.path} (${d.state})`);
    return `only ${online.length} of ${this.drives.length} drives are online, reads need ${this.readQuorum}: ${off.join(', ')}`;
  }

  onChange(listener: (drive: Drive, before: DriveState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  failed(index: number, err: unknown): void {
    const drive = this.drives[index];
    if (!drive || drive.state === 'offline') return;
    const code = (err as NodeJS.ErrnoException | null)?.code ?? '';
    const why = err instanceof Error ? err.message : String(err);
    if (DRIVE_ERRORS.has(code)) {
      this.takeOffline(drive, why);
      return;
    }
    // ENOENT is one missing file, unless the drive's root (or its format file) went with it.
    if (code === 'ENOENT') {
      void stat(join(drive.path, FORMAT_FILE)).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => {
          if (drive.state !== 'offline') this.takeOffline(drive, `${why} (and ${FORMAT_FILE} is gone: ${e.code ?? e.message})`);
        },
      );
    }
  }

  async healed(index: number): Promise<void> {
    const drive = this.drives[index];
    if (!drive || drive.state !== 'healing') return;
    await writeFormat(drive.path, this.formatOf(drive, false));
    this.setState(drive, 'online');
    this.opts.log?.info({ drive: drive.path, index }, 'drive healed: online');
  }

  probe(): Promise<void> {
    this.probing ??= this.probeAll().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  async share(board: DriveStateBoard, publish: boolean): Promise<void> {
    this.board = board;
    if (publish) {
      // Newer than what an earlier run recorded, even within the same millisecond (or after the
      // clock went back): the board keeps a record only over an older one.
      const earlier = await board.read().catch(() => [] as readonly DriveStateRecord[]);
      for (const r of earlier) if (r.at > (this.seen.get(r.id) ?? -1)) this.seen.set(r.id, r.at);
      await Promise.all(this.drives.map((d) => this.record(d)));
    } else await this.sync();
    // Other processes' changes arrive through the board: the timer runs for good.
    this.startProbing();
  }

  sync(): Promise<void> {
    this.syncing ??= this.syncAll().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncAll(): Promise<void> {
    const board = this.board;
    if (!board) return;
    let records: readonly DriveStateRecord[];
    try {
      records = await board.read();
    } catch (err) {
      this.opts.log?.warn({ err }, 'drive states of the other processes could not be read');
      return;
    }
    for (const r of records) {
      const drive = this.drives.find((d) => d.id === r.id);
      if (!drive || r.at <= (this.seen.get(r.id) ?? -1)) continue;
      this.seen.set(r.id, r.at);
      if (r.state === drive.state) continue;
      if (r.state === 'offline') {
        drive.reason = `${r.reason || 'failed'} (seen by another process of the server)`;
        this.setState(drive, 'offline', false);
        this.opts.log?.warn({ drive: drive.path, index: drive.index, error: r.reason }, 'drive offline (found by another process): probing it');
        continue;
      }
      // Back online, adopted, or healed by another process: this one may use it too once it holds its lock.
      try {
        this.opts.lockDrive?.(drive.path);
      } catch (err) {
        drive.reason = err instanceof Error ? err.message : String(err);
        continue;
      }
      drive.reason = '';
      this.setState(drive, r.state, false);
      this.opts.log?.info({ drive: drive.path, index: drive.index, state: r.state }, 'drive state changed by another process');
    }
  }

  /** Records `drive`'s current state on the board (nothing without one); a failure is logged, never thrown. */
  private async record(drive: SetDrive): Promise<void> {
    const board = this.board;
    if (!board) return;
    const at = Math.max(Date.now(), (this.seen.get(drive.id) ?? 0) + 1);
    this.seen.set(drive.id, at);
    await board.write({ id: drive.id, state: drive.state, reason: drive.reason, at }).catch((err: unknown) => {
      this.opts.log?.warn({ err, drive: drive.path }, 'a drive state could not be recorded for the other processes');
    });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  startProbing(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sync().then(() => this.probe()), this.opts.probeIntervalMs ?? PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  private takeOffline(drive: SetDrive, why: string): void {
    drive.reason = why;
    this.setState(drive, 'offline');
    this.opts.log?.error({ drive: drive.path, index: drive.index, error: why }, 'drive offline: probing it until it answers again');
    this.startProbing();
  }

  /** `publish`: a change found here (recorded for the other processes); false: one applied from the board. */
  private setState(drive: SetDrive, state: DriveState, publish = true): void {
    const before = drive.state;
    if (before === state) return;
    drive.state = state;
    if (publish) void this.record(drive);
    if (state === 'offline') this.startProbing();
    for (const l of this.listeners) {
      try {
        l(drive, before);
      } catch {
        // a listener's failure is not the drive's
      }
    }
  }

  private formatOf(drive: SetDrive, healing: boolean): DriveFormat {
    return {
      format: 'strata-drive',
      version: FORMAT_VERSION,
      set: this.id,
      drive: drive.id,
      index: drive.index,
      drives: this.drives.map((d) => d.id),
      ...this.stored,
      ...(healing && { healing: true }),
    };
  }

  private async probeAll(): Promise<void> {
    for (const drive of this.drives) {
      if (drive.state !== 'offline') continue;
      const outcome = await this.probeOne(drive).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
      if ('state' in outcome) {
        drive.reason = '';
        this.setState(drive, outcome.state);
        this.opts.log?.info(
          { drive: drive.path, index: drive.index, state: outcome.state },
          outcome.state === 'healing' ? 'drive back, empty: adopted, healing' : 'drive back online',
        );
      } else if (outcome.error !== drive.reason) {
        drive.reason = outcome.error;
        this.opts.log?.warn({ drive: drive.path, index: drive.index, error: outcome.error }, 'drive still offline');
      }
    }
    if (!this.board && this.drives.every((d) => d.state !== 'offline')) this.close();
  }

  /** One probe: the format file must still name this drive (or the drive came back empty: adopted); then a small file written, synced and read back. */
  private async probeOne(drive: SetDrive): Promise<{ state: DriveState } | { error: string }> {
    const look = await lookAtDrive(drive.path);
    let state: DriveState = 'online';
    if (look.kind === 'formatted') {
      const f = look.format;
      if (f.set !== this.id || f.drive !== drive.id) return { error: `another drive is there now (set ${f.set}, drive ${f.drive}): not taken` };
      if (f.healing) state = 'healing';
    } else if (look.kind === 'empty') {
      await writeFormat(drive.path, this.formatOf(drive, true));
      state = 'healing';
    } else if (look.kind === 'not-empty') {
      return { error: `not empty and without ${FORMAT_FILE}: not taken` };
    } else {
      return { error: look.error };
    }
    this.opts.lockDrive?.(drive.path);
    const tmp = join(drive.path, 'tmp');
    await mkdir(tmp, { recursive: true });
    const file = join(tmp, `.probe-${process.pid}-${randomBytes(6).toString('hex')}`);
    const content = randomBytes(64);
    const fh = await open(file, 'w');
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const back = await readFile(file);
    await unlink(file);
    if (!back.equals(content)) return { error: 'a probe file read back different bytes' };
    return { state };
  }
}

/** The format file of a drive, for tools and tests (undefined: none or unreadable). */
export async function readDriveFormat(path: string): Promise<DriveFormat | undefined> {
  try {
    const f = parseFormat(await readFile(join(path, FORMAT_FILE), 'utf8'));
    return typeof f === 'string' ? undefined : f;
  } catch {
    return undefined;
  }
}
