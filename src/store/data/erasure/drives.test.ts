// openDriveSet: format files on the first start, the checks of later starts (swapped, foreign,
// duplicated, copied, missing drives), adoption of an empty drive, failed() and the probe.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FORMAT_FILE } from './drive-format.js';
import { type DriveLog, DriveSetError, drivesSharingDevice, type OpenedDriveSet, openDriveSet, readDriveFormat } from './drives.js';
import { writeQuorum } from './store.js';
import type { Drive, DriveState } from './types.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function dirs(n: number): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'strata-drives-'));
  roots.push(root);
  return Array.from({ length: n }, (_, i) => join(root, `disk${i + 1}`));
}

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}
function captureLog(): { lines: Line[]; log: DriveLog } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

async function refusal(p: Promise<unknown>, match: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DriveSetError, String(e));
    assert.match(e.message, match);
    return true;
  });
}

const states = (set: OpenedDriveSet): DriveState[] => set.drives.map((d) => d.state);

describe('openDriveSet: the first start', () => {
  it('formats every drive (missing directories created): one set id, distinct drive ids in order, parities, synced JSON', async () => {
    const paths = await dirs(6);
    for (const p of paths.slice(0, 5)) await mkdir(p, { recursive: true });
    const set = await openDriveSet(paths);
    assert.equal(set.created, true);
    assert.deepEqual(set.adopted, []);
    assert.deepEqual(states(set), Array(6).fill('online'));
    assert.equal(set.parity, 3);
    assert.equal(set.rrsParity, 2);
    assert.equal(set.readQuorum, 3);
    assert.equal(set.writeQuorum, 4);
    const formats = await Promise.all(paths.map((p) => readDriveFormat(p)));
    const ids = formats.map((f) => f!.drive);
    assert.equal(new Set(ids).size, 6);
    formats.forEach((f, i) => {
      assert.equal(f!.set, set.id);
      assert.equal(f!.index, i);
      assert.deepEqual(f!.drives, ids);
      assert.equal(f!.parity, 3);
      assert.equal(f!.rrsParity, 2);
      assert.equal(f!.version, 1);
      assert.equal(set.drives[i]!.id, ids[i]);
      assert.equal(set.drives[i]!.path, paths[i]);
    });
    set.close();
  });

  it('parity defaults by width, --parity and --rrs-parity override; parityFor maps the storage class', async () => {
    for (const [n, m] of [
      [2, 1],
      [3, 2],
      [4, 2],
      [8, 4],
    ]) {
      const set = await openDriveSet(await dirs(n!));
      assert.equal(set.parity, m, `${n} drives`);
      set.close();
    }
    const set = await openDriveSet(await dirs(6), { parity: 2, rrsParity: 1 });
    assert.equal(set.parityFor(), 2);
    assert.equal(set.parityFor('STANDARD'), 2);
    assert.equal(set.parityFor('REDUCED_REDUNDANCY'), 1);
    assert.equal(set.parityFor('STANDARD_IA'), 2);
    assert.equal(set.writeQuorum, 4);
    set.close();
    assert.equal(writeQuorum(2, 2), 3);
    assert.equal(writeQuorum(1, 1), 2);
    assert.equal(writeQuorum(4, 2), 4);
  });

  it('refuses a directory that is not empty and has no format file (a one-directory data directory named)', async () => {
    const paths = await dirs(4);
    await mkdir(paths[2]!, { recursive: true });
    await writeFile(join(paths[2]!, 'notes.txt'), 'mine');
    await refusal(openDriveSet(paths), /disk3 \(holds notes\.txt\): not empty/);
    await writeFile(join(paths[2]!, 'meta.db'), '');
    await refusal(openDriveSet(paths), /one-directory Strata data directory/);
    // Nothing was formatted by the refused start.
    assert.equal(await readDriveFormat(paths[0]!), undefined);
  });

  it('refuses the same directory twice (a symlink to it)', async () => {
    const paths = await dirs(4);
    await mkdir(paths[0]!, { recursive: true });
    await symlink(paths[0]!, paths[3]!);
    await refusal(openDriveSet(paths), /disk1 and .*disk4 are the same directory/);
  });

  it('drivesSharingDevice: drives on one file system grouped in --data order; a drive on another (tmpfs) and a missing one left out', async () => {
    const paths = await dirs(3);
    for (const p of paths) await mkdir(p, { recursive: true });
    const shm = await mkdtemp('/dev/shm/strata-drives-');
    roots.push(shm);
    const missing = join(paths[0]!, '..', 'gone');
    assert.deepEqual(await drivesSharingDevice([paths[0]!, shm, paths[1]!, missing, paths[2]!]), [[paths[0], paths[1], paths[2]]]);
    assert.deepEqual(await drivesSharingDevice([paths[0]!, shm]), [], 'each on its own file system: nothing to say');
  });
});

