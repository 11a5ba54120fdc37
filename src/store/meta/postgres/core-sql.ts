// The SQL of the PostgreSQL metadata store (store.ts runs it) and the mapping between its rows and
// the store's records. Schema: schema-core.ts. Statements run as named prepared statements (parsed
// once per connection): a statement on a warm connection is one round trip.
import pg from 'pg';
import { StoreError } from '../../errors.js';
import { storedInlineSize } from '../../sealed.js';
import type { ListedObject, ListedVersion, ObjectRecord, WriteCondition } from '../../types.js';
import { type ObjectRow as SqliteObjectRow, toRecord as sqliteRecord } from '../sqlite-sql.js';

/** int8 (bigint: sizes, times, counts) as JS numbers, not strings (every value fits 2^53). */
export const TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')),
};

/** A version's columns as SQLite's store reads them (flags as 0/1), so its row mapping serves both; `p` a table alias. */
const objCols = (p = '') =>
  `${p}bucket, ${p}key, ${p}version_id, ${p}is_latest::int AS is_latest, ${p}is_delete_marker::int AS is_delete_marker, ${p}size, ${p}etag, ` +
  `${p}last_modified, ${p}storage_class, ${p}meta, ${p}data, ${p}parts, ${p}extra`;
export const OBJ_COLS = objCols();

/** A version's row (SQLite's shape) with its inline bytes when read (NULL: none). */
export type ObjectRow = SqliteObjectRow & { inline?: Buffer | null };

export function toRecord(r: ObjectRow): ObjectRecord {
  const rec = sqliteRecord(r);
  if (r.inline !== undefined && r.inline !== null) rec.inline = r.inline;
  return rec;
}

/** A bucket's columns in SQLite's row shape (object_lock as 0/1): its BucketRow and toBucket serve both stores. */
export const BUCKET_COLS = 'name, region, created_at, versioning, owner, object_lock::int AS object_lock';
export { type BucketRow, toBucket } from '../sqlite-sql.js';

// Uploads and parts have the same columns and row shapes as in SQLite (times and sizes parsed as numbers).
export { PART_COLS, type PartRow, toPart, toUpload, UPLOAD_COLS, type UploadRow } from '../sqlite-sql.js';
import { UPLOAD_COLS } from '../sqlite-sql.js';

/**
 * A listing row: what ListedObject needs, the key as text (converted from its bytes by PostgreSQL:
 * every stored key is the UTF-8 of a string, and a text column costs the client less than bytea's
 * hex form turned into a Buffer and back into a string).
 */
export interface ListingRow {
  key: string;
  version_id: string;
  size: number;
  etag: string;
  last_modified: number;
  storage_class: string;
  checksum_algorithms: string;
  is_latest?: boolean;
  is_delete_marker?: boolean;
}

export function toListed(r: ListingRow): ListedObject {
  return {
    key: r.key,
    versionId: r.version_id,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    checksumAlgorithms: r.checksum_algorithms,
  };
}

export function toListedVersion(r: ListingRow): ListedVersion {
  return { ...toListed(r), isLatest: r.is_latest === true, isDeleteMarker: r.is_delete_marker === true };
}

const LISTING_COLS = `convert_from(o.key, 'UTF8') AS key, o.version_id, o.size, o.etag, o.last_modified, o.storage_class, o.checksum_algorithms`;

/**
 * A page of the bucket's latest non-delete-marker versions in key byte order, through the bucket's
 * row so that a missing bucket is told apart from an empty page in the same snapshot: no row = no
 * bucket, one row of NULLs = no objects. $2 inclusive lower bound (prefix or `from`), $3 exclusive
 * lower bound (`after`): both are index conditions, the btree starts at the tighter one. `upper`:
 * with the prefix's successor as $5. An index scan of objects_live, no sort (store.test.ts EXPLAINs it).
 */
const listingRows = (cols: string, upper: boolean): string => `SELECT ${cols} FROM objects o
    WHERE o.bucket = b.name AND o.is_latest AND NOT o.is_delete_marker AND o.key >= $2 AND o.key > $3${upper ? ' AND o.key < $5' : ''}
    ORDER BY o.key LIMIT $4`;
export const listingSql = (cols: string, upper: boolean): string => `SELECT x.* FROM buckets b LEFT JOIN LATERAL (
    ${listingRows(cols, upper)}) x ON true
  WHERE b.name = $1`;

