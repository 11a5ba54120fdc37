// The storage engine's façade: buckets, objects and multipart uploads as records and byte streams,
// over a MetaStore and a DataStore. It owns the write protocol: data durable first, then one
// metadata commit (the moment the object or part exists), then the replaced data freed. Its
// multipart uploads are in store-uploads.ts (StoreUploads, which it extends).
import type { IdentityStore } from './identities.js';
import type { KmsKeyStore } from './kms-keys.js';
import type { UsageReader } from './usage.js';
import type { HealQueueStore } from './heal-queue.js';
import type { ErasureMaintenance } from './data/erasure/types.js';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { StoreError } from './errors.js';
import type {
  BucketRecord,
  DataRef,
  DataStore,
  ListPage,
  ListQuery,
  ListedVersion,
  MetaStore,
  ObjectPatch,
  ObjectRecord,
  ObjectWrite,
  WriteCondition,
} from './types.js';
import { NULL_VERSION, ROOT_USER_ID } from './types.js';
import type { BucketPatch, BucketWithConfigs, ChangeNotices, LockCheck } from './types.js';
import { listPage } from './listing.js';
import { listVersionPage, type VersionListQuery, type VersionPage } from './version-listing.js';
import { plainSize, sealStream } from './sealed.js';
import { openInline } from './verified-read.js';
import { randomUUID } from 'node:crypto';
import { PieceKeeper } from './piece-keeper.js';
import { UploadLocks } from './upload-lock.js';
import { WriteIntents } from './write-intents.js';
import { newDeleteMarker, newVersion, versionIdFor } from './versions.js';
import { PART_BATCH, StoreUploads } from './store-uploads.js';
import { openObjectRead, readPinned, takeObjectBytes } from './object-io.js';
import { sweepOrphanPieces, takeOverDirectory } from './sweeps.js';

export type { UploadPage, UploadPageQuery } from './upload-listing.js';

export type { DeleteOptions, DeleteOutcome, ObjectBytes, ObjectHandle, ReadOptions, StoreOptions } from './store-types.js';
import type { DeleteOptions, DeleteOutcome, ObjectBytes, ObjectHandle, ReadOptions, StoreOptions } from './store-types.js';

/**
 * How long a record returned by getObject keeps its pieces pinned when neither openRead nor
 * releaseObject follows (a caller that only needed the metadata and did not release it), and how
 * long a stream from openRead may stay unread before it is destroyed (which unpins it).
 */
const DEFAULT_READ_LEASE_MS = 10_000;

/** Objects up to this size are stored inline in the metadata store by default (see writeObjectData). */
export const DEFAULT_INLINE_MAX = 128 * 1024;

/** Default grace period of a free when several processes share the directory (see piece-keeper.ts). */
export const DEFAULT_SHARED_FREE_GRACE_MS = 60_000;

export class Store extends StoreUploads {
  private readonly readLeaseMs: number;

  readonly inlineMax: number;

  /** This process's name in leases and intents. */
  readonly owner = `${process.pid}-${randomUUID()}`;

  /** Read pins and frees (in this process and across processes). */
  private readonly keeper: PieceKeeper;
  protected readonly locks: UploadLocks;
  protected readonly intents: WriteIntents;

  constructor(
    protected readonly meta: MetaStore,
    private readonly data: DataStore,
    private readonly log?: Logger,
    opts: StoreOptions = {},
  ) {
    super();
    const grace = opts.freeGraceMs ?? 0;
    this.readLeaseMs = opts.readLeaseMs ?? DEFAULT_READ_LEASE_MS;
    if (grace > 0) this.readLeaseMs = Math.min(this.readLeaseMs, grace / 4);
    this.inlineMax = opts.inlineMax ?? DEFAULT_INLINE_MAX;
    this.keeper = new PieceKeeper(meta.coord, data, this.readLeaseMs, grace, log);
    this.locks = new UploadLocks(meta.coord, log);
    this.intents = new WriteIntents(meta.coord, this.owner, log);
  }

  /**
   * Users, groups, managed policies and access keys (format 7, identities.ts): the metadata store's
   * identity tables, read per request by the credential source (src/iam/credentials.ts).
   */
  get identities(): IdentityStore {
    return this.meta.identities;
  }

  /** The built-in key service's master keys (format 9, kms-keys.ts): read by src/kms/builtin.ts. */
  get kmsKeys(): KmsKeyStore {
    return this.meta.kmsKeys;
  }

