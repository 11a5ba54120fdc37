// The format file of a drive of an erasure set, `<drive>/strata-format.json`: which set the drive
// belongs to, its own id, its position and the ids of every drive in order (docs/drives.md,
// docs/on-disk-format.md). Written once when the set is created (or when an empty drive is adopted
// into a slot), synced; read at every start to recognise swapped, foreign and duplicated drives.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const FORMAT_FILE = 'strata-format.json';
export const FORMAT_VERSION = 1;

export interface DriveFormat {
  /** Names the file's kind (a stray JSON file with another shape is not taken for one). */
  format: 'strata-drive';
  version: number;
  /** The set's id: the same on every drive of the set. */
  set: string;
  /** This drive's id (the one at `drives[index]`). */
  drive: string;
  index: number;
  /** Every drive's id, in set order (= --data order). */
  drives: string[];
  /** The parities the set was created with: used when --parity / --rrs-parity are not given. */
  parity: number;
  rrsParity: number;
  /** An adopted drive whose shards are still being rebuilt: it stays `healing` across restarts until healed. */
  healing?: boolean;
}

/** What a drive directory looks like at start. */
export type DriveLook =
  | { kind: 'formatted'; format: DriveFormat; dev: number; ino: number }
  /** No format file and nothing but ignorable entries: a fresh drive. */
  | { kind: 'empty'; dev: number; ino: number; parentDev?: number }
  /** The directory does not exist (an unmounted disk, a typo). */
  | { kind: 'missing'; error: string }
  /** No format file, but other content (never taken over: it might be someone's data). */
  | { kind: 'not-empty'; entries: string[]; dev: number; ino: number }
  /** The directory or its format file cannot be read, or the file is not a valid format. */
  | { kind: 'unreadable'; error: string; dev?: number; ino?: number };

/** Entries a fresh drive may hold: a file system's own, and the lock files taken before the set opens. */
const IGNORABLE = new Set(['lost+found', 'strata.lock', 'strata.workers.lock', 'tmp']);

export const newId = (): string => randomUUID();

const errText = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(err);
};

/** Reads a drive directory: its format file, or whether it is empty. Never throws. */
export async function lookAtDrive(path: string): Promise<DriveLook> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
    if (!st.isDirectory()) return { kind: 'unreadable', error: 'not a directory' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', error: errText(err) };
    return { kind: 'unreadable', error: errText(err) };
  }
  const ids = { dev: Number(st.dev), ino: Number(st.ino) };
  let text: string;
  try {
    text = await readFile(join(path, FORMAT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { kind: 'unreadable', error: errText(err), ...ids };
    let entries: string[];
    try {
      entries = (await readdir(path)).filter((e) => !IGNORABLE.has(e)).sort();
    } catch (err2) {
      return { kind: 'unreadable', error: errText(err2), ...ids };
    }
    if (entries.length > 0) return { kind: 'not-empty', entries, ...ids };
    const parentDev = await stat(join(path, '..')).then(
      (p) => Number(p.dev),
      () => undefined,
    );
    return { kind: 'empty', ...ids, ...(parentDev !== undefined && { parentDev }) };
  }
  const format = parseFormat(text);
  if (typeof format === 'string') return { kind: 'unreadable', error: `${FORMAT_FILE}: ${format}`, ...ids };
  return { kind: 'formatted', format, ...ids };
}

/** The format from its text, or why it is not one. */
export function parseFormat(text: string): DriveFormat | string {
  let v: Partial<DriveFormat>;
  try {
    v = JSON.parse(text) as Partial<DriveFormat>;
  } catch (err) {
    return `not JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (v === null || typeof v !== 'object' || v.format !== 'strata-drive') return 'not a Strata drive format';
  if (v.version !== FORMAT_VERSION) return `format version ${String(v.version)}, this server reads version ${FORMAT_VERSION}`;
  const ok =
    typeof v.set === 'string' &&
    typeof v.drive === 'string' &&
    Array.isArray(v.drives) &&
    v.drives.every((d) => typeof d === 'string') &&
    Number.isInteger(v.index) &&
    v.drives[v.index as number] === v.drive &&
    Number.isInteger(v.parity) &&
    Number.isInteger(v.rrsParity);
  if (!ok) return 'incomplete or inconsistent';
  return v as DriveFormat;
}

/**
 * Writes `format` as the drive's format file, durably: a temp file, fsync, rename over, fsync of the
 * directory (so a crash leaves the old file or the new one, never a torn one). Creates the
 * directory and its tmp/ when missing.
 */
export async function writeFormat(path: string, format: DriveFormat): Promise<void> {
  await mkdir(join(path, 'tmp'), { recursive: true });
  const tmp = join(path, 'tmp', `${FORMAT_FILE}.${process.pid}.${newId()}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(format, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(path, FORMAT_FILE));
  await syncDir(path);
}

export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Before the drives are locked (a lock needs its directory): one drive is created when missing, as
 * a one-directory server always did; several only when none has a format file yet (a new set). A
 * drive of an existing set that is missing stays missing: openDriveSet takes it offline.
 */
export function createDriveDirs(paths: readonly string[]): void {
  if (paths.length === 1) mkdirSync(paths[0]!, { recursive: true });
  else if (!paths.some((p) => existsSync(join(p, FORMAT_FILE)))) {
    for (const p of paths) {
      try {
        mkdirSync(p, { recursive: true });
      } catch {
        // unusable: openDriveSet says so (offline, or the start refused below write quorum)
      }
    }
  }
}
