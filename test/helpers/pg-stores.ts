// The PostgreSQL sub-stores as a gateway process opens them (src/store/meta/postgres/open.ts), for
// tests that play several processes on one database: each call its own pool and change feed.
import type { PgDb } from '../../src/store/meta/postgres/db.js';
import { openPgDb, openPgSubStores, type PgOpenedSubStores } from '../../src/store/meta/postgres/open.js';
import type { ChangeFeedOptions } from '../../src/store/meta/postgres/snapshot.js';

export type TestSubStores = PgOpenedSubStores & { db: PgDb; close: () => Promise<void> };

/** A migrated pool of 4 on `url` and its sub-stores; reconnection backoff 50–200 ms unless `feed` says otherwise. */
export async function openTestSubStores(url: string, feed?: ChangeFeedOptions): Promise<TestSubStores> {
  const db = await openPgDb(url, { poolSize: 4 });
  const s = await openPgSubStores(db, { feed: { minBackoffMs: 50, maxBackoffMs: 200, ...feed } });
  return {
    ...s,
    db,
    close: async () => {
      await s.feed.close();
      await db.close();
    },
  };
}

/** Waits until `cond` holds, checking every 20 ms, at most 500 times (10 s); whether it held. */
export async function eventually(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}