export const LISTING = { open: listingSql(LISTING_COLS, false), bounded: listingSql(LISTING_COLS, true) } as const;

/**
 * LISTING's rows packed into one row of a few long strings (the SQLite store's packed listing,
 * sqlite-listing.ts, whose unpackListing reads both): count, then per column the values joined by
 * U+001E — keys, sizes, ETags, dates, version ids, and extras (a JSON array [null, storage class,
 * checksum algorithms] for the rare row that is not STANDARD without checksums, else ''). The
 * client then parses one DataRow and splits six strings instead of building 1000 rows of seven
 * values. The aggregates read the subquery's rows in its order (same Aggregate node, no ORDER BY
 * of their own, so no sort): unpackListing checks the keys ascend and the counts agree, and a
 * batch that does not pass is read again as rows. No bucket: no row (as LISTING).
 */
const packedListingSql = (upper: boolean): string => `SELECT p.* FROM buckets b LEFT JOIN LATERAL (
    SELECT count(*)::int AS n, string_agg(x.key, chr(30)) AS k, string_agg(x.size::text, chr(30)) AS s, string_agg(x.etag, chr(30)) AS e,
      string_agg(x.last_modified::text, chr(30)) AS m,
      string_agg(CASE WHEN x.storage_class <> 'STANDARD' OR x.checksum_algorithms <> ''
        THEN json_build_array(NULL, NULLIF(x.storage_class, 'STANDARD'), NULLIF(x.checksum_algorithms, ''))::text ELSE '' END, chr(30)) AS x,
      string_agg(x.version_id, chr(30)) AS v
    FROM (${listingRows(LISTING_COLS, upper)}) x
  ) p ON true
  WHERE b.name = $1`;

export const PACKED_LISTING = { open: packedListingSql(false), bounded: packedListingSql(true) } as const;

/** A PACKED_LISTING row. */
export interface PackedListingRow {
  n: number;
  k: string | null;
  s: string | null;
  e: string | null;
  m: string | null;
  x: string | null;
  v: string | null;
}
export const SCAN = { open: listingSql(objCols('o.'), false), bounded: listingSql(objCols('o.'), true) } as const;

/**
 * scanVersions: every version in (key, newest first) order after the markers. The primary key
 * gives key order; only each key's own versions are sorted (an incremental sort). $3 keyMarker,
 * $4/$5 the version-id marker's (last_modified, version_id), NULL: start after keyMarker.
 */
const versionsSql = (upper: boolean) => `SELECT x.* FROM buckets b LEFT JOIN LATERAL (
    SELECT ${LISTING_COLS}, o.is_latest, o.is_delete_marker FROM objects o
    WHERE o.bucket = b.name AND o.key >= $2${upper ? ' AND o.key < $7' : ''}
      AND (o.key > $3 OR (o.key = $3 AND $4::bigint IS NOT NULL
        AND (o.last_modified < $4::bigint OR (o.last_modified = $4::bigint AND o.version_id < $5::text COLLATE "C"))))
    ORDER BY o.key, o.last_modified DESC, o.version_id DESC LIMIT $6) x ON true
  WHERE b.name = $1`;
export const VERSIONS = { open: versionsSql(false), bounded: versionsSql(true) } as const;

/** ListMultipartUploads after the markers (uploads_order: no sort). */
const uploadsSql = (upper: boolean) => `SELECT x.* FROM buckets b LEFT JOIN LATERAL (
    SELECT ${UPLOAD_COLS.replace(/(\w+)/g, 'u.$1')} FROM uploads u
    WHERE u.bucket = b.name AND u.key >= $2${upper ? ' AND u.key < $6' : ''}
      AND (u.key > $3 OR (u.key = $3 AND $4 <> '' AND u.upload_id > $4::text COLLATE "C"))
    ORDER BY u.key, u.initiated, u.upload_id LIMIT $5) x ON true
  WHERE b.name = $1`;
export const UPLOADS = { open: uploadsSql(false), bounded: uploadsSql(true) } as const;

/** The row WRITE_VERSION_SQL answers when its guard held back the write. */
export const STALE_WRITE = '!stale-write';

