// Object versions: which version id a write gets (from the bucket's versioning state), how new
// version ids are made, and the one place a new version's record is built. Store calls these at
// its commit points; handlers never build ObjectRecords.
import { randomBytes } from 'node:crypto';
import { NULL_VERSION, type BucketRecord, type ObjectRecord, type ObjectWrite } from './types.js';

/**
 * The version id of an object written now into a bucket in this versioning state (S3): 'Enabled'
 * adds a new version with a fresh id; '' (never enabled) and 'Suspended' write the 'null'
 * version, replacing the previous 'null' version (and only it).
 */
export function versionIdFor(versioning: BucketRecord['versioning'], generate: () => string = newVersionId): string {
  switch (versioning) {
    case 'Enabled':
      return generate();
    case 'Suspended':
    case '':
      return NULL_VERSION;
  }
}

/** Base62 in ASCII order: a string of these sorts bytewise like the number it encodes. */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const VERSION_ID_LENGTH = 32;
let counter = 0;

function base62(n: number, width: number): string {
  let s = '';
  for (let i = 0; i < width; i++) {
    s = BASE62[n % 62]! + s;
    n = Math.floor(n / 62);
  }
  return s;
}

/**
 * A new version id: 32 URL-safe characters (AWS's are opaque strings up to 1024 bytes). The first
 * 8 encode the time in ms and the next 4 a per-process counter, so ids made later in this process
 * sort after earlier ones in byte order (the tie-break of "newest first" within one millisecond,
 * see MetaStore.scanVersions); the rest is random. Never 'null' (that starts with a lowercase letter;
 * these start with '0' until the year 2081 and with a digit for centuries after).
 */
export function newVersionId(now = Date.now()): string {
  counter = (counter + 1) % 62 ** 4;
  const random = randomBytes(VERSION_ID_LENGTH - 12);
  let tail = '';
  for (const b of random) tail += BASE62[b % 62];
  return base62(now, 8) + base62(counter, 4) + tail;
}

/**
 * The record of a new object version: the one place such a literal is written. It becomes the
 * latest version of its key at its commit.
 */
export function newVersion(write: ObjectWrite, versionId: string, lastModified: number): ObjectRecord {
  const rec: ObjectRecord = {
    bucket: write.bucket,
    key: write.key,
    versionId,
    isLatest: true,
    isDeleteMarker: false,
    size: write.size,
    etag: write.etag,
    lastModified,
    storageClass: write.storageClass,
    meta: write.meta,
    data: write.data,
  };
  if (write.parts !== undefined) rec.parts = write.parts;
  if (write.inline !== undefined) rec.inline = write.inline;
  if (write.tags !== undefined && write.tags.length > 0) rec.tags = write.tags;
  if (write.retention !== undefined) rec.retention = write.retention;
  if (write.legalHold !== undefined) rec.legalHold = write.legalHold; // false: OFF, as given
  if (write.acl !== undefined) rec.acl = write.acl;
  if (write.sse !== undefined) rec.sse = write.sse;
  return rec;
}

/** The record of a new delete marker (S3: no bytes, no ETag, no metadata), the latest version of its key at its commit. */
export function newDeleteMarker(bucket: string, key: string, versionId: string, lastModified: number): ObjectRecord {
  return {
    bucket,
    key,
    versionId,
    isLatest: true,
    isDeleteMarker: true,
    size: 0,
    etag: '',
    lastModified,
    storageClass: 'STANDARD',
    meta: { user: {} },
    data: [],
  };
}
