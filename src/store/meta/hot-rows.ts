// The hot-row cache of the SQLite metadata store (docs/performance.md, "Round two: the small-request
// path"): rows the small-request path reads again and again — buckets, a bucket with its
// configuration documents (and the identity generation read with them), object versions and the
// inline bytes of small objects — kept as the rows SQLite returned, so a hit is turned into records
// exactly as a read would be (callers get fresh copies: nothing they change reaches the cache; the
// parsed extras — tags, ACL, retention, encryption — are parsed once per entry and shared, frozen).
// Absence is cached too (no such bucket, no such key). Bounded by entries and bytes, least recently
// used out first. This module only keeps rows; when they may be used is SqliteMetaStore's rule
// (own commits drop what they change, another process's commit clears everything: sqlite.ts).

/** Cached inline bytes: a Buffer, null (the row has none), or undefined (not read: HEAD). */
export type InlineState = Buffer | null | undefined;

export interface CachedVersion<Row> {
  /** The version's row, or null: no such version (or no latest version) when it was read. */
  readonly row: Row | null;
  readonly inline: InlineState;
  /** What the reader derived from the row once (frozen: shared by every hit), kept as long as the row is. */
  derived?: unknown;
}

export interface HotRowLimits {
  /** Object versions (and absences) kept, at most. */
  entries: number;
  /** Estimated bytes of the object entries (their inline bytes, JSON columns and a fixed overhead), at most. */
  bytes: number;
  /** Buckets (rows and configuration reads), at most. */
  buckets: number;
}

export const DEFAULT_HOT_ROW_LIMITS: HotRowLimits = { entries: 16_384, bytes: 32 * 1024 * 1024, buckets: 1024 };

/** What one cached version costs besides its variable parts (Map entries, objects, key strings). */
const ENTRY_OVERHEAD = 400;

/** The versions of one key: '' is the latest, any other name a version id. */
interface KeyEntry<Row> {
  versions: Map<string, CachedVersion<Row>>;
  bytes: number;
}

interface BucketEntry<B, C> {
  row?: B | null;
  /** getBucketWithConfigs' raw rows (null: no such bucket), by the configuration names asked for. */
  configs?: Map<string, C | null>;
}

export class HotRows<Row, B, C> {
  private readonly objects = new Map<string, KeyEntry<Row>>();
  private readonly buckets = new Map<string, BucketEntry<B, C>>();
  private entryCount = 0;
  private byteCount = 0;
  /** Hits and misses (tests, the bench). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly limits: HotRowLimits,
    /** The bytes a row takes besides the fixed overhead (its strings). */
    private readonly rowBytes: (row: Row) => number,
  ) {}

  get size(): { entries: number; bytes: number; buckets: number } {
    return { entries: this.entryCount, bytes: this.byteCount, buckets: this.buckets.size };
  }

  // ---- object versions ----------------------------------------------------------------------

  /** A cached version ('' = the latest); with `needInline`, only an entry whose inline bytes were read. */
  version(bucket: string, key: string, version: string, needInline: boolean): CachedVersion<Row> | undefined {
    const id = objectId(bucket, key);
    const k = this.objects.get(id);
    const v = k?.versions.get(version);
    if (v === undefined || (needInline && v.row !== null && v.inline === undefined)) {
      this.misses++;
      return undefined;
    }
    // Most recently used last.
    this.objects.delete(id);
    this.objects.set(id, k!);
    this.hits++;
    return v;
  }

  /** Keeps a version; returns its entry, or undefined when it is too large to keep. */
  setVersion(bucket: string, key: string, version: string, row: Row | null, inline: InlineState): CachedVersion<Row> | undefined {
    const id = objectId(bucket, key);
    let k = this.objects.get(id);
    if (k === undefined) {
      k = { versions: new Map(), bytes: 0 };
    } else {
      this.objects.delete(id);
      const old = k.versions.get(version);
      if (old !== undefined) this.forget(k, old);
    }
    const v: CachedVersion<Row> = { row, inline };
    const cost = this.cost(v);
    if (cost > this.limits.bytes) {
      // Never kept: it would push everything else out.
      if (k.versions.size > 0) this.objects.set(id, k);
      return undefined;
    }
    this.objects.set(id, k);
    k.versions.set(version, v);
    k.bytes += cost;
    this.entryCount++;
    this.byteCount += cost;
    this.evict();
    return v;
  }

  /** Every cached version of a key (a write to the key changes its latest version, maybe others). */
  dropKey(bucket: string, key: string): void {
    const id = objectId(bucket, key);
    const k = this.objects.get(id);
    if (k === undefined) return;
    this.objects.delete(id);
    this.entryCount -= k.versions.size;
    this.byteCount -= k.bytes;
  }

  // ---- buckets ------------------------------------------------------------------------------

  bucket(name: string): B | null | undefined {
    const row = this.buckets.get(name)?.row;
    if (row === undefined) this.misses++;
    else this.hits++;
    return row;
  }

  setBucket(name: string, row: B | null): void {
    this.bucketEntry(name).row = row;
  }

  configs(name: string, names: string): C | null | undefined {
    const row = this.buckets.get(name)?.configs?.get(names);
    if (row === undefined) this.misses++;
    else this.hits++;
    return row;
  }

  setConfigs(name: string, names: string, row: C | null): void {
    const e = this.bucketEntry(name);
    (e.configs ??= new Map()).set(names, row);
  }

  /** A bucket's row and configuration reads (its state, a document or its existence changed). */
  dropBucket(name: string): void {
    this.buckets.delete(name);
  }

  /** Every configuration read (they carry the identity generation, which an identity change moves). */
  dropConfigs(): void {
    for (const e of this.buckets.values()) e.configs = undefined;
  }

  clear(): void {
    this.objects.clear();
    this.buckets.clear();
    this.entryCount = 0;
    this.byteCount = 0;
  }

  private bucketEntry(name: string): BucketEntry<B, C> {
    let e = this.buckets.get(name);
    if (e === undefined) {
      e = {};
      this.buckets.set(name, e);
      if (this.buckets.size > this.limits.buckets) this.buckets.delete(this.buckets.keys().next().value!);
    }
    return e;
  }

  private cost(v: CachedVersion<Row>): number {
    return ENTRY_OVERHEAD + (v.row === null ? 0 : this.rowBytes(v.row)) + (v.inline ? v.inline.length : 0);
  }

  private forget(k: KeyEntry<Row>, v: CachedVersion<Row>): void {
    const cost = this.cost(v);
    k.bytes -= cost;
    this.entryCount--;
    this.byteCount -= cost;
  }

  /** Least recently used keys out until both bounds hold. */
  private evict(): void {
    while (this.entryCount > this.limits.entries || this.byteCount > this.limits.bytes) {
      const oldest = this.objects.entries().next();
      if (oldest.done) return;
      const [id, k] = oldest.value;
      this.objects.delete(id);
      this.entryCount -= k.versions.size;
      this.byteCount -= k.bytes;
    }
  }
}

const objectId = (bucket: string, key: string): string => `${bucket}\u0000${key}`;