/**
 * Writes a version as its key's latest, in one statement: removes the version of the same id
 * (`old`, unless it carries a retention or legal hold and $20 is false: the caller then checks it
 * in a transaction), clears the former latest (`clr`), inserts the new row, adds the usage delta
 * to one of the bucket's shard rows, and returns the replaced pieces nothing else references. The
 * insert reads from `old` and `clr`, so they run first. A missing bucket fails the foreign key
 * (23503); a racing writer of the same key collides on the primary key or objects_latest (23505).
 *
 * $1 bucket, $2 key, $3 version id, $4 delete marker, $5 size, $6 etag, $7 last modified,
 * $8 storage class, $9 meta, $10 checksum algorithms, $11 data (JSON), $12 data ids (NULL: none),
 * $13 parts, $14 format, $15 extra, $16 inline bytes, $17 usage shard, $18 upload id,
 * $19 part checksums, $20 replace a protected version (checked by the caller), $21 the guard below.
 *
 * The guard ($21, the one-statement PUT): when the key's latest version is newer than this write
 * (its last_modified), the statement changes nothing and answers one row STALE_WRITE, and the
 * caller writes in a transaction instead. Why: PostgreSQL runs a statement it has fully received
 * even when its client is gone. A gateway SIGKILLed right after sending its write leaves the
 * statement to run whenever its backend gets to it — possibly after a later PUT of the same key,
 * sent by the client through another gateway once this one failed, was committed and acknowledged.
 * Without the guard that dead write would replace the acknowledged one (cluster-kill found it).
 * A live gateway whose write is older (clock skew between machines) only takes the transaction.
 */
export const WRITE_VERSION_SQL = `WITH newer AS (
    SELECT 1 FROM objects WHERE $21::boolean AND bucket = $1 AND key = $2 AND is_latest AND last_modified > $7 LIMIT 1
  ), old AS (
    DELETE FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3
      AND ($20::boolean OR extra IS NULL OR NOT (extra::jsonb ?| array['retention', 'legalHold']))
      AND NOT EXISTS (SELECT 1 FROM newer)
    RETURNING is_latest, is_delete_marker, size, data
  ), clr AS (
    UPDATE objects SET is_latest = false WHERE bucket = $1 AND key = $2 AND is_latest AND version_id <> $3
      AND NOT EXISTS (SELECT 1 FROM newer)
    RETURNING is_delete_marker
  ), ins AS (
    INSERT INTO objects (bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified, storage_class, meta,
      checksum_algorithms, data, data_ids, parts, format, extra, inline, upload_id, part_checksums)
    SELECT $1, $2, $3, true, $4::boolean, $5::bigint, $6, $7, $8, $9, $10, $11, $12::text[], $13, $14, $15, $16, $18, $19
    FROM (SELECT count(*) FROM old) o, (SELECT count(*) FROM clr) c
    WHERE NOT EXISTS (SELECT 1 FROM newer)
    RETURNING 1
  ), u AS (
    INSERT INTO bucket_usage (bucket, shard, objects, versions, delete_markers, bytes)
    SELECT $1, $17,
      (CASE WHEN $4::boolean THEN 0 ELSE 1 END) - (SELECT count(*) FROM old WHERE is_latest AND NOT is_delete_marker)
        - (SELECT count(*) FROM clr WHERE NOT is_delete_marker),
      (CASE WHEN $4::boolean THEN 0 ELSE 1 END) - (SELECT count(*) FROM old WHERE NOT is_delete_marker),
      (CASE WHEN $4::boolean THEN 1 ELSE 0 END) - (SELECT count(*) FROM old WHERE is_delete_marker),
      (CASE WHEN $4::boolean THEN 0 ELSE $5::bigint END) - coalesce((SELECT sum(size) FROM old WHERE NOT is_delete_marker), 0)
    FROM ins
    ON CONFLICT (bucket, shard) DO UPDATE SET objects = bucket_usage.objects + excluded.objects,
      versions = bucket_usage.versions + excluded.versions, delete_markers = bucket_usage.delete_markers + excluded.delete_markers,
      bytes = bucket_usage.bytes + excluded.bytes
  ), freed AS (
    SELECT t.e->>'id' AS id, min((t.e->>'size')::bigint) AS size, min(t.n) AS n
    FROM old, json_array_elements(old.data::json) WITH ORDINALITY AS t(e, n) GROUP BY 1
  )
  SELECT r.id, r.size FROM (
    SELECT f.id, f.size, f.n FROM freed f
    WHERE NOT (f.id = ANY (coalesce($12::text[], '{}')))
      AND NOT EXISTS (SELECT 1 FROM objects x WHERE x.data_ids @> ARRAY[f.id] AND x.data_ids IS NOT NULL
        AND NOT (x.bucket = $1 AND x.key = $2 AND x.version_id = $3))
      AND NOT EXISTS (SELECT 1 FROM upload_parts p WHERE p.data_id = f.id)
    UNION ALL SELECT '${STALE_WRITE}', 0, 0 FROM newer) r
  ORDER BY r.n`;

