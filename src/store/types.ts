// Records and interfaces of the storage engine. The engine knows nothing of HTTP or XML:
// s3/ translates these records and the typed errors in ./errors.ts into the S3 protocol.
import type { IdentityStore } from './identities.js';
import type { KmsKeyStore } from './kms-keys.js';
import type { UsageReader } from './usage.js';
import type { Coordination } from './coord.js';
import type { HealQueueStore } from './heal-queue.js';

/** The version id S3 uses for objects written while versioning was never enabled. */
export const NULL_VERSION = 'null';

/**
 * Current format of the metadata records written by this code (see docs/on-disk-format.md).
 * 1: first schema; 2: object_inline; 3: object_multipart (a completed upload's id and part
 * checksums), and data pieces written from now on are piece format 1 (header + block checksums),
 * which code of format ≤ 2 would serve header and all: the bump makes such code refuse the
 * database (migrate(): "newer than this Strata understands") instead of serving wrong bytes after
 * a downgrade. 4: coordination tables (leases, write intents, pending frees, read pins) so that
 * several processes can share one database and data directory; code of format ≤ 3 would not
 * honour another process's locks, pins or intents.
 * 5: buckets.owner (the user id of the bucket's owner; buckets made before are the root user's).
 * 6: data protection: buckets.object_lock, objects.extra (tags, retention, legal hold of a version),
 * uploads.extra (the same, given at CreateMultipartUpload), the objects_live index (latest versions
 * that are not delete markers: listings of versioned buckets), job_state (resumable background jobs).
 * 7: identities (iam_* tables). 8: roles (iam_roles; iam_attachments may name a role).
 * 9: the built-in key service's master keys (kms_keys, kms_key_versions).
 * 10: per-bucket usage counters (bucket_usage).
 * 11: the heal queue of erasure-coded pieces (heal_queue).
 * 12: data pieces with XXH3-128 block checksums (piece block hash 2). No schema change: the bump
 *     makes code of format ≤ 11, which knows only SHA-256 pieces, refuse the database at start
 *     instead of failing every read of a newer piece.
 */
export const META_FORMAT_VERSION = 12;

/** The user id of the root user (the one configured access key): owner of buckets made before format 5. */
export const ROOT_USER_ID = 'root';

export interface BucketRecord {
  name: string;
  region: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** '' while versioning was never enabled; then 'Enabled' or 'Suspended' (never '' again). */
  versioning: '' | 'Enabled' | 'Suspended';
  /** The user id of the bucket's owner (ROOT_USER_ID for the root user). */
  owner: string;
  /** Object lock enabled (at creation, or later on a versioned bucket): versioning can no longer be suspended. */
  objectLock: boolean;
}

/** A change of a bucket's state (MetaStore.updateBucket). */
export interface BucketPatch {
  versioning?: 'Enabled' | 'Suspended';
  /** Only true: object lock, once enabled, stays. */
  objectLock?: true;
}

/** One object tag. */
export interface Tag {
  key: string;
  value: string;
}

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/** An object version's retention (object lock): no delete or overwrite before `until` (ms since the epoch). */
export interface Retention {
  mode: RetentionMode;
  until: number;
}

/**
 * What a version carries besides its bytes and headers (format 6, objects.extra): tags, object-lock
 * retention and legal hold. All optional; absent = none.
 */
export interface VersionExtras {
  tags?: Tag[];
  retention?: Retention;
  /** true: a legal hold is ON (blocks removal); false: it was set OFF (S3 answers OFF, not "none"). */
  legalHold?: boolean;
  /** The version's access control list (absent: its bucket's owner with FULL_CONTROL). */
  acl?: StoredAcl;
  /**
   * Present: the version's bytes are sealed (encrypted, store/sealed.ts) with a data key only its
   * readers can give (Store.openRead's `key`); what it says about that key is s3/sse.ts's business.
   * On an upload: its parts are sealed with the data key this describes.
   */
  sse?: StoredSse;
}

/**
 * How an encrypted version's data key is found again (s3/sse.ts writes and reads it; the store
 * keeps it as it is). Its bytes are sealed pieces (store/sealed.ts); `DataRef.size` stays the
 * plaintext size of each piece.
 */
