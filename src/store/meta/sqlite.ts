// The embedded metadata store: one SQLite file (WAL, synchronous=FULL) via better-sqlite3.
// Schema, key encoding and the commit protocol are documented in docs/on-disk-format.md.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import {
  META_FORMAT_VERSION,
  NULL_VERSION,
  type BucketRecord,
  type DataRef,
  type MetaStore,
  type ObjectRecord,
  type WriteCondition,
} from '../types.js';

type Db = Database.Database;
type Stmt = Database.Statement;

/** Schema of format version 1. Keys are BLOBs of their UTF-8 bytes so ORDER BY key is memcmp order. */
const SCHEMA_V1 = `
CREATE TABLE buckets (
  name       TEXT PRIMARY KEY,
  region     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  versioning TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE objects (
  bucket           TEXT NOT NULL REFERENCES buckets(name),
  key              BLOB NOT NULL CHECK (typeof(key) = 'blob'),
  version_id       TEXT NOT NULL,
  is_latest        INTEGER NOT NULL,
  is_delete_marker INTEGER NOT NULL,
  size             INTEGER NOT NULL,
  etag             TEXT NOT NULL,
  last_modified    INTEGER NOT NULL,
  storage_class    TEXT NOT NULL,
  meta             TEXT NOT NULL,
  data             TEXT NOT NULL,
  parts            TEXT,
  format           INTEGER NOT NULL,
  PRIMARY KEY (bucket, key, version_id)
) WITHOUT ROWID;

-- At most one latest version per key; the listing walks this index in key order.
CREATE UNIQUE INDEX objects_latest ON objects(bucket, key) WHERE is_latest = 1;

-- One row per (data id, owning version): makes isDataReferenced() an index lookup. Rows go away
-- with their object row (ON DELETE CASCADE), so they can never point at a missing version.
CREATE TABLE object_data (
  data_id    TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  key        BLOB NOT NULL,
  version_id TEXT NOT NULL,
  PRIMARY KEY (data_id, bucket, key, version_id),
  FOREIGN KEY (bucket, key, version_id) REFERENCES objects(bucket, key, version_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX object_data_owner ON object_data(bucket, key, version_id);
`;

/** Creates or upgrades the schema to META_FORMAT_VERSION. The only place that changes the schema. */
export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID');
  const step = db.transaction(() => {
    const row = db.prepare("SELECT value FROM meta WHERE name = 'format_version'").get() as { value: number } | undefined;
    const current = row?.value ?? 0;
    if (current > META_FORMAT_VERSION) {
      throw new Error(`metadata format ${current} is newer than this Strata understands (${META_FORMAT_VERSION})`);
    }
    if (current < 1) db.exec(SCHEMA_V1);
    // Future upgrades: `if (current < 2) { ... }`, each step in this same transaction.
    db.prepare("INSERT OR REPLACE INTO meta(name, value) VALUES ('format_version', ?)").run(META_FORMAT_VERSION);
  });
  step.immediate();
}

const COLS =
  'bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified, storage_class, meta, data, parts, format';

/**
 * The four shapes of the listing query (exclusive or inclusive lower bound, with or without an
 * upper bound). Exported so a test can EXPLAIN them: each must be a range SEARCH on objects_latest
 * with no temporary sort, so a page costs O(limit) whatever the bucket size.
 */
export const SCAN_SQL = {
  gt: `SELECT ${COLS} FROM objects INDEXED BY objects_latest WHERE bucket = ? AND is_latest = 1 AND key > ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
  ge: `SELECT ${COLS} FROM objects INDEXED BY objects_latest WHERE bucket = ? AND is_latest = 1 AND key >= ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
  gtUpper: `SELECT ${COLS} FROM objects INDEXED BY objects_latest WHERE bucket = ? AND is_latest = 1 AND key > ? AND key < ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
  geUpper: `SELECT ${COLS} FROM objects INDEXED BY objects_latest WHERE bucket = ? AND is_latest = 1 AND key >= ? AND key < ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
} as const;

interface BucketRow {
  name: string;
  region: string;
  created_at: number;
  versioning: BucketRecord['versioning'];
}

interface ObjectRow {
  bucket: string;
  key: Buffer;
  version_id: string;
  is_latest: number;
  is_delete_marker: number;
  size: number;
  etag: string;
  last_modified: number;
  storage_class: string;
  meta: string;
  data: string;
  parts: string | null;
  format: number;
}

/** The smallest byte string greater than every string starting with `b`; undefined if none (all 0xFF). */
export function byteSuccessor(b: Buffer): Buffer | undefined {
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = b[i]! + 1;
      return out;
    }
  }
  return undefined;
}

