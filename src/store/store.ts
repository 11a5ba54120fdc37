// The storage engine's façade: buckets, objects and multipart uploads as records and byte streams,
// over a MetaStore and a DataStore. It owns the write protocol: data durable first, then one
// metadata commit (the moment the object or part exists), then the replaced data freed.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { StoreError } from './errors.js';
import type {
  BucketRecord,
  CompletedUpload,
  DataRef,
  DataStore,
  ListPage,
  ListQuery,
  ListedVersion,
  MetaStore,
  ObjectContent,
  ObjectPatch,
  ObjectRecord,
  ObjectWrite,
  PartRecord,
  UploadRecord,
  WriteCondition,
} from './types.js';
import { listPage } from './listing.js';
import { listVersionPage, type VersionListQuery, type VersionPage } from './version-listing.js';
import { closeSource, nextOrAbort } from './abort.js';
import { checkInline, readObjectPieces } from './verified-read.js';
import { newVersion, versionIdFor } from './versions.js';
import { listUploadPage, type UploadPage, type UploadPageQuery } from './upload-listing.js';

export type { UploadPage, UploadPageQuery } from './upload-listing.js';

/**
 * A read of one object version, its data pinned until released (see "read pins"): `stream` hands
 * the pin to the stream (released when it closes), `release` lets it go when no data will be read
 * (HEAD, failed conditionals, metadata only). Release is idempotent and a no-op after `stream`;
 * `using` (Symbol.dispose) releases too. A handle nobody releases lapses after the read lease.
 */
export interface ObjectHandle {
  readonly record: ObjectRecord;
  stream(range?: { start: number; end: number }): Readable;
  release(): void;
  [Symbol.dispose](): void;
}

/** What Store.readObject reads: a version (default: the latest) and whether inline bytes are wanted. */
export interface ReadOptions {
  versionId?: string;
  /** Default true; false for HEAD and metadata-only reads (an inline object's bytes stay unread). */
  withBytes?: boolean;
}

/** Rows read per query when all of them are needed (an upload's parts, a bucket's uploads). */
const PART_BATCH = 1000;

/**
 * How long a record returned by getObject keeps its pieces pinned when neither openRead nor
 * releaseObject follows (a caller that only needed the metadata and did not release it), and how
 * long a stream from openRead may stay unread before it is destroyed (which unpins it).
 */
const DEFAULT_READ_LEASE_MS = 10_000;

/** Objects up to this size are stored inline in the metadata store by default (see writeObjectData). */
export const DEFAULT_INLINE_MAX = 128 * 1024;

export interface StoreOptions {
  /** See DEFAULT_READ_LEASE_MS (tests shorten it). */
  readLeaseMs?: number;
  /** Largest object stored inline in the metadata store (0: none); default DEFAULT_INLINE_MAX. */
  inlineMax?: number;
}

/** An object's bytes as written by writeObjectData: spread into its ObjectRecord. */
export interface ObjectBytes {
  data: DataRef[];
  inline?: Buffer;
}

/** A getObject record's pin, waiting for openRead (which takes it over) or releaseObject. */
interface ReadLease {
  release: () => void;
  timer: NodeJS.Timeout;
}

const isThenable = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as { then?: unknown } | undefined)?.then === 'function';

const sameData = (a: ObjectRecord, b: ObjectRecord): boolean => a.data.length === b.data.length && a.data.every((d, i) => d.id === b.data[i]!.id);

export class Store {
  /** The orphan sweep only takes pieces older than this: no write of this process can be in flight for them. */
  private readonly startedAt = Date.now();

  private readonly readLeaseMs: number;

  readonly inlineMax: number;

  constructor(
    readonly meta: MetaStore,
    readonly data: DataStore,
    private readonly log?: Logger,
    opts: StoreOptions = {},
  ) {
    this.readLeaseMs = opts.readLeaseMs ?? DEFAULT_READ_LEASE_MS;
    this.inlineMax = opts.inlineMax ?? DEFAULT_INLINE_MAX;
  }