export interface StoredSse {
  /** S3's name: 'AES256' (SSE-S3), 'aws:kms' (SSE-KMS) or 'SSE-C' (a key the client sends). */
  mode: 'AES256' | 'aws:kms' | 'SSE-C';
  /** SSE-S3 / SSE-KMS: the master key's id in the key service. */
  keyId?: string;
  /** SSE-S3 / SSE-KMS: the data key's ciphertext from the key service (base64). */
  dataKey?: string;
  /** SSE-KMS: x-amz-server-side-encryption-context as the client sent it (base64 of JSON). */
  context?: string;
  /** SSE-KMS: x-amz-server-side-encryption-bucket-key-enabled. */
  bucketKey?: boolean;
  /** SSE-KMS asked as aws:kms:dsse (DSSE-KMS): echoed so; stored as one SSE-KMS layer (docs/encryption.md). */
  dsse?: boolean;
  /** SSE-C: the MD5 of the customer's key (base64), echoed in responses. */
  keyMd5?: string;
  /** SSE-C: the salt (base64) of `mac` and of the data key derived from the customer's key. */
  salt?: string;
  /** SSE-C: a keyed MAC of the customer's key (base64): tells a wrong key apart, never the key. */
  mac?: string;
  /** SSE-C: 2 when `mac` and the data key come from one HMAC-SHA512 (objects written since); absent: an HMAC and an HKDF. */
  kdf?: 2;
}

/**
 * An access control list as stored (an object version's `extra.acl`; a bucket's `acl` config as
 * JSON): the owner's canonical id and name, and the grants, each to a canonical user (`id`, with
 * `name`) or to a group (`uri`). s3/acl-grants.ts gives it meaning; the store keeps it as it is.
 */
export interface StoredAcl {
  owner: { id: string; name: string };
  grants: { id?: string; name?: string; uri?: string; permission: string }[];
}

/**
 * How a removal or replacement of a version treats object lock (MetaStore.deleteObject, putObject,
 * completeUpload): checked inside the metadata transaction that removes it.
 */
export interface LockCheck {
  /** x-amz-bypass-governance-retention: true (and permitted): GOVERNANCE retention does not block. */
  bypassGovernance?: boolean;
  /** The time the retention is compared with (ms); default Date.now(). */
  now?: number;
}

/** One stored piece of an object's bytes. A single PUT has one; a completed multipart upload one per part. */
export interface DataRef {
  /** Data-store id (generated, never derived from the key). */
  id: string;
  size: number;
}

/** Content headers and user metadata stored with an object and echoed on GET/HEAD. */
export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* with the prefix removed, names lowercased, in arrival order. */
  user: Record<string, string>;
  /** Checksums of the whole object, base64, by algorithm name in lowercase (crc32, crc32c, sha1, sha256, crc64nvme). */
  checksums?: Record<string, string>;
}

export interface ObjectRecord extends VersionExtras {
  bucket: string;
  key: string;
  /** NULL_VERSION for unversioned buckets. */
  versionId: string;
  isLatest: boolean;
  isDeleteMarker: boolean;
  size: number;
  /** Quoted, as sent on the wire: "\"<md5 hex>\"" or "\"<hex>-<parts>\"". */
  etag: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
  storageClass: string;
  meta: ObjectMeta;
  /** The bytes of the object, in order; sizes add up to `size`. Empty for a 0-byte object. */
  data: DataRef[];
  /** Part sizes for a multipart object (used by GET ?partNumber=), absent for a single PUT. */
  parts?: number[];
  /**
   * The object's bytes when they live inline in the metadata store (small objects; `data` is then
   * []). Records from getObject carry them; listings (scanObjects) do not.
   */
  inline?: Buffer;
}

/**
 * What a write says about a new object version: its bucket, key, bytes and description. The store
 * adds the rest (version id from the bucket's versioning state, time, latest): see store/versions.ts.
 */
export interface ObjectWrite extends ObjectContent {
  bucket: string;
  key: string;
}

/** A new version's content (a completed upload's, whose bucket and key are the upload's). */
export interface ObjectContent extends VersionExtras {
  size: number;
  /** Quoted, as in ObjectRecord. */
  etag: string;
  storageClass: string;
  meta: ObjectMeta;
  data: DataRef[];
  inline?: Buffer;
  parts?: number[];
}