const toBytes = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

function toBucket(r: BucketRow): BucketRecord {
  return { name: r.name, region: r.region, createdAt: r.created_at, versioning: r.versioning };
}

function toRecord(r: ObjectRow): ObjectRecord {
  const rec: ObjectRecord = {
    bucket: r.bucket,
    key: r.key.toString('utf8'),
    versionId: r.version_id,
    isLatest: r.is_latest === 1,
    isDeleteMarker: r.is_delete_marker === 1,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    meta: JSON.parse(r.meta) as ObjectRecord['meta'],
    data: JSON.parse(r.data) as DataRef[],
  };
  if (r.parts !== null) rec.parts = JSON.parse(r.parts) as number[];
  return rec;
}

/** Every statement the store runs, prepared once per connection. */
function prepareAll(db: Db) {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    insertBucket: p('INSERT INTO buckets(name, region, created_at, versioning) VALUES (?, ?, ?, ?)'),
    getBucket: p('SELECT name, region, created_at, versioning FROM buckets WHERE name = ?'),
    listBuckets: p('SELECT name, region, created_at, versioning FROM buckets ORDER BY name'),
    deleteBucket: p('DELETE FROM buckets WHERE name = ?'),
    anyObject: p('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1'),
    getLatest: p(`SELECT ${COLS} FROM objects INDEXED BY objects_latest WHERE bucket = ? AND key = ? AND is_latest = 1`),
    getVersion: p(`SELECT ${COLS} FROM objects WHERE bucket = ? AND key = ? AND version_id = ?`),
    deleteVersion: p('DELETE FROM objects WHERE bucket = ? AND key = ? AND version_id = ?'),
    clearLatest: p('UPDATE objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1'),
    promoteNewest: p(
      `UPDATE objects SET is_latest = 1 WHERE bucket = @bucket AND key = @key AND version_id =
         (SELECT version_id FROM objects WHERE bucket = @bucket AND key = @key
          ORDER BY last_modified DESC, version_id DESC LIMIT 1)`,
    ),
    insertObject: p(`INSERT INTO objects(${COLS}) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertData: p('INSERT OR IGNORE INTO object_data(data_id, bucket, key, version_id) VALUES (?, ?, ?, ?)'),
    dataReferenced: p('SELECT 1 FROM object_data WHERE data_id = ? LIMIT 1'),
  };
}

export class SqliteMetaStore implements MetaStore {
  private readonly st: ReturnType<typeof prepareAll>;
  private readonly scanSt: Record<keyof typeof SCAN_SQL, Stmt>;
  private readonly putTx: (rec: ObjectRecord, cond: WriteCondition | undefined) => DataRef[];
  private readonly deleteTx: (bucket: string, key: string) => ObjectRecord | undefined;
  private readonly deleteBucketTx: (name: string) => void;

  private constructor(private readonly db: Db) {
    this.st = prepareAll(db);
    const p = (sql: string): Stmt => db.prepare(sql);
    this.scanSt = { gt: p(SCAN_SQL.gt), ge: p(SCAN_SQL.ge), gtUpper: p(SCAN_SQL.gtUpper), geUpper: p(SCAN_SQL.geUpper) };
    this.putTx = db.transaction((rec: ObjectRecord, cond: WriteCondition | undefined) => this.putInTx(rec, cond)).immediate;
    this.deleteTx = db.transaction((bucket: string, key: string) => this.deleteInTx(bucket, key)).immediate;
    this.deleteBucketTx = db.transaction((name: string) => {
      if (this.st.getBucket.get(name) === undefined) throw new StoreError('NoSuchBucket');
      // Later also: any in-progress multipart upload.
      if (this.st.anyObject.get(name) !== undefined) throw new StoreError('BucketNotEmpty');
      this.st.deleteBucket.run(name);
    }).immediate;
  }

  /** Opens (creating if needed) the database file and brings its schema to the current format. */
  static open(path: string): SqliteMetaStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      // FULL: a commit is fsynced before it is acknowledged, so an acknowledged PUT survives
      // power loss (NORMAL in WAL mode may lose the last transactions).
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      return new SqliteMetaStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  createBucket(bucket: BucketRecord): void {
    try {
      this.st.insertBucket.run(bucket.name, bucket.region, bucket.createdAt, bucket.versioning);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreError('BucketAlreadyExists');
      throw err;
    }
  }

  getBucket(name: string): BucketRecord | undefined {
    const row = this.st.getBucket.get(name) as BucketRow | undefined;
    return row && toBucket(row);
  }

  listBuckets(): BucketRecord[] {
    return (this.st.listBuckets.all() as BucketRow[]).map(toBucket);
  }

  deleteBucket(name: string): void {
    this.deleteBucketTx(name);
  }

  getObject(bucket: string, key: string): ObjectRecord | undefined {
    const row = this.st.getLatest.get(bucket, toBytes(key)) as ObjectRow | undefined;
    return row && toRecord(row);
  }

  putObject(record: ObjectRecord, cond?: WriteCondition): DataRef[] {
    return this.putTx(record, cond);
  }

  private putInTx(rec: ObjectRecord, cond: WriteCondition | undefined): DataRef[] {
    const { bucket, versionId } = rec;
    if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
    const kb = toBytes(rec.key);
    // The condition is checked in the same IMMEDIATE transaction as the write: no other writer
    // can slip in between (If-None-Match: * is a real create-if-absent).
    if (cond && (cond.mustNotExist || cond.etagMatches !== undefined)) {
      const latest = this.st.getLatest.get(bucket, kb) as ObjectRow | undefined;
      const current = latest && latest.is_delete_marker === 0 ? latest : undefined;
      if (cond.mustNotExist && current) throw new StoreError('PreconditionFailed');
      if (cond.etagMatches !== undefined) {
        if (!current) throw new StoreError('NoSuchKey');
        if (current.etag !== cond.etagMatches) throw new StoreError('PreconditionFailed');
      }
    }
    const replaced = this.st.getVersion.get(bucket, kb, versionId) as ObjectRow | undefined;
    if (replaced) this.st.deleteVersion.run(bucket, kb, versionId); // cascades to object_data
    this.st.clearLatest.run(bucket, kb);
    this.st.insertObject.run(
      bucket,
      kb,
      versionId,
      rec.isDeleteMarker ? 1 : 0,
      rec.size,
      rec.etag,
      rec.lastModified,
      rec.storageClass,
      JSON.stringify(rec.meta),
      JSON.stringify(rec.data.map((d) => ({ id: d.id, size: d.size }))),
      rec.parts === undefined ? null : JSON.stringify(rec.parts),
      META_FORMAT_VERSION,
    );
    for (const d of rec.data) this.st.insertData.run(d.id, bucket, kb, versionId);
    if (!replaced) return [];
    // Only pieces nothing references any more may be freed (the new record, or any other
    // version, may share an id, e.g. a metadata-only self-copy).
    const seen = new Set<string>();
    return (JSON.parse(replaced.data) as DataRef[]).filter((d) => {
      if (seen.has(d.id)) return false;
      seen.add(d.id);
      return this.st.dataReferenced.get(d.id) === undefined;
    });
  }

  deleteObject(bucket: string, key: string): ObjectRecord | undefined {
    return this.deleteTx(bucket, key);
  }

  private deleteInTx(bucket: string, key: string): ObjectRecord | undefined {
    if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
    const kb = toBytes(key);
    const row = this.st.getVersion.get(bucket, kb, NULL_VERSION) as ObjectRow | undefined;
    if (!row) return undefined;
    this.st.deleteVersion.run(bucket, kb, NULL_VERSION);
    // Keep "one latest per key while any version exists": the newest remaining version takes over.
    if (row.is_latest === 1) this.st.promoteNewest.run({ bucket, key: kb });
    return toRecord(row);
  }

  /**
   * `after` and `from` may also be raw byte strings (Buffers): a seek position need not be valid
   * UTF-8. The MetaStore interface only needs strings; the wider type is a convenience.
   */
  scanObjects(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ObjectRecord[] {
    if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
    if (limit <= 0) return []; // SQLite treats a negative LIMIT as "no limit"
    const pb = toBytes(prefix);
    const ab = toBytes(after);
    // Fold prefix and `from` into one inclusive lower bound, then keep whichever of it and the
    // exclusive `after` is tighter: SQLite uses one lower and one upper bound for the index range.
    let lower = pb;
    if (from !== undefined) {
      const fb = toBytes(from);
      if (Buffer.compare(fb, lower) > 0) lower = fb;
    }
    const exclusive = Buffer.compare(ab, lower) >= 0;
    const bound = exclusive ? ab : lower;
    const upper = pb.length > 0 ? byteSuccessor(pb) : undefined;
    const rows = (
      upper
        ? this.scanSt[exclusive ? 'gtUpper' : 'geUpper'].all(bucket, bound, upper, limit)
        : this.scanSt[exclusive ? 'gt' : 'ge'].all(bucket, bound, limit)
    ) as ObjectRow[];
    return rows.map(toRecord);
  }

  isDataReferenced(dataId: string): boolean {
    return this.st.dataReferenced.get(dataId) !== undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
