// What `GET /_strata/admin/v1/heal/status` and `strata admin heal status` show (docs/admin-api.md,
// "Heal status"): the drives and their states (a healing drive with its rebuild's progress), the
// heal queue (degraded pieces and the objects they belong to), what the heal job has healed, and
// the scrub's position and last full pass. Read from the metadata store (queue and job states,
// shared by every process) and the drive set, so any process of the server answers alike.
import { statfs } from 'node:fs/promises';
import type { ErasureMaintenance } from '../store/data/erasure/types.js';
import type { Store } from '../store/store.js';
import { HEAL_JOB, type HealTotals } from './heal.js';
import { loadJobState } from './job-state.js';
import { REBUILD_JOB, type RebuildState } from './rebuild.js';
import { SCRUB_JOB, type ScrubPass, type ScrubState } from './scrub.js';

/** Degraded pieces listed at most (the counts cover all of them). */
export const HEAL_STATUS_LIST = 100;

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

const passJson = (p: ScrubPass | undefined) =>
  p && { startedAt: iso(p.startedAt), endedAt: iso(p.endedAt), pieces: p.pieces, bytes: p.bytes, badPieces: p.bad };

/** Bytes an unprivileged writer may still use on the drive's file system; null when it cannot be read (an offline drive). */
const freeBytes = (path: string): Promise<number | null> =>
  statfs(path).then(
    (s) => Number(s.bavail) * Number(s.bsize),
    () => null,
  );

/** What the heal status shows of the metadata database's copies (store/meta/mirror-readmit.ts metaCopyStatus). */
export interface MetaCopies {
  epoch: number;
  copies: Array<{ path: string; state: string }>;
}

/**
 * The heal status as JSON (the admin API's answer). `scrubRate`: bytes per second, 0 when the
 * scrub is off; `metaCopies`: the metadata copies' state (several drives).
 */
export async function healStatus(
  store: Store,
  m: ErasureMaintenance,
  o: { scrubRate: number; metaCopies?: () => MetaCopies | undefined },
): Promise<Record<string, unknown>> {
  // The states every process recorded (several workers): whichever process answers says the same.
  await m.drives.sync?.();
  const [totals, rebuild, scrub] = await Promise.all([
    loadJobState<HealTotals>(store, HEAL_JOB, 1),
    loadJobState<RebuildState>(store, REBUILD_JOB, 1),
    loadJobState<ScrubState>(store, SCRUB_JOB, 1),
  ]);
  const counts = store.healQueue.counts();
  const listed = store.healQueue.degraded(HEAL_STATUS_LIST + 1);
  const free = await Promise.all(m.drives.drives.map((d) => freeBytes(d.path)));
  const drives = m.drives.drives.map((d) => {
    const r = rebuild?.drives[d.id];
    return {
      index: d.index,
      path: d.path,
      id: d.id,
      state: d.state,
      queuedShards: counts.byDrive[d.index] ?? 0,
      freeBytes: free[d.index] ?? null,
      ...(r && {
        rebuild: {
          phase: r.phase === 'count' ? 'counting' : 'healing',
          piecesDone: r.done,
          // Writes made during the rebuild may add pieces after the count.
          piecesTotal: Math.max(r.total, r.done),
          bytes: r.bytes,
          failed: r.failed,
          startedAt: iso(r.startedAt),
        },
      }),
    };
  });
  const copies = o.metaCopies?.();
  return {
    setId: m.drives.id,
    drives,
    ...(copies && { metadataCopies: copies }),
    queue: {
      shards: counts.shards,
      pieces: counts.pieces,
      oldest: iso(counts.oldest),
      degraded: listed.slice(0, HEAL_STATUS_LIST).map((p) => ({
        pieceId: p.pieceId,
        drives: p.drives,
        reason: p.reason,
        firstSeen: iso(p.firstSeen),
        attempts: p.attempts,
        nextTry: iso(p.nextTry),
        ...(p.object && { bucket: p.object.bucket, key: p.object.key, versionId: p.object.versionId }),
      })),
      truncated: listed.length > HEAL_STATUS_LIST,
    },
    healed: {
      bytes: totals?.bytes ?? 0,
      shards: totals?.shards ?? 0,
      pieces: totals?.pieces ?? 0,
      failures: totals?.failures ?? 0,
      lastHealAt: iso(totals?.lastHealAt),
    },
    scrub: {
      rateBytesPerSecond: o.scrubRate,
      position: scrub?.pass ? scrub.cursor : null,
      currentPass: passJson(scrub?.pass) ?? null,
      lastFullPass: passJson(scrub?.lastPass) ?? null,
      nextPassAt: iso(scrub?.nextPassAt),
    },
  };
}