/**
 * A metadata-only change of one object version (MetaStore.updateObject): no data, ETag, size or
 * time changes. A field left undefined is kept; `null` removes tags or retention.
 */
export interface ObjectPatch {
  meta?: ObjectMeta;
  tags?: Tag[] | null;
  /**
   * Checked in the transaction against the version's current retention: COMPLIANCE (while active)
   * may only be kept or extended, in COMPLIANCE; GOVERNANCE (while active) may be kept or extended
   * freely, shortened, removed or turned into COMPLIANCE only with `lock.bypassGovernance`. Else
   * StoreError('ObjectLocked'). A retention whose date has passed binds nothing.
   */
  retention?: Retention | null;
  legalHold?: boolean;
  /** A new access control list for the version (PutObjectAcl). */
  acl?: StoredAcl;
  /** How the retention change is checked. */
  lock?: LockCheck;
}

/** One entry of a version scan (ListObjectVersions): a ListedObject plus its place among the key's versions. */
export interface ListedVersion extends ListedObject {
  isLatest: boolean;
  isDeleteMarker: boolean;
}

/**
 * What a completed multipart object keeps of its upload (format 3): the upload id, so that a
 * retried CompleteMultipartUpload can be answered with the same result, and each part's checksums,
 * for GetObjectAttributes ObjectParts and GET ?partNumber. Removed with its object version.
 */
export interface CompletedUpload {
  /** The object version the upload became. */
  versionId: string;
  uploadId: string;
  /** Each part's checksums as uploaded (base64 by lowercase algorithm), in object order; {} when none. */
  partChecksums: Array<Record<string, string>>;
}

/** A condition checked atomically with an object write (conditional writes, S3 If-Match / If-None-Match). */
export interface WriteCondition {
  /** The key must not exist (If-None-Match: *). */
  mustNotExist?: boolean;
  /** The key must exist (If-Match: *): NoSuchKey otherwise. */
  mustExist?: boolean;
  /** The current object's ETag must equal this (quoted) value (If-Match): NoSuchKey when there is none. */
  etagMatches?: string;
}

export interface ListQuery {
  bucket: string;
  prefix: string;
  /** '' means no delimiter. */
  delimiter: string;
  /** Exclusive lower bound: only keys (and prefixes) sorting strictly after this are returned. '' = from the start. */
  after: string;
  /** 0..1000: counts Contents and CommonPrefixes together. */
  maxKeys: number;
}

/**
 * What a listing shows of an object (ListObjects, ListObjectsV2, ListObjectVersions): the fields
 * of its ObjectRecord a listing needs, without user metadata or data pieces. MetaStore.scanListing
 * returns these so a page of 1000 keys does not parse and copy 1000 full records.
 */
export interface ListedObject {
  key: string;
  versionId: string;
  size: number;
  /** Quoted, as in ObjectRecord. */
  etag: string;
  /** Milliseconds since the epoch. */
  lastModified: number;
  storageClass: string;
  /** The names of ObjectMeta.checksums (lowercase, in stored order) joined with ','; '' when none. */
  checksumAlgorithms: string;
}

export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned, when truncated (the next page starts after it). */
  nextAfter?: string;
}

/** An in-progress multipart upload (its extras: tags, retention, legal hold for the object it becomes). */
export interface UploadRecord extends VersionExtras {
  bucket: string;
  key: string;
  uploadId: string;
  /** Milliseconds since the epoch. */
  initiated: number;
  /** Content headers and user metadata given at CreateMultipartUpload, applied at completion. */
  meta: ObjectMeta;
  storageClass: string;
  /** x-amz-checksum-algorithm given at creation (lowercase), if any. */
  checksumAlgorithm?: string;
  /** x-amz-checksum-type given at creation. */
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
}

/** One uploaded part of a multipart upload. */
export interface PartRecord {
  partNumber: number;
  size: number;
  /** Quoted MD5 of the part's bytes. */
  etag: string;
  lastModified: number;
  data: DataRef;
  /** Checksums of this part (base64 by lowercase algorithm). */
  checksums?: Record<string, string>;
}

export interface UploadListQuery {
  bucket: string;
  prefix: string;
  /** Exclusive: uploads of keys after this key, or of this key with an upload id after uploadIdMarker. */
  keyMarker: string;
  uploadIdMarker: string;
  limit: number;
}