  /** Per-bucket objects, versions and bytes (format 10, usage.ts): never a scan. */
  get usage(): UsageReader {
    return this.meta.usage;
  }

  /** Shards of erasure-coded pieces to heal (format 11, heal-queue.ts): the heal and scrub jobs' queue. */
  get healQueue(): HealQueueStore {
    return this.meta.healQueue;
  }

  /** The erasure store's scrub and heal operations when the data store is erasure-coded (several drives), else undefined. */
  get erasure(): ErasureMaintenance | undefined {
    const d = this.data as Partial<ErasureMaintenance>;
    return typeof d.verifyPiece === 'function' && typeof d.healPiece === 'function' && typeof d.pieceIds === 'function' && d.drives !== undefined
      ? (this.data as unknown as ErasureMaintenance)
      : undefined;
  }

  // ---- buckets -------------------------------------------------------------------------------

  /**
   * Creates a bucket owned by `owner` (a user id). A name already taken answers
   * BucketAlreadyOwnedByYou when `owner` owns it, BucketAlreadyExists when someone else does.
   */
  async createBucket(name: string, region: string, owner: string = ROOT_USER_ID, opts: { objectLock?: boolean } = {}): Promise<void> {
    // A bucket made with object lock has versioning enabled for good (S3).
    const objectLock = opts.objectLock === true;
    try {
      await this.meta.createBucket({ name, region, createdAt: Date.now(), versioning: objectLock ? 'Enabled' : '', owner, objectLock });
    } catch (err) {
      if (err instanceof StoreError && err.code === 'BucketAlreadyExists' && (await this.meta.getBucket(name))?.owner === owner) {
        throw new StoreError('BucketAlreadyOwnedByYou');
      }
      throw err;
    }
  }

  /**
   * A request arrived (server.ts) or a job step begins (jobs/runner.ts): the reads that follow see
   * every commit made before this moment, by any process (meta/sqlite-hot.ts).
   */
  requestArrived(): void {
    this.meta.requestArrived?.();
  }

  /** See MetaStore.attachChangeNotices (a no-op on a store without shared caches). */
  attachChangeNotices(notices: ChangeNotices, onPublishError?: (name: string, err: unknown) => void): () => void {
    return this.meta.attachChangeNotices?.(notices, onPublishError) ?? (() => undefined);
  }

  /** `fresh`: past any cache that may lag other processes (MetaStore.getBucket). */
  async getBucket(name: string, opts?: { fresh?: boolean }): Promise<BucketRecord | undefined> {
    return this.meta.getBucket(name, opts);
  }

  /** The bucket, or StoreError('NoSuchBucket'). */
  async requireBucket(name: string): Promise<BucketRecord> {
    const b = await this.meta.getBucket(name);
    if (!b) throw new StoreError('NoSuchBucket');
    return b;
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return this.meta.listBuckets();
  }

  /**
   * Sets versioning (Enabled / Suspended) or enables object lock; returns the updated bucket.
   * Throws NoSuchBucket, InvalidBucketState (see MetaStore.updateBucket).
   */
  async updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord> {
    return this.meta.updateBucket(name, patch);
  }

  /**
   * Deletes an empty bucket. In-progress multipart uploads do not make a bucket "not empty": S3
   * general purpose buckets can be deleted with incomplete uploads (only directory buckets refuse),
   * and the uploads go with the bucket. Their pieces are collected first, the metadata commit
   * removes bucket, uploads and parts in one transaction, then the pieces are freed. A part
   * committed between the collection and the commit is left as an orphan for the next start's
   * sweep; a part committed after it fails with NoSuchUpload and frees its own piece.
   */
  async deleteBucket(name: string): Promise<void> {
    await this.requireBucket(name);
    const pieces: DataRef[] = [];
    let keyMarker = '';
    let uploadIdMarker = '';
    for (;;) {
      const uploads = await this.meta.listUploads({ bucket: name, prefix: '', keyMarker, uploadIdMarker, limit: PART_BATCH });
      for (const u of uploads) {
        try {
          for (const p of await this.allParts(name, u.key, u.uploadId)) pieces.push(p.data);
        } catch (err) {
          if (!(err instanceof StoreError && err.code === 'NoSuchUpload')) throw err; // completed meanwhile
        }
      }
      if (uploads.length < PART_BATCH) break;
      keyMarker = uploads[uploads.length - 1]!.key;
      uploadIdMarker = uploads[uploads.length - 1]!.uploadId;
    }
    await this.meta.deleteBucket(name);
    const free: DataRef[] = [];
    for (const d of pieces) if (!(await this.meta.isDataReferenced(d.id))) free.push(d);
    await this.freeData(free);
  }

