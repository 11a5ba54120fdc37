// The PostgreSQL HealQueueStore (../../heal-queue.ts), twin of sqlite-heal.ts: one row per (piece,
// drive) in heal_queue (migration 0005-heal). Writes are single statements in a READ COMMITTED
// transaction that also bumps the `heal` generation and notifies.
//
// The synchronous reads cannot wait for PostgreSQL, and the queue may be large (a drive replaced:
// one row per piece it held), so the snapshot (snapshot.ts) is bounded rather than a copy of the
// table:
//  - counts(): the totals and per-drive counts, computed by PostgreSQL at each load — exact;
//  - due(): the HEAD_ROWS entries with the earliest next try — exact for any limit up to HEAD_ROWS
//    (the heal job asks for 64); the pieces of the head are completed with all their entries, so
//    entriesOf() is exact for them, and for every piece while the queue fits in the head;
//  - degraded(): the first DEGRADED_PIECES pieces in piece id order with their object version —
//    exact for pages within them (the heal status asks for the first 101).
// A piece beyond the head has no entries in entriesOf() here (the drive rebuild then leaves a moot
// entry queued: the heal job finds the piece healthy and removes it). Each load reads at most
// HEAD_ROWS rows plus the head's pieces and DEGRADED_PIECES aggregates; the counts are aggregates
// over the table (an index-only scan in PostgreSQL), which is what bounds a queue's write rate here.
import type { DegradedPiece, HealEntry, HealQueueCounts, HealQueueStore, HealReason, HealReport } from '../../heal-queue.js';
import type { Migration, PgClient, PgDb } from './db.js';
import { type ChangeFeed, generationRowDdl, readGeneration, SnapshotStore } from './snapshot.js';

/** The strata_generations row (and notification payload) of the heal queue. */
export const HEAL = 'heal';
/** Entries with the earliest next try held in memory. */
export const HEAD_ROWS = 4096;
/** Pieces of the degraded listing's first page held in memory. */
export const DEGRADED_PIECES = 1000;

export const HEAL_MIGRATION: Migration = {
  id: '0005-heal',
  up: `
${generationRowDdl(HEAL)}
CREATE TABLE heal_queue (
  piece_id   text COLLATE "C" NOT NULL,
  drive      integer NOT NULL,
  reason     text COLLATE "C" NOT NULL,
  first_seen bigint NOT NULL,
  last_seen  bigint NOT NULL,
  attempts   integer NOT NULL DEFAULT 0,
  next_try   bigint NOT NULL,
  PRIMARY KEY (piece_id, drive)
);
CREATE INDEX heal_queue_due ON heal_queue(next_try, piece_id, drive);
`,
};

interface Row {
  piece_id: string;
  drive: number;
  reason: string;
  first_seen: string;
  last_seen: string;
  attempts: number;
  next_try: string;
}

const toEntry = (r: Row): HealEntry =>
  Object.freeze({
    pieceId: r.piece_id,
    drive: r.drive,
    reason: r.reason as HealReason,
    firstSeen: Number(r.first_seen),
    lastSeen: Number(r.last_seen),
    attempts: r.attempts,
    nextTry: Number(r.next_try),
  });

interface Queue {
  readonly generation: number;
  readonly counts: HealQueueCounts;
  /** The head: entries in (next try, piece, drive) order. */
  readonly head: HealEntry[];
  /** Every entry of each piece that has one in the head, by drive. */
  readonly pieces: Map<string, HealEntry[]>;
  /** The first pieces in piece id order. */
  readonly degraded: DegradedPiece[];
}

const empty = (): Queue => ({
  generation: -1,
  counts: { shards: 0, pieces: 0, byDrive: {} },
  head: [],
  pieces: new Map(),
  degraded: [],
});

