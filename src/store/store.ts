// The storage engine's façade: buckets, objects and multipart uploads as records and byte streams,
// over a MetaStore and a DataStore. It owns the write protocol: data durable first, then one
// metadata commit (the moment the object or part exists), then the replaced data freed.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { StoreError } from './errors.js';
import type {
  BucketRecord,
  DataRef,
  DataStore,
  ListPage,
  ListQuery,
  MetaStore,
  ObjectRecord,
  PartRecord,
  UploadRecord,
  WriteCondition,
} from './types.js';
import { listPage } from './listing.js';

/** A ListMultipartUploads page request (S3 semantics; see listUploadPage). */
export interface UploadPageQuery {
  bucket: string;
  prefix: string;
  /** '' means no delimiter. */
  delimiter: string;
  keyMarker: string;
  /** Only used together with keyMarker. */
  uploadIdMarker: string;
  /** 0..1000: counts uploads and common prefixes together. */
  maxUploads: number;
}

export interface UploadPage {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /**
   * The last entry of the page: its key (or common prefix) and upload id (none for a common
   * prefix). When truncated, the next page starts after it (NextKeyMarker / NextUploadIdMarker).
   */
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/** Rows read per query when all of them are needed (an upload's parts, a bucket's uploads). */
const PART_BATCH = 1000;

export class Store {
  /** The orphan sweep only takes pieces older than this: no write of this process can be in flight for them. */
  private readonly startedAt = Date.now();

  constructor(
    readonly meta: MetaStore,
    readonly data: DataStore,
    private readonly log?: Logger,
  ) {}

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
   * The commit point: makes `record` the current version of its key. If the commit fails (missing
   * bucket, failed condition), the record's new data is removed and the error rethrown. Data of the
   * replaced version is freed after the commit; a crash before that leaves an orphan for the sweep.
   */
  async commitObject(record: ObjectRecord, cond?: WriteCondition): Promise<void> {
    let replaced: DataRef[];
    try {
      replaced = await this.meta.putObject(record, cond);
    } catch (err) {
      await this.freeData(record.data);
      throw err;
    }
    await this.freeData(replaced);
  }

  async getObject(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const rec = await this.meta.getObject(bucket, key);
    return rec && !rec.isDeleteMarker ? rec : undefined;
  }

  /** Removes the current version; true if there was one. */
  async deleteObject(bucket: string, key: string): Promise<boolean> {
    const removed = await this.meta.deleteObject(bucket, key);
    if (!removed) return false;
    await this.freeData(removed.data);
    return true;
  }

  async list(q: ListQuery): Promise<ListPage> {
    return listPage(this.meta, q);
  }

  /** Streams bytes [start, end] (inclusive) of an object across its pieces. */
  openRead(record: ObjectRecord, range?: { start: number; end: number }): Readable {
    const start = range?.start ?? 0;
    const end = range?.end ?? record.size - 1;
    const data = this.data;
    async function* pieces(): AsyncGenerator<Buffer> {
      let offset = 0;
      for (const ref of record.data) {
        const pieceStart = offset;
        const pieceEnd = offset + ref.size - 1;
        offset += ref.size;
        if (pieceEnd < start || ref.size === 0) continue;
        if (pieceStart > end) break;
        const from = Math.max(start, pieceStart) - pieceStart;
        const to = Math.min(end, pieceEnd) - pieceStart;
        for await (const chunk of data.read(ref.id, { start: from, end: to })) yield chunk as Buffer;
      }
    }
    return Readable.from(pieces(), { objectMode: false, highWaterMark: 256 * 1024 });
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
   * validate them and describe the object (it may throw: nothing changes then), and commits. The
   * upload stays intact when `build` or the write condition fails. After the commit, the pieces of
   * parts the object does not use and of the replaced object are freed. Returns the committed record.
   */
  async completeUpload(
    bucket: string,
    key: string,
    uploadId: string,
    build: (upload: UploadRecord, parts: PartRecord[]) => ObjectRecord | Promise<ObjectRecord>,
    cond?: WriteCondition,
  ): Promise<ObjectRecord> {
    const { record, freed } = await this.withUploadLock(uploadId, async () => {
      const upload = await this.requireUpload(bucket, key, uploadId);
      const parts = await this.allParts(bucket, key, uploadId);
      const rec = await build(upload, parts);
      return { record: rec, freed: await this.meta.completeUpload(bucket, key, uploadId, rec, cond) };
    });
    await this.freeData(freed);
    return record;
  }

  /** Removes the upload and frees its parts' pieces. Throws NoSuchUpload. */
  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const freed = await this.withUploadLock(uploadId, async () => this.meta.abortUpload(bucket, key, uploadId));
    await this.freeData(freed);
  }

  /**
   * One ListMultipartUploads page: uploads in (key bytes, initiation) order after the markers, keys
   * rolled up into common prefixes at the delimiter. A key marker that is (or lies in) a common
   * prefix skips that whole prefix, so a NextKeyMarker that is a common prefix never repeats it.
   * Uploads under a common prefix are passed over in batches (uploads are few; objects use the
   * seeking listing in listing.ts).
   */
  async listUploadPage(q: UploadPageQuery): Promise<UploadPage> {
    const page: UploadPage = { uploads: [], commonPrefixes: [], isTruncated: false };
    await this.requireBucket(q.bucket);
    if (q.maxUploads <= 0) return page;
    const { prefix, delimiter } = q;
    const rollUp = (key: string): string | undefined => {
      if (delimiter === '' || !key.startsWith(prefix)) return undefined;
      const i = key.indexOf(delimiter, prefix.length);
      return i < 0 ? undefined : key.slice(0, i + delimiter.length);
    };
    let keyMarker = q.keyMarker;
    let uploadIdMarker = keyMarker === '' ? '' : q.uploadIdMarker;
    // The common prefix being passed over (the marker's own, then each one emitted).
    let open = rollUp(keyMarker);
    if (open !== undefined) uploadIdMarker = '';
    let count = 0;
    for (;;) {
      const batch = await this.meta.listUploads({ bucket: q.bucket, prefix, keyMarker, uploadIdMarker, limit: PART_BATCH });
      for (const u of batch) {
        if (open !== undefined && u.key.startsWith(open)) continue;
        open = undefined;
        const cp = rollUp(u.key);
        if (count === q.maxUploads) {
          page.isTruncated = true;
          return page;
        }
        count++;
        if (cp !== undefined) {
          page.commonPrefixes.push(cp);
          page.nextKeyMarker = cp;
          page.nextUploadIdMarker = undefined;
          open = cp;
        } else {
          page.uploads.push(u);
          page.nextKeyMarker = u.key;
          page.nextUploadIdMarker = u.uploadId;
        }
      }
      if (batch.length < PART_BATCH) return page;
      const last = batch[batch.length - 1]!;
      keyMarker = last.key;
      uploadIdMarker = last.uploadId;
    }
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

  // ---- housekeeping --------------------------------------------------------------------------

  private async freeData(refs: DataRef[]): Promise<void> {
    for (const ref of refs) {
      try {
        await this.data.remove(ref.id);
      } catch (err) {
        // Not fatal for the request: the orphan sweep at the next start removes it.
        this.log?.warn({ err, dataId: ref.id }, 'could not free data');
      }
    }
  }

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
        await this.data.remove(id);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.data.close();
    await this.meta.close();
  }
}
