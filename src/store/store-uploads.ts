// The multipart half of the storage engine's façade (Store, store.ts, extends it): uploads, their
// parts' commits, completion and abort, over the same write protocol and the same piece keeping.
import { StoreError } from './errors.js';
import type {
  BucketRecord,
  CompletedUpload,
  DataRef,
  LockCheck,
  MetaStore,
  ObjectContent,
  ObjectRecord,
  ObjectWrite,
  PartRecord,
  UploadRecord,
  WriteCondition,
} from './types.js';
import type { UploadLocks } from './upload-lock.js';
import { listUploadPage, type UploadPage, type UploadPageQuery } from './upload-listing.js';
import type { WriteIntents } from './write-intents.js';

/** Rows read per query when all of them are needed (an upload's parts, a bucket's uploads). */
export const PART_BATCH = 1000;

export abstract class StoreUploads {
  protected abstract readonly meta: MetaStore;
  protected abstract readonly locks: UploadLocks;
  protected abstract readonly intents: WriteIntents;
  /** The bucket, or NoSuchBucket. */
  abstract requireBucket(name: string): Promise<BucketRecord>;
  /** The record of a new version of `write`'s key (its version id as for any object write). */
  protected abstract newVersionOf(write: ObjectWrite): Promise<ObjectRecord>;
  /** Frees pieces no longer referenced once readers are done (piece-keeper.ts). */
  protected abstract freeData(refs: DataRef[]): Promise<void>;
  /** Removes pieces of a write whose commit failed. */
  protected abstract discard(refs: DataRef[]): Promise<void>;

  // ---- multipart uploads ----------------------------------------------------------------------
  //
  // Parts follow the object write protocol: a part's piece is written durably (writeData) before
  // the metadata commit that references it (commitPart); a replaced part's piece is freed after
  // it. Completion writes no bytes: the object's data are the chosen parts' pieces, handed over in
  // one metadata transaction; unlisted parts and the replaced object's data are freed after it.
  //
  // Commits of parts and completion of one upload are serialised by the upload's lock, held in the
  // metadata store (upload-lock.ts), so the parts a completion validated are exactly the parts it
  // hands to the object, whichever processes they come from. The meta store re-checks that the
  // record only uses the upload's pieces.

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
      replaced = await this.locks.with(uploadId, async () => this.meta.putPart(bucket, key, uploadId, part));
    } catch (err) {
      await this.discard([part.data]);
      throw err;
    } finally {
      await this.intents.done([part.data.id]);
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
    lock?: LockCheck,
  ): Promise<ObjectRecord> {
    const { record, freed } = await this.locks.with(uploadId, async () => {
      const upload = await this.requireUpload(bucket, key, uploadId);
      const parts = await this.allParts(bucket, key, uploadId);
      const content = await build(upload, parts);
      // Sealed parts make a sealed object: the upload's key description goes with them, always.
      const rec = await this.newVersionOf({ ...content, ...(upload.sse !== undefined ? { sse: upload.sse } : {}), bucket, key });
      return { record: rec, freed: await this.meta.completeUpload(bucket, key, uploadId, rec, cond, lock) };
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
    const freed = await this.locks.with(uploadId, async () => this.meta.abortUpload(bucket, key, uploadId));
    await this.freeData(freed);
  }

  /** One ListMultipartUploads page (see upload-listing.ts). Throws NoSuchBucket. */
  async listUploadPage(q: UploadPageQuery): Promise<UploadPage> {
    await this.requireBucket(q.bucket);
    return listUploadPage(this.meta, q, PART_BATCH);
  }
}
