// In-memory metadata store for tests: same behaviour as SqliteMetaStore (the contract suite in
// ../contract.ts checks both). Keys are ordered by their UTF-8 bytes (Buffer.compare), never by `<`.

import { StoreError } from '../errors.js';
import {
  NULL_VERSION,
  type BucketRecord,
  type DataRef,
  type MetaStore,
  type ObjectRecord,
  type WriteCondition,
} from '../types.js';

/** All versions of one key. */
interface KeyEntry {
  key: string;
  bytes: Buffer;
  versions: Map<string, ObjectRecord>;
  /** Version id of the latest version; every non-empty entry has one. */
  latest: string;
}

interface BucketState {
  record: BucketRecord;
  /** Sorted by `bytes` (memcmp order), so a scan is a binary search then a walk. */
  entries: KeyEntry[];
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

export class MemoryMetaStore implements MetaStore {
  private readonly buckets = new Map<string, BucketState>();
  /** data id → number of (version, position) references. */
  private readonly dataRefs = new Map<string, number>();

  createBucket(bucket: BucketRecord): void {
    if (this.buckets.has(bucket.name)) throw new StoreError('BucketAlreadyExists');
    this.buckets.set(bucket.name, { record: { ...bucket }, entries: [] });
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
    this.buckets.delete(name);
  }

  getObject(bucket: string, key: string): ObjectRecord | undefined {
    const b = this.buckets.get(bucket);
    const e = b && this.find(b, toBytes(key));
    return e && structuredClone(e.versions.get(e.latest));
  }

  putObject(record: ObjectRecord, cond?: WriteCondition): DataRef[] {
    const b = this.mustBucket(record.bucket);
    const bytes = toBytes(record.key);
    const i = lowerBound(b.entries, bytes);
    let e: KeyEntry | undefined = b.entries[i];
    if (e && !e.bytes.equals(bytes)) e = undefined;
    const latest = e?.versions.get(e.latest);
    const current = latest && !latest.isDeleteMarker ? latest : undefined;
    if (cond?.mustNotExist && current) throw new StoreError('PreconditionFailed');
    if (cond?.etagMatches !== undefined) {
      if (!current) throw new StoreError('NoSuchKey');
      if (current.etag !== cond.etagMatches) throw new StoreError('PreconditionFailed');
    }
    if (!e) {
      e = { key: record.key, bytes, versions: new Map(), latest: record.versionId };
      b.entries.splice(i, 0, e);
    }
    const replaced = e.versions.get(record.versionId);
    if (replaced) this.unref(replaced.data);
    if (latest) latest.isLatest = false;
    const stored = normalize(record);
    e.versions.set(record.versionId, stored);
    e.latest = record.versionId;
    this.ref(stored.data);
    if (!replaced) return [];
    // Free only what nothing references any more (the new record may share ids).
    const seen = new Set<string>();
    return replaced.data.filter((d) => {
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

  isDataReferenced(dataId: string): boolean {
    return this.dataRefs.has(dataId);
  }

  close(): void {}

  private mustBucket(name: string): BucketState {
    const b = this.buckets.get(name);
    if (!b) throw new StoreError('NoSuchBucket');
    return b;
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
