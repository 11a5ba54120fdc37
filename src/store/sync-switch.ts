// Test-only switch that turns off one of the syncs of the write protocol. It exists so that the
// power-cut test (test/power-cut/power-cut.test.ts) can prove it is able to fail: run once with
// each sync disabled, it must lose an acknowledged write. Production never sets it: it is honoured
// only when NODE_ENV=test as well, and then the server warns on stderr that acknowledged writes
// may be lost in a power cut.
//
//   STRATA_TEST_SKIP_SYNC=data    the fsync of a piece's temp file before its rename (dir.ts)
//   STRATA_TEST_SKIP_SYNC=dir     the fsync of the shard directory after the rename (dir.ts)
//   STRATA_TEST_SKIP_SYNC=shard   the fsync of objects/ after a shard directory is created (dir.ts)
//   STRATA_TEST_SKIP_SYNC=wal     the WAL fdatasync of the group commit (meta/wal-sync.ts)

export const SYNC_POINTS = ['data', 'dir', 'shard', 'wal'] as const;
export type SyncPoint = (typeof SYNC_POINTS)[number];

let warned = false;

/** True if the test switch turns `point` off (never unless NODE_ENV=test; read per call, no state). */
export function syncSkipped(point: SyncPoint, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.STRATA_TEST_SKIP_SYNC;
  if (!value) return false;
  if (env.NODE_ENV !== 'test') return false;
  const skipped = value.split(',').map((s) => s.trim());
  for (const s of skipped) {
    if (!(SYNC_POINTS as readonly string[]).includes(s))
      throw new Error(`STRATA_TEST_SKIP_SYNC: unknown sync point ${JSON.stringify(s)} (known: ${SYNC_POINTS.join(', ')})`);
  }
  if (!warned && env === process.env) {
    warned = true;
    process.stderr.write(`strata: TEST BUILD SWITCH: syncs turned off (${skipped.join(', ')}); acknowledged writes may be lost in a power cut\n`);
  }
  return skipped.includes(point);
}
