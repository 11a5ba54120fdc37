// The embedded metadata store: one SQLite file via better-sqlite3, in WAL mode with group commit
// (wal-sync.ts): a write resolves once its transaction is fsynced. Schema, key encoding and the
// commit protocol are documented in docs/on-disk-format.md.

import { storedInlineSize } from '../sealed.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { migrate } from './sqlite-schema.js';
import { type WalMirrorHook, WalSync, type WalSyncCalls } from './wal-sync.js';
import { DEFAULT_BUSY_RETRY_MS, read } from './sqlite-busy.js';
import { WriteScheduler } from './sqlite-writes.js';
import { SqliteCoordination } from './sqlite-coord.js';
import { SqliteScans } from './sqlite-scans.js';
import { SqliteIdentities } from './sqlite-identities.js';
import { SqliteKmsKeys } from './sqlite-kms.js';
import { SqliteUsage } from './sqlite-usage.js';
import { SqliteHealQueue } from './sqlite-heal.js';
import { HotReads, type HotReadOptions } from './sqlite-hot.js';
import {
  type BucketRow,
  type Db,
  type ObjectRow,
  type PartRow,
  type Stmt,
  type UploadRow,
  bucketWithConfigsSql,
  prepareAll,
  toBucket,
  toBytes,
  toPart,
  toRecord,
  toUpload,
  extrasJson,
  uploadParams,
  partParams,
} from './sqlite-sql.js';
import {
  META_FORMAT_VERSION,
  NULL_VERSION,
  type BucketRecord,
  type CompletedUpload,
  type DataRef,
  type MetaStore,
  type ObjectRecord,
  type PartRecord,
  type UploadListQuery,
  type UploadRecord,
  type WriteCondition,
} from '../types.js';
import type { BucketPatch, BucketWithConfigs, ListedObject, ListedVersion, LockCheck, ObjectPatch } from '../types.js';
import { checkRemovable } from '../object-lock.js';
import { applyBucketPatch, applyObjectPatch } from './patches.js';

// The SQL lives in sqlite-sql.ts; tests and the bench name these through this module.
export { byteSuccessor, LIST_UPLOADS_SQL, LISTING_SQL, SCAN_SQL, VERSIONS_SQL } from './sqlite-sql.js';

export interface SqliteOptions {
  /**
   * 'fsync' (default): every write resolves after its transaction is on disk (a shared fdatasync
   * of the WAL, see wal-sync.ts). 'none': writes resolve at once, durable only when SQLite next
   * syncs (bulk loads into a directory no server is using, tests).
   */
  durability?: 'fsync' | 'none';
  /**
   * How long a write keeps retrying while another connection (another process) holds the
   * database's write lock, before it fails with StoreError('Busy') (S3: 503 SlowDown). Default 3 s.
   */
  busyRetryMs?: number;
  /** The group commit's syncs (tests record their order: src/store/write-order.test.ts). */
  walCalls?: WalSyncCalls;
  /** The hot-row cache and whether other connections may commit (sqlite-hot.ts). */
  hot?: HotReadOptions;
  /** Copies of the database on other drives (mirror.ts): no automatic checkpoints, every sync copies the WAL. */
  mirror?: WalMirrorHook;
}

