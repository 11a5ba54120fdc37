// The SQLite HealQueueStore (../heal-queue.ts): the format-11 table heal_queue (sqlite-schema.ts),
// one row per (piece, drive). Each change is one small immediate transaction through the store's
// write scheduler (durable like any metadata write); reads are index reads (the primary key, or
// heal_queue_due for the due entries), so another process's change is seen by the next read.
import type { DegradedPiece, HealEntry, HealQueueCounts, HealQueueStore, HealReason, HealReport } from '../heal-queue.js';
import { read } from './sqlite-busy.js';
import type { Db, Stmt } from './sqlite-sql.js';

type Write = <T>(run: () => T) => T | Promise<T>;

interface Row {
  piece_id: string;
  drive: number;
  reason: string;
  first_seen: number;
  last_seen: number;
  attempts: number;
  next_try: number;
}

const toEntry = (r: Row): HealEntry => ({
  pieceId: r.piece_id,
  drive: r.drive,
  reason: r.reason as HealReason,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  attempts: r.attempts,
  nextTry: r.next_try,
});

export class SqliteHealQueue implements HealQueueStore {
  private readonly st: Record<string, Stmt>;
  private readonly addTx: (reports: readonly HealReport[]) => number;
  private readonly removeTx: (pieceId: string, drives: readonly number[], reportedBy: number) => void;
  private readonly postponeTx: (pieceId: string, drives: readonly number[], nextTry: number) => void;

  constructor(
    db: Db,
    private readonly write: Write,
  ) {
    const p = (sql: string): Stmt => db.prepare(sql);
    this.st = {
      insert: p(
        'INSERT OR IGNORE INTO heal_queue(piece_id, drive, reason, first_seen, last_seen, attempts, next_try) VALUES (@pieceId, @drive, @reason, @at, @at, 0, @at)',
      ),
      seen: p('UPDATE heal_queue SET last_seen = max(last_seen, @at) WHERE piece_id = @pieceId AND drive = @drive'),
      due: p('SELECT * FROM heal_queue WHERE next_try <= ? ORDER BY next_try LIMIT ?'),
      of: p('SELECT * FROM heal_queue WHERE piece_id = ? ORDER BY drive'),
      remove: p('DELETE FROM heal_queue WHERE piece_id = ? AND drive = ? AND last_seen <= ?'),
      postpone: p('UPDATE heal_queue SET attempts = attempts + 1, next_try = ? WHERE piece_id = ? AND drive = ?'),
      totals: p('SELECT count(*) AS shards, count(DISTINCT piece_id) AS pieces, min(first_seen) AS oldest FROM heal_queue'),
      byDrive: p('SELECT drive, count(*) AS n FROM heal_queue GROUP BY drive ORDER BY drive'),
      pieces: p(
        `SELECT piece_id, json_group_array(drive) AS drives, min(reason) AS reason, min(first_seen) AS first_seen,
           max(attempts) AS attempts, min(next_try) AS next_try
         FROM heal_queue WHERE piece_id > ? GROUP BY piece_id ORDER BY piece_id LIMIT ?`,
      ),
      owner: p('SELECT bucket, key, version_id FROM object_data WHERE data_id = ? LIMIT 1'),
    };
    this.addTx = db.transaction((reports: readonly HealReport[]) => {
      let added = 0;
      for (const r of reports) {
        const row = { pieceId: r.pieceId, drive: r.drive, reason: r.reason, at: r.at };
        if (this.st.insert!.run(row).changes > 0) added++;
        else this.st.seen!.run(row);
      }
      return added;
    }).immediate;
    this.removeTx = db.transaction((pieceId: string, drives: readonly number[], reportedBy: number) => {
      for (const d of drives) this.st.remove!.run(pieceId, d, reportedBy);
    }).immediate;
    this.postponeTx = db.transaction((pieceId: string, drives: readonly number[], nextTry: number) => {
      for (const d of drives) this.st.postpone!.run(nextTry, pieceId, d);
    }).immediate;
  }

  add(reports: readonly HealReport[]): number | Promise<number> {
    if (reports.length === 0) return 0;
    return this.write(() => this.addTx(reports));
  }

  due(now: number, limit: number): HealEntry[] {
    if (limit <= 0) return [];
    return read(() => (this.st.due!.all(now, limit) as Row[]).map(toEntry));
  }

  entriesOf(pieceId: string): HealEntry[] {
    return read(() => (this.st.of!.all(pieceId) as Row[]).map(toEntry));
  }

  remove(pieceId: string, drives: readonly number[], reportedBy: number): void | Promise<void> {
    if (drives.length === 0) return;
    return this.write(() => this.removeTx(pieceId, drives, reportedBy));
  }

  postpone(pieceId: string, drives: readonly number[], nextTry: number): void | Promise<void> {
    if (drives.length === 0) return;
    return this.write(() => this.postponeTx(pieceId, drives, nextTry));
  }

  counts(): HealQueueCounts {
    return read(() => {
      const t = this.st.totals!.get() as { shards: number; pieces: number; oldest: number | null };
      const byDrive: Record<number, number> = {};
      for (const r of this.st.byDrive!.all() as Array<{ drive: number; n: number }>) byDrive[r.drive] = r.n;
      return { shards: t.shards, pieces: t.pieces, byDrive, ...(t.oldest !== null && { oldest: t.oldest }) };
    });
  }

  degraded(limit: number, after = ''): DegradedPiece[] {
    if (limit <= 0) return [];
    return read(() => {
      const rows = this.st.pieces!.all(after, limit) as Array<{
        piece_id: string;
        drives: string;
        reason: string;
        first_seen: number;
        attempts: number;
        next_try: number;
      }>;
      return rows.map((r) => {
        const owner = this.st.owner!.get(r.piece_id) as { bucket: string; key: Buffer; version_id: string } | undefined;
        return {
          pieceId: r.piece_id,
          drives: (JSON.parse(r.drives) as number[]).sort((a, b) => a - b),
          reason: r.reason as HealReason,
          firstSeen: r.first_seen,
          attempts: r.attempts,
          nextTry: r.next_try,
          ...(owner && { object: { bucket: owner.bucket, key: owner.key.toString('utf8'), versionId: owner.version_id } }),
        };
      });
    });
  }
}
