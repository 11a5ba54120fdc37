// Mounts and "power-cuts" the test file system of powercut_fs.py (a FUSE file system that keeps
// only what was fsynced): mountPowerCutFs() mounts it from its state file, powerCut() unmounts it,
// which throws away everything not synced, and reports what the cut discarded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/server.js';

/** Debian's python: python3-fusepy is installed for it (scripts/test.sh), not for another python3 on PATH. */
export const FS_PYTHON = '/usr/bin/python3';
export const FS_SCRIPT = join(REPO_ROOT, 'test', 'power-cut', 'powercut_fs.py');

/** Why the power-cut file system cannot run here, or undefined if it can. */
export function powerCutFsProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'the power-cut test mounts a FUSE file system and needs root';
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/fuse is missing or not usable (FUSE: install fuse3; in a container, pass --device /dev/fuse)';
  }
  if (!existsSync(FS_PYTHON)) return `${FS_PYTHON} not found`;
  const probe = spawnSync(FS_PYTHON, ['-c', 'import fusepy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${FS_PYTHON} cannot import fusepy (apt-get install fuse3 python3-fusepy): ${probe.stderr.trim()}`;
  return undefined;
}

/** What a power cut threw away (written by powercut_fs.py at unmount). */
export interface CutReport {
  /** Files whose live bytes differed from their bytes as of their last fsync. */
  unsyncedFiles: number;
  /** Directory entries (created, renamed, removed) not made durable by an fsync of their directory. */
  unsyncedEntries: number;
  fsync: number;
  fsyncdir: number;
}

export interface PowerCutFs {
  mountpoint: string;
  /** Unmounts: only the synced state survives (in the state file, for the next mount). */
  powerCut: () => Promise<CutReport>;
}

/** Mounts the file system at `mountpoint` from `state` (empty if the file does not exist yet). */
export async function mountPowerCutFs(state: string, mountpoint: string): Promise<PowerCutFs> {
  const child = spawn(FS_PYTHON, [FS_SCRIPT, state, mountpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`powercut_fs.py did not mount within 15 s: ${out}`)), 15_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout!.on('data', () => {
      if (out.includes('mounted\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => fail(new Error(`powercut_fs.py exited (code ${code}) before mounting: ${out}`)));
  });
  return { mountpoint, powerCut: () => unmount(child, exited, mountpoint, state, () => out) };
}

async function unmount(child: ChildProcess, exited: Promise<number | null>, mountpoint: string, state: string, out: () => string): Promise<CutReport> {
  // The server was SIGKILLed just before: its files may take a moment to close (EBUSY).
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = spawnSync('umount', [mountpoint], { encoding: 'utf8' });
    if (r.status === 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`umount ${mountpoint} failed: ${r.stderr.trim()}`);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`powercut_fs.py exited with code ${code} at unmount: ${out()}`);
  return JSON.parse(readFileSync(`${state}.json`, 'utf8')) as CutReport;
}

/** mkdir + fsync of the parent: the directory itself survives a power cut (docs/on-disk-format.md). */
export async function mkdirDurable(parent: string, name: string): Promise<string> {
  await mkdir(join(parent, name));
  const fh = await open(parent, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return join(parent, name);
}