export class SqliteMetaStore implements MetaStore {
  /** Leases, write intents, pending frees and read pins (format 4 tables): see ../coord.ts. */
  readonly coord: SqliteCoordination;
  /** Users, groups, policies and access keys (format 7 tables): see ../identities.ts. */
  readonly identities: SqliteIdentities;
  /** The built-in key service's master keys (format 9 tables): see ../kms-keys.ts. */
  readonly kmsKeys: SqliteKmsKeys;
  private readonly wal: WalSync | undefined;
  private readonly st: ReturnType<typeof prepareAll>;
  /** Range reads: objects, listing rows, versions, uploads (sqlite-scans.ts). */
  private readonly scans: SqliteScans;
  private readonly putTx: (rec: ObjectRecord, cond: WriteCondition | undefined, lock: LockCheck | undefined) => DataRef[];
  private readonly deleteTx: (
    bucket: string,
    key: string,
    versionId: string,
    lock: LockCheck | undefined,
    expectLastModified: number | undefined,
  ) => ObjectRecord | undefined;
  private readonly updateBucketTx: (name: string, patch: BucketPatch) => BucketRecord;
  private readonly updateTx: (bucket: string, key: string, versionId: string | undefined, patch: ObjectPatch) => ObjectRecord | undefined;
  private readonly deleteBucketTx: (name: string) => void;
  private readonly createUploadTx: (u: UploadRecord) => void;
  private readonly putPartTx: (bucket: string, key: string, uploadId: string, part: PartRecord) => DataRef[];
  private readonly listPartsTx: (bucket: string, key: string, uploadId: string, after: number, limit: number) => PartRecord[];
  private readonly completeTx: (
    bucket: string,
    key: string,
    uploadId: string,
    rec: ObjectRecord,
    cond: WriteCondition | undefined,
    lock: LockCheck | undefined,
  ) => DataRef[];
  private readonly abortTx: (bucket: string, key: string, uploadId: string) => DataRef[];
  private readonly putConfigTx: (bucket: string, name: string, value: string | undefined) => void;
  private readonly writes: WriteScheduler;
  /** getBucketWithConfigs' statements, by the number of documents asked for. */
  private readonly configsSt = new Map<number, Stmt>();
  /** Buckets, configuration reads and object versions through the hot-row cache (sqlite-hot.ts). */
  readonly hot: HotReads;
  /** Per-bucket usage counters (format 10), moved by every version write and removal. */
  readonly usage: SqliteUsage;
  /** Shards of erasure-coded pieces to heal (format 11): see ../heal-queue.ts. */
  readonly healQueue: SqliteHealQueue;