/**
 * Removes one version, promotes the newest remaining one when it was the latest, and moves the
 * usage counters. $1 bucket, $2 key, $3 version id, $4 usage shard.
 */
export const DELETE_VERSION_SQL = `WITH del AS (
    DELETE FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3 RETURNING is_latest, is_delete_marker, size
  ), prom AS (
    UPDATE objects SET is_latest = true WHERE bucket = $1 AND key = $2 AND (SELECT is_latest FROM del) AND version_id =
      (SELECT version_id FROM objects WHERE bucket = $1 AND key = $2 AND version_id <> $3 ORDER BY last_modified DESC, version_id DESC LIMIT 1)
    RETURNING is_delete_marker
  )
  INSERT INTO bucket_usage (bucket, shard, objects, versions, delete_markers, bytes)
  SELECT $1, $4,
    (CASE WHEN d.is_latest AND NOT d.is_delete_marker THEN -1 ELSE 0 END) + (SELECT count(*) FROM prom WHERE NOT is_delete_marker),
    CASE WHEN d.is_delete_marker THEN 0 ELSE -1 END, CASE WHEN d.is_delete_marker THEN -1 ELSE 0 END,
    CASE WHEN d.is_delete_marker THEN 0 ELSE -d.size END
  FROM del d
  ON CONFLICT (bucket, shard) DO UPDATE SET objects = bucket_usage.objects + excluded.objects,
    versions = bucket_usage.versions + excluded.versions, delete_markers = bucket_usage.delete_markers + excluded.delete_markers,
    bytes = bucket_usage.bytes + excluded.bytes`;

/** The ids of $1 (text[]) that no object version and no upload part references. */
export const UNREFERENCED_SQL = `SELECT id FROM unnest($1::text[]) AS id
  WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.data_ids @> ARRAY[id] AND o.data_ids IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM upload_parts p WHERE p.data_id = id)`;

/**
 * What a conditional or checked write needs to know first, in one statement: whether the bucket
 * exists, the latest version's ETag and kind, and the extras of the version of the same id.
 */
export const PROBE_SQL = `SELECT b.name IS NOT NULL AS bucket, l.etag, l.is_delete_marker,
    s.version_id IS NOT NULL AS same, s.extra AS same_extra
  FROM (SELECT 1) one
  LEFT JOIN buckets b ON b.name = $1
  LEFT JOIN objects l ON l.bucket = $1 AND l.key = $2 AND l.is_latest
  LEFT JOIN objects s ON s.bucket = $1 AND s.key = $2 AND s.version_id = $3`;

/** The bucket and the named documents ($2, text[]) with the identity generation, one statement. */
export const BUCKET_WITH_CONFIGS_SQL = `SELECT ${BUCKET_COLS},
    (SELECT json_object_agg(c.name, c.value) FROM bucket_config c WHERE c.bucket = b.name AND c.name = ANY ($2::text[]))::text AS configs,
    (SELECT value FROM strata_generations WHERE name = 'identity') AS generation
  FROM buckets b WHERE b.name = $1`;

/** Named statements: parsed once per connection, then one round trip each. */
const names = new Map<string, string>();
export function named(text: string): string {
  let n = names.get(text);
  if (n === undefined) names.set(text, (n = `core_${names.size}`));
  return n;
}

export function hasCondition(cond: WriteCondition | undefined): cond is WriteCondition {
  return cond !== undefined && (cond.mustNotExist === true || cond.mustExist === true || cond.etagMatches !== undefined);
}

/** Inline bytes must be the whole object (sealed: its sealed piece) and its only data. */
export function checkInline(rec: ObjectRecord): void {
  if (rec.inline !== undefined && rec.inline.length > 0 && (rec.data.length > 0 || rec.inline.length !== storedInlineSize(rec)))
    throw new Error('putObject: inline bytes must be the whole object (sealed: its sealed piece) and its only data');
}

/** The rows of a page read through its bucket's row (LEFT JOIN LATERAL): none = no bucket. */
export function pageOf<R extends { key: unknown }>(rows: R[]): R[] {
  if (rows.length === 0) throw new StoreError('NoSuchBucket');
  return rows.length === 1 && rows[0]!.key === null ? [] : rows;
}
