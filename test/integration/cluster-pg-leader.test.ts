// The PostgreSQL advisory-lock leader elector (src/cluster/leader-pg.ts) against a throw-away PostgreSQL
// (test/helpers/postgres.ts): one leader of three; the leader's connection terminated
// (pg_terminate_backend) → another leads, never two at once; PostgreSQL restarted → a leader again.
// Waits are bounded loops; nothing asserts a speed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PgElector } from '../../src/cluster/leader-pg.js';
import { type Child, distModule, frozenLeaderHandsOver, leaders, nodeChild, sampleLeaders, until } from '../helpers/electors.js';
import { type PostgresCluster, startPostgres } from '../helpers/postgres.js';

/** A child process campaigning as `owner` in election `name`: reports changes and samples isLeader() every 20 ms. */
function pgChild(url: string, owner: string, name: string): Child {
  const code = `
    const { PgElector } = await import(process.env.MOD);
    const e = new PgElector({ url: process.env.URL, owner: process.env.OWNER, name: process.env.NAME, leaseMs: 3000, pollMs: 100 });
    e.onChange((leader) => process.stdout.write(JSON.stringify({ leader }) + '\\n'));
    setInterval(() => process.stdout.write(JSON.stringify({ sample: true, leader: e.isLeader(), at: Date.now() }) + '\\n'), 20);
  `;
  return nodeChild(code, { MOD: distModule('src/cluster/leader-pg.js'), URL: url, OWNER: owner, NAME: name });
}

describe('PostgreSQL advisory-lock elector', () => {
  let cluster: PostgresCluster;
  let url: string;
  const open: PgElector[] = [];
  const electors = (name: string, ids: string[]): PgElector[] => {
    const es = ids.map((owner) => new PgElector({ url, owner, name, leaseMs: 3000, pollMs: 100 }));
    open.push(...es);
    return es;
  };

  before(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase();
  });
  after(async () => {
    await Promise.all(open.map((e) => e.close().catch(() => undefined)));
    await cluster?.dispose();
  });

  it('pg elector › three candidates → exactly one leader; leader() names it; resigning hands over', async () => {
    const ids = ['p1-a', 'p1-b', 'p1-c'];
    const es = electors('t1', ids);
    const sampler = sampleLeaders(() => es);
    await until(() => leaders(es).length === 1, 'one leader');
    await new Promise((r) => setTimeout(r, 1000));
    const i = leaders(es)[0]!;
    assert.equal(await es[0]!.leader(), ids[i]);
    await es[i]!.close();
    await until(() => leaders(es).length === 1, 'another leader after resigning');
    assert.notEqual(leaders(es)[0], i);
    assert.equal(sampler.stop().max, 1, 'never two leaders');
  });

  it('pg elector › the leader’s connection terminated → it stops leading, another leads, never two at once', async () => {
    const ids = ['p2-a', 'p2-b', 'p2-c'];
    const es = electors('t2', ids);
    await until(() => leaders(es).length === 1, 'one leader');
    const first = leaders(es)[0]!;
    const sampler = sampleLeaders(() => es);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const r = await admin.query('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1', [`strata-leader:${ids[first]}`]);
      assert.deepEqual(
        r.rows.map((x) => x.ok),
        [true],
      );
    } finally {
      await admin.end();
    }
    await until(() => !es[first]!.isLeader(), 'the terminated leader gives up');
    await until(() => leaders(es).length === 1, 'a leader again');
    assert.equal(sampler.stop().max, 1, 'never two leaders');
  });

  it('pg elector › a leader that vanishes (socket closed, no unlock) → another leads', async () => {
    const es = electors('t3', ['p3-a', 'p3-b']);
    await until(() => leaders(es).length === 1, 'one leader');
    const first = leaders(es)[0]!;
    await es[first]!.close({ resign: false });
    await until(() => leaders(es).length === 1 && leaders(es)[0] !== first, 'the other leads');
  });

  it('pg elector › a SIGKILLed leader process → a leader here; none here before', async () => {
    const child = pgChild(url, 'p5-child', 't5');
    try {
      await child.line((m) => m.leader === true);
      const es = electors('t5', ['p5-a', 'p5-b']);
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(leaders(es), [], 'the child leads; nobody here');
      assert.equal(await es[0]!.leader(), 'p5-child');
      await child.kill();
      await until(() => leaders(es).length === 1, 'a leader after the kill');
    } finally {
      await child.kill();
    }
  });

  it('pg elector › a leader frozen (SIGSTOP) → PostgreSQL ends its idle session, another leads; thawed, it knows it does not lead', async () => {
    const child = pgChild(url, 'p6-child', 't6');
    try {
      await child.line((m) => m.leader === true);
      await frozenLeaderHandsOver(child, electors('t6', ['p6-a', 'p6-b']));
    } finally {
      await child.kill();
    }
  });

  it('pg elector › PostgreSQL restarted → nobody leads while it is down, a leader once it is back', async () => {
    const es = electors('t4', ['p4-a', 'p4-b', 'p4-c']);
    await until(() => leaders(es).length === 1, 'one leader');
    const sampler = sampleLeaders(() => es);
    await cluster.stop();
    await until(() => leaders(es).length === 0, 'no leader while PostgreSQL is down');
    assert.equal(await es[0]!.leader(), undefined);
    await cluster.start();
    await until(() => leaders(es).length === 1, 'a leader after the restart', 30_000);
    assert.ok((await es[0]!.leader())?.startsWith('p4-'));
    assert.equal(sampler.stop().max, 1, 'never two leaders');
  });
});