  private constructor(
    private readonly db: Db,
    walPath: string | undefined,
    private readonly busyRetryMs: number,
    walCalls?: WalSyncCalls,
    hot?: HotReadOptions,
    mirror?: WalMirrorHook,
  ) {
    this.wal = walPath === undefined ? undefined : new WalSync(walPath, walCalls, mirror);
    this.coord = new SqliteCoordination(db, busyRetryMs);
    this.st = prepareAll(db);
    this.usage = new SqliteUsage(db);
    this.hot = new HotReads(db, this.st, hot);
    // Commits of this connection drop the cached rows they change, inside their transaction.
    const cache = this.hot.cache;
    this.scans = new SqliteScans(db, this.st);
    this.putTx = db.transaction((rec: ObjectRecord, cond: WriteCondition | undefined, lock: LockCheck | undefined) => this.putInTx(rec, cond, lock)).immediate;
    this.deleteTx = db.transaction((bucket: string, key: string, versionId: string, lock: LockCheck | undefined, expectLastModified: number | undefined) =>
      this.deleteInTx(bucket, key, versionId, lock, expectLastModified),
    ).immediate;
    this.updateBucketTx = db.transaction((name: string, patch: BucketPatch) => {
      const row = this.st.getBucket.get(name) as BucketRow | undefined;
      if (row === undefined) throw new StoreError('NoSuchBucket');
      const b = toBucket(row);
      applyBucketPatch(b, patch);
      this.st.updateBucket.run(b.versioning, b.objectLock ? 1 : 0, name);
      cache?.dropBucket(name);
      return b;
    }).immediate;
    this.updateTx = db.transaction((bucket: string, key: string, versionId: string | undefined, patch: ObjectPatch) => {
      if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
      const kb = toBytes(key);
      const row = (versionId === undefined ? this.st.getLatest.get(bucket, kb) : this.st.getVersion.get(bucket, kb, versionId)) as ObjectRow | undefined;
      if (!row || row.is_delete_marker === 1) return undefined;
      const rec = toRecord(row);
      applyObjectPatch(rec, patch);
      this.st.updateMeta.run(JSON.stringify(rec.meta), extrasJson(rec), bucket, kb, row.version_id);
      cache?.dropKey(bucket, key);
      return rec;
    }).immediate;
    this.deleteBucketTx = db.transaction((name: string) => {
      if (this.st.getBucket.get(name) === undefined) throw new StoreError('NoSuchBucket');
      // In-progress multipart uploads do not keep a bucket alive (S3 general purpose buckets):
      // they, their parts and the bucket's configuration documents go with it (ON DELETE CASCADE).
      if (this.st.anyObject.get(name) !== undefined) throw new StoreError('BucketNotEmpty');
      this.st.deleteBucket.run(name);
      this.usage.bucketDeleted(name);
      cache?.clear();
    }).immediate;
    this.createUploadTx = db.transaction((u: UploadRecord) => {
      if (this.st.getBucket.get(u.bucket) === undefined) throw new StoreError('NoSuchBucket');
      this.st.insertUpload.run(...uploadParams(u));
    }).immediate;
    this.putPartTx = db.transaction((bucket: string, key: string, uploadId: string, part: PartRecord) =>
      this.putPartInTx(bucket, key, uploadId, part),
    ).immediate;
    // Deferred (read) transaction: the upload check and the page come from one snapshot.
    this.listPartsTx = db.transaction((bucket: string, key: string, uploadId: string, after: number, limit: number) => {
      const kb = toBytes(key);
      if (this.st.getUpload.get(bucket, kb, uploadId) === undefined) throw new StoreError('NoSuchUpload');
      if (limit <= 0) return [];
      return (this.st.listParts.all(bucket, kb, uploadId, after, limit) as PartRow[]).map(toPart);
    });
    this.completeTx = db.transaction(
      (bucket: string, key: string, uploadId: string, rec: ObjectRecord, cond: WriteCondition | undefined, lock: LockCheck | undefined) =>
        this.completeInTx(bucket, key, uploadId, rec, cond, lock),
    ).immediate;
    this.abortTx = db.transaction((bucket: string, key: string, uploadId: string) => {
      const kb = toBytes(key);
      if (this.st.getUpload.get(bucket, kb, uploadId) === undefined) throw new StoreError('NoSuchUpload');
      const parts = this.st.allParts.all(bucket, kb, uploadId) as PartRow[];
      this.st.deleteUpload.run(bucket, kb, uploadId); // cascades to upload_parts
      return this.unreferenced(parts.map((r) => ({ id: r.data_id, size: r.size })));
    }).immediate;
    this.writes = new WriteScheduler(db, this.wal, busyRetryMs);
    // An identity change moves the identity generation that configuration reads carry.
    this.identities = new SqliteIdentities(db, (run) =>
      this.writeNow(() => {
        cache?.dropConfigs();
        return run();
      }),
    );
    this.kmsKeys = new SqliteKmsKeys(db, (run) => this.writeNow(run), this.hot);
    this.healQueue = new SqliteHealQueue(db, (run) => this.writeNow(run));
    this.putConfigTx = db.transaction((bucket: string, name: string, value: string | undefined) => {
      if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
      if (value === undefined) this.st.deleteConfig.run(bucket, name);
      else this.st.putConfig.run(bucket, name, value);
      cache?.dropBucket(bucket);
    }).immediate;
  }

