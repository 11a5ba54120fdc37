// The bucket cache of the PostgreSQL store: bucket rows and the configuration documents read with
// them (getBucketWithConfigs), so that the small-request path spends its one round trip on the
// object, not on the bucket (docs/cluster.md, "Caches"). Only buckets that exist are kept: absence
// is always read from the database, so a bucket created through another gateway is seen at once.
//
// Invalidation. Every write of a bucket row or configuration document bumps the strata_generations
// row 'buckets' and notifies it in its transaction (PgMetaStore); this process's own writes clear
// the cache once committed, another process's reach it through the change feed (snapshot.ts):
// the notification (milliseconds), the 1-second poll of the generation (the safety net), and a
// clear whenever the LISTEN connection comes back. A clear moves the epoch on: a read that started
// before it does not put what it read into the cache (it may predate the change), so a stale row
// can outlive a change by at most the notification's delay, never past the next poll.
//
// What a stale row can do in that window is bounded by the database: a write into a bucket deleted
// meanwhile fails on its foreign key (NoSuchBucket), a read or listing of it finds the bucket row
// missing in the same statement (NoSuchBucket); configuration (versioning, policy, ACL, encryption)
// is applied as of the cached row, as Amazon S3 documents for its own bucket configuration changes.
import type { PgDb } from './db.js';
import type { BucketRow } from './core-sql.js';
import type { FeedSubscriber } from './snapshot.js';

/** The strata_generations row (and notification payload) of bucket rows and configuration documents. */
export const BUCKETS_GENERATION = 'buckets';

/** Buckets kept at most (least recently used out first). */
const MAX_BUCKETS = 1024;

/** A configuration read: the documents found among the names asked for (frozen: shared by every hit). */
export type CachedConfigs = Readonly<Record<string, string>>;

interface Entry {
  row: BucketRow;
  /** getBucketWithConfigs' documents, by the names asked for (joined with '\n'). */
  configs: Map<string, CachedConfigs>;
}

export class BucketCache implements FeedSubscriber {
  readonly name = BUCKETS_GENERATION;
  private readonly entries = new Map<string, Entry>();
  private epochValue = 0;
  private generation = -1;
  /** Hits and misses (tests, diagnostics). */
  hits = 0;
  misses = 0;

  constructor(private readonly db: Pick<PgDb, 'query'>) {}

  /** The generation last read from the database (the change feed's poll compares it). */
  get current(): { generation: number } {
    return { generation: this.generation };
  }

  /** Moves on at every clear: take it before a read, pass it to keep(). */
  get epoch(): number {
    return this.epochValue;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached row of an existing bucket, or undefined (not cached: read the database). */
  row(name: string): BucketRow | undefined {
    const e = this.touch(name);
    if (e === undefined) this.misses++;
    else this.hits++;
    return e?.row;
  }

  /** The cached row with the documents asked for, or undefined. */
  configs(name: string, names: readonly string[]): { row: BucketRow; configs: CachedConfigs } | undefined {
    const e = this.touch(name);
    const configs = e?.configs.get(names.join('\n'));
    if (configs === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return { row: e!.row, configs };
  }

  /** Keeps a row read from the database, unless the cache was cleared since `epoch`. */
  keepRow(name: string, row: BucketRow, epoch: number): void {
    if (epoch !== this.epochValue) return;
    const e = this.entries.get(name);
    if (e !== undefined && sameRow(e.row, row)) return;
    this.put(name, { row, configs: new Map() });
  }

  /** Keeps a configuration read (and its row), unless the cache was cleared since `epoch`. */
  keepConfigs(name: string, names: readonly string[], row: BucketRow, configs: Record<string, string>, epoch: number): void {
    if (epoch !== this.epochValue) return;
    let e = this.entries.get(name);
    if (e === undefined || !sameRow(e.row, row)) this.put(name, (e = { row, configs: new Map() }));
    e.configs.set(names.join('\n'), Object.freeze({ ...configs }));
  }

  /** Forgets everything (a bucket write committed, or may have). */
  clear(): void {
    this.epochValue++;
    this.entries.clear();
  }

  /** The change feed: another process changed a bucket (or may have). Clears, then reads the generation. */
  async refresh(): Promise<void> {
    this.clear();
    const [r] = await this.db.query<{ value: string }>('SELECT value FROM strata_generations WHERE name = $1', [BUCKETS_GENERATION]);
    const g = r === undefined ? 0 : Number(r.value);
    if (g > this.generation) this.generation = g;
  }

  private touch(name: string): Entry | undefined {
    const e = this.entries.get(name);
    if (e !== undefined) {
      this.entries.delete(name);
      this.entries.set(name, e);
    }
    return e;
  }

  private put(name: string, e: Entry): void {
    this.entries.delete(name);
    this.entries.set(name, e);
    if (this.entries.size > MAX_BUCKETS) this.entries.delete(this.entries.keys().next().value!);
  }
}

function sameRow(a: BucketRow, b: BucketRow): boolean {
  return (
    a.name === b.name &&
    a.region === b.region &&
    a.created_at === b.created_at &&
    a.versioning === b.versioning &&
    a.owner === b.owner &&
    a.object_lock === b.object_lock
  );
}
