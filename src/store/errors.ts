// Typed errors thrown by the storage engine. s3/errors maps each code to an S3 error in one switch.

export type StoreErrorCode =
  | 'NoSuchBucket'
  /** The name is taken by another owner's bucket. */
  | 'BucketAlreadyExists'
  /** The name is taken by a bucket of the same owner. */
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'NoSuchKey'
  | 'NoSuchUpload'
  | 'PreconditionFailed'
  /** A legal hold or an active retention protects the version from deletion or replacement (S3: AccessDenied). */
  | 'ObjectLocked'
  /** The bucket's state forbids the change (suspending versioning with object lock, ...). */
  | 'InvalidBucketState'
  | 'NoSpace'
  /** Another connection holds the metadata database's lock longer than a write may wait (S3: SlowDown). */
  | 'Busy'
  /** The metadata engine failed (I/O error, corruption...): a server fault, logged with the engine's message. */
  | 'Internal'
  /**
   * Too few drives answer for an erasure-coded piece: fewer than k usable shards to read, or fewer
   * than the write quorum took their shard (S3: 503 SlowDown, retried by every SDK; the message,
   * logged, names each drive's state).
   */
  | 'Unavailable'
  /** An object's stored bytes are missing or damaged (a PieceError on read): never served. */
  | 'DataCorrupt'
  /** A named user, group, policy or access key does not exist (identities, format 7). */
  | 'NoSuchEntity'
  /** A user, group or access key of that name exists already. */
  | 'EntityAlreadyExists'
  /** A policy cannot be removed while attached. */
  | 'DeleteConflict';

/**
 * For PreconditionFailed, the message names the failed write condition ('If-None-Match' or
 * 'If-Match'): S3 reports it in the error's Condition element.
 */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message?: string,
  ) {
    super(message ?? code);
    this.name = 'StoreError';
  }
}

/** Why a data piece cannot be served (see PieceError). */
export type PieceFault = 'missing' | 'length' | 'checksum' | 'format' | 'short-read';

/**
 * Thrown by a DataStore read: the piece does not hold what its record says (missing, another
 * length, a block whose checksum differs, a damaged header or footer). The Store logs it with the
 * object it belongs to and turns it into StoreError('DataCorrupt'). Its message names the file:
 * for logs only, never for a client.
 */
export class PieceError extends Error {
  constructor(
    readonly fault: PieceFault,
    readonly dataId: string,
    readonly file: string,
    detail: string,
  ) {
    super(`data piece ${dataId} (${file}): ${detail}`);
    this.name = 'PieceError';
  }
}