  /** Opens (creating if needed) the database file and brings its schema to the current format. */
  static open(path: string, opts: SqliteOptions = {}): SqliteMetaStore {
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL: a commit does not fsync (it would block the event loop, one fsync per write);
      // durability comes from WalSync, which fdatasyncs the WAL off the event loop before a write
      // resolves, once for all the commits made meanwhile. SQLite itself still syncs the WAL
      // before each checkpoint and the WAL header when the WAL restarts, and the database after a
      // checkpoint, so the file stays consistent (docs/on-disk-format.md, "Durability").
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // Temporary files in memory. Every object write of a batch runs in a savepoint, whose
      // sub-journal (the pages it changed that the batch had changed before) spilled to an unlinked
      // file in /var/tmp past 64 KiB and then cost ~4.6 pwrite calls per 4 KiB PUT at 64 at a time.
      // In memory it is emptied at each savepoint's release. The other temporary B-trees are small:
      // sorts of short lists, or bounded by a LIMIT (docs/performance.md, "Savepoint journals").
      db.pragma('temp_store = MEMORY');
      // With copies, only mirror.ts checkpoints (after copying every frame): see docs/on-disk-format.md.
      if (opts.mirror) db.pragma('wal_autocheckpoint = 0');
      // Opening may wait for another connection (the schema check runs once, before serving).
      db.pragma('busy_timeout = 5000');
      migrate(db);
      // Serving never waits inside SQLite: better-sqlite3 is synchronous, so a busy handler would
      // sleep on the event loop and freeze every request while another process holds the write
      // lock. A locked write fails at once and is retried asynchronously (writeNow, flushBatch);
      // reads need no lock in WAL mode and are never queued behind those retries.
      db.pragma('busy_timeout = 0');
      const durable = !inMemory && (opts.durability ?? 'fsync') === 'fsync';
      return new SqliteMetaStore(db, durable ? `${path}-wal` : undefined, opts.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS, opts.walCalls, opts.hot, opts.mirror);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private writeNow<T>(run: () => T): T | Promise<T> {
    return this.writes.now(run);
  }

  private batched<T>(run: () => T): T | Promise<T> {
    return this.writes.batched(run);
  }

  /** Transactions in which a batch ran (tests: object writes of one turn share one). */
  get batches(): number {
    return this.writes.batches;
  }

  /** Completed WAL fdatasync calls (tests: group commit shares them). */
  get walSyncs(): number {
    return this.wal?.syncs ?? 0;
  }

  createBucket(bucket: BucketRecord): void | Promise<void> {
    return this.writeNow(() => {
      try {
        this.hot.cache?.dropBucket(bucket.name);
        this.st.insertBucket.run(bucket.name, bucket.region, bucket.createdAt, bucket.versioning, bucket.owner, bucket.objectLock ? 1 : 0);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreError('BucketAlreadyExists');
        throw err;
      }
    });
  }

  getBucket(name: string): BucketRecord | undefined {
    return read(() => {
      const row = this.hot.bucket(name);
      return row && toBucket(row);
    });
  }

  /** A request (or job step) begins: see sqlite-hot.ts, when cached rows may be used. */
  requestArrived(): void {
    this.hot.requestArrived();
  }

  listBuckets(): BucketRecord[] {
    return read(() => {
      return (this.st.listBuckets.all() as BucketRow[]).map(toBucket);
    });
  }

  updateBucket(name: string, patch: BucketPatch): BucketRecord | Promise<BucketRecord> {
    return this.writeNow(() => this.updateBucketTx(name, patch));
  }

  deleteBucket(name: string): void | Promise<void> {
    return this.writeNow(() => this.deleteBucketTx(name));
  }

  getObject(bucket: string, key: string, versionId?: string, withBytes = true): ObjectRecord | undefined {
    return read(() => this.hot.object(bucket, key, versionId, withBytes));
  }

  putObject(record: ObjectRecord, cond?: WriteCondition, lock?: LockCheck): DataRef[] | Promise<DataRef[]> {
    return this.batched(() => this.putTx(record, cond, lock));
  }

  private putInTx(rec: ObjectRecord, cond: WriteCondition | undefined, lock: LockCheck | undefined): DataRef[] {
    if (this.st.getBucket.get(rec.bucket) === undefined) throw new StoreError('NoSuchBucket');
    this.checkCondition(rec.bucket, toBytes(rec.key), cond);
    const replaced = this.writeVersion(rec, lock);
    return replaced ? this.unreferenced(replaced) : [];
  }

  /**
   * Checks a write condition against the current object. Called inside the IMMEDIATE transaction
   * of the write, so no other writer can slip in between (If-None-Match: * is a real
   * create-if-absent).
   */
  private checkCondition(bucket: string, kb: Buffer, cond: WriteCondition | undefined): void {
    if (!cond || (!cond.mustNotExist && !cond.mustExist && cond.etagMatches === undefined)) return;
    const latest = this.st.getLatest.get(bucket, kb) as ObjectRow | undefined;
    const current = latest && latest.is_delete_marker === 0 ? latest : undefined;
    if (cond.mustNotExist && current) throw new StoreError('PreconditionFailed', 'If-None-Match');
    if (cond.mustExist && !current) throw new StoreError('NoSuchKey');
    if (cond.etagMatches !== undefined) {
      if (!current) throw new StoreError('NoSuchKey');
      if (current.etag !== cond.etagMatches) throw new StoreError('PreconditionFailed', 'If-Match');
    }
  }

  /**
   * Makes `rec` the latest version (replacing its version id, if present and object lock allows);
   * returns the replaced data.
   */
  private writeVersion(rec: ObjectRecord, lock: LockCheck | undefined): DataRef[] | undefined {
    const { bucket, versionId } = rec;
    const kb = toBytes(rec.key);
    this.hot.cache?.dropKey(bucket, rec.key);
    const replaced = this.st.getVersion.get(bucket, kb, versionId) as ObjectRow | undefined;
    if (replaced) {
      checkRemovable(toRecord(replaced), lock);
      this.st.deleteVersion.run(bucket, kb, versionId); // cascades to object_data
    }
    const cleared = this.usage.clearLatest.get(bucket, kb) as { is_delete_marker: number } | undefined;
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
      extrasJson(rec),
    );
    for (const d of rec.data) this.st.insertData.run(d.id, bucket, kb, versionId);
    if (rec.inline !== undefined && rec.inline.length > 0) {
      if (rec.data.length > 0 || rec.inline.length !== storedInlineSize(rec))
        throw new Error('putObject: inline bytes must be the whole object (sealed: its sealed piece) and its only data');
      this.st.insertInline.run(bucket, kb, versionId, rec.inline);
    }
    this.usage.written(bucket, rec.isDeleteMarker, rec.size, replaced, cleared);
    return replaced ? (JSON.parse(replaced.data) as DataRef[]) : undefined;
  }

