// The SQLite schema of the metadata store and its one migration path (docs/on-disk-format.md).
import type Database from 'better-sqlite3';
import { META_FORMAT_VERSION } from '../types.js';

type Db = Database.Database;

/** Schema of format version 1. Keys are BLOBs of their UTF-8 bytes so ORDER BY key is memcmp order. */
export const SCHEMA_V1 = `
CREATE TABLE buckets (
  name       TEXT PRIMARY KEY,
  region     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  versioning TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE objects (
  bucket           TEXT NOT NULL REFERENCES buckets(name),
  key              BLOB NOT NULL CHECK (typeof(key) = 'blob'),
  version_id       TEXT NOT NULL,
  is_latest        INTEGER NOT NULL,
  is_delete_marker INTEGER NOT NULL,
  size             INTEGER NOT NULL,
  etag             TEXT NOT NULL,
  last_modified    INTEGER NOT NULL,
  storage_class    TEXT NOT NULL,
  meta             TEXT NOT NULL,
  data             TEXT NOT NULL,
  parts            TEXT,
  format           INTEGER NOT NULL,
  PRIMARY KEY (bucket, key, version_id)
) WITHOUT ROWID;

-- At most one latest version per key; the listing walks this index in key order.
CREATE UNIQUE INDEX objects_latest ON objects(bucket, key) WHERE is_latest = 1;

-- One row per (data id, owning version): makes isDataReferenced() an index lookup. Rows go away
-- with their object row (ON DELETE CASCADE), so they can never point at a missing version.
CREATE TABLE object_data (
  data_id    TEXT NOT NULL,
  bucket     TEXT NOT NULL,
  key        BLOB NOT NULL,
  version_id TEXT NOT NULL,
  PRIMARY KEY (data_id, bucket, key, version_id),
  FOREIGN KEY (bucket, key, version_id) REFERENCES objects(bucket, key, version_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX object_data_owner ON object_data(bucket, key, version_id);

-- In-progress multipart uploads. Removed by complete, abort, or with their bucket (cascade).
CREATE TABLE uploads (
  bucket             TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
  key                BLOB NOT NULL CHECK (typeof(key) = 'blob'),
  upload_id          TEXT NOT NULL,
  initiated          INTEGER NOT NULL,
  storage_class      TEXT NOT NULL,
  meta               TEXT NOT NULL,
  checksum_algorithm TEXT,
  checksum_type      TEXT,
  format             INTEGER NOT NULL,
  PRIMARY KEY (bucket, key, upload_id)
) WITHOUT ROWID;
-- ListMultipartUploads order: key bytes, then initiation time.
CREATE INDEX uploads_order ON uploads(bucket, key, initiated, upload_id);

-- One row per uploaded part; its piece is referenced from here until complete or abort.
CREATE TABLE upload_parts (
  bucket        TEXT NOT NULL,
  key           BLOB NOT NULL,
  upload_id     TEXT NOT NULL,
  part_number   INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  etag          TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  data_id       TEXT NOT NULL,
  checksums     TEXT,
  PRIMARY KEY (bucket, key, upload_id, part_number),
  FOREIGN KEY (bucket, key, upload_id) REFERENCES uploads(bucket, key, upload_id) ON DELETE CASCADE
) WITHOUT ROWID;
-- isDataReferenced() for part pieces (the orphan sweep must not take them).
CREATE INDEX upload_parts_data ON upload_parts(data_id);

-- Per-bucket configuration documents (CORS, ...), as JSON text. Removed with the bucket.
CREATE TABLE bucket_config (
  bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
`;

/**
 * Format 2: small objects' bytes inline in the metadata store (one row per version; removed with
 * it). A rowid table: its rows are a few KiB, too large for a WITHOUT ROWID B-tree's pages.
 */
export const SCHEMA_V2 = `
CREATE TABLE object_inline (
  bucket     TEXT NOT NULL,
  key        BLOB NOT NULL,
  version_id TEXT NOT NULL,
  bytes      BLOB NOT NULL,
  UNIQUE (bucket, key, version_id),
  FOREIGN KEY (bucket, key, version_id) REFERENCES objects(bucket, key, version_id) ON DELETE CASCADE
);
`;

/**
 * Format 3 (multipart details): which upload a completed multipart object came from, and its
 * parts' checksums, one row per such object version (removed with it). A retried
 * CompleteMultipartUpload is answered from it; GetObjectAttributes ObjectParts and GET ?partNumber
 * read the part checksums. Objects written before have no row: they answer as before.
 */
export const SCHEMA_V3 = `
CREATE TABLE object_multipart (
  bucket         TEXT NOT NULL,
  key            BLOB NOT NULL,
  version_id     TEXT NOT NULL,
  upload_id      TEXT NOT NULL,
  part_checksums TEXT NOT NULL,
  PRIMARY KEY (bucket, key, version_id),
  FOREIGN KEY (bucket, key, version_id) REFERENCES objects(bucket, key, version_id) ON DELETE CASCADE
) WITHOUT ROWID;
`;

