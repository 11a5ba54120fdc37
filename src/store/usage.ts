// Per-bucket usage figures (objects, versions, delete markers, bytes), kept up to date by the
// metadata store inside each write transaction (format 10: bucket_usage, meta/sqlite-usage.ts), so
// reading them never scans a bucket. What the admin API's `usage` and /metrics' bucket gauges show.

/** One bucket's figures. */
export interface BucketUsage {
  bucket: string;
  /** Keys whose latest version is an object (not a delete marker): what ListObjectsV2 lists. */
  objects: number;
  /** Object versions stored, current and noncurrent (delete markers not counted). */
  versions: number;
  /** Delete markers stored. */
  deleteMarkers: number;
  /** Bytes of every stored version (current and noncurrent): what the bucket occupies, before overhead. */
  bytes: number;
}

/** Reads the figures (the Store façade's `usage`). */
export interface UsageReader {
  /** Every bucket (those never written to with zeros), by name. */
  listUsage(): BucketUsage[] | Promise<BucketUsage[]>;
}