/**
 * A channel of change notices between the processes sharing a metadata store (etcd with --etcd;
 * src/cluster/etcd.ts has this shape): `publishChange(name)` after a commit reaches every process's
 * `onChange` hooks, this one's too. Names are what the store's caches are called ('identity', 'buckets'…).
 */
export interface ChangeNotices {
  publishChange(name: string): Promise<void>;
  onChange(fn: (name: string) => void): () => void;
}

/** What getBucketWithConfigs reads in one statement. */
export interface BucketWithConfigs {
  bucket: BucketRecord;
  configs: Map<string, string>;
  identityGeneration: number;
}

/**
 * The metadata store. Every method is one atomic step. Keys compare by their UTF-8 bytes.
 * Implementations: SQLite (embedded default; also in `:memory:` for tests); later PostgreSQL.
 */
export interface MetaStore {
  /** Rules that hold across processes sharing this store (leases, intents, frees, pins): see coord.ts. */
  readonly coord: Coordination;
  /** Users, groups, managed policies and access keys (format 7): see identities.ts. */
  readonly identities: IdentityStore;
  /** The built-in key service's master keys (format 9): see kms-keys.ts. */
  readonly kmsKeys: KmsKeyStore;
  /** Per-bucket objects, versions and bytes, kept by the write transactions (format 10): see usage.ts. */
  readonly usage: UsageReader;
  /** Shards of erasure-coded pieces to heal (format 11): see heal-queue.ts. */
  readonly healQueue: HealQueueStore;
  /** A request (or job step) begins: cached rows are checked against other connections' commits first (meta/sqlite-hot.ts). */
  requestArrived?(): void;
  /**
   * A store shared by several processes (PostgreSQL) whose caches follow the others' changes: also
   * carry change notices through `notices` (etcd with --etcd). Returns a function that detaches it.
   */
  attachChangeNotices?(notices: ChangeNotices, onPublishError?: (name: string, err: unknown) => void): () => void;
  createBucket(bucket: BucketRecord): void | Promise<void>;
  /**
   * `fresh`: read past any cache that may lag other processes' changes (PostgreSQL's bucket cache):
   * HeadBucket, the call clients use to ask whether a bucket exists. A store whose reads are current
   * for every request anyway (SQLite, memory) ignores it.
   */
  getBucket(name: string, opts?: { fresh?: boolean }): BucketRecord | undefined | Promise<BucketRecord | undefined>;
  listBuckets(): BucketRecord[] | Promise<BucketRecord[]>;
  /**
   * Changes versioning or object lock; returns the updated record. Throws NoSuchBucket, and
   * StoreError('InvalidBucketState') for suspending versioning of an object-lock bucket or
   * enabling object lock on a bucket whose versioning is not Enabled.
   */
  updateBucket(name: string, patch: BucketPatch): BucketRecord | Promise<BucketRecord>;
  /** Throws StoreError('BucketNotEmpty') if any object version (or delete marker) exists. */
  deleteBucket(name: string): void | Promise<void>;