/**
 * Format 4 (coordination between processes, src/store/coord.ts): leases (per-upload locks, the
 * jobs runner), write intents, pending frees and read pins. Only adds tables: no existing row
 * changes meaning. None of these rows must survive a crash (they expire, or leave an orphan for
 * the sweep), so they are written without waiting for a WAL sync.
 */
export const SCHEMA_V4 = `
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE write_intents (
  id         TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE pending_frees (
  data_id  TEXT PRIMARY KEY,
  freed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pending_frees_due ON pending_frees(freed_at);

CREATE TABLE read_pins (
  pin_id     TEXT NOT NULL,
  data_id    TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (pin_id, data_id)
) WITHOUT ROWID;
CREATE INDEX read_pins_data ON read_pins(data_id, expires_at);
`;

/**
 * Format 5 (bucket owners): each bucket records the user id of its owner. Buckets made before are
 * the root user's ('root', ROOT_USER_ID in types.ts): the only user there was.
 */
export const SCHEMA_V5 = `
ALTER TABLE buckets ADD COLUMN owner TEXT NOT NULL DEFAULT 'root';
`;

/**
 * Format 6 (data protection): a bucket's object-lock flag; each object version's extras (tags,
 * retention, legal hold: JSON, NULL when none) and an upload's (applied to the object it becomes);
 * the objects_live index (latest versions that are not delete markers), which listings of
 * versioned buckets walk so a key whose latest version is a delete marker costs nothing; and
 * job_state, where background jobs keep what lets them resume after a restart (the lifecycle
 * cursor). Existing rows keep their meaning: NULL extras = none, object_lock 0.
 */
