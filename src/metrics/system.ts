// Facts about the machine and the build that /metrics and the admin API report: the data
// directory's file system (statfs) and the build (version, Node version, git commit when known).
import { readFileSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DiskFigures {
  path: string;
  totalBytes: number;
  /** Bytes the server may still write (statfs' blocks available to unprivileged users). */
  freeBytes: number;
  /** Bytes in use on the file system (by anything, not only Strata). */
  usedBytes: number;
}

/** The file system holding `path`. */
export async function diskFigures(path: string): Promise<DiskFigures> {
  const s = await statfs(path);
  const totalBytes = s.blocks * s.bsize;
  return { path: resolve(path), totalBytes, freeBytes: s.bavail * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize };
}

export interface BuildInfo {
  version: string;
  nodeVersion: string;
  commit: string;
}

let build: BuildInfo | undefined;

/** The build's facts, read once: package.json's version, the git commit (STRATA_COMMIT, else the checkout's HEAD) or 'unknown'. */
export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  if (build) return build;
  const root = packageRoot();
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    // not installed from a package: keep 'unknown'
  }
  build = { version, nodeVersion: process.version, commit: env.STRATA_COMMIT || gitCommit(root) || 'unknown' };
  return build;
}

/** The directory holding package.json (this file is dist/src/metrics/system.js or src/metrics/system.ts). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      statSync(join(dir, 'package.json'));
      return dir;
    } catch {
      dir = dirname(dir);
    }
  }
  return process.cwd();
}

/** HEAD's commit of a git checkout at `root` (a worktree's `.git` file followed), or undefined. */
function gitCommit(root: string): string | undefined {
  try {
    let gitDir = join(root, '.git');
    if (statSync(gitDir).isFile())
      gitDir = resolve(
        root,
        readFileSync(gitDir, 'utf8')
          .replace(/^gitdir:\s*/, '')
          .trim(),
      );
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
    if (ref === undefined) return undefined;
    // A worktree keeps its refs in the common directory.
    let common = gitDir;
    try {
      common = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
    } catch {
      // a plain checkout: refs are here
    }
    for (const dir of [gitDir, common]) {
      try {
        return readFileSync(join(dir, ref), 'utf8').trim();
      } catch {
        // try the next place
      }
    }
    const packed = readFileSync(join(common, 'packed-refs'), 'utf8');
    return packed
      .split('\n')
      .find((l) => l.endsWith(` ${ref}`))
      ?.slice(0, 40);
  } catch {
    return undefined;
  }
}