  // ---- buckets -------------------------------------------------------------------------------

  async createBucket(name: string, region: string): Promise<void> {
    await this.meta.createBucket({ name, region, createdAt: Date.now(), versioning: '' });
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    return this.meta.getBucket(name);
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

  /** Stores a configuration document; undefined removes it. Throws NoSuchBucket. */
  async putBucketConfig(bucket: string, name: string, value: string | undefined): Promise<void> {
    await this.meta.putBucketConfig(bucket, name, value);
  }

  // ---- objects -------------------------------------------------------------------------------

  /** Writes bytes durably; they belong to no object until commitObject. */
  async writeData(source: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<DataRef> {
    return this.data.write(source, signal);
  }

  /**
   * Writes a whole object's bytes. Up to `inlineMax` bytes are kept in memory and returned as
   * `inline`: they become durable with the metadata commit itself (no data file, no data fsync, one
   * shared WAL sync), and GET serves them from the metadata row. A larger object goes to the data
   * store as one piece (the bytes read so far first). An empty object has no data at all. Like
   * writeData, nothing remains when `source` throws or `signal` aborts.
   */
  async writeObjectData(source: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<ObjectBytes> {
    const it = source[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let size = 0;
    try {
      for (;;) {
        // Not a plain it.next(): a client that stops sending must not hold us past the abort.
        const next = await nextOrAbort(it, signal);
        if (next.done) {
          if (size === 0) return { data: [] };
          return { data: [], inline: head.length === 1 ? head[0]! : Buffer.concat(head, size) };
        }
        head.push(next.value);
        size += next.value.length;
        if (size > this.inlineMax) break;
      }
      async function* all(): AsyncGenerator<Buffer> {
        yield* head.splice(0);
        for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
      }
      return { data: [await this.data.write(all(), signal)] };
    } catch (err) {
      // The source's own cleanup must run (an unread request body is let flow away).
      closeSource(it);
      throw err;
    }
  }

  /**
   * The version a write makes now: its id from the bucket's versioning state (versions.ts), its time
   * now. Throws NoSuchBucket. The state is read before the commit: a write racing a change of the
   * bucket's versioning state is ordered before that change.
   */
  private async newVersionOf(write: ObjectWrite): Promise<ObjectRecord> {
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
  async commitObject(write: ObjectWrite, cond?: WriteCondition): Promise<ObjectRecord> {
    let record: ObjectRecord;
    let replaced: DataRef[];
    try {
      record = await this.newVersionOf(write);
      replaced = await this.meta.putObject(record, cond);
    } catch (err) {
      await this.freeData(write.data);
      throw err;
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
    let gen = this.freeGen;
    const first = this.meta.getObject(bucket, key, versionId, withBytes);
    // A synchronous meta store (SQLite, memory) is read and pinned in one turn of the event loop:
    // no free can come in between. An asynchronous one is checked below.
    let rec = isThenable(first) ? await first : first;
    for (;;) {
      if (!rec || rec.isDeleteMarker) return undefined;
      const release = this.pin(rec.data);
      if (this.freeGen === gen) return this.lease(rec, release);
      // Some piece was removed between the read and the pin: maybe one of ours (its version was
      // replaced meanwhile). Re-read: pieces the current version still references cannot have been
      // freed, and from now on they are pinned.
      gen = this.freeGen;
      const again = await this.meta.getObject(bucket, key, versionId, withBytes);
      if (again && !again.isDeleteMarker && sameData(again, rec)) return this.lease(again, release);
      release();
      rec = again;
    }
  }

  /** Unpins a record from getObject whose data will not be read. Idempotent; no-op for other records. */
  releaseObject(record: ObjectRecord): void {
    const l = this.leases.get(record);
    if (!l) return;
    this.leases.delete(record);
    this.activeLeases--;
    clearTimeout(l.timer);
    l.release();
  }

  /**
   * The version (default: the latest) as a handle whose pieces stay pinned until it is released or
   * streamed; undefined if there is none or it is a delete marker.
   */
  async readObject(bucket: string, key: string, opts: ReadOptions = {}): Promise<ObjectHandle | undefined> {
    const record = await this.getObject(bucket, key, opts.withBytes ?? true, opts.versionId);
    if (!record) return undefined;
    const release = (): void => this.releaseObject(record);
    return { record, stream: (range) => this.openRead(record, range), release, [Symbol.dispose]: release };
  }

  /** Removes one version (default: the 'null' version) and frees its data; true if there was one. */
  async deleteObject(bucket: string, key: string, versionId?: string): Promise<boolean> {
    const removed = await this.meta.deleteObject(bucket, key, versionId);
    if (!removed) return false;
    await this.freeData(removed.data);
    return true;
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
  openRead(record: ObjectRecord, range?: { start: number; end: number }): Readable {
    const start = range?.start ?? 0;
    const end = range?.end ?? record.size - 1;
    if (record.inline !== undefined) {
      checkInline(record, this.log);
      return Readable.from([record.inline.subarray(start, end + 1)], { objectMode: false });
    }
    if (record.size > 0 && record.data.length === 0) throw new Error('openRead: an inline object read without its bytes (getObject withBytes false)');
    const lease = this.leases.get(record);
    let release: () => void;
    if (lease) {
      this.leases.delete(record);
      this.activeLeases--;
      clearTimeout(lease.timer);
      release = lease.release;
    } else {
      release = this.pin(record.data);
    }
    let started = false;
    let idle: NodeJS.Timeout | undefined;
    const onStart = () => {
      started = true;
      clearTimeout(idle);
    };
    const stream = Readable.from(readObjectPieces(this.data, record, start, end, this.log, onStart), { objectMode: false, highWaterMark: 256 * 1024 });
    // Readable.from emits 'close' only after the generator has finished (its finally ran, the
    // current piece's stream is destroyed): no piece is opened after the release.
    stream.once('close', () => {
      clearTimeout(idle);
      release();
    });
    if (!started) {
      idle = setTimeout(() => {
        if (!started) stream.destroy();
      }, this.readLeaseMs);
      idle.unref();
    }
    return stream;
  }

  // ---- multipart uploads ----------------------------------------------------------------------
  //
  // Parts follow the object write protocol: a part's piece is written durably (writeData) before
  // the metadata commit that references it (commitPart); a replaced part's piece is freed after
  // it. Completion writes no bytes: the object's data are the chosen parts' pieces, handed over in
  // one metadata transaction; unlisted parts and the replaced object's data are freed after it.
  //
  // Commits of parts and completion of one upload are serialised by an in-process lock, so the
  // parts a completion validated are exactly the parts it hands to the object (one process owns
  // the data directory). The meta store re-checks that the record only uses the upload's pieces.

  /** Throws NoSuchBucket. */
  async createUpload(upload: UploadRecord): Promise<void> {
    await this.meta.createUpload(upload);
  }

  /** The upload of this bucket and key, or undefined (also for another key's upload id). */
  async getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    return this.meta.getUpload(bucket, key, uploadId);
  }

  /** The upload, or NoSuchBucket / NoSuchUpload. */
  async requireUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    const u = await this.meta.getUpload(bucket, key, uploadId);
    if (u) return u;
    await this.requireBucket(bucket);
    throw new StoreError('NoSuchUpload');
  }

  /**
   * The commit point of a part whose piece `part.data` was written by writeData. If the commit
   * fails (upload completed or aborted meanwhile: NoSuchUpload), the piece is removed and the error
   * rethrown. A replaced part's piece is freed after the commit.
   */
  async commitPart(bucket: string, key: string, uploadId: string, part: PartRecord): Promise<void> {
    let replaced: DataRef[];
    try {
      replaced = await this.withUploadLock(uploadId, async () => this.meta.putPart(bucket, key, uploadId, part));
    } catch (err) {
      await this.freeData([part.data]);
      throw err;
    }
    await this.freeData(replaced);
  }

  /** Parts after `afterPartNumber`, ascending, at most `limit`. Throws NoSuchUpload. */
  async listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, limit: number): Promise<PartRecord[]> {
    return this.meta.listParts(bucket, key, uploadId, afterPartNumber, limit);
  }

  /** Every part of the upload, ascending (at most 10000). Throws NoSuchUpload. */
  async allParts(bucket: string, key: string, uploadId: string): Promise<PartRecord[]> {
    const out: PartRecord[] = [];
    for (;;) {
      const page = await this.meta.listParts(bucket, key, uploadId, out.at(-1)?.partNumber ?? 0, PART_BATCH);
      out.push(...page);
      if (page.length < PART_BATCH) return out;
    }
  }

  /**
   * Completes an upload. Under the upload's lock: reads the upload and all its parts, lets `build`
   * validate them and describe the object (its data: some of the parts' pieces; it may throw:
   * nothing changes then), and commits it as a new version (version id as in commitObject). The
   * upload stays intact when `build` or the write condition fails. After the commit, the pieces of
   * parts the object does not use and of the replaced object are freed. Returns the committed record.
   */
  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    build: (upload: UploadRecord, parts: PartRecord[]) => ObjectContent | Promise<ObjectContent>,
    cond?: WriteCondition,
  ): Promise<ObjectRecord> {
    const { record, freed } = await this.withUploadLock(uploadId, async () => {
      const upload = await this.requireUpload(bucket, key, uploadId);
      const parts = await this.allParts(bucket, key, uploadId);
      const rec = await this.newVersionOf({ ...(await build(upload, parts)), bucket, key });
      return { record: rec, freed: await this.meta.completeUpload(bucket, key, uploadId, rec, cond) };
    });
    await this.freeData(freed);
    return record;
  }

  /**
   * The current object when it was made by completing `uploadId` (its parts' checksums alongside),
   * else undefined: a retried CompleteMultipartUpload is answered from it. Metadata only (inline
   * bytes are not read, nothing stays pinned). Throws NoSuchBucket.
   */
  async completedUpload(bucket: string, key: string, uploadId: string): Promise<{ record: ObjectRecord; upload: CompletedUpload } | undefined> {
    const upload = await this.meta.getCompletedUpload(bucket, key);
    if (!upload || upload.uploadId !== uploadId) return undefined;
    const record = await this.meta.getObject(bucket, key, upload.versionId, false);
    if (!record || record.isDeleteMarker || record.versionId !== upload.versionId) return undefined;
    return { record, upload };
  }

  /** The completed-upload details of the current object (see MetaStore.getCompletedUpload). */
  async getCompletedUpload(bucket: string, key: string): Promise<CompletedUpload | undefined> {
    return this.meta.getCompletedUpload(bucket, key);
  }

  /** Removes the upload and frees its parts' pieces. Throws NoSuchUpload. */
  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const freed = await this.withUploadLock(uploadId, async () => this.meta.abortUpload(bucket, key, uploadId));
    await this.freeData(freed);
  }

  /** One ListMultipartUploads page (see upload-listing.ts). Throws NoSuchBucket. */
  async listUploadPage(q: UploadPageQuery): Promise<UploadPage> {
    await this.requireBucket(q.bucket);
    return listUploadPage(this.meta, q, PART_BATCH);
  }

  private readonly uploadLocks = new Map<string, Promise<void>>();

  /** Runs `fn` after every earlier holder of the upload's lock has finished. */
  private async withUploadLock<T>(uploadId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.uploadLocks.get(uploadId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.uploadLocks.set(uploadId, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.uploadLocks.get(uploadId) === tail) this.uploadLocks.delete(uploadId);
    }
  }

  // ---- read pins -----------------------------------------------------------------------------
  //
  // A version's pieces are freed right after the commit that replaces or deletes it, but a GET
  // that read the old record may not have opened them yet. Readers therefore pin the pieces of the
  // record they read (getObject pins in the same turn as the metadata read), and freeing a pinned
  // piece is deferred to its last unpin. In-process counters: O(pieces of the record) per read,
  // nothing on disk (a crash leaves at most orphans for the startup sweep).

  /** Data id → number of readers holding it. */
  private readonly pins = new Map<string, number>();
  /** Pinned ids whose removal was requested: removed at their last unpin. */
  private readonly deferredFrees = new Set<string>();
  /** Counts removals started (getObject's check that none happened between its read and its pin). */
  private freeGen = 0;
  private readonly leases = new WeakMap<ObjectRecord, ReadLease>();
  private activeLeases = 0;
  private readonly pendingRemovals = new Set<Promise<void>>();

  /** Current pin bookkeeping (tests and diagnostics). */
  pinStats(): { pinnedIds: number; deferredFrees: number; leases: number } {
    return { pinnedIds: this.pins.size, deferredFrees: this.deferredFrees.size, leases: this.activeLeases };
  }

  /** Pins the pieces; returns an idempotent release. */
  private pin(refs: DataRef[]): () => void {
    const ids = refs.map((r) => r.id);
    for (const id of ids) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.pins.get(id) ?? 1) - 1;
        if (n > 0) {
          this.pins.set(id, n);
          continue;
        }
        this.pins.delete(id);
        if (this.deferredFrees.delete(id)) {
          const p = this.removeNow(id).finally(() => this.pendingRemovals.delete(p));
          this.pendingRemovals.add(p);
        }
      }
    };
  }

  /** Attaches a pin to the record until openRead takes it over, releaseObject, or the lease ends. */
  private lease(record: ObjectRecord, release: () => void): ObjectRecord {
    if (record.data.length === 0) return record; // nothing pinned, nothing to release
    const timer = setTimeout(() => this.releaseObject(record), this.readLeaseMs);
    timer.unref();
    this.leases.set(record, { release, timer });
    this.activeLeases++;
    return record;
  }

  /** Removes a piece nothing references any more, or defers that to its last unpin. */
  private async freePiece(id: string): Promise<void> {
    if (this.pins.has(id)) {
      this.deferredFrees.add(id);
      return;
    }
    await this.removeNow(id);
  }

  private async removeNow(id: string): Promise<void> {
    this.freeGen++;
    try {
      await this.data.remove(id);
    } catch (err) {
      // Not fatal for the request: the orphan sweep at the next start removes it.
      this.log?.warn({ err, dataId: id }, 'could not free data');
    }
  }

  private async freeData(refs: DataRef[]): Promise<void> {
    for (const ref of refs) await this.freePiece(ref.id);
  }

  // ---- housekeeping --------------------------------------------------------------------------

  /** Startup: remove temp files (synchronously awaited, cheap). */
  async sweepTemp(): Promise<number> {
    return this.data.sweepTemp();
  }

  /**
   * Removes committed pieces that no metadata references and that predate this process (so no
   * write of ours is in flight for them): left by a crash between rename and metadata commit, or
   * between commit and freeing replaced data. Runs in the background after startup.
   */
  async sweepOrphans(signal?: AbortSignal): Promise<number> {
    let removed = 0;
    for await (const id of this.data.listIds(this.startedAt)) {
      if (signal?.aborted) break;
      if (!(await this.meta.isDataReferenced(id))) {
        // A reader may still hold a piece whose version was replaced or deleted just now.
        if (this.pins.has(id)) this.deferredFrees.add(id);
        else {
          this.freeGen++;
          await this.data.remove(id);
        }
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    // Deferred frees still pinned by open streams stay on disk as orphans for the next start's sweep.
    await Promise.all([...this.pendingRemovals]);
    await this.data.close();
    await this.meta.close();
  }
}