export const SCHEMA_V6 = `
ALTER TABLE buckets ADD COLUMN object_lock INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN extra TEXT;
ALTER TABLE uploads ADD COLUMN extra TEXT;
CREATE UNIQUE INDEX objects_live ON objects(bucket, key) WHERE is_latest = 1 AND is_delete_marker = 0;
CREATE TABLE job_state (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/**
 * Format 7 (identities): users, groups and their members, managed policies (JSON text), their
 * attachments to users and groups, and users' access keys with the secret sealed (AES-256-GCM,
 * src/iam/secret-box.ts) and the id of the key that sealed it. Only adds tables. The root user is
 * never stored. Attachments name a user or group by kind: they are removed with it by the store.
 */
export const SCHEMA_V7 = `
CREATE TABLE iam_users (
  name       TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL UNIQUE,
  status     TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE iam_groups (
  name       TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE iam_group_members (
  group_name TEXT NOT NULL REFERENCES iam_groups(name) ON DELETE CASCADE,
  user_name  TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
  PRIMARY KEY (group_name, user_name)
) WITHOUT ROWID;
CREATE INDEX iam_group_members_user ON iam_group_members(user_name);
CREATE TABLE iam_policies (
  name       TEXT PRIMARY KEY,
  document   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE iam_attachments (
  kind   TEXT NOT NULL CHECK (kind IN ('user', 'group')),
  target TEXT NOT NULL,
  policy TEXT NOT NULL REFERENCES iam_policies(name),
  PRIMARY KEY (kind, target, policy)
) WITHOUT ROWID;
CREATE INDEX iam_attachments_policy ON iam_attachments(policy);
CREATE TABLE iam_access_keys (
  access_key_id TEXT PRIMARY KEY,
  user_name     TEXT NOT NULL REFERENCES iam_users(name) ON DELETE CASCADE,
  secret_key_id TEXT NOT NULL,
  secret        BLOB NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
  expires_at    INTEGER,
  policy        TEXT,
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX iam_access_keys_user ON iam_access_keys(user_name);
`;

/**
 * Format 8 (roles, for STS): iam_roles (name, stable role id, trust policy JSON, maximum session
 * duration in seconds) and iam_attachments rebuilt so that its kind may also be 'role' (SQLite cannot
 * change a CHECK constraint in place: new table, rows copied, old one dropped, renamed back). Every
 * existing row keeps its meaning. Sessions are not stored (src/iam/sessions.ts: sealed tokens).
 */
export const SCHEMA_V8 = `
CREATE TABLE iam_roles (
  name                 TEXT PRIMARY KEY,
  role_id              TEXT NOT NULL UNIQUE,
  trust_policy         TEXT NOT NULL,
  max_session_duration INTEGER NOT NULL,
  created_at           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE iam_attachments_v8 (
  kind   TEXT NOT NULL CHECK (kind IN ('user', 'group', 'role')),
  target TEXT NOT NULL,
  policy TEXT NOT NULL REFERENCES iam_policies(name),
  PRIMARY KEY (kind, target, policy)
) WITHOUT ROWID;
INSERT INTO iam_attachments_v8(kind, target, policy) SELECT kind, target, policy FROM iam_attachments;
DROP TABLE iam_attachments;
ALTER TABLE iam_attachments_v8 RENAME TO iam_attachments;
CREATE INDEX iam_attachments_policy ON iam_attachments(policy);
`;

/**
 * Format 9 (the built-in key service, src/kms/builtin.ts): master keys (state: enabled, current
 * version, rotation time) and their versions (material sealed with AES-256-GCM under a key derived
 * from the operator's root key, or NULL when derived from the root key itself, with the root key's
 * fingerprint). Only adds tables. Versions are never removed: old data keys keep unwrapping.
 */
export const SCHEMA_V9 = `
CREATE TABLE kms_keys (
  key_id          TEXT PRIMARY KEY,
  enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_at      INTEGER NOT NULL,
  current_version INTEGER NOT NULL,
  rotated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE kms_key_versions (
  key_id      TEXT NOT NULL REFERENCES kms_keys(key_id),
  version     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  root_key_id TEXT NOT NULL,
  material    BLOB,
  PRIMARY KEY (key_id, version)
) WITHOUT ROWID;
`;

/**
 * Format 10 (usage counters, meta/sqlite-usage.ts): one row per bucket with its objects (latest
 * versions that are not delete markers), versions (not delete markers), delete markers and bytes
 * (of every version), moved by each write transaction. The upgrade computes them once from the
 * objects table (one scan, at the first start of this version); a bucket without a row has zeros.
 */
export const SCHEMA_V10 = `
CREATE TABLE bucket_usage (
  bucket         TEXT PRIMARY KEY,
  objects        INTEGER NOT NULL,
  versions       INTEGER NOT NULL,
  delete_markers INTEGER NOT NULL,
  bytes          INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO bucket_usage(bucket, objects, versions, delete_markers, bytes)
  SELECT bucket, sum(is_latest = 1 AND is_delete_marker = 0), sum(is_delete_marker = 0), sum(is_delete_marker = 1),
    sum(CASE WHEN is_delete_marker = 0 THEN size ELSE 0 END)
  FROM objects GROUP BY bucket;
`;

/**
 * Format 11 (the heal queue, meta/sqlite-heal.ts): one row per shard of an erasure-coded piece
 * that needs healing (piece id, drive index), why, when it was first and last reported, how many
 * heal attempts failed and when the next may run. Only adds a table; a one-drive server leaves it empty.
 */
export const SCHEMA_V11 = `
CREATE TABLE heal_queue (
  piece_id   TEXT NOT NULL,
  drive      INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  next_try   INTEGER NOT NULL,
  PRIMARY KEY (piece_id, drive)
) WITHOUT ROWID;
CREATE INDEX heal_queue_due ON heal_queue(next_try);
`;

/** Creates or upgrades the schema to META_FORMAT_VERSION. The only place that changes the schema. */
export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID');
  const step = db.transaction(() => {
    const row = db.prepare("SELECT value FROM meta WHERE name = 'format_version'").get() as { value: number } | undefined;
    const current = row?.value ?? 0;
    if (current > META_FORMAT_VERSION) {
      throw new Error(`metadata format ${current} is newer than this Strata understands (${META_FORMAT_VERSION})`);
    }
    if (current < 1) db.exec(SCHEMA_V1);
    if (current < 2) db.exec(SCHEMA_V2);
    // Step 3 (multipart details) only adds a table: no existing row changes meaning.
    if (current < 3) db.exec(SCHEMA_V3);
    // Step 4 (coordination between processes) only adds tables.
    if (current < 4) db.exec(SCHEMA_V4);
    // Step 5 (bucket owners) adds a column whose default makes every existing bucket the root user's.
    if (current < 5) db.exec(SCHEMA_V5);
    // Step 6 (data protection) adds columns whose NULL/0 defaults mean "none", an index and a table.
    if (current < 6) db.exec(SCHEMA_V6);
    // Step 7 (identities) only adds tables.
    if (current < 7) db.exec(SCHEMA_V7);
    // Step 8 (roles) adds a table and widens iam_attachments.kind (rows copied as they are).
    if (current < 8) db.exec(SCHEMA_V8);
    // Step 9 (the built-in key service) only adds tables.
    if (current < 9) db.exec(SCHEMA_V9);
    // Step 10 (usage counters) adds a table and fills it from the objects once.
    if (current < 10) db.exec(SCHEMA_V10);
    // Step 11 (the heal queue) only adds a table.
    if (current < 11) db.exec(SCHEMA_V11);
    // Step 12 (XXH3-128 piece checksums) changes no table: only the version moves (see types.ts).
    // Future upgrades: `if (current < 13) { ... }`, each step in this same transaction.
    db.prepare("INSERT OR REPLACE INTO meta(name, value) VALUES ('format_version', ?)").run(META_FORMAT_VERSION);
  });
  step.immediate();
}