async function loadQueue(c: PgClient): Promise<Queue> {
  const generation = await readGeneration(c, HEAL);
  const t = (
    await c.query<{ shards: string; pieces: string; oldest: string | null }>(
      'SELECT count(*) AS shards, count(DISTINCT piece_id) AS pieces, min(first_seen) AS oldest FROM heal_queue',
    )
  ).rows[0]!;
  const byDrive: Record<number, number> = {};
  for (const r of (await c.query<{ drive: number; n: string }>('SELECT drive, count(*) AS n FROM heal_queue GROUP BY drive ORDER BY drive')).rows)
    byDrive[r.drive] = Number(r.n);
  const counts: HealQueueCounts = {
    shards: Number(t.shards),
    pieces: Number(t.pieces),
    byDrive,
    ...(t.oldest !== null && { oldest: Number(t.oldest) }),
  };
  const head = (await c.query<Row>('SELECT * FROM heal_queue ORDER BY next_try, piece_id, drive LIMIT $1', [HEAD_ROWS])).rows.map(toEntry);
  const pieces = new Map<string, HealEntry[]>();
  const rest =
    head.length < HEAD_ROWS
      ? head
      : (await c.query<Row>('SELECT * FROM heal_queue WHERE piece_id = ANY($1)', [[...new Set(head.map((e) => e.pieceId))]])).rows.map(toEntry);
  for (const e of rest) {
    const a = pieces.get(e.pieceId);
    if (a === undefined) pieces.set(e.pieceId, [e]);
    else a.push(e);
  }
  for (const a of pieces.values()) a.sort((x, y) => x.drive - y.drive);
  const rows = (
    await c.query<{
      piece_id: string;
      drives: number[];
      reason: string;
      first_seen: string;
      attempts: number;
      next_try: string;
      bucket: string | null;
      key: Buffer | null;
      version_id: string | null;
    }>(
      `SELECT q.*, o.bucket, o.key, o.version_id FROM (
         SELECT piece_id, array_agg(drive ORDER BY drive) AS drives, min(reason) AS reason, min(first_seen) AS first_seen,
           max(attempts) AS attempts, min(next_try) AS next_try
         FROM heal_queue GROUP BY piece_id ORDER BY piece_id LIMIT $1) q
       LEFT JOIN LATERAL (SELECT bucket, key, version_id FROM objects
         WHERE data_ids @> ARRAY[q.piece_id::text] AND data_ids IS NOT NULL LIMIT 1) o ON true
       ORDER BY q.piece_id`,
      [DEGRADED_PIECES],
    )
  ).rows;
  const degraded = rows.map(
    (r): DegradedPiece => ({
      pieceId: r.piece_id,
      drives: r.drives,
      reason: r.reason as HealReason,
      firstSeen: Number(r.first_seen),
      attempts: r.attempts,
      nextTry: Number(r.next_try),
      ...(r.bucket !== null && { object: { bucket: r.bucket, key: r.key!.toString('utf8'), versionId: r.version_id! } }),
    }),
  );
  return { generation, counts, head, pieces, degraded };
}

export class PgHealQueue extends SnapshotStore<Queue> implements HealQueueStore {
  constructor(db: PgDb, feed?: ChangeFeed) {
    super(db, HEAL, loadQueue, empty(), feed);
  }

  async add(reports: readonly HealReport[]): Promise<number> {
    if (reports.length === 0) return 0;
    // One row per shard: the first report of it in the batch, seen last at the latest one.
    const byShard = new Map<string, { r: HealReport; last: number }>();
    for (const r of reports) {
      const k = `${r.drive}/${r.pieceId}`;
      const had = byShard.get(k);
      if (had === undefined) byShard.set(k, { r, last: r.at });
      else had.last = Math.max(had.last, r.at);
    }
    const rows = [...byShard.values()];
    return this.snap.write(async (c) => {
      const res = await c.query<{ inserted: boolean }>(
        `INSERT INTO heal_queue(piece_id, drive, reason, first_seen, last_seen, attempts, next_try)
         SELECT p, d, r, a, l, 0, a FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bigint[]) AS t(p, d, r, a, l)
         ON CONFLICT (piece_id, drive) DO UPDATE SET last_seen = greatest(heal_queue.last_seen, excluded.last_seen)
         RETURNING (xmax = 0) AS inserted`,
        [rows.map((x) => x.r.pieceId), rows.map((x) => x.r.drive), rows.map((x) => x.r.reason), rows.map((x) => x.r.at), rows.map((x) => x.last)],
      );
      return res.rows.filter((r) => r.inserted).length;
    }, 'read committed');
  }

  due(now: number, limit: number): HealEntry[] {
    if (limit <= 0) return [];
    const out: HealEntry[] = [];
    for (const e of this.snap.current.head) {
      if (e.nextTry > now || out.length >= limit) break;
      out.push(e);
    }
    return out;
  }

  entriesOf(pieceId: string): HealEntry[] {
    return [...(this.snap.current.pieces.get(pieceId) ?? [])];
  }

  async remove(pieceId: string, drives: readonly number[], reportedBy: number): Promise<void> {
    if (drives.length === 0) return;
    await this.snap.write(async (c) => {
      await c.query('DELETE FROM heal_queue WHERE piece_id = $1 AND drive = ANY($2::int[]) AND last_seen <= $3', [pieceId, drives, reportedBy]);
    }, 'read committed');
  }

  async postpone(pieceId: string, drives: readonly number[], nextTry: number): Promise<void> {
    if (drives.length === 0) return;
    await this.snap.write(async (c) => {
      await c.query('UPDATE heal_queue SET attempts = attempts + 1, next_try = $1 WHERE piece_id = $2 AND drive = ANY($3::int[])', [nextTry, pieceId, drives]);
    }, 'read committed');
  }

  counts(): HealQueueCounts {
    const c = this.snap.current.counts;
    return { ...c, byDrive: { ...c.byDrive } };
  }

  degraded(limit: number, after = ''): DegradedPiece[] {
    if (limit <= 0) return [];
    const out: DegradedPiece[] = [];
    for (const p of this.snap.current.degraded) {
      if (out.length >= limit) break;
      if (Buffer.compare(Buffer.from(p.pieceId), Buffer.from(after)) > 0) out.push({ ...p, drives: [...p.drives] });
    }
    return out;
  }
}