  /**
   * The version `versionId` of the key, or without it the latest version; undefined if none (a
   * delete marker is returned: callers check). With `withBytes` false, an inline object's bytes are
   * not read (`inline` stays absent: HEAD and conditional checks need only the metadata).
   */
  getObject(bucket: string, key: string, versionId?: string, withBytes?: boolean): ObjectRecord | undefined | Promise<ObjectRecord | undefined>;
  /**
   * Makes `record` (an object version or a delete marker) the latest version of its key. A version
   * with the same id (the 'null' version) is replaced, unless object lock protects it
   * (StoreError('ObjectLocked'), see `lock`). Returns the data of the replaced record (to be freed
   * by the caller), or []. Throws StoreError('NoSuchBucket') or StoreError('PreconditionFailed') /
   * ('NoSuchKey') when `cond` fails.
   */
  putObject(record: ObjectRecord, cond?: WriteCondition, lock?: LockCheck): DataRef[] | Promise<DataRef[]>;
  /**
   * Removes one version (default: the 'null' version). If it was the latest, the newest remaining
   * version (see scanVersions) becomes the latest. Returns the removed record (without inline bytes;
   * its data are freed by the caller, unless still referenced) or undefined if there was none.
   * Throws NoSuchBucket, and StoreError('ObjectLocked') when a legal hold or an active retention
   * protects the version (GOVERNANCE yields to `lock.bypassGovernance`), checked in the transaction.
   * With `expectLastModified`: StoreError('PreconditionFailed') (nothing removed) unless the version
   * still has that lastModified (the lifecycle job: not a 'null' version written meanwhile).
   */
  deleteObject(
    bucket: string,
    key: string,
    versionId?: string,
    lock?: LockCheck,
    expectLastModified?: number,
  ): ObjectRecord | undefined | Promise<ObjectRecord | undefined>;
  /**
   * Every version (delete markers included) of keys starting with `prefix`, in (key bytes
   * ascending, newest first) order, newest = (lastModified, versionId bytes) descending. Starts after
   * the markers: with `versionIdMarker` '' at the first key after `keyMarker`; otherwise after that
   * version of `keyMarker` (at the next key if it does not exist); with `from`, only keys at or after
   * it (a seek past a common prefix). At most `limit`. Throws NoSuchBucket.
   */
  scanVersions(
    bucket: string,
    prefix: string,
    keyMarker: string,
    versionIdMarker: string,
    limit: number,
    from?: string,
  ): ListedVersion[] | Promise<ListedVersion[]>;
  /**
   * A metadata-only update of one version (the latest without `versionId`): applies `patch` and
   * changes nothing else (data, ETag, size, time, latest). Returns the updated record (without inline
   * bytes), or undefined when there is no such version or it is a delete marker. Throws NoSuchBucket.
   */
  updateObject(bucket: string, key: string, versionId: string | undefined, patch: ObjectPatch): ObjectRecord | undefined | Promise<ObjectRecord | undefined>;
  /**
   * Up to `limit` latest, non-delete-marker objects whose key starts with `prefix` and sorts strictly
   * after `after` (and at or after `from` when given), in UTF-8 byte order. The listing algorithm
   * (delimiters, common prefixes) is built on this by store/listing.ts.
   */
  scanObjects(bucket: string, prefix: string, after: string, limit: number, from?: string): ObjectRecord[] | Promise<ObjectRecord[]>;
  /**
   * The same rows as scanObjects, same arguments, order and errors, as ListedObject: only what a
   * listing shows. What store/listing.ts pages over (the hot path of every listing).
   */
  scanListing(bucket: string, prefix: string, after: string, limit: number, from?: string): ListedObject[] | Promise<ListedObject[]>;
  // ---- multipart uploads ----
  /** Throws NoSuchBucket. */
  createUpload(upload: UploadRecord): void | Promise<void>;
  getUpload(bucket: string, key: string, uploadId: string): UploadRecord | undefined | Promise<UploadRecord | undefined>;
  /** Adds or replaces a part; returns the replaced part's data (to free). Throws NoSuchUpload. */
  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): DataRef[] | Promise<DataRef[]>;
  /** Parts with partNumber > afterPartNumber, ascending, at most `limit`. */
  listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, limit: number): PartRecord[] | Promise<PartRecord[]>;
  /** Uploads in (key bytes, initiated, uploadId) order after the markers, with the prefix. */
  listUploads(q: UploadListQuery): UploadRecord[] | Promise<UploadRecord[]>;
  /**
   * One transaction: checks `cond` against the current object, removes the upload and all its
   * parts, makes `record` (whose data are the chosen parts' pieces) the latest version and records
   * that it came from this upload, with the chosen parts' checksums (getCompletedUpload). Returns the
   * data to free: parts not used by `record` and the replaced object's data. Throws NoSuchUpload,
   * PreconditionFailed, NoSuchKey, ObjectLocked (replacing a protected 'null' version, as putObject).
   */
  completeUpload(bucket: string, key: string, uploadId: string, record: ObjectRecord, cond?: WriteCondition, lock?: LockCheck): DataRef[] | Promise<DataRef[]>;
  /**
   * The upload the latest version of the key was completed from, with its parts' checksums;
   * undefined when that version was not made by CompleteMultipartUpload (or was written before
   * format 3), or there is none. Throws NoSuchBucket.
   */
  getCompletedUpload(bucket: string, key: string): CompletedUpload | undefined | Promise<CompletedUpload | undefined>;
  /** Removes the upload and its parts; returns their data. Throws NoSuchUpload. */
  abortUpload(bucket: string, key: string, uploadId: string): DataRef[] | Promise<DataRef[]>;

  // ---- per-bucket configuration documents (CORS, later tagging, lifecycle, policy...) ----
  /** The stored document (JSON text) or undefined. Throws NoSuchBucket. */
  getBucketConfig(bucket: string, name: string): string | undefined | Promise<string | undefined>;
  /**
   * The bucket and those of the named documents it has (absent from the map: none), in one read;
   * undefined when the bucket does not exist. The per-request read of what authorization needs,
   * with the identity generation of the same snapshot (see IdentityStore.identityGeneration).
   */
  getBucketWithConfigs(name: string, configs: readonly string[]): BucketWithConfigs | undefined | Promise<BucketWithConfigs | undefined>;
  /** Stores (or with undefined, removes) a document. Throws NoSuchBucket. */
  putBucketConfig(bucket: string, name: string, value: string | undefined): void | Promise<void>;

  // ---- resumable state of background jobs (lifecycle cursor, ...) ----------------------------
  /** The stored state (JSON text) of the named job, or undefined. */
  getJobState(name: string): string | undefined | Promise<string | undefined>;
  /** Stores (or with undefined, removes) a job's state. */
  putJobState(name: string, value: string | undefined): void | Promise<void>;

  /** Whether any object (any version) or upload part references the data id — used by the orphan sweep. */
  isDataReferenced(dataId: string): boolean | Promise<boolean>;
  close(): void | Promise<void>;
}