describe('openDriveSet: later starts', () => {
  it('the same drives in the same order: the same set, nothing adopted; the parity of the format file stays', async () => {
    const paths = await dirs(6);
    (await openDriveSet(paths, { parity: 2 })).close();
    const again = await openDriveSet(paths);
    assert.equal(again.created, false);
    assert.equal(again.parity, 2, 'the parity the set was created with');
    assert.deepEqual(states(again), Array(6).fill('online'));
    again.close();
    // --parity overrides it for the run; the format files keep the set's.
    const over = await openDriveSet(paths, { parity: 3 });
    assert.equal(over.parity, 3);
    assert.equal(over.rrsParity, 2);
    over.close();
    assert.equal((await readDriveFormat(paths[0]!))!.parity, 2);
  });

  it('refuses drives given in another order, naming both paths and their positions', async () => {
    const paths = await dirs(6);
    (await openDriveSet(paths)).close();
    const swapped = [paths[0]!, paths[2]!, paths[1]!, ...paths.slice(3)];
    await refusal(
      openDriveSet(swapped),
      /disk3 is drive 3 of the set but is given as drive 2.*disk2 is drive 2 of the set but is given as drive 3.*another order/,
    );
  });

  it('refuses a drive of another set (a foreign drive), naming it', async () => {
    const a = await dirs(4);
    const b = await dirs(4);
    (await openDriveSet(a)).close();
    const other = await openDriveSet(b);
    other.close();
    await refusal(openDriveSet([a[0]!, a[1]!, b[2]!, a[3]!]), new RegExp(`drive ${b[2]!.replace(/[/\\]/g, '.')} belongs to another set \\(${other.id}\\)`));
    // Two drives of each set: no majority, refused as well.
    await refusal(openDriveSet([a[0]!, a[1]!, b[2]!, b[3]!]), /different sets in equal numbers/);
  });

  it('refuses a copied drive (the same drive id twice) and a different number of drives', async () => {
    const paths = await dirs(4);
    (await openDriveSet(paths)).close();
    await rm(paths[1]!, { recursive: true });
    await cp(paths[0]!, paths[1]!, { recursive: true });
    await refusal(openDriveSet(paths), /carry the same drive id/);
    const four = await dirs(4);
    (await openDriveSet(four)).close();
    const five = [...four, `${four[3]!}-extra`];
    await refusal(openDriveSet(five), /has 4 drives but --data names 5/);
  });

  it('adopts an empty directory in a known slot: the slot id, state healing (kept across restarts) until healed()', async () => {
    const paths = await dirs(6);
    const first = await openDriveSet(paths);
    const id4 = first.drives[4]!.id;
    first.close();
    await rm(paths[4]!, { recursive: true });
    await mkdir(paths[4]!);
    const { lines, log } = captureLog();
    const set = await openDriveSet(paths, { log });
    assert.deepEqual(set.adopted, [4]);
    assert.equal(set.drives[4]!.state, 'healing');
    assert.equal(set.drives[4]!.id, id4);
    assert.equal(set.available(), 6);
    const f = await readDriveFormat(paths[4]!);
    assert.equal(f!.drive, id4);
    assert.equal(f!.index, 4);
    assert.equal(f!.healing, true);
    assert.ok(lines.some((l) => l.level === 'warn' && l.msg.startsWith('drive adopted') && l.obj.drive === paths[4]));
    set.close();
    const restarted = await openDriveSet(paths);
    assert.equal(restarted.drives[4]!.state, 'healing');
    assert.deepEqual(restarted.adopted, []);
    const seen: Array<[number, DriveState, DriveState]> = [];
    restarted.onChange((d, before) => seen.push([d.index, before, d.state]));
    await restarted.healed(4);
    assert.equal(restarted.drives[4]!.state, 'online');
    assert.deepEqual(seen, [[4, 'healing', 'online']]);
    assert.equal((await readDriveFormat(paths[4]!))!.healing, undefined);
    restarted.close();
  });

  it('starts with drives missing while the write quorum is there (offline, not created); refuses below it', async () => {
    const paths = await dirs(6); // EC 3+3: write quorum 4
    (await openDriveSet(paths)).close();
    await rm(paths[1]!, { recursive: true });
    await rm(paths[5]!, { recursive: true });
    const { lines, log } = captureLog();
    const set = await openDriveSet(paths, { log });
    assert.deepEqual(states(set), ['online', 'offline', 'online', 'online', 'online', 'offline']);
    assert.equal(set.available(), 4);
    assert.equal(lines.filter((l) => l.msg === 'drive offline at start').length, 2);
    assert.equal(await readDriveFormat(paths[1]!), undefined, 'a missing drive is not created');
    set.close();
    await rm(paths[2]!, { recursive: true });
    await refusal(openDriveSet(paths), /only 3 of 6 drives are available, and EC 3\+3 needs at least 4 \(write quorum\).*disk2.*disk3.*disk6/);
  });

  it('a format file that is not valid JSON: that drive is offline (not refused, not overwritten)', async () => {
    const paths = await dirs(4);
    (await openDriveSet(paths)).close();
    await writeFile(join(paths[3]!, FORMAT_FILE), '{"format": "strata-drive", trunc');
    const set = await openDriveSet(paths);
    assert.equal(set.drives[3]!.state, 'offline');
    set.close();
    assert.match(await readFile(join(paths[3]!, FORMAT_FILE), 'utf8'), /trunc/);
  });
});

