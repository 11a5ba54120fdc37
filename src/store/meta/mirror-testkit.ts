// What the tests of the metadata copies share (mirror.test.ts, mirror-rounds.test.ts): drives in a
// temporary directory (removed after the file's tests), a store over them, writes, and a copy
// opened alone as its drive holds it.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { objectRecord } from '../contract.js';
import { type MirrorOptions, openMirroredMeta } from './mirror.js';
import type { SqliteMetaStore } from './sqlite.js';

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

export async function drives(n: number): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'strata-mirror-'));
  roots.push(root);
  return Array.from({ length: n }, (_, i) => join(root, `d${i}`));
}

export const BUCKET = { name: 'b', region: 'us-east-1', createdAt: 1_700_000_000_000, versioning: '' as const, owner: 'root', objectLock: false };

export function listing(s: SqliteMetaStore): string {
  return JSON.stringify(s.scanListing('b', '', '', 1_000_000));
}

/** What a copy directory holds while the server runs, copied elsewhere (the drive as a crash leaves it). */
export function snapshot(dir: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const f of ['meta.db', 'meta.db-wal', 'meta-copy.json']) if (existsSync(join(dir, f))) copyFileSync(join(dir, f), join(to, f));
  return to;
}

export const quiet = { info: () => undefined, warn: () => undefined };
export const open = (dirs: string[], over: Partial<MirrorOptions> = {}): Promise<SqliteMetaStore> =>
  openMirroredMeta(dirs, { start: true, log: quiet, ...over });

export async function putMany(s: SqliteMetaStore, prefix: string, n: number, acked: string[]): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, async (_, j) => {
        const key = `${prefix}${String(i + j).padStart(5, '0')}`;
        await s.putObject(objectRecord('b', key, { meta: { contentType: 'text/plain', user: { k: key } } }));
        acked.push(key);
      }),
    );
  }
}

/** Opens the copies found in `dirs` (some gone) and checks every acknowledged key is there. */
export async function reopenHas(dirs: string[], acked: string[], expected?: string): Promise<SqliteMetaStore> {
  const s = await open(dirs);
  const keys = new Set(s.scanListing('b', '', '', 1_000_000).map((o) => o.key));
  const missing = acked.filter((k) => !keys.has(k));
  assert.deepEqual(missing, [], 'every acknowledged write is in the chosen copy');
  if (expected !== undefined) assert.equal(listing(s), expected);
  return s;
}

/**
 * The drive of copy `slot` alone survives, as it is while the server runs (the other drives gone):
 * it opens with every acknowledged write (and the listing `expected`).
 */
export async function onlyCopy(dirs: string[], slot: number, acked: string[], expected?: string): Promise<void> {
  const lost = await drives(dirs.length);
  const s = await reopenHas(
    lost.map((d, i) => (i === slot ? snapshot(dirs[slot]!, d) : d)),
    acked,
    expected,
  );
  await s.close();
}
