// Typed errors thrown by the storage engine. s3/errors maps each code to an S3 error in one switch.

export type StoreErrorCode =
  | 'NoSuchBucket'
  | 'BucketAlreadyExists'
  | 'BucketNotEmpty'
  | 'NoSuchKey'
  | 'NoSuchUpload'
  | 'PreconditionFailed'
  | 'NoSpace'
  /** Another connection holds the metadata database's lock longer than a write may wait (S3: SlowDown). */
  | 'Busy';

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