describe('DriveSet at run time: failed() and the probe', () => {
  it('EIO takes a drive offline, logged once and told to listeners; the probe brings it back online', async () => {
    const paths = await dirs(4);
    const { lines, log } = captureLog();
    const set = await openDriveSet(paths, { log, probeIntervalMs: 3_600_000 });
    const seen: Array<[number, DriveState, DriveState]> = [];
    set.onChange((d: Drive, before) => seen.push([d.index, before, d.state]));
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    set.failed(2, eio);
    set.failed(2, eio);
    assert.equal(set.drives[2]!.state, 'offline');
    const offline = lines.filter((l) => l.msg.startsWith('drive offline'));
    assert.equal(offline.length, 1);
    assert.equal(offline[0]!.obj.drive, paths[2]);
    assert.match(String(offline[0]!.obj.error), /EIO/);
    await set.probe();
    assert.equal(set.drives[2]!.state, 'online');
    assert.deepEqual(seen, [
      [2, 'online', 'offline'],
      [2, 'offline', 'online'],
    ]);
    assert.ok(lines.some((l) => l.msg === 'drive back online' && l.obj.drive === paths[2]));
    set.close();
  });

  it('other errors leave the drive online; ENOENT takes it offline only when the drive root is gone', async () => {
    const paths = await dirs(4);
    const set = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
    set.failed(0, Object.assign(new Error('EINVAL'), { code: 'EINVAL' }));
    set.failed(0, new Error('checksum mismatch'));
    const changed = new Promise<Drive>((ok) => set.onChange((d) => ok(d)));
    set.failed(1, Object.assign(new Error('ENOENT: shard'), { code: 'ENOENT' }));
    await rm(paths[3]!, { recursive: true });
    set.failed(3, Object.assign(new Error('ENOENT: shard'), { code: 'ENOENT' }));
    const d = await changed;
    assert.equal(d.index, 3);
    assert.deepEqual(states(set), ['online', 'online', 'online', 'offline']);
    // Still gone: the probe leaves it offline; back empty: adopted (healing).
    await set.probe();
    assert.equal(set.drives[3]!.state, 'offline');
    await mkdir(paths[3]!);
    await set.probe();
    assert.equal(set.drives[3]!.state, 'healing');
    assert.equal((await readDriveFormat(paths[3]!))!.drive, set.drives[3]!.id);
    set.close();
  });

  it('a drive of another set put in an offline slot is not taken by the probe', async () => {
    const paths = await dirs(4);
    const foreign = await dirs(4);
    (await openDriveSet(foreign)).close();
    const set = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
    set.failed(1, Object.assign(new Error('EROFS'), { code: 'EROFS' }));
    await rm(paths[1]!, { recursive: true });
    await cp(foreign[1]!, paths[1]!, { recursive: true });
    await set.probe();
    assert.equal(set.drives[1]!.state, 'offline');
    set.close();
  });

  it('notReady(): undefined while read quorum drives are online; the reason (drives named) below it', async () => {
    const paths = await dirs(4); // EC 2+2: reads need 2
    const set = await openDriveSet(paths, { probeIntervalMs: 3_600_000 });
    const eio = Object.assign(new Error('EIO'), { code: 'EIO' });
    set.failed(0, eio);
    set.failed(1, eio);
    assert.equal(set.notReady(), undefined);
    set.failed(2, eio);
    assert.match(set.notReady()!, /only 1 of 4 drives are online, reads need 2: .*disk1 \(offline\), .*disk2 \(offline\), .*disk3 \(offline\)/);
    await set.probe();
    assert.equal(set.notReady(), undefined);
    set.close();
  });

  it('the timer probes offline drives by itself (unref: it keeps no process alive)', async () => {
    const paths = await dirs(4);
    const set = await openDriveSet(paths, { probeIntervalMs: 10 });
    const back = new Promise<DriveState>((ok) => set.onChange((d) => d.state !== 'offline' && ok(d.state)));
    set.failed(0, Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
    // The probe timer is unref'd: without this one the process would exit before it fires.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      assert.equal(await back, 'online');
    } finally {
      clearInterval(keepAlive);
    }
    set.close();
  });
});
