// Bulk metadata for the listing cells: millions of 0-byte objects written straight into a fresh
// data directory's meta.db (no HTTP: a million durable PUTs would take most of an hour). It goes
// through SqliteMetaStore itself (open() runs migrate(), putObject() writes the rows), so the rows
// are exactly what the server writes; the only liberty is one outer transaction per batch with
// synchronous=OFF, which better-sqlite3 turns the store's per-object transactions into savepoints
// of. 0-byte objects have no data pieces (data: []), so no files are needed.
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { SqliteMetaStore } from '../src/store/meta/sqlite.js';
import { NULL_VERSION } from '../src/store/types.js';
import { newDeleteMarker, newVersion, newVersionId } from '../src/store/versions.js';

export const EMPTY_ETAG = '"d41d8cd98f00b204e9800998ecf8427e"';
const BATCH = 50_000;

/** Key of object i in a bulk-loaded bucket: fixed width, so insertion order is key order. */
export function bulkKey(i: number): string {
  return `obj/${String(i).padStart(8, '0')}`;
}

export interface BulkBucket {
  name: string;
  /** Keys. */
  count: number;
  /**
   * Versioned (versioning Enabled): this many versions per key (the bucket then holds count ×
   * versions rows), each with its own time-ordered version id, as a versioned PUT writes them.
   */
  versions?: number;
  /** Versioned: of every 10 keys, this many get a delete marker on top of their versions (0..10). */
  markersPer10?: number;
}

/**
 * Creates the buckets and their objects in <dataDir>/meta.db (the server must not be running on
 * it). Bounded: `count` rows per bucket, and it gives up after `timeLimitMs`.
 */
export function bulkLoad(dataDir: string, buckets: readonly BulkBucket[], region: string, timeLimitMs = 15 * 60_000): { objects: number; ms: number } {
  const t0 = performance.now();
  // durability 'none': writes return at once (no WAL fdatasync per object); the batch commits below
  // run with synchronous=OFF and the server opens the finished file afresh.
  const meta = SqliteMetaStore.open(join(dataDir, 'meta.db'), { durability: 'none' });
  // The store keeps its connection private; the bench needs it for the outer transaction only.
  const db = (meta as unknown as { db: Database.Database }).db;
  let objects = 0;
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144'); // 256 MiB page cache for the load (this process only)
    const now = Date.now();
    for (const b of buckets) {
      const versions = b.versions ?? 0;
      const markers = b.markersPer10 ?? 0;
      meta.createBucket({ name: b.name, region, createdAt: now, versioning: versions > 0 ? 'Enabled' : '', owner: 'root', objectLock: false });
      // Rows per batch stay about BATCH whatever the versions per key.
      const keysPerBatch = Math.max(1, Math.floor(BATCH / Math.max(1, versions)));
      for (let start = 0; start < b.count; start += keysPerBatch) {
        if (performance.now() - t0 > timeLimitMs) throw new Error(`bulk load exceeded ${timeLimitMs} ms`);
        const end = Math.min(b.count, start + keysPerBatch);
        db.transaction(() => {
          for (let i = start; i < end; i++) {
            const write = { bucket: b.name, key: bulkKey(i), size: 0, etag: EMPTY_ETAG, storageClass: 'STANDARD', meta: { user: {} }, data: [] };
            if (versions === 0) {
              meta.putObject(newVersion(write, NULL_VERSION, now));
              objects++;
              continue;
            }
            // Oldest first, one second apart (each becomes the latest at its write, as over HTTP).
            const t = now - (versions + 1) * 1000;
            for (let v = 0; v < versions; v++) meta.putObject(newVersion(write, newVersionId(t + v * 1000), t + v * 1000));
            objects += versions;
            if (i % 10 < markers) {
              meta.putObject(newDeleteMarker(b.name, write.key, newVersionId(now), now));
              objects++;
            }
          }
        })();
      }
    }
    db.pragma('synchronous = FULL');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    meta.close();
  }
  return { objects, ms: performance.now() - t0 };
}
