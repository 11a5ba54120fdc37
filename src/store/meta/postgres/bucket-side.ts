// The bucket half of the PostgreSQL metadata store (PgMetaStore in store.ts extends it): bucket
// rows and their configuration documents, the per-process bucket cache (bucket-cache.ts) kept true
// through the change feed, and the statement and transaction runners both halves use.
import type pg from 'pg';
import { StoreError } from '../../errors.js';
import type { IdentityStore } from '../../identities.js';
import type { BucketPatch, BucketRecord, BucketWithConfigs, ChangeNotices } from '../../types.js';
import { applyBucketPatch } from '../patches.js';
import { BUCKETS_GENERATION, BucketCache } from './bucket-cache.js';
import { BUCKET_COLS, BUCKET_WITH_CONFIGS_SQL, type BucketRow, TYPES, named, toBucket } from './core-sql.js';
import { isUnavailable, type PgClient, type PgDb } from './db.js';
import { announceChange, type ChangeFeed } from './snapshot.js';

/** Runs of a write that lost a race on its key's unique index (23505) before it gives up. */
const COLLISION_ATTEMPTS = 8;

export type Runner = Pick<pg.Pool, 'query'> | PgClient;

export const code = (err: unknown): string | undefined => (err as { code?: string })?.code;

/** Database loss as StoreError('Unavailable'), like PgDb does. */
function mapped(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  if (isUnavailable(err)) return new StoreError('Unavailable', `metadata database unavailable: ${(err as Error).message}`);
  return err;
}

export abstract class PgBucketSide {
  /** Bucket rows and configuration reads (only with a change feed to invalidate them). */
  readonly buckets: BucketCache | undefined;
  protected readonly feed: ChangeFeed | undefined;
  abstract readonly identities: IdentityStore;

  protected constructor(
    readonly db: PgDb,
    feed: ChangeFeed | undefined,
  ) {
    this.feed = feed;
    if (feed !== undefined) {
      this.buckets = new BucketCache(db);
      feed.register(this.buckets);
    }
  }

  /** One statement, prepared by name, on `on` (a transaction's client) or the pool. */
  protected async q<R extends pg.QueryResultRow>(text: string, values: unknown[], on: Runner = this.db.pool): Promise<R[]> {
    try {
      return (await on.query<R>({ name: named(text), text, values, types: TYPES })).rows;
    } catch (err) {
      throw mapped(err);
    }
  }

  /**
   * A write of bucket rows or configuration documents: fn in a transaction that also bumps the
   * 'buckets' generation and notifies it (the other processes drop their cached buckets); once it
   * has ended, committed or not, this process's cache is cleared.
   */
  protected async bucketWrite<T>(fn: (c: PgClient) => Promise<T>): Promise<T> {
    try {
      const out = await this.tx(async (c) => {
        const r = await fn(c);
        await announceChange(c, BUCKETS_GENERATION);
        return r;
      });
      this.feed?.committed(BUCKETS_GENERATION);
      return out;
    } finally {
      this.buckets?.clear();
    }
  }

