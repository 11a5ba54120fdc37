// In-memory metadata store for tests: same behaviour as SqliteMetaStore (the contract suite in
// ../contract.ts checks both). Keys are ordered by their UTF-8 bytes (Buffer.compare), never by `<`.

import { StoreError } from '../errors.js';
import { MemoryCoordination } from './memory-coord.js';
import { listedObject } from '../listing.js';
import type { ListedObject } from '../types.js';
import {
  NULL_VERSION,
  type BucketRecord,
  type CompletedUpload,
  type DataRef,
  type MetaStore,
  type ObjectRecord,
  type PartRecord,
  type UploadListQuery,
  type UploadRecord,
  type WriteCondition,
} from '../types.js';

/** All versions of one key. */
interface KeyEntry {
  key: string;
  bytes: Buffer;
  versions: Map<string, ObjectRecord>;
  /** Version id of the latest version; every non-empty entry has one. */
  latest: string;
  /** Inline bytes by version id (kept outside the records, as SQLite keeps them outside the rows). */
  inline: Map<string, Buffer>;
  /** Completed-upload details by version id (SQLite's object_multipart rows). */
  multipart: Map<string, CompletedUpload>;
}

interface UploadState {
  record: UploadRecord;
  bytes: Buffer;
  parts: Map<number, PartRecord>;
}

interface BucketState {
  record: BucketRecord;
  /** Sorted by `bytes` (memcmp order), so a scan is a binary search then a walk. */
  entries: KeyEntry[];
  /** In-progress multipart uploads by upload id. */
  uploads: Map<string, UploadState>;
  /** Configuration documents by name. */
  config: Map<string, string>;
}

const toBytes = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

/** Index of the first entry whose bytes are >= b (strict: > b). */
function lowerBound(entries: KeyEntry[], b: Buffer, strict = false): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(entries[mid]!.bytes, b);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The record as the SQLite store would give it back: JSON round trip of meta (drops undefined
 * fields), DataRefs reduced to {id, size}, no `parts` key when absent, isLatest set.
 */
function normalize(r: ObjectRecord): ObjectRecord {
  const out: ObjectRecord = {
    bucket: r.bucket,
    key: r.key,
    versionId: r.versionId,
    isLatest: true,
    isDeleteMarker: r.isDeleteMarker,
    size: r.size,
    etag: r.etag,
    lastModified: r.lastModified,
    storageClass: r.storageClass,
    meta: JSON.parse(JSON.stringify(r.meta)) as ObjectRecord['meta'],
    data: r.data.map((d) => ({ id: d.id, size: d.size })),
  };
  if (r.parts !== undefined) out.parts = [...r.parts];
  return out;
}

/** An upload as SQLite gives it back: meta through JSON, absent optional fields omitted. */
function normalizeUpload(u: UploadRecord): UploadRecord {
  const out: UploadRecord = {
    bucket: u.bucket,
    key: u.key,
    uploadId: u.uploadId,
    initiated: u.initiated,
    meta: JSON.parse(JSON.stringify(u.meta)) as UploadRecord['meta'],
    storageClass: u.storageClass,
  };
  if (u.checksumAlgorithm !== undefined) out.checksumAlgorithm = u.checksumAlgorithm;
  if (u.checksumType !== undefined) out.checksumType = u.checksumType;
  return out;
}

/** A part as SQLite gives it back: data.size is the part size, checksums through JSON. */
function normalizePart(p: PartRecord): PartRecord {
  const out: PartRecord = {
    partNumber: p.partNumber,
    size: p.size,
    etag: p.etag,
    lastModified: p.lastModified,
    data: { id: p.data.id, size: p.size },
  };
  if (p.checksums !== undefined) out.checksums = JSON.parse(JSON.stringify(p.checksums)) as Record<string, string>;
  return out;
}

export class MemoryMetaStore implements MetaStore {
  private readonly buckets = new Map<string, BucketState>();
  /** data id → number of (version, position) references. */
  private readonly dataRefs = new Map<string, number>();
  readonly coord = new MemoryCoordination((id) => this.isDataReferenced(id));

