// Opening the PostgreSQL metadata store: the pool, the migrations (every step of migrations.ts,
// under db.ts's advisory lock), the sub-stores (coordination, identities, keys, heal queue) with
// their snapshots loaded, and this process's change feed (one LISTEN connection and the 1-second
// poll, snapshot.ts) started before anything is served.
import { type PgDb, type PgOptions, PgDb as Db } from './db.js';
import { PgCoordination } from './coord.js';
import { PgHealQueue } from './heal.js';
import { PgIdentityStore } from './identities.js';
import { PgKmsKeys } from './kms.js';
import { MIGRATIONS } from './migrations.js';
import { ChangeFeed, type ChangeFeedOptions } from './snapshot.js';
import { PgMetaStore } from './store.js';

export interface PgOpenOptions extends PgOptions {
  /** The change feed's poll and reconnection timings (tests). */
  feed?: ChangeFeedOptions;
}

export interface PgOpenedSubStores {
  coord: PgCoordination;
  identities: PgIdentityStore;
  kmsKeys: PgKmsKeys;
  healQueue: PgHealQueue;
  /** This process's LISTEN connection and poll: closed with the store. */
  feed: ChangeFeed;
}

/** The sub-stores on a migrated database, their snapshots loaded and the change feed started. */
export async function openPgSubStores(db: PgDb, opts: { feed?: ChangeFeedOptions } = {}): Promise<PgOpenedSubStores> {
  const feed = new ChangeFeed(db, opts.feed);
  const identities = new PgIdentityStore(db, feed);
  const kmsKeys = new PgKmsKeys(db, feed);
  const healQueue = new PgHealQueue(db, feed);
  await Promise.all([identities.refresh(), kmsKeys.refresh(), healQueue.refresh()]);
  feed.start();
  return { coord: new PgCoordination(db), identities, kmsKeys, healQueue, feed };
}

/** A pool on `url`, migrated (every step not yet applied). */
export async function openPgDb(url: string, opts: PgOptions = {}): Promise<PgDb> {
  const db = Db.create(url, opts);
  try {
    await db.migrate(MIGRATIONS);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/**
 * The PostgreSQL MetaStore on `url` (`--meta postgres://…`): migrated, its sub-stores' snapshots
 * loaded and this process's change feed started. Its close() closes the sub-stores (the last one
 * closes the feed) and the pool.
 */
export async function openPgMetaStore(url: string, opts: PgOpenOptions = {}): Promise<PgMetaStore> {
  const { feed: feedOpts, ...poolOpts } = opts;
  const db = await openPgDb(url, poolOpts);
  try {
    const { coord, identities, kmsKeys, healQueue, feed } = await openPgSubStores(db, { ...(feedOpts && { feed: feedOpts }) });
    return new PgMetaStore(db, { coord, identities, kmsKeys, healQueue, feed });
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