  /** A SERIALIZABLE transaction, run again when it lost a race on a unique index. */
  protected async tx<T>(fn: (c: PgClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.tx(fn);
      } catch (err) {
        if (code(err) === '23505' && attempt < COLLISION_ATTEMPTS) continue;
        throw mapped(err);
      }
    }
  }

  // ---- buckets ------------------------------------------------------------------------------

  async createBucket(b: BucketRecord): Promise<void> {
    try {
      await this.q('INSERT INTO buckets (name, region, created_at, versioning, owner, object_lock) VALUES ($1, $2, $3, $4, $5, $6)', [
        b.name,
        b.region,
        b.createdAt,
        b.versioning,
        b.owner,
        b.objectLock,
      ]);
    } catch (err) {
      if (code(err) === '23505') throw new StoreError('BucketAlreadyExists');
      throw err;
    }
  }

  async getBucket(name: string, opts?: { fresh?: boolean }): Promise<BucketRecord | undefined> {
    const cached = this.buckets?.row(name);
    if (cached !== undefined && opts?.fresh !== true) return toBucket(cached);
    const epoch = this.buckets?.epoch ?? 0;
    const [row] = await this.q<BucketRow>(`SELECT ${BUCKET_COLS} FROM buckets WHERE name = $1`, [name]);
    if (row === undefined) {
      // Deleted through another gateway, its notice not here yet: what is cached goes now.
      if (cached !== undefined) this.buckets?.clear();
      return undefined;
    }
    this.buckets?.keepRow(name, row, epoch);
    return toBucket(row);
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return (await this.q<BucketRow>(`SELECT ${BUCKET_COLS} FROM buckets ORDER BY name`, [])).map(toBucket);
  }

  updateBucket(name: string, patch: BucketPatch): Promise<BucketRecord> {
    return this.bucketWrite(async (c) => {
      const [row] = await this.q<BucketRow>(`SELECT ${BUCKET_COLS} FROM buckets WHERE name = $1 FOR UPDATE`, [name], c);
      if (row === undefined) throw new StoreError('NoSuchBucket');
      const b = toBucket(row);
      applyBucketPatch(b, patch);
      await this.q('UPDATE buckets SET versioning = $2, object_lock = $3 WHERE name = $1', [name, b.versioning, b.objectLock], c);
      return b;
    });
  }

  deleteBucket(name: string): Promise<void> {
    return this.bucketWrite(async (c) => {
      const [row] = await this.q<{ name: string; any: boolean }>(
        'SELECT name, EXISTS (SELECT 1 FROM objects WHERE bucket = $1) AS any FROM buckets WHERE name = $1 FOR UPDATE',
        [name],
        c,
      );
      if (row === undefined) throw new StoreError('NoSuchBucket');
      // Uploads in progress, configuration documents and usage rows go with it (ON DELETE CASCADE).
      if (row.any) throw new StoreError('BucketNotEmpty');
      await this.q('DELETE FROM buckets WHERE name = $1', [name], c);
    });
  }

  // ---- bucket configuration documents -------------------------------------------------------

  async getBucketConfig(bucket: string, name: string): Promise<string | undefined> {
    const [row] = await this.q<{ value: string | null }>(
      'SELECT (SELECT value FROM bucket_config WHERE bucket = b.name AND name = $2) AS value FROM buckets b WHERE b.name = $1',
      [bucket, name],
    );
    if (row === undefined) throw new StoreError('NoSuchBucket');
    return row.value ?? undefined;
  }

  /**
   * The bucket with the documents asked for; from the cache when it holds them (the identity
   * generation is then the identity snapshot's), else one statement (with the database's).
   */
  async getBucketWithConfigs(name: string, configs: readonly string[]): Promise<BucketWithConfigs | undefined> {
    const cached = this.buckets?.configs(name, configs);
    if (cached !== undefined) {
      return { bucket: toBucket(cached.row), configs: new Map(Object.entries(cached.configs)), identityGeneration: this.identities.identityGeneration() };
    }
    const epoch = this.buckets?.epoch ?? 0;
    const [row] = await this.q<BucketRow & { configs: string | null; generation: number | null }>(BUCKET_WITH_CONFIGS_SQL, [name, configs]);
    if (row === undefined) return undefined;
    const docs = row.configs === null ? {} : (JSON.parse(row.configs) as Record<string, string>);
    const { configs: _json, generation, ...bucketRow } = row;
    this.buckets?.keepConfigs(name, configs, bucketRow, docs, epoch);
    return { bucket: toBucket(row), configs: new Map(Object.entries(docs)), identityGeneration: generation ?? 0 };
  }

  putBucketConfig(bucket: string, name: string, value: string | undefined): Promise<void> {
    return this.bucketWrite(async (c) => {
      if (value === undefined) {
        const rows = await this.q(
          'WITH d AS (DELETE FROM bucket_config WHERE bucket = $1 AND name = $2) SELECT 1 FROM buckets WHERE name = $1',
          [bucket, name],
          c,
        );
        if (rows.length === 0) throw new StoreError('NoSuchBucket');
        return;
      }
      try {
        await this.q(
          'INSERT INTO bucket_config (bucket, name, value) VALUES ($1, $2, $3) ON CONFLICT (bucket, name) DO UPDATE SET value = excluded.value',
          [bucket, name, value],
          c,
        );
      } catch (err) {
        if (code(err) === '23503') throw new StoreError('NoSuchBucket');
        throw err;
      }
    });
  }

  /**
   * Carries this process's changes through `notices` too (etcd, with --etcd) and hears the other
   * processes' there (snapshot.ts ChangeFeed.attachNotices); a no-op without a change feed.
   */
  attachChangeNotices(notices: ChangeNotices, onPublishError?: (name: string, err: unknown) => void): () => void {
    return this.feed?.attachNotices(notices, onPublishError) ?? (() => undefined);
  }

  /** Stops the bucket cache's part in the change feed (close). */
  protected async closeBuckets(): Promise<void> {
    if (this.buckets !== undefined) await this.feed?.unregister(this.buckets);
  }
}