  /** A bucket's configuration document (JSON text) or undefined. Throws NoSuchBucket. */
  async getBucketConfig(bucket: string, name: string): Promise<string | undefined> {
    return this.meta.getBucketConfig(bucket, name);
  }

  /** The bucket and the named configuration documents it has, in one read; undefined: no such bucket. */
  async getBucketWithConfigs(name: string, configs: readonly string[]): Promise<BucketWithConfigs | undefined> {
    return this.meta.getBucketWithConfigs(name, configs);
  }

  /** Stores a configuration document; undefined removes it. Throws NoSuchBucket. */
  async putBucketConfig(bucket: string, name: string, value: string | undefined): Promise<void> {
    await this.meta.putBucketConfig(bucket, name, value);
  }

  // ---- objects -------------------------------------------------------------------------------

  /**
   * Writes bytes durably; they belong to no object until commitObject. With `sealKey` (32 bytes) the
   * piece is sealed with it (store/sealed.ts); the DataRef's size is the plaintext's either way.
   * `storageClass`: the object's (or upload's) x-amz-storage-class, which the erasure data store
   * turns into the piece's parity.
   */
  async writeData(source: AsyncIterable<Buffer>, signal?: AbortSignal, sealKey?: Buffer, storageClass?: string): Promise<DataRef> {
    const opts = storageClass === undefined ? undefined : { storageClass };
    if (sealKey === undefined) return this.intents.around(() => this.data.write(source, signal, opts));
    const ref = await this.intents.around(() => this.data.write((id) => sealStream(source, sealKey, id), signal, opts));
    const size = plainSize(ref.size);
    if (size < 0) throw new Error(`writeData: the data store kept ${ref.size} bytes, no sealed piece's size`);
    return { id: ref.id, size };
  }

  /**
   * Writes a whole object's bytes. Up to `inlineMax` bytes are kept in memory and returned as
   * `inline`: they become durable with the metadata commit itself (no data file, no data fsync, one
   * shared WAL sync), and GET serves them from the metadata row. A larger object goes to the data
   * store as one piece (the bytes read so far first). An empty object has no data at all. Like
   * writeData, nothing remains when `source` throws or `signal` aborts. With `sealKey` the bytes are
   * sealed (store/sealed.ts), inline ones too; the record must then carry `sse` (its readers give the key).
   */
  async writeObjectData(source: AsyncIterable<Buffer>, signal?: AbortSignal, sealKey?: Buffer, storageClass?: string): Promise<ObjectBytes> {
    return takeObjectBytes(source, signal, sealKey, this.inlineMax, (all) => this.writeData(all, signal, sealKey, storageClass));
  }

  /**
   * The version a write makes now: its id from the bucket's versioning state (versions.ts), its time
   * now. Throws NoSuchBucket. The state is read before the commit: a write racing a change of the
   * bucket's versioning state is ordered before that change.
   */
  protected async newVersionOf(write: ObjectWrite): Promise<ObjectRecord> {
    const bucket = await this.requireBucket(write.bucket);
    return newVersion(write, versionIdFor(bucket.versioning), Date.now());
  }

  /**
   * The commit point: makes the written object (bytes from writeObjectData / writeData) the latest
   * version of its key, with the version id the bucket's versioning state gives it. If the commit
   * fails (missing bucket, failed condition), the new data is removed and the error rethrown. Data of
   * a replaced version is freed after the commit; a crash before that leaves an orphan for the sweep.
   * Returns the committed record.
   */
  async commitObject(write: ObjectWrite, cond?: WriteCondition, lock?: LockCheck): Promise<ObjectRecord> {
    let record: ObjectRecord;
    let replaced: DataRef[];
    try {
      record = await this.newVersionOf(write);
      replaced = await this.meta.putObject(record, cond, lock);
    } catch (err) {
      await this.discard(write.data);
      throw err;
    } finally {
      await this.intents.done(write.data.map((d) => d.id));
    }
    await this.freeData(replaced);
    return record;
  }

  /**
   * The current version, with its pieces pinned for reading (see "read pins" below): pass the
   * record to openRead, which keeps them pinned until its stream closes, or to releaseObject when
   * no data will be read (HEAD, failed conditionals). A record that gets neither is released after
   * the read lease (10 s): until then, frees of its pieces are deferred.
   */
  async getObject(bucket: string, key: string, withBytes = true, versionId?: string): Promise<ObjectRecord | undefined> {
    return readPinned(this.meta, this.keeper, bucket, key, withBytes, versionId);
  }

