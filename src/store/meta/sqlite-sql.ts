// The SQL of the SQLite metadata store and the mapping between its rows and the store's records
// (sqlite.ts runs it). Schema and migration: sqlite-schema.ts; documented in docs/on-disk-format.md.

import type Database from 'better-sqlite3';
import {
  META_FORMAT_VERSION,
  NULL_VERSION,
  type BucketRecord,
  type DataRef,
  type ListedObject,
  type ListedVersion,
  type ObjectRecord,
  type PartRecord,
  type UploadRecord,
  type VersionExtras,
} from '../types.js';

export type Db = Database.Database;
export type Stmt = Database.Statement;

export const COLS = 'bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified, storage_class, meta, data, parts, format, extra';

/**
 * The four shapes of the listing query (exclusive or inclusive lower bound, with or without an
 * upper bound), selecting `cols` through `access`. Each must be a range SEARCH with no temporary
 * sort, so a page costs O(limit) whatever the bucket size (a test EXPLAINs SCAN_SQL and LISTING_SQL).
 */
export const scanShapes = (cols: string, access = 'INDEXED BY objects_live') =>
  ({
    gt: `SELECT ${cols} FROM objects ${access} WHERE bucket = ? AND is_latest = 1 AND key > ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
    ge: `SELECT ${cols} FROM objects ${access} WHERE bucket = ? AND is_latest = 1 AND key >= ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
    gtUpper: `SELECT ${cols} FROM objects ${access} WHERE bucket = ? AND is_latest = 1 AND key > ? AND key < ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
    geUpper: `SELECT ${cols} FROM objects ${access} WHERE bucket = ? AND is_latest = 1 AND key >= ? AND key < ? AND is_delete_marker = 0 ORDER BY key LIMIT ?`,
  }) as const;

export type ScanShapes = Record<keyof ReturnType<typeof scanShapes>, Stmt>;

/** scanObjects: whole records. */
export const SCAN_SQL = scanShapes(COLS);

/**
 * scanListing: only what a listing shows, as raw rows (arrays: cheaper than objects). The key comes
 * back as TEXT: every stored key is the UTF-8 encoding of a JS string (toBytes), so this is the same
 * string as key.toString('utf8') without a Buffer per row. The two values nearly every row has
 * come back as NULL (no string to make): version 'null' and storage class STANDARD. Of `meta` only
 * the checksums object (json_extract in SQLite; NULL when absent), parsed in JS only when present.
 *
 * Two access paths, same WHERE (so the same rows either way). `latest` walks objects_live, which
 * holds only latest versions that are not delete markers (a key whose latest version is a delete
 * marker is not even visited), then looks each row up in the table. `byKey` walks the table itself
 * (its primary key is bucket, key, version_id), without that second B-tree search per row (~25 % of
 * the scan): a bucket that never had versioning holds one version per key (S3 writes replace the
 * 'null' version), so this reads exactly the page; other buckets take `latest`, which skips the
 * older versions without reading them.
 */
export const LISTING_COLS =
  "CAST(key AS TEXT), NULLIF(version_id, 'null'), size, etag, last_modified, NULLIF(storage_class, 'STANDARD'), json_extract(meta, '$.checksums')";
export const LISTING_SQL = {
  latest: scanShapes(LISTING_COLS),
  byKey: scanShapes(LISTING_COLS, 'NOT INDEXED'),
} as const;

export type ListingRow = [
  key: string,
  versionId: string | null,
  size: number,
  etag: string,
  lastModified: number,
  storageClass: string | null,
  checksums: string | null,
];

export function toListed(r: ListingRow): ListedObject {
  return {
    key: r[0],
    versionId: r[1] ?? NULL_VERSION,
    size: r[2],
    etag: r[3],
    lastModified: r[4],
    storageClass: r[5] ?? 'STANDARD',
    checksumAlgorithms: r[6] === null ? '' : Object.keys(JSON.parse(r[6]) as Record<string, string>).join(','),
  };
}

/**
 * scanVersions: every version in (key, newest first) order after the markers, with (`bounded`)
 * or without (`open`) the prefix's upper bound. The key range starts at max(prefix, keyMarker)
 * (computed by the caller), so the primary key gives key order and only each key's own versions
 * are sorted (SQLite's "TEMP B-TREE FOR LAST 2 TERMS OF ORDER BY"): a page costs O(limit +
 * versions of its last key), no schema change needed. @lm / @vid: the version-id marker's
 * position (NULL: none, start after keyMarker). A test EXPLAINs both.
 */
const versionsSql = (upper: string) => `SELECT CAST(key AS TEXT), version_id, size, etag, last_modified, storage_class,
    json_extract(meta, '$.checksums'), is_latest, is_delete_marker
  FROM objects
  WHERE bucket = @bucket AND key >= @lower ${upper}
    AND (key > @keyMarker OR (key = @keyMarker AND @lm IS NOT NULL
      AND (last_modified < @lm OR (last_modified = @lm AND version_id < @vid))))
  ORDER BY key, last_modified DESC, version_id DESC LIMIT @limit`;
export const VERSIONS_SQL = { bounded: versionsSql('AND key < @upper'), open: versionsSql('') } as const;

export type VersionRow = [...ListingRow, isLatest: number, isDeleteMarker: number];

/**
 * One object literal of a fixed shape (not toListed's result spread with a slice of the row: that
 * cost ~5 µs a row, as much as the query itself, and made a ListObjectVersions page of 1000 several
 * times a ListObjectsV2 page; bench `--set versions`, docs/performance.md).
 */
export function toListedVersion(r: VersionRow): ListedVersion {
  return {
    key: r[0],
    versionId: r[1] ?? NULL_VERSION,
    size: r[2],
    etag: r[3],
    lastModified: r[4],
    storageClass: r[5] ?? 'STANDARD',
    checksumAlgorithms: r[6] === null ? '' : Object.keys(JSON.parse(r[6]) as Record<string, string>).join(','),
    isLatest: r[7] === 1,
    isDeleteMarker: r[8] === 1,
  };
}

export const UPLOAD_COLS = 'bucket, key, upload_id, initiated, storage_class, meta, checksum_algorithm, checksum_type, extra';

/**
 * ListMultipartUploads' query. Markers: keys after keyMarker, or keyMarker itself with an upload id
 * after a non-empty uploadIdMarker. The range starts at max(prefix, keyMarker), so it is an index
 * range search in uploads_order with no sort (a test EXPLAINs it).
 */
export const LIST_UPLOADS_SQL = `SELECT ${UPLOAD_COLS}
  FROM uploads INDEXED BY uploads_order
  WHERE bucket = @bucket AND key >= @lower AND (@upper IS NULL OR key < @upper)
    AND (key > @keyMarker OR (key = @keyMarker AND @uploadIdMarker <> '' AND upload_id > @uploadIdMarker))
  ORDER BY key, initiated, upload_id LIMIT @limit`;

export interface BucketRow {
  name: string;
  region: string;
  created_at: number;
  versioning: BucketRecord['versioning'];
  owner: string;
  object_lock: number;
}

export interface ObjectRow {
  bucket: string;
  key: Buffer;
  version_id: string;
  is_latest: number;
  is_delete_marker: number;
  size: number;
  etag: string;
  last_modified: number;
  storage_class: string;
  meta: string;
  data: string;
  parts: string | null;
  format: number;
  extra: string | null;
}

/** The smallest byte string greater than every string starting with `b`; undefined if none (all 0xFF). */
export function byteSuccessor(b: Buffer): Buffer | undefined {
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const out = Buffer.from(b.subarray(0, i + 1));
      out[i] = b[i]! + 1;
      return out;
    }
  }
  return undefined;
}

export const toBytes = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

export interface UploadRow {
  bucket: string;
  key: Buffer;
  upload_id: string;
  initiated: number;
  storage_class: string;
  meta: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  extra: string | null;
}

/** An upload's values in UPLOAD_COLS order, then its format (the insert of both stores). */
export function uploadParams(u: UploadRecord): unknown[] {
  return [
    u.bucket,
    toBytes(u.key),
    u.uploadId,
    u.initiated,
    u.storageClass,
    JSON.stringify(u.meta),
    u.checksumAlgorithm ?? null,
    u.checksumType ?? null,
    extrasJson(u),
    META_FORMAT_VERSION,
  ];
}

/** A part's values: the upload's key columns, then PART_COLS order (the insert of both stores). */
export function partParams(bucket: string, kb: Buffer, uploadId: string, part: PartRecord): unknown[] {
  return [
    bucket,
    kb,
    uploadId,
    part.partNumber,
    part.size,
    part.etag,
    part.lastModified,
    part.data.id,
    part.checksums === undefined ? null : JSON.stringify(part.checksums),
  ];
}

export interface PartRow {
  part_number: number;
  size: number;
  etag: string;
  last_modified: number;
  data_id: string;
  checksums: string | null;
}

export const PART_COLS = 'part_number, size, etag, last_modified, data_id, checksums';

export function toUpload(r: UploadRow): UploadRecord {
  const u: UploadRecord = {
    bucket: r.bucket,
    key: r.key.toString('utf8'),
    uploadId: r.upload_id,
    initiated: r.initiated,
    meta: JSON.parse(r.meta) as UploadRecord['meta'],
    storageClass: r.storage_class,
  };
  if (r.checksum_algorithm !== null) u.checksumAlgorithm = r.checksum_algorithm;
  if (r.checksum_type !== null) u.checksumType = r.checksum_type as UploadRecord['checksumType'];
  if (r.extra !== null) Object.assign(u, parseExtras(r.extra));
  return u;
}

export function toPart(r: PartRow): PartRecord {
  const p: PartRecord = {
    partNumber: r.part_number,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    data: { id: r.data_id, size: r.size },
  };
  if (r.checksums !== null) p.checksums = JSON.parse(r.checksums) as Record<string, string>;
  return p;
}

export function toBucket(r: BucketRow): BucketRecord {
  return { name: r.name, region: r.region, createdAt: r.created_at, versioning: r.versioning, owner: r.owner, objectLock: r.object_lock === 1 };
}

/** A version's (or upload's) extras as stored in its `extra` column: JSON, NULL when there are none. */
export function extrasJson(x: VersionExtras): string | null {
  const out: VersionExtras = {};
  if (x.tags !== undefined && x.tags.length > 0) out.tags = x.tags.map((t) => ({ key: t.key, value: t.value }));
  if (x.retention !== undefined) out.retention = { mode: x.retention.mode, until: x.retention.until };
  // false: a legal hold was lifted (OFF), which S3 tells apart from never having had one.
  if (x.legalHold !== undefined) out.legalHold = x.legalHold;
  if (x.acl !== undefined) out.acl = x.acl;
  if (x.sse !== undefined) out.sse = x.sse;
  return Object.keys(out).length === 0 ? null : JSON.stringify(out);
}

export function parseExtras(text: string): VersionExtras {
  return JSON.parse(text) as VersionExtras;
}

/**
 * A version's extras parsed once and frozen (deeply), to be shared by every record made from the same
 * cached row (sqlite-hot.ts): a caller may replace a record's `tags`, `sse`… but never change them in place.
 */
export function frozenExtras(text: string): Readonly<VersionExtras> {
  return deepFreeze(parseExtras(text));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function toRecord(r: ObjectRow): ObjectRecord {
  return recordOf(r, r.extra === null ? undefined : parseExtras(r.extra));
}

/** A version's record from its row and its extras, already parsed (undefined: none). */
export function recordOf(r: ObjectRow, extras: Readonly<VersionExtras> | undefined): ObjectRecord {
  const rec: ObjectRecord = {
    bucket: r.bucket,
    key: r.key.toString('utf8'),
    versionId: r.version_id,
    isLatest: r.is_latest === 1,
    isDeleteMarker: r.is_delete_marker === 1,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    meta: JSON.parse(r.meta) as ObjectRecord['meta'],
    data: JSON.parse(r.data) as DataRef[],
  };
  if (r.parts !== null) rec.parts = JSON.parse(r.parts) as number[];
  if (extras !== undefined) Object.assign(rec, extras);
  return rec;
}

/**
 * A bucket and `n` of its configuration documents in one statement (one read snapshot), one row in
 * raw form: the bucket's columns as getBucket reads them, then each document's value (NULL: none);
 * no row when the bucket does not exist. Parameters: the n document names, then the bucket's name.
 * (Scalar subqueries on the primary key cost about what getBucket alone does; a join is slower.)
 */
export function bucketWithConfigsSql(n: number): string {
  const docs = Array.from({ length: n }, () => ', (SELECT value FROM bucket_config WHERE bucket = b.name AND name = ?)').join('');
  // Last column: the identity generation (the meta row sqlite-identities.ts keeps), read in the same
  // snapshot so the pipeline can confirm a cached principal without a read of its own.
  const generation = ", coalesce((SELECT value FROM meta WHERE name = 'identity_generation'), 0)";
  return `SELECT b.name, b.region, b.created_at, b.versioning, b.owner, b.object_lock${docs}${generation} FROM buckets b WHERE b.name = ?`;
}

/** The inline bytes of objects row `o`, as column `inline_bytes` (ObjectInlineRow). */
const INLINE_OF_O = '(SELECT i.bytes FROM object_inline i WHERE i.bucket = o.bucket AND i.key = o.key AND i.version_id = o.version_id) AS inline_bytes';

/** An objects row read with its inline bytes (getLatestInline, getVersionInline). */
export interface ObjectInlineRow extends ObjectRow {
  inline_bytes: Buffer | null;
}

/** Every statement the store runs, prepared once per connection. */
export function prepareAll(db: Db) {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    insertBucket: p('INSERT INTO buckets(name, region, created_at, versioning, owner, object_lock) VALUES (?, ?, ?, ?, ?, ?)'),
    getBucket: p('SELECT name, region, created_at, versioning, owner, object_lock FROM buckets WHERE name = ?'),
    listBuckets: p('SELECT name, region, created_at, versioning, owner, object_lock FROM buckets ORDER BY name'),
    updateBucket: p('UPDATE buckets SET versioning = ?, object_lock = ? WHERE name = ?'),
    deleteBucket: p('DELETE FROM buckets WHERE name = ?'),
    anyObject: p('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1'),
    getLatest: p(`SELECT ${COLS} FROM objects INDEXED BY objects_latest WHERE bucket = ? AND key = ? AND is_latest = 1`),
    getVersion: p(`SELECT ${COLS} FROM objects WHERE bucket = ? AND key = ? AND version_id = ?`),
    deleteVersion: p('DELETE FROM objects WHERE bucket = ? AND key = ? AND version_id = ?'),
    clearLatest: p('UPDATE objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1'),
    promoteNewest: p(
      `UPDATE objects SET is_latest = 1 WHERE bucket = @bucket AND key = @key AND version_id =
         (SELECT version_id FROM objects WHERE bucket = @bucket AND key = @key
          ORDER BY last_modified DESC, version_id DESC LIMIT 1)`,
    ),
    insertObject: p(`INSERT INTO objects(${COLS}) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    listVersions: p(VERSIONS_SQL.open).raw(true),
    listVersionsBounded: p(VERSIONS_SQL.bounded).raw(true),
    updateMeta: p('UPDATE objects SET meta = ?, extra = ? WHERE bucket = ? AND key = ? AND version_id = ?'),
    // A version with its inline bytes (NULL: none) in one statement, so one read transaction (GET).
    getLatestInline: p(`SELECT ${COLS}, ${INLINE_OF_O} FROM objects o INDEXED BY objects_latest WHERE o.bucket = ? AND o.key = ? AND o.is_latest = 1`),
    getVersionInline: p(`SELECT ${COLS}, ${INLINE_OF_O} FROM objects o WHERE o.bucket = ? AND o.key = ? AND o.version_id = ?`),
    insertInline: p('INSERT INTO object_inline(bucket, key, version_id, bytes) VALUES (?, ?, ?, ?)'),
    insertData: p('INSERT OR IGNORE INTO object_data(data_id, bucket, key, version_id) VALUES (?, ?, ?, ?)'),
    dataReferenced: p('SELECT 1 FROM object_data WHERE data_id = ? LIMIT 1'),
    partDataReferenced: p('SELECT 1 FROM upload_parts WHERE data_id = ? LIMIT 1'),
    insertUpload: p(`INSERT INTO uploads(${UPLOAD_COLS}, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    getUpload: p(`SELECT ${UPLOAD_COLS} FROM uploads WHERE bucket = ? AND key = ? AND upload_id = ?`),
    deleteUpload: p('DELETE FROM uploads WHERE bucket = ? AND key = ? AND upload_id = ?'), // cascades to upload_parts
    listUploads: p(LIST_UPLOADS_SQL),
    getPart: p(`SELECT ${PART_COLS} FROM upload_parts WHERE bucket = ? AND key = ? AND upload_id = ? AND part_number = ?`),
    putPart: p(`INSERT OR REPLACE INTO upload_parts(bucket, key, upload_id, ${PART_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    listParts: p(
      `SELECT ${PART_COLS} FROM upload_parts WHERE bucket = ? AND key = ? AND upload_id = ? AND part_number > ?
       ORDER BY part_number LIMIT ?`,
    ),
    allParts: p(`SELECT ${PART_COLS} FROM upload_parts WHERE bucket = ? AND key = ? AND upload_id = ? ORDER BY part_number`),
    getMultipart: p('SELECT version_id, upload_id, part_checksums FROM object_multipart WHERE bucket = ? AND key = ? AND version_id = ?'),
    insertMultipart: p('INSERT OR REPLACE INTO object_multipart(bucket, key, version_id, upload_id, part_checksums) VALUES (?, ?, ?, ?, ?)'),
    putConfig: p('INSERT OR REPLACE INTO bucket_config(bucket, name, value) VALUES (?, ?, ?)'),
    deleteConfig: p('DELETE FROM bucket_config WHERE bucket = ? AND name = ?'),
    getJobState: p('SELECT value FROM job_state WHERE name = ?'),
    putJobState: p('INSERT OR REPLACE INTO job_state(name, value) VALUES (?, ?)'),
    deleteJobState: p('DELETE FROM job_state WHERE name = ?'),
  };
}