  /**
   * The refs (deduplicated) that nothing references any more: only those may be freed. The new
   * record, another version or an upload part may share an id (e.g. a metadata-only self-copy).
   */
  private unreferenced(refs: DataRef[]): DataRef[] {
    const seen = new Set<string>();
    return refs.filter((d) => {
      if (seen.has(d.id)) return false;
      seen.add(d.id);
      return !this.isDataReferenced(d.id);
    });
  }

  deleteObject(
    bucket: string,
    key: string,
    versionId: string = NULL_VERSION,
    lock?: LockCheck,
    expectLastModified?: number,
  ): ObjectRecord | undefined | Promise<ObjectRecord | undefined> {
    return this.batched(() => this.deleteTx(bucket, key, versionId, lock, expectLastModified));
  }

  private deleteInTx(
    bucket: string,
    key: string,
    versionId: string,
    lock: LockCheck | undefined,
    expectLastModified: number | undefined,
  ): ObjectRecord | undefined {
    if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
    const kb = toBytes(key);
    const row = this.st.getVersion.get(bucket, kb, versionId) as ObjectRow | undefined;
    if (!row) return undefined;
    // The lifecycle job removes the version it evaluated, never one that replaced it meanwhile (a new 'null' version).
    if (expectLastModified !== undefined && row.last_modified !== expectLastModified) throw new StoreError('PreconditionFailed');
    checkRemovable(toRecord(row), lock);
    this.hot.cache?.dropKey(bucket, key);
    this.st.deleteVersion.run(bucket, kb, versionId); // cascades to object_data, object_inline, object_multipart
    // Keep "one latest per key while any version exists": the newest remaining version takes over.
    const promoted = row.is_latest === 1 ? (this.usage.promoteNewest.get({ bucket, key: kb }) as { is_delete_marker: number } | undefined) : undefined;
    this.usage.removed(bucket, row, promoted);
    return toRecord(row);
  }

  scanVersions(bucket: string, prefix: string, keyMarker: string, versionIdMarker: string, limit: number, from?: string): ListedVersion[] {
    return read(() => this.scans.versions(bucket, prefix, keyMarker, versionIdMarker, limit, from));
  }

