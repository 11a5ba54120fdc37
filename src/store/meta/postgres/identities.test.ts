// PgIdentityStore on a throw-away PostgreSQL cluster: the identities contract, and two stores (two
// pools, two processes' worth) on one database: a change through one is served at once by the
// writer and by the other once its notification arrives (or, without the LISTEN connection, by the
// poll); the listener survives a PostgreSQL restart; a principal resolved from a stale snapshot is
// tagged with the snapshot's generation, never the database's newer one (src/iam/credentials.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, openTestSubStores } from '../../../../test/helpers/pg-stores.js';
import { type PostgresCluster, startPostgres } from '../../../../test/helpers/postgres.js';
import { identityCredentials } from '../../../iam/credentials.js';
import { credentialCacheOf } from '../../../iam/principal.js';
import { SecretBox } from '../../../iam/secret-box.js';
import { runIdentitiesContract } from '../../contract-identities.js';
import { PgIdentityStore } from './identities.js';
import { openPgDb, openPgMetaStore } from './open.js';

let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgres();
});
after(async () => {
  await cluster?.dispose();
});

// The whole store as `--meta postgres://…` opens it (open.ts), closed by the suite.
runIdentitiesContract('postgres', async () => openPgMetaStore(await cluster.createDatabase(), { poolSize: 4 }));

const box = new SecretBox({ rootSecret: 'rootsecret' });
const AK = 'AKIAALICE00000000001';
const alice = { name: 'alice', userId: 'UA', status: 'enabled' as const, created: 1 };
const aliceKey = (id = AK) => ({ accessKeyId: id, userName: 'alice', secret: box.seal(`secret-${id}`, id), status: 'enabled' as const, created: 1 });

describe('PgIdentityStore: two stores on one database', () => {
  it('a user disabled through one store is refused by the writer at once and by the other on its notification (poll off)', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url);
    const b = await openTestSubStores(url, { pollMs: 3_600_000 }); // only the notification can bring the change
    try {
      await a.identities.createUser(alice, aliceKey());
      assert.ok(await eventually(() => b.identities.getAccessKey(AK) !== undefined), 'the new user reaches the other store');
      const credsA = identityCredentials({ rootAccessKey: 'root', rootSecretKey: 'x', identities: a.identities, box });
      const credsB = identityCredentials({ rootAccessKey: 'root', rootSecretKey: 'x', identities: b.identities, box });
      assert.equal((await credsB(AK))?.principal.userName, 'alice');
      await a.identities.setUserStatus('alice', 'disabled');
      assert.equal(a.identities.getAccessKey(AK)?.userStatus, 'disabled', 'at once in the writer');
      assert.equal(await credsA(AK), undefined);
      assert.ok(await eventually(() => b.identities.getUser('alice')?.status === 'disabled'), 'the other store on the notification');
      assert.equal(await credsB(AK), undefined, 'refused by the other');
      assert.equal(b.identities.identityGeneration(), a.identities.identityGeneration());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('without the LISTEN connection, the 1-second poll of strata_generations brings the change', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url);
    const b = await openTestSubStores(url, { listen: false, pollMs: 100 });
    try {
      assert.equal(b.feed.listening, false);
      await a.identities.createUser(alice);
      await a.identities.putPolicy('ro', '{"Statement":[]}', 5);
      await a.identities.attachPolicy('ro', { user: 'alice' });
      assert.ok(await eventually(() => b.identities.attachedPolicies({ user: 'alice' }).length === 1));
      assert.equal(b.identities.identityGeneration(), a.identities.identityGeneration());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the listener survives a PostgreSQL restart and delivers the changes made afterwards (poll off)', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url);
    const b = await openTestSubStores(url, { pollMs: 3_600_000 });
    try {
      assert.ok(await eventually(() => b.feed.listening));
      const before = b.feed.connects;
      await cluster.stop();
      await cluster.start();
      assert.ok(await eventually(() => b.feed.listening && b.feed.connects > before), 'reconnected');
      await a.identities.createUser(alice, aliceKey());
      assert.ok(await eventually(() => b.identities.getAccessKey(AK)?.userStatus === 'enabled'), 'a change after the restart arrives');
      await a.identities.setAccessKeyStatus(AK, 'disabled');
      assert.ok(await eventually(() => b.identities.getAccessKey(AK)?.status === 'disabled'));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('credentials › a principal resolved from a stale snapshot carries the snapshot generation, and is refused once the snapshot catches up', async () => {
    const url = await cluster.createDatabase();
    const a = await openTestSubStores(url);
    const dbB = await openPgDb(url, { poolSize: 2 });
    const b = new PgIdentityStore(dbB); // no change feed: b's snapshot moves only when told
    try {
      await a.identities.createUser(alice, aliceKey());
      await a.identities.createAccessKey(aliceKey('AKIAALICE00000000002'));
      await b.refresh();
      const stale = b.identityGeneration();
      await a.identities.setUserStatus('alice', 'disabled'); // b has not seen it
      const value = (await a.db.query<{ value: string }>("SELECT value FROM strata_generations WHERE name = 'identity'"))[0]!.value;
      assert.ok(Number(value) > stale, 'the database is ahead of b');
      const lookup = b.lookupAccessKey('AKIAALICE00000000002');
      assert.equal(lookup.generation, stale, "the snapshot's generation, not the database's");
      assert.equal(lookup.key?.userStatus, 'enabled', 'as of that generation');
      const creds = identityCredentials({ rootAccessKey: 'root', rootSecretKey: 'x', identities: b, box });
      assert.equal((await creds('AKIAALICE00000000002'))?.principal.userName, 'alice', 'resolved from the stale snapshot');
      assert.equal(credentialCacheOf(creds)?.('AKIAALICE00000000002')?.generation, stale, 'cached under the stale generation');
      await b.refresh();
      assert.equal(b.identityGeneration(), Number(value));
      assert.equal(await creds('AKIAALICE00000000002'), undefined, 'the generation moved: resolved again, refused');
    } finally {
      await a.close();
      await dbB.close();
    }
  });
});