/** The bytes of a new piece, or a function of the piece's id giving them (DataStore.write). */
export type PieceSource = AsyncIterable<Buffer> | ((id: string) => AsyncIterable<Buffer>);

/** Where object bytes live. Ids are generated by the data store; keys never reach it. */
/** How DataStore.read reads. */
export interface DataReadOptions {
  /**
   * false: skip comparing blocks with their checksums (lengths are still checked). Only for a
   * caller that authenticates every byte itself before using it: a sealed piece's packages carry
   * GCM tags over every byte (store/sealed.ts), so its block checksums would check the same bytes twice.
   */
  blockChecks?: boolean;
}

/** How DataStore.write writes (stores that have no use for an option ignore it). */
export interface DataWriteOptions {
  /**
   * The x-amz-storage-class of the object (or upload) the piece belongs to: the erasure store
   * chooses the piece's parity by it (STANDARD / REDUCED_REDUNDANCY); one-directory stores ignore it.
   */
  storageClass?: string;
}

export interface DataStore {
  /**
   * Consumes `source` into a new piece of data. The piece becomes durable (fsynced, renamed into
   * place) only after `source` ends without error; if `source` throws or `signal` aborts, nothing
   * remains and the error is rethrown. `source` may be a function of the new piece's id, called
   * once before anything is read (sealed pieces bind their id: store/sealed.ts).
   */
  write(source: PieceSource, signal?: AbortSignal, opts?: DataWriteOptions): Promise<DataRef>;
  /**
   * Streams bytes [start, end] (inclusive) of the piece `ref`; whole piece when omitted. Yields
   * exactly those bytes, verified, or fails with PieceError (store/errors.ts): a piece that is
   * missing, whose length is not what `ref.size` implies, or (pieces with block checksums) a
   * block that does not match its checksum, before any byte of that block is yielded. Invalid ids
   * throw at once. Stopping the iteration early (return()) releases the file.
   */
  read(ref: DataRef, range?: { start: number; end: number }, opts?: DataReadOptions): AsyncIterable<Buffer>;
  /** Removes a piece; missing pieces are ignored. */
  remove(id: string): Promise<void>;
  /** Ids of all committed pieces whose creation predates `before` (ms): input of the orphan sweep. */
  listIds(before: number): AsyncIterable<string>;
  /**
   * Removes temporary files left by interrupted writes: all of them (startup of a process that
   * holds the directory alone), or with `before` only those last modified before it (ms; writes
   * in progress elsewhere keep theirs). Returns how many.
   */
  sweepTemp(before?: number): Promise<number>;
  close(): Promise<void>;
}
