// The SQLite metadata store's range reads, which sqlite.ts delegates to (inside its read retry):
// a bucket's objects, listing rows (one packed row per batch: sqlite-listing.ts), versions and
// multipart uploads between bounds given as strings or raw bytes, each folded into the one index
// range SQLite can use.
import { StoreError } from '../errors.js';
import type { ListedObject, ListedVersion, ObjectRecord, UploadListQuery, UploadRecord } from '../types.js';
import { PACKED_LISTING_SQL, type PackedRow, unpackListing } from './sqlite-listing.js';
import {
  type BucketRow,
  byteSuccessor,
  type Db,
  LISTING_SQL,
  type ListingRow,
  type ObjectRow,
  type prepareAll,
  SCAN_SQL,
  type ScanShapes,
  type Stmt,
  toBytes,
  toListed,
  toListedVersion,
  toRecord,
  toUpload,
  type UploadRow,
  type VersionRow,
} from './sqlite-sql.js';

export class SqliteScans {
  private readonly scanSt: ScanShapes;
  private readonly listingSt: { latest: ScanShapes; byKey: ScanShapes };
  private readonly packedListingSt: { latest: ScanShapes; byKey: ScanShapes };

  constructor(
    db: Db,
    private readonly st: ReturnType<typeof prepareAll>,
  ) {
    const p = (sql: string): Stmt => db.prepare(sql);
    this.scanSt = { gt: p(SCAN_SQL.gt), ge: p(SCAN_SQL.ge), gtUpper: p(SCAN_SQL.gtUpper), geUpper: p(SCAN_SQL.geUpper) };
    const raw = (q: Record<keyof ScanShapes, string>): ScanShapes => ({
      gt: p(q.gt).raw(true),
      ge: p(q.ge).raw(true),
      gtUpper: p(q.gtUpper).raw(true),
      geUpper: p(q.geUpper).raw(true),
    });
    this.listingSt = { latest: raw(LISTING_SQL.latest), byKey: raw(LISTING_SQL.byKey) };
    this.packedListingSt = { latest: raw(PACKED_LISTING_SQL.latest), byKey: raw(PACKED_LISTING_SQL.byKey) };
  }

  /** MetaStore.scanVersions (`from`: a lower bound on keys besides the markers). */
  versions(bucket: string, prefix: string, keyMarker: string, versionIdMarker: string, limit: number, from?: string): ListedVersion[] {
    if (this.st.getBucket.get(bucket) === undefined) throw new StoreError('NoSuchBucket');
    if (limit <= 0) return [];
    const pb = toBytes(prefix);
    const mb = toBytes(keyMarker);
    const marker = versionIdMarker === '' ? undefined : (this.st.getVersion.get(bucket, mb, versionIdMarker) as ObjectRow | undefined);
    const upper = pb.length > 0 ? byteSuccessor(pb) : undefined;
    let lower = Buffer.compare(mb, pb) > 0 ? mb : pb;
    if (from !== undefined && Buffer.compare(toBytes(from), lower) > 0) lower = toBytes(from);
    const params = { bucket, lower, keyMarker: mb, lm: marker?.last_modified ?? null, vid: marker?.version_id ?? null, limit };
    const rows = (upper ? this.st.listVersionsBounded.all({ ...params, upper }) : this.st.listVersions.all(params)) as VersionRow[];
    return rows.map(toListedVersion);
  }

  /** MetaStore.scanObjects, the bounds also as raw bytes. */
  objects(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ObjectRecord[] {
    return (this.scan(() => this.scanSt, bucket, prefix, after, limit, from) as ObjectRow[]).map(toRecord);
  }

  /** As objects (same bounds), as ListedObject. */
  listing(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ListedObject[] {
    // One packed row per batch (sqlite-listing.ts); as rows in the rare batch it cannot carry.
    const packed = (b: BucketRow) => (b.versioning === '' ? this.packedListingSt.byKey : this.packedListingSt.latest);
    const row = (this.scan(packed, bucket, prefix, after, limit, from) as PackedRow[])[0];
    const listed = row === undefined ? [] : unpackListing(row);
    if (listed !== undefined) return listed;
    const shapes = (b: BucketRow) => (b.versioning === '' ? this.listingSt.byKey : this.listingSt.latest);
    return (this.scan(shapes, bucket, prefix, after, limit, from) as ListingRow[]).map(toListed);
  }

  /** MetaStore.listUploads: throws NoSuchBucket. An empty uploadIdMarker means: only keys after keyMarker. */
  uploads(q: UploadListQuery): UploadRecord[] {
    if (this.st.getBucket.get(q.bucket) === undefined) throw new StoreError('NoSuchBucket');
    if (q.limit <= 0) return [];
    const pb = toBytes(q.prefix);
    const mb = toBytes(q.keyMarker);
    const rows = this.st.listUploads.all({
      bucket: q.bucket,
      lower: Buffer.compare(mb, pb) > 0 ? mb : pb,
      upper: pb.length > 0 ? (byteSuccessor(pb) ?? null) : null,
      keyMarker: mb,
      uploadIdMarker: q.uploadIdMarker,
      limit: q.limit,
    }) as UploadRow[];
    return rows.map(toUpload);
  }

  /** Runs the shape (of the set `shapesFor` picks for the bucket) that fits the bounds. */
  private scan(
    shapesFor: (b: BucketRow) => ScanShapes,
    bucket: string,
    prefix: string,
    after: string | Buffer,
    limit: number,
    from?: string | Buffer,
  ): unknown[] {
    const b = this.st.getBucket.get(bucket) as BucketRow | undefined;
    if (b === undefined) throw new StoreError('NoSuchBucket');
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
    const sts = shapesFor(b);
    return upper ? sts[exclusive ? 'gtUpper' : 'geUpper'].all(bucket, bound, upper, limit) : sts[exclusive ? 'gt' : 'ge'].all(bucket, bound, limit);
  }
}
