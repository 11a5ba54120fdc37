// The per-bucket usage counters of the SQLite metadata store (format 10, docs/on-disk-format.md):
// one bucket_usage row per bucket, moved by a delta inside the very transaction that writes or
// removes a version, so the figures are exact across every process that shares the database. The
// store's write paths call the two hooks below; the initial figures of a data directory written
// before format 10 are computed once by the upgrade (sqlite-schema.ts, SCHEMA_V10).
import type { BucketUsage } from '../usage.js';
import type { Db, ObjectRow, Stmt } from './sqlite-sql.js';

/** The latest-version flag a clear or promotion touched: its row's delete-marker flag, or none. */
type Flag = { is_delete_marker: number } | undefined;

export class SqliteUsage {
  private readonly add: Stmt;
  private readonly remove: Stmt;
  private readonly list: Stmt;
  /** clearLatest and promoteNewest (sqlite-sql.ts) with RETURNING: the row they changed, in the same step. */
  readonly clearLatest: Stmt;
  readonly promoteNewest: Stmt;

  constructor(db: Db) {
    this.add = db.prepare(
      `INSERT INTO bucket_usage(bucket, objects, versions, delete_markers, bytes) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(bucket) DO UPDATE SET objects = objects + excluded.objects, versions = versions + excluded.versions,
         delete_markers = delete_markers + excluded.delete_markers, bytes = bytes + excluded.bytes`,
    );
    this.remove = db.prepare('DELETE FROM bucket_usage WHERE bucket = ?');
    this.list = db.prepare(
      `SELECT b.name AS bucket, coalesce(u.objects, 0) AS objects, coalesce(u.versions, 0) AS versions,
         coalesce(u.delete_markers, 0) AS deleteMarkers, coalesce(u.bytes, 0) AS bytes
       FROM buckets b LEFT JOIN bucket_usage u ON u.bucket = b.name ORDER BY b.name`,
    );
    this.clearLatest = db.prepare('UPDATE objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1 RETURNING is_delete_marker');
    this.promoteNewest = db.prepare(
      `UPDATE objects SET is_latest = 1 WHERE bucket = @bucket AND key = @key AND version_id =
         (SELECT version_id FROM objects WHERE bucket = @bucket AND key = @key
          ORDER BY last_modified DESC, version_id DESC LIMIT 1) RETURNING is_delete_marker`,
    );
  }

  /**
   * A version was written as the key's latest: `replaced` the row of the same version id it took the
   * place of (deleted just before), `cleared` what clearLatest returned (the former latest, when it
   * was not `replaced`).
   */
  written(bucket: string, isDeleteMarker: boolean, size: number, replaced: ObjectRow | undefined, cleared: Flag): void {
    let objects = isDeleteMarker ? 0 : 1;
    let versions = objects;
    let markers = 1 - objects;
    let bytes = isDeleteMarker ? 0 : size;
    const formerLatest = replaced?.is_latest === 1 ? replaced : cleared;
    if (formerLatest !== undefined && formerLatest.is_delete_marker === 0) objects--;
    if (replaced !== undefined) {
      if (replaced.is_delete_marker === 1) markers--;
      else {
        versions--;
        bytes -= replaced.size;
      }
    }
    this.add.run(bucket, objects, versions, markers, bytes);
  }

  /** A version was removed: `promoted` what promoteNewest returned (when the removed one was the latest). */
  removed(bucket: string, row: ObjectRow, promoted: Flag): void {
    const marker = row.is_delete_marker === 1;
    let objects = row.is_latest === 1 && !marker ? -1 : 0;
    if (promoted !== undefined && promoted.is_delete_marker === 0) objects++;
    this.add.run(bucket, objects, marker ? 0 : -1, marker ? -1 : 0, marker ? 0 : -row.size);
  }

  /** The bucket is gone (it had no versions left: its row is all zeros). */
  bucketDeleted(bucket: string): void {
    this.remove.run(bucket);
  }

  listUsage(): BucketUsage[] {
    return this.list.all() as BucketUsage[];
  }
}
