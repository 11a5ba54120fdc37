// For the PostgreSQL store's tests only: a bare PgMetaStore on a database (its schema migrated,
// no change feed, sub-stores that fail the test when touched) and a bucket record.
import assert from 'node:assert/strict';
import type { Coordination } from '../../coord.js';
import type { HealQueueStore } from '../../heal-queue.js';
import type { IdentityStore } from '../../identities.js';
import type { KmsKeyStore } from '../../kms-keys.js';
import { type BucketRecord, ROOT_USER_ID } from '../../types.js';
import { PgDb, type PgOptions } from './db.js';
import { MIGRATIONS } from './migrations.js';
import { PgMetaStore, type PgSubStores } from './store.js';

/** Stand-ins for the sub-stores (pg-substores builds the real ones): any use fails the test. */
export function noSubStores(): PgSubStores {
  const absent = (what: string) =>
    new Proxy({}, { get: (_t, p) => (p === 'then' || p === 'close' ? undefined : () => assert.fail(`${what}.${String(p)}: not part of this test`)) });
  return {
    coord: absent('coord') as Coordination,
    identities: absent('identities') as IdentityStore,
    kmsKeys: absent('kmsKeys') as KmsKeyStore,
    healQueue: absent('healQueue') as HealQueueStore,
  };
}

/** A store on `url`, its schema migrated. */
export async function openBareStore(url: string, opts: PgOptions = {}): Promise<PgMetaStore> {
  const db = PgDb.create(url, opts);
  await db.migrate(MIGRATIONS);
  return new PgMetaStore(db, noSubStores());
}

export const bucketRecord = (name: string, owner = ROOT_USER_ID): BucketRecord => ({
  name,
  region: 'us-east-1',
  createdAt: 0,
  versioning: '',
  owner,
  objectLock: false,
});