  /** Unpins a record from getObject whose data will not be read. Idempotent; no-op for other records. */
  releaseObject(record: ObjectRecord): void {
    this.keeper.releaseObject(record);
  }

  /**
   * The version (default: the latest) as a handle whose pieces stay pinned until it is released or
   * streamed; undefined if there is none or it is a delete marker.
   */
  async readObject(bucket: string, key: string, opts: ReadOptions = {}): Promise<ObjectHandle | undefined> {
    const record = await this.getObject(bucket, key, opts.withBytes ?? true, opts.versionId);
    if (!record) return undefined;
    const release = (): void => this.releaseObject(record);
    return {
      record,
      stream: (range, key) => this.openRead(record, range, key),
      inline: (key) => this.inlineBytes(record, key),
      release,
      [Symbol.dispose]: release,
    };
  }

  /**
   * S3's DeleteObject. With `versionId`: removes exactly that version (object or delete marker; if
   * it was the latest, the newest remaining one takes over). Without: in a bucket that never had
   * versioning, removes the 'null' version; with versioning Enabled, adds a delete marker with a new
   * version id; Suspended, replaces the 'null' version (if any) with a delete marker whose id is
   * 'null'. Object lock is checked in the transaction (StoreError('ObjectLocked')). Data of a
   * removed version are freed. Throws NoSuchBucket.
   */
  async deleteObject(bucket: string, key: string, opts: DeleteOptions = {}): Promise<DeleteOutcome> {
    const { versionId, lock, ifLastModified } = opts;
    if (versionId === undefined) {
      const b = await this.requireBucket(bucket);
      if (b.versioning !== '') {
        const marker = newDeleteMarker(bucket, key, versionIdFor(b.versioning), Date.now());
        await this.freeData(await this.meta.putObject(marker, undefined, lock));
        return { removed: true, deleteMarker: true, versionId: marker.versionId };
      }
    }
    const removed = await this.meta.deleteObject(bucket, key, versionId ?? NULL_VERSION, lock, versionId === undefined ? undefined : ifLastModified);
    if (!removed) return { removed: false, deleteMarker: false };
    await this.freeData(removed.data);
    return { removed: true, deleteMarker: removed.isDeleteMarker, versionId: versionId ?? NULL_VERSION };
  }

  /**
   * A version's record (the latest without `versionId`), delete markers included, metadata only
   * (no inline bytes, nothing pinned): what S3 answers about a key whose read found nothing (the
   * delete-marker headers), and what metadata operations look at. undefined if there is none.
   */
  async versionRecord(bucket: string, key: string, versionId?: string): Promise<ObjectRecord | undefined> {
    return this.meta.getObject(bucket, key, versionId, false);
  }

  /** A metadata-only change of one version (see MetaStore.updateObject); undefined if there is none. */
  async updateObject(bucket: string, key: string, versionId: string | undefined, patch: ObjectPatch): Promise<ObjectRecord | undefined> {
    return this.meta.updateObject(bucket, key, versionId, patch);
  }

  async list(q: ListQuery): Promise<ListPage> {
    return listPage(this.meta, q);
  }

  /** Versions in (key, newest first) order after the markers (see MetaStore.scanVersions). */
  async scanVersions(bucket: string, prefix: string, keyMarker: string, versionIdMarker: string, limit: number): Promise<ListedVersion[]> {
    return this.meta.scanVersions(bucket, prefix, keyMarker, versionIdMarker, limit);
  }

  /** One ListObjectVersions page (see version-listing.ts). */
  async listVersions(q: VersionListQuery): Promise<VersionPage> {
    return listVersionPage(this.meta, q);
  }

  /**
   * Streams bytes [start, end] (inclusive) of an object across its pieces, one piece (one file
   * descriptor) at a time. Takes over the pin of a record from getObject (otherwise pins now, which
   * protects against frees from now on only) and releases it when the stream closes: after its
   * end, an error or destroy(). A stream nobody starts reading within the read lease is destroyed.
   */
  openRead(record: ObjectRecord, range?: { start: number; end: number }, key?: Buffer): Readable {
    return openObjectRead({ keeper: this.keeper, data: this.data, log: this.log, readLeaseMs: this.readLeaseMs }, record, range, key);
  }

