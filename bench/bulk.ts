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
import { newVersion } from '../src/store/versions.js';

export const EMPTY_ETAG = '"d41d8cd98f00b204e9800998ecf8427e"';
const BATCH = 50_000;

/** Key of object i in a bulk-loaded bucket: fixed width, so insertion order is key order. */
export function bulkKey(i: number): string {
  return `obj/${String(i).padStart(8, '0')}`;
}

export interface BulkBucket {
  name: string;
  count: number;
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
      meta.createBucket({ name: b.name, region, createdAt: now, versioning: '', owner: 'root', objectLock: false });
      for (let start = 0; start < b.count; start += BATCH) {
        if (performance.now() - t0 > timeLimitMs) throw new Error(`bulk load exceeded ${timeLimitMs} ms`);
        const end = Math.min(b.count, start + BATCH);
        db.transaction(() => {
          for (let i = start; i < end; i++) {
            const write = { bucket: b.name, key: bulkKey(i), size: 0, etag: EMPTY_ETAG, storageClass: 'STANDARD', meta: { user: {} }, data: [] };
            meta.putObject(newVersion(write, NULL_VERSION, now));
          }
        })();
        objects += end - start;
      }
    }
    db.pragma('synchronous = FULL');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    meta.close();
  }
  return { objects, ms: performance.now() - t0 };
}