  createBucket(bucket: BucketRecord): void {
    if (this.buckets.has(bucket.name)) throw new StoreError('BucketAlreadyExists');
    this.buckets.set(bucket.name, { record: { ...bucket }, entries: [], uploads: new Map(), config: new Map() });
  }

  getBucket(name: string): BucketRecord | undefined {
    const b = this.buckets.get(name);
    return b && { ...b.record };
  }

  listBuckets(): BucketRecord[] {
    return [...this.buckets.values()]
      .map((b) => ({ ...b.record }))
      .sort((x, y) => Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)));
  }

  deleteBucket(name: string): void {
    const b = this.mustBucket(name);
    if (b.entries.length > 0) throw new StoreError('BucketNotEmpty');
    // In-progress uploads go with the bucket (as in the SQLite store's cascade).
    for (const u of b.uploads.values()) this.unref([...u.parts.values()].map((p) => p.data));
    this.buckets.delete(name);
  }

  getObject(bucket: string, key: string, withBytes = true): ObjectRecord | undefined {
    const b = this.buckets.get(bucket);
    const e = b && this.find(b, toBytes(key));
    if (!e) return undefined;
    const rec = structuredClone(e.versions.get(e.latest)!);
    const inline = withBytes ? e.inline.get(e.latest) : undefined;
    if (inline) rec.inline = Buffer.from(inline);
    return rec;
  }

  putObject(record: ObjectRecord, cond?: WriteCondition): DataRef[] {
    const b = this.mustBucket(record.bucket);
    this.checkCondition(b, record.key, cond);
    return this.freeable(this.writeVersion(b, record));
  }

  private checkCondition(b: BucketState, key: string, cond: WriteCondition | undefined): void {
    const e = this.find(b, toBytes(key));
    const latest = e?.versions.get(e.latest);
    const current = latest && !latest.isDeleteMarker ? latest : undefined;
    if (cond?.mustNotExist && current) throw new StoreError('PreconditionFailed', 'If-None-Match');
    if (cond?.mustExist && !current) throw new StoreError('NoSuchKey');
    if (cond?.etagMatches !== undefined) {
      if (!current) throw new StoreError('NoSuchKey');
      if (current.etag !== cond.etagMatches) throw new StoreError('PreconditionFailed', 'If-Match');
    }
  }

  /** Makes `record` the latest version; returns the data of the version it replaced (or []). */
  private writeVersion(b: BucketState, record: ObjectRecord): DataRef[] {
    if (record.inline !== undefined && record.inline.length > 0 && (record.data.length > 0 || record.inline.length !== record.size)) {
      throw new Error('putObject: inline bytes must be the whole object and its only data');
    }
    const bytes = toBytes(record.key);
    const i = lowerBound(b.entries, bytes);
    let e: KeyEntry | undefined = b.entries[i];
    if (e && !e.bytes.equals(bytes)) e = undefined;
    const latest = e?.versions.get(e.latest);
    if (!e) {
      e = { key: record.key, bytes, versions: new Map(), latest: record.versionId, inline: new Map(), multipart: new Map() };
      b.entries.splice(i, 0, e);
    }
    const replaced = e.versions.get(record.versionId);
    if (replaced) this.unref(replaced.data);
    e.multipart.delete(record.versionId);
    if (latest) latest.isLatest = false;
    const stored = normalize(record);
    e.versions.set(record.versionId, stored);
    e.latest = record.versionId;
    if (record.inline !== undefined && record.inline.length > 0) {
      e.inline.set(record.versionId, Buffer.from(record.inline));
    } else {
      e.inline.delete(record.versionId);
    }
    this.ref(stored.data);
    return replaced ? replaced.data : [];
  }

  /** Deduplicated refs that nothing references any more (the new record may share ids). */
  private freeable(refs: DataRef[]): DataRef[] {
    const seen = new Set<string>();
    return refs.filter((d) => {
      if (seen.has(d.id) || this.dataRefs.has(d.id)) return false;
      seen.add(d.id);
      return true;
    });
  }

  deleteObject(bucket: string, key: string): ObjectRecord | undefined {
    const b = this.mustBucket(bucket);
    const bytes = toBytes(key);
    const i = lowerBound(b.entries, bytes);
    const e = b.entries[i];
    if (!e || !e.bytes.equals(bytes)) return undefined;
    const rec = e.versions.get(NULL_VERSION);
    if (!rec) return undefined;
    e.versions.delete(NULL_VERSION);
    e.inline.delete(NULL_VERSION);
    e.multipart.delete(NULL_VERSION);
    this.unref(rec.data);
    if (e.versions.size === 0) {
      b.entries.splice(i, 1);
    } else if (e.latest === NULL_VERSION) {
      // The newest remaining version becomes latest (same rule as the SQLite store).
      let next: ObjectRecord | undefined;
      for (const v of e.versions.values()) {
        if (
          !next ||
          v.lastModified > next.lastModified ||
          (v.lastModified === next.lastModified && Buffer.compare(Buffer.from(v.versionId), Buffer.from(next.versionId)) > 0)
        ) {
          next = v;
        }
      }
      next!.isLatest = true;
      e.latest = next!.versionId;
    }
    return rec;
  }

  scanObjects(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ObjectRecord[] {
    const b = this.mustBucket(bucket);
    const out: ObjectRecord[] = [];
    if (limit <= 0) return out;
    const pb = toBytes(prefix);
    let start = Math.max(lowerBound(b.entries, pb), lowerBound(b.entries, toBytes(after), true));
    if (from !== undefined) start = Math.max(start, lowerBound(b.entries, toBytes(from)));
    for (let i = start; i < b.entries.length && out.length < limit; i++) {
      const e = b.entries[i]!;
      // Sorted and >= prefix: the first key without the prefix is past every key with it.
      if (Buffer.compare(e.bytes.subarray(0, pb.length), pb) !== 0) break;
      const rec = e.versions.get(e.latest)!;
      if (!rec.isDeleteMarker) out.push(structuredClone(rec));
    }
    return out;
  }

  scanListing(bucket: string, prefix: string, after: string | Buffer, limit: number, from?: string | Buffer): ListedObject[] {
    return this.scanObjects(bucket, prefix, after, limit, from).map(listedObject);
  }

  // ---- multipart uploads ----------------------------------------------------------------------

  createUpload(upload: UploadRecord): void {
    const b = this.mustBucket(upload.bucket);
    if (b.uploads.has(upload.uploadId)) throw new Error(`duplicate upload id ${upload.uploadId}`);
    b.uploads.set(upload.uploadId, { record: normalizeUpload(upload), bytes: toBytes(upload.key), parts: new Map() });
  }

  getUpload(bucket: string, key: string, uploadId: string): UploadRecord | undefined {
    const u = this.findUpload(bucket, key, uploadId);
    return u && structuredClone(u.record);
  }

  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): DataRef[] {
    const u = this.mustUpload(bucket, key, uploadId);
    const old = u.parts.get(part.partNumber);
    const stored = normalizePart(part);
    u.parts.set(part.partNumber, stored);
    this.ref([stored.data]);
    if (!old) return [];
    this.unref([old.data]);
    return this.freeable([old.data]);
  }

  listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, limit: number): PartRecord[] {
    const u = this.mustUpload(bucket, key, uploadId);
    if (limit <= 0) return [];
    return [...u.parts.values()]
      .filter((p) => p.partNumber > afterPartNumber)
      .sort((x, y) => x.partNumber - y.partNumber)
      .slice(0, limit)
      .map((p) => structuredClone(p));
  }

  listUploads(q: UploadListQuery): UploadRecord[] {
    const b = this.mustBucket(q.bucket);
    if (q.limit <= 0) return [];
    const pb = toBytes(q.prefix);
    const mb = toBytes(q.keyMarker);
    return [...b.uploads.values()]
      .filter((u) => {
        if (Buffer.compare(u.bytes.subarray(0, pb.length), pb) !== 0) return false;
        const c = Buffer.compare(u.bytes, mb);
        return c > 0 || (c === 0 && q.uploadIdMarker !== '' && u.record.uploadId > q.uploadIdMarker);
      })
      .sort(
        (x, y) =>
          Buffer.compare(x.bytes, y.bytes) ||
          x.record.initiated - y.record.initiated ||
          (x.record.uploadId < y.record.uploadId ? -1 : x.record.uploadId > y.record.uploadId ? 1 : 0),
      )
      .slice(0, q.limit)
      .map((u) => structuredClone(u.record));
  }

  completeUpload(bucket: string, key: string, uploadId: string, record: ObjectRecord, cond?: WriteCondition): DataRef[] {
    if (record.bucket !== bucket || record.key !== key) throw new Error('completeUpload: the record is for another key');
    const b = this.mustBucket(bucket);
    const u = this.mustUpload(bucket, key, uploadId);
    this.checkCondition(b, key, cond);
    const parts = [...u.parts.values()].map((p) => p.data);
    const partIds = new Set(parts.map((d) => d.id));
    for (const d of record.data) {
      if (!partIds.has(d.id)) throw new Error(`completeUpload: data ${d.id} is not a part of upload ${uploadId}`);
    }
    const checksumsById = new Map([...u.parts.values()].map((p) => [p.data.id, { ...(p.checksums ?? {}) }]));
    const partChecksums = record.data.map((d) => checksumsById.get(d.id) ?? {});
    b.uploads.delete(uploadId);
    this.unref(parts);
    const replaced = this.writeVersion(b, record);
    this.find(b, toBytes(key))!.multipart.set(record.versionId, { versionId: record.versionId, uploadId, partChecksums });
    return this.freeable([...parts, ...replaced]);
  }

  getCompletedUpload(bucket: string, key: string): CompletedUpload | undefined {
    const b = this.mustBucket(bucket);
    const e = this.find(b, toBytes(key));
    const latest = e?.versions.get(e.latest);
    if (!e || !latest || latest.isDeleteMarker) return undefined;
    const m = e.multipart.get(latest.versionId);
    return m && structuredClone(m);
  }

  abortUpload(bucket: string, key: string, uploadId: string): DataRef[] {
    const u = this.mustUpload(bucket, key, uploadId);
    this.buckets.get(bucket)!.uploads.delete(uploadId);
    const parts = [...u.parts.values()].map((p) => p.data);
    this.unref(parts);
    return this.freeable(parts);
  }

  // ---- bucket configuration documents -------------------------------------------------------

  getBucketConfig(bucket: string, name: string): string | undefined {
    return this.mustBucket(bucket).config.get(name);
  }

  putBucketConfig(bucket: string, name: string, value: string | undefined): void {
    const b = this.mustBucket(bucket);
    if (value === undefined) b.config.delete(name);
    else b.config.set(name, value);
  }

  isDataReferenced(dataId: string): boolean {
    return this.dataRefs.has(dataId);
  }

  close(): void {}

  private mustBucket(name: string): BucketState {
    const b = this.buckets.get(name);
    if (!b) throw new StoreError('NoSuchBucket');
    return b;
  }

  /** The upload, only if it belongs to this bucket and key (S3: NoSuchUpload otherwise). */
  private findUpload(bucket: string, key: string, uploadId: string): UploadState | undefined {
    const u = this.buckets.get(bucket)?.uploads.get(uploadId);
    return u && u.record.key === key ? u : undefined;
  }

  private mustUpload(bucket: string, key: string, uploadId: string): UploadState {
    const u = this.findUpload(bucket, key, uploadId);
    if (!u) throw new StoreError('NoSuchUpload');
    return u;
  }

  private find(b: BucketState, bytes: Buffer): KeyEntry | undefined {
    const e = b.entries[lowerBound(b.entries, bytes)];
    return e && e.bytes.equals(bytes) ? e : undefined;
  }

  private ref(data: DataRef[]): void {
    for (const d of data) this.dataRefs.set(d.id, (this.dataRefs.get(d.id) ?? 0) + 1);
  }

  private unref(data: DataRef[]): void {
    for (const d of data) {
      const n = (this.dataRefs.get(d.id) ?? 0) - 1;
      if (n > 0) this.dataRefs.set(d.id, n);
      else this.dataRefs.delete(d.id);
    }
  }
}
