// Migration step 0001-core of the PostgreSQL metadata schema (docs/cluster.md): buckets, object
// versions (inline bytes in their row), multipart uploads and parts, bucket configuration
// documents, background jobs' state, per-bucket usage counters and the generations table the
// identity and key-service snapshots are versioned by. The SQLite schema (sqlite-schema.ts) is the
// model; what differs:
// - keys are `bytea` (their UTF-8 bytes: ORDER BY key is byte order, as SQLite's BLOBs); every
//   other text that is compared or ordered is COLLATE "C", whatever the database's locale;
// - a version's inline bytes, its completed upload (upload id, part checksums) and its checksum
//   algorithms live in its own row (one statement writes or reads a version); `data_ids` (NULL when
//   none) with a GIN index replaces SQLite's object_data table for isDataReferenced;
// - usage counters are spread over USAGE_SHARDS rows per bucket: concurrent writes into one
//   bucket add to different rows instead of queueing on one (their sum is the figure).
import type { Migration } from './db.js';

/** Rows per bucket in bucket_usage (a write adds its delta to one chosen at random). */
export const USAGE_SHARDS = 16;

const CORE_SQL = `
CREATE TABLE strata_generations (
  name  text PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO strata_generations(name, value) VALUES ('identity', 0), ('kms', 0);

CREATE TABLE buckets (
  name        text COLLATE "C" PRIMARY KEY,
  region      text NOT NULL,
  created_at  bigint NOT NULL,
  versioning  text NOT NULL DEFAULT '',
  owner       text NOT NULL,
  object_lock boolean NOT NULL DEFAULT false
);

CREATE TABLE objects (
  bucket              text COLLATE "C" NOT NULL REFERENCES buckets(name),
  key                 bytea NOT NULL,
  version_id          text COLLATE "C" NOT NULL,
  is_latest           boolean NOT NULL,
  is_delete_marker    boolean NOT NULL,
  size                bigint NOT NULL,
  etag                text NOT NULL,
  last_modified       bigint NOT NULL,
  storage_class       text NOT NULL,
  meta                text NOT NULL,
  checksum_algorithms text NOT NULL DEFAULT '',
  data                text NOT NULL,
  data_ids            text[],
  parts               text,
  format              integer NOT NULL,
  extra               text,
  inline              bytea,
  upload_id           text,
  part_checksums      text,
  PRIMARY KEY (bucket, key, version_id)
);
-- At most one latest version per key (also what makes racing writers of one key collide).
CREATE UNIQUE INDEX objects_latest ON objects(bucket, key) WHERE is_latest;
-- The listing walks this one in key order: latest versions that are not delete markers.
CREATE UNIQUE INDEX objects_live ON objects(bucket, key) WHERE is_latest AND NOT is_delete_marker;
-- isDataReferenced (the orphan sweep) for object versions' pieces.
CREATE INDEX objects_data ON objects USING gin (data_ids) WHERE data_ids IS NOT NULL;

CREATE TABLE uploads (
  bucket             text COLLATE "C" NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
  key                bytea NOT NULL,
  upload_id          text COLLATE "C" NOT NULL,
  initiated          bigint NOT NULL,
  storage_class      text NOT NULL,
  meta               text NOT NULL,
  checksum_algorithm text,
  checksum_type      text,
  extra              text,
  format             integer NOT NULL,
  PRIMARY KEY (bucket, key, upload_id)
);
-- ListMultipartUploads order: key bytes, then initiation time.
CREATE INDEX uploads_order ON uploads(bucket, key, initiated, upload_id);

CREATE TABLE upload_parts (
  bucket        text COLLATE "C" NOT NULL,
  key           bytea NOT NULL,
  upload_id     text COLLATE "C" NOT NULL,
  part_number   integer NOT NULL,
  size          bigint NOT NULL,
  etag          text NOT NULL,
  last_modified bigint NOT NULL,
  data_id       text NOT NULL,
  checksums     text,
  PRIMARY KEY (bucket, key, upload_id, part_number),
  FOREIGN KEY (bucket, key, upload_id) REFERENCES uploads(bucket, key, upload_id) ON DELETE CASCADE
);
CREATE INDEX upload_parts_data ON upload_parts(data_id);

CREATE TABLE bucket_config (
  bucket text COLLATE "C" NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
  name   text COLLATE "C" NOT NULL,
  value  text NOT NULL,
  PRIMARY KEY (bucket, name)
);

CREATE TABLE job_state (
  name  text COLLATE "C" PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE bucket_usage (
  bucket         text COLLATE "C" NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
  shard          integer NOT NULL,
  objects        bigint NOT NULL,
  versions       bigint NOT NULL,
  delete_markers bigint NOT NULL,
  bytes          bigint NOT NULL,
  PRIMARY KEY (bucket, shard)
);
`;

export const CORE_MIGRATION: Migration = { id: '0001-core', up: CORE_SQL };