  updateObject(bucket: string, key: string, versionId: string | undefined, patch: ObjectPatch): ObjectRecord | undefined | Promise<ObjectRecord | undefined> {
    return this.writeNow(() => this.updateTx(bucket, key, versionId, patch));
  }

  /**
   * `after` and `from` may also be raw byte strings (Buffers): a seek position need not be valid
   * UTF-8. The MetaStore interface only needs strings; the wider type is a convenience.
   */
  scanObjects(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ObjectRecord[] {
    return read(() => this.scans.objects(bucket, prefix, after, limit, from));
  }

  /** As scanObjects (same bounds, also as raw bytes), as ListedObject. */
  scanListing(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ListedObject[] {
    return read(() => this.scans.listing(bucket, prefix, after, limit, from));
  }

  // ---- multipart uploads ----------------------------------------------------------------------

  createUpload(upload: UploadRecord): void | Promise<void> {
    return this.writeNow(() => this.createUploadTx(upload));
  }

  getUpload(bucket: string, key: string, uploadId: string): UploadRecord | undefined {
    return read(() => {
      const row = this.st.getUpload.get(bucket, toBytes(key), uploadId) as UploadRow | undefined;
      return row && toUpload(row);
    });
  }

  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): DataRef[] | Promise<DataRef[]> {
    return this.writeNow(() => this.putPartTx(bucket, key, uploadId, part));
  }

  private putPartInTx(bucket: string, key: string, uploadId: string, part: PartRecord): DataRef[] {
    const kb = toBytes(key);
    if (this.st.getUpload.get(bucket, kb, uploadId) === undefined) throw new StoreError('NoSuchUpload');
    const old = this.st.getPart.get(bucket, kb, uploadId, part.partNumber) as PartRow | undefined;
    this.st.putPart.run(...partParams(bucket, kb, uploadId, part));
    return old ? this.unreferenced([{ id: old.data_id, size: old.size }]) : [];
  }

  /** Throws NoSuchUpload when the upload does not exist (also when it was completed or aborted). */
  listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, limit: number): PartRecord[] {
    return read(() => {
      return this.listPartsTx(bucket, key, uploadId, afterPartNumber, limit);
    });
  }

  /** Throws NoSuchBucket. An empty uploadIdMarker means: only keys after keyMarker. */
  listUploads(q: UploadListQuery): UploadRecord[] {
    return read(() => this.scans.uploads(q));
  }

  completeUpload(bucket: string, key: string, uploadId: string, record: ObjectRecord, cond?: WriteCondition, lock?: LockCheck): DataRef[] | Promise<DataRef[]> {
    return this.writeNow(() => this.completeTx(bucket, key, uploadId, record, cond, lock));
  }

  private completeInTx(
    bucket: string,
    key: string,
    uploadId: string,
    rec: ObjectRecord,
    cond: WriteCondition | undefined,
    lock: LockCheck | undefined,
  ): DataRef[] {
    const kb = toBytes(key);
    if (rec.bucket !== bucket || rec.key !== key) throw new Error('completeUpload: the record is for another key');
    if (this.st.getUpload.get(bucket, kb, uploadId) === undefined) throw new StoreError('NoSuchUpload');
    this.checkCondition(bucket, kb, cond);
    const partRows = this.st.allParts.all(bucket, kb, uploadId) as PartRow[];
    const parts = partRows.map((r) => ({ id: r.data_id, size: r.size }));
    // The record may only point at this upload's pieces: anything else could be freed under it.
    const partIds = new Set(parts.map((d) => d.id));
    for (const d of rec.data) {
      if (!partIds.has(d.id)) throw new Error(`completeUpload: data ${d.id} is not a part of upload ${uploadId}`);
    }
    // Each part's checksums, in the object's order (its pieces are the chosen parts').
    const checksumsById = new Map(partRows.map((r) => [r.data_id, r.checksums === null ? {} : (JSON.parse(r.checksums) as Record<string, string>)]));
    const partChecksums = rec.data.map((d) => checksumsById.get(d.id) ?? {});
    this.st.deleteUpload.run(bucket, kb, uploadId); // cascades to upload_parts
    const replaced = this.writeVersion(rec, lock) ?? []; // cascades to the replaced version's object_multipart row
    this.st.insertMultipart.run(bucket, kb, rec.versionId, uploadId, JSON.stringify(partChecksums));
    return this.unreferenced([...parts, ...replaced]);
  }

