// The types of the Store façade's arguments and answers (store.ts): read handles, read and delete
// options, what a delete did, the store's options, an object's written bytes.
import type { Readable } from 'node:stream';
import type { DataRef, LockCheck, ObjectRecord } from './types.js';

/**
 * A read of one object version, its data pinned until released (see "read pins"): `stream` hands
 * the pin to the stream (released when it closes), `release` lets it go when no data will be read
 * (HEAD, failed conditionals, metadata only). Release is idempotent and a no-op after `stream`;
 * `using` (Symbol.dispose) releases too. A handle nobody releases lapses after the read lease.
 */
export interface ObjectHandle {
  readonly record: ObjectRecord;
  /** The bytes (a range of them), opened with `key` when the version is sealed (`record.sse`). */
  stream(range?: { start: number; end: number }, key?: Buffer): Readable;
  /** An inline object's plaintext (opened with `key` when sealed); undefined when not inline. */
  inline(key?: Buffer): Buffer | undefined;
  release(): void;
  [Symbol.dispose](): void;
}

/** How DeleteObject treats versions and object lock (Store.deleteObject). */
export interface DeleteOptions {
  /** Remove exactly this version (S3 ?versionId=); without it, the bucket's versioning state decides. */
  versionId?: string;
  lock?: LockCheck;
  /**
   * With `versionId`: remove the version only if it still has this lastModified, else
   * StoreError('PreconditionFailed') — checked in the transaction (the lifecycle job's guard against
   * removing a 'null' version that replaced the one it evaluated).
   */
  ifLastModified?: number;
}

/** What a delete did: S3's x-amz-delete-marker and x-amz-version-id come from it. */
export interface DeleteOutcome {
  /** Something was removed or a delete marker added. */
  removed: boolean;
  /** A delete marker was added, or the version removed was one. */
  deleteMarker: boolean;
  /** The version id of the marker added, or of the version removed. */
  versionId?: string;
}

/** What Store.readObject reads: a version (default: the latest) and whether inline bytes are wanted. */
export interface ReadOptions {
  versionId?: string;
  /** Default true; false for HEAD and metadata-only reads (an inline object's bytes stay unread). */
  withBytes?: boolean;
}

export interface StoreOptions {
  /** See DEFAULT_READ_LEASE_MS in store.ts (tests shorten it). In shared mode at most a quarter of freeGraceMs. */
  readLeaseMs?: number;
  /**
   * 0 (default): this process holds the data directory alone, and a replaced piece is unlinked as
   * soon as this process's readers let go. > 0 (shared mode, several processes): a replaced piece
   * is unlinked only this long after its free was recorded, and when no reader anywhere pins it.
   */
  freeGraceMs?: number;
  /** Largest object stored inline in the metadata store (0: none); default DEFAULT_INLINE_MAX. */
  inlineMax?: number;
}

/** An object's bytes as written by writeObjectData: spread into its ObjectRecord. */
export interface ObjectBytes {
  data: DataRef[];
  inline?: Buffer;
}
