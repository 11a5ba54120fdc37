// Test helpers of the erasure store: a DriveSet over temporary directories (no format files: that
// is drives.ts's business) that records what is reported to failed(), and a recording sink.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DegradedReason, DegradedSink, DriveSet, DriveState } from './types.js';

export interface TestDrive {
  index: number;
  path: string;
  id: string;
  state: DriveState;
}

export interface TestDriveSet extends DriveSet {
  readonly drives: TestDrive[];
  /** The directory holding the drives (drive i is <root>/d<i>). */
  readonly root: string;
  /** Every failed() call, in order. */
  readonly failures: Array<{ index: number; err: unknown }>;
  dispose(): Promise<void>;
}

/** `n` drives; STANDARD objects get `parity` parity shards, REDUCED_REDUNDANCY ones `rrs`. */
export async function testDriveSet(n: number, parity: number, rrs = parity): Promise<TestDriveSet> {
  const root = await mkdtemp(join(tmpdir(), 'strata-ec-'));
  const drives: TestDrive[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(root, `d${i}`);
    await mkdir(path);
    drives.push({ index: i, path, id: `drive-${i}`, state: 'online' });
  }
  const failures: Array<{ index: number; err: unknown }> = [];
  return {
    id: 'test-set',
    root,
    drives,
    failures,
    parityFor: (storageClass) => (storageClass === 'REDUCED_REDUNDANCY' ? rrs : parity),
    failed: (index, err) => void failures.push({ index, err }),
    healed: async () => undefined,
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

export interface SinkCall {
  pieceId: string;
  drives: number[];
  reason: DegradedReason;
}

export class RecordingSink implements DegradedSink {
  readonly calls: SinkCall[] = [];
  degraded(pieceId: string, drives: readonly number[], reason: DegradedReason): void {
    this.calls.push({ pieceId, drives: [...drives], reason });
  }
}

/** Files in every drive's tmp/ and shard files in every drive's shards/<xx>/. */
export async function countShardFiles(set: TestDriveSet): Promise<{ temp: number; committed: number }> {
  let temp = 0;
  let committed = 0;
  for (const d of set.drives) {
    temp += (await readdir(join(d.path, 'tmp')).catch(() => [])).length;
    for (const prefix of await readdir(join(d.path, 'shards')).catch(() => [])) committed += (await readdir(join(d.path, 'shards', prefix))).length;
  }
  return { temp, committed };
}

/** `size` pseudo-random bytes (a linear congruential generator from `seed`). */
export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export async function readAll(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out);
}

/** `buf` as a source of `chunk`-byte chunks. */
export async function* chunked(buf: Buffer, chunk = 65_536): AsyncGenerator<Buffer> {
  for (let off = 0; off < buf.length; off += chunk) yield buf.subarray(off, off + chunk);
}