  getCompletedUpload(bucket: string, key: string): CompletedUpload | undefined {
    if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
    const kb = toBytes(key);
    const latest = this.st.getLatest.get(bucket, kb) as ObjectRow | undefined;
    if (!latest || latest.is_delete_marker === 1) return undefined;
    const row = this.st.getMultipart.get(bucket, kb, latest.version_id) as { version_id: string; upload_id: string; part_checksums: string } | undefined;
    if (!row) return undefined;
    return { versionId: row.version_id, uploadId: row.upload_id, partChecksums: JSON.parse(row.part_checksums) as CompletedUpload['partChecksums'] };
  }

  abortUpload(bucket: string, key: string, uploadId: string): DataRef[] | Promise<DataRef[]> {
    return this.writeNow(() => this.abortTx(bucket, key, uploadId));
  }

  // ---- bucket configuration documents -------------------------------------------------------

  getBucketConfig(bucket: string, name: string): string | undefined {
    // Through the hot rows, as a configuration read of one document.
    const row = read(() => this.hot.bucketWithConfigs(bucket, [name], this.configsStatement(1)));
    if (row === undefined) throw new StoreError('NoSuchBucket');
    return (row[6] as string | null) ?? undefined;
  }

  getBucketWithConfigs(name: string, configs: readonly string[]): BucketWithConfigs | undefined {
    const st = this.configsStatement(configs.length);
    const row = read(() => this.hot.bucketWithConfigs(name, configs, st));
    if (row === undefined) return undefined;
    const [n, region, createdAt, versioning, owner, objectLock] = row as [string, string, number, BucketRecord['versioning'], string, number];
    const found = new Map<string, string>();
    for (let i = 0; i < configs.length; i++) if (row[6 + i] !== null) found.set(configs[i]!, row[6 + i] as string);
    const bucket = toBucket({ name: n, region, created_at: createdAt, versioning, owner, object_lock: objectLock });
    return { bucket, configs: found, identityGeneration: row[6 + configs.length] as number };
  }

  /** getBucketWithConfigs' statement for `n` documents (prepared once). */
  private configsStatement(n: number): Stmt {
    let st = this.configsSt.get(n);
    if (st === undefined) this.configsSt.set(n, (st = this.db.prepare(bucketWithConfigsSql(n)).raw(true)));
    return st;
  }

  putBucketConfig(bucket: string, name: string, value: string | undefined): void | Promise<void> {
    return this.writeNow(() => this.putConfigTx(bucket, name, value));
  }

  // ---- background jobs' state ---------------------------------------------------------------

  getJobState(name: string): string | undefined {
    return read(() => (this.st.getJobState.get(name) as { value: string } | undefined)?.value);
  }

  putJobState(name: string, value: string | undefined): void | Promise<void> {
    return this.writeNow(() => {
      if (value === undefined) this.st.deleteJobState.run(name);
      else this.st.putJobState.run(name, value);
    });
  }

  /** Referenced by any object version or any upload part. */
  isDataReferenced(dataId: string): boolean {
    return read(() => {
      return this.st.dataReferenced.get(dataId) !== undefined || this.st.partDataReferenced.get(dataId) !== undefined;
    });
  }

  /** Synchronous without group commit (durability 'none'); otherwise waits for syncs in flight first. */
  close(): void | Promise<void> {
    const closeDb = (): void => {
      this.hot.close();
      if (this.db.open) this.db.close();
    };
    if (!this.wal) return closeDb();
    return this.wal.close().then(closeDb, (err: unknown) => {
      closeDb();
      throw err;
    });
  }
}