  /**
   * The plaintext of an inline object (a record read with its bytes), opened with `key` when sealed;
   * undefined for an object that is not inline. GET answers small objects from it without a stream.
   * Throws StoreError('DataCorrupt') for sealed bytes that do not open (logged as damage).
   */
  inlineBytes(record: ObjectRecord, key?: Buffer): Buffer | undefined {
    return openInline(record, key, this.log);
  }

  // ---- frees ---------------------------------------------------------------------------------
  //
  // A version's pieces are freed right after the commit that replaces or deletes it, but a GET
  // that read the old record, in this process or another, may still be reading them: see
  // piece-keeper.ts for the read pins and the grace period that keep them until it is done.

  /** Current in-process pin bookkeeping (tests and diagnostics). */
  pinStats(): { pinnedIds: number; deferredFrees: number; leases: number } {
    return this.keeper.stats();
  }

  protected async freeData(refs: DataRef[]): Promise<void> {
    await this.keeper.free(refs);
  }

  /** Pieces of a write whose commit failed: never referenced, nobody can be reading them. */
  protected async discard(refs: DataRef[]): Promise<void> {
    for (const ref of refs) await this.keeper.removeNow(ref.id);
  }

  // ---- housekeeping (run by src/jobs/) -------------------------------------------------------

  /**
   * Called when this process holds the data directory alone (exclusive lock), before serving:
   * every lease, intent and read pin in the metadata store belongs to a process that is gone, and
   * pieces whose free was recorded are unlinked now (nobody reads them).
   */
  async takeOverAlone(): Promise<number> {
    return takeOverDirectory(this.meta, this.intents, this.keeper);
  }

  /**
   * A cluster worker: its primary took the directory over alone (takeOverAlone) at `since`, before
   * any worker opened the store. Every piece and temp file older than that was written by a process
   * that is gone, so the sweeps take them at once, as a single process's first sweep does (without
   * this, an orphan left by a kill less than SWEEP_MARGIN_MS before the worker's first sweep would
   * wait for the next sweep, hours later).
   */
  adoptTakeover(since: number): void {
    this.intents.aloneSince = since;
  }

  /**
   * Removes temp files left by interrupted writes: all of them when `before` is omitted (this
   * process alone, at startup), else those older than the oldest write in progress in any process.
   */
  async sweepTemp(shared = false): Promise<number> {
    return this.data.sweepTemp(shared ? await this.intents.sweepCutoff() : undefined);
  }

  /**
   * Finds committed pieces that no metadata references and that no write in progress (in any
   * process: write intents) may still commit: left by a crash between rename and metadata commit,
   * or between commit and freeing replaced data. Each is freed like a replaced piece (a reader
   * may hold it). Yields after each piece examined, so a job can stop and pace it.
   */
  sweepOrphans(signal?: AbortSignal): AsyncGenerator<boolean> {
    return sweepOrphanPieces(this.meta, this.data, this.intents, this.keeper, signal);
  }

  /**
   * Whether an object version or an upload part references piece `id`: the scrub queues for
   * healing only the pieces of objects (an orphan with fewer than k shards, left by a delete that
   * missed an offline drive or by a crash, can never be healed: it is the orphan sweep's).
   */
  async isPieceReferenced(id: string): Promise<boolean> {
    return this.meta.isDataReferenced(id);
  }

  /** Unlinks one batch of pieces whose free is due (shared mode). Returns how many. */
  async reapFrees(): Promise<number> {
    return this.keeper.reap();
  }

  // ---- background jobs' state (src/jobs/) ------------------------------------------------------

  /** A job's stored state (JSON text), or undefined: what lets it resume after a restart. */
  async getJobState(name: string): Promise<string | undefined> {
    return this.meta.getJobState(name);
  }

  async putJobState(name: string, value: string | undefined): Promise<void> {
    await this.meta.putJobState(name, value);
  }

  // ---- leases for background work (src/jobs/) --------------------------------------------------

  /** Takes or renews the named lease for `owner` (see Coordination.tryLease). */
  async tryLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.meta.coord.tryLease(name, owner, Date.now(), ttlMs);
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.meta.coord.releaseLease(name, owner);
  }

  async leaseHolder(name: string): Promise<string | undefined> {
    return this.meta.coord.leaseHolder(name, Date.now());
  }

  async close(): Promise<void> {
    // Deferred frees still pinned by open streams stay on disk as orphans for the sweep.
    this.intents.close();
    await this.keeper.close();
    await this.data.close();
    await this.meta.close();
  }
}
