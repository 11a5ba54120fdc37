// etcd for a cluster of gateways (src/cluster/, docs/cluster.md, "etcd and the job leader"), against a real three-member etcd
// started here (test/helpers/etcd.ts): the job leader election (exactly one leader; a vanished leader
// replaced within the lease time; the etcd raft leader killed — never two job leaders at once), the
// gateway registry (a SIGKILLed gateway dropped after its TTL), and change notices between clients.
// Waits are bounded loops; nothing asserts a speed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdCluster } from '../../src/cluster/etcd.js';
import type { EtcdElector } from '../../src/cluster/leader-etcd.js';
import { type Child, distModule, frozenLeaderHandsOver, leaders, nodeChild, sampleLeaders, until } from '../helpers/electors.js';
import { type EtcdCluster as TestEtcd, startEtcd } from '../helpers/etcd.js';

const TTL = 2;

/** A child process that joins the cluster as gateway `id` (registry entry and job elector) and reports its leadership. */
function gatewayChild(endpoints: string[], id: string): Child {
  const code = `
    const { EtcdCluster } = await import(process.env.MOD);
    const c = new EtcdCluster({ endpoints: JSON.parse(process.env.EPS), id: process.env.ID, ttlSec: ${TTL} });
    await c.registry.register({ id: process.env.ID, address: 'http://127.0.0.1:1', hostname: 'child', pid: process.pid });
    const e = c.elector({ pollMs: 100 });
    e.onChange((leader) => process.stdout.write(JSON.stringify({ leader }) + '\\n'));
    process.stdout.write(JSON.stringify({ ready: true }) + '\\n');
    setInterval(() => process.stdout.write(JSON.stringify({ sample: true, leader: e.isLeader(), at: Date.now() }) + '\\n'), 20);
  `;
  return nodeChild(code, { MOD: distModule('src/cluster/etcd.js'), EPS: JSON.stringify(endpoints), ID: id });
}

describe('etcd cluster (3 members)', () => {
  let etcd: TestEtcd;
  const open: EtcdCluster[] = [];
  const join = (id: string): EtcdCluster => {
    const c = new EtcdCluster({ endpoints: etcd.endpoints, id, ttlSec: TTL });
    open.push(c);
    return c;
  };

  before(async () => {
    etcd = await startEtcd({ members: 3 });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await etcd?.dispose();
  });

  it('etcd elector › three candidates → exactly one leader, and leader() names it', async () => {
    const cs = ['a', 'b', 'c'].map((id) => join(`elect1-${id}`));
    const es = cs.map((c) => c.elector({ name: 'test1', pollMs: 100 }));
    const sampler = sampleLeaders(() => es);
    await until(() => leaders(es).length === 1, 'one leader');
    // A while of rounds: it stays one.
    await new Promise((r) => setTimeout(r, 1000));
    const { max, samples } = sampler.stop();
    assert.equal(max, 1, `at most one leader at every sample (${samples} samples)`);
    const [i] = leaders(es);
    assert.equal(await es[0]!.leader(), `elect1-${['a', 'b', 'c'][i!]}`);
    await Promise.all(es.map((e) => e.close()));
    assert.deepEqual(leaders(es), []);
  });

  it('etcd elector › the leader vanishes without resigning → another leads once its lease ends, never two at once', async () => {
    const cs = ['a', 'b', 'c'].map((id) => join(`elect2-${id}`));
    const es: EtcdElector[] = cs.map((c) => c.elector({ name: 'test2', pollMs: 100 }));
    await until(() => leaders(es).length === 1, 'one leader');
    const first = leaders(es)[0]!;
    const changes: boolean[] = [];
    es[first]!.onChange((l) => changes.push(l));
    const sampler = sampleLeaders(() => es);
    await es[first]!.close({ resign: false });
    assert.equal(es[first]!.isLeader(), false, 'closing ends leadership at once');
    assert.deepEqual(changes, [false]);
    await until(() => leaders(es).length === 1, 'a new leader', TTL * 1000 * 4);
    const { max, samples } = sampler.stop();
    assert.equal(max, 1, `never two leaders (${samples} samples)`);
    assert.notEqual(leaders(es)[0], first);
    await Promise.all(es.map((e) => e.close()));
  });

  it('etcd elector › a SIGKILLed leader process → a leader here within the lease time; none here before', async () => {
    const child = gatewayChild(etcd.endpoints, 'elect3-child');
    try {
      await child.line((m) => m.leader === true);
      const es = ['a', 'b'].map((id) => join(`elect3-${id}`).elector({ pollMs: 100 }));
      // Give the candidates rounds: none may lead while the child does.
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(leaders(es), [], 'the child leads; nobody here');
      assert.equal(await es[0]!.leader(), 'elect3-child');
      await child.kill();
      const sampler = sampleLeaders(() => es);
      await until(() => leaders(es).length === 1, 'a leader after the kill', TTL * 1000 * 4);
      assert.equal(sampler.stop().max, 1);
      await Promise.all(es.map((e) => e.close()));
    } finally {
      await child.kill();
    }
  });

  it('etcd elector › a leader frozen (SIGSTOP) past its lease → another leads; thawed, the first sample says it no longer leads', async () => {
    const child = gatewayChild(etcd.endpoints, 'elect5-child');
    try {
      await child.line((m) => m.leader === true);
      const es = ['a', 'b'].map((id) => join(`elect5-${id}`).elector({ pollMs: 100 }));
      await frozenLeaderHandsOver(child, es, TTL * 1000 * 4);
      await Promise.all(es.map((e) => e.close()));
    } finally {
      await child.kill();
    }
  });

  it('etcd elector › the etcd raft leader SIGKILLed → etcd elects another, the job leader continues or moves, never two at once', async () => {
    const es = ['a', 'b', 'c'].map((id) => join(`elect4-${id}`).elector({ name: 'test4', pollMs: 100 }));
    await until(() => leaders(es).length === 1, 'one job leader');
    const sampler = sampleLeaders(() => es);
    const raftLeader = await etcd.leaderIndex();
    assert.ok(raftLeader >= 0, 'etcd has a raft leader');
    await etcd.kill(raftLeader);
    await until(async () => {
      const l = await etcd.leaderIndex();
      return l >= 0 && l !== raftLeader;
    }, 'a new etcd raft leader');
    // Through and after the raft election: a job leader again, and at no sample two.
    await until(() => leaders(es).length === 1, 'a job leader after the raft election', TTL * 1000 * 6);
    await new Promise((r) => setTimeout(r, TTL * 1000));
    await etcd.restart(raftLeader);
    await until(() => leaders(es).length === 1, 'a job leader after the member is back', TTL * 1000 * 6);
    const { max, samples } = sampler.stop();
    assert.equal(max, 1, `never two job leaders (${samples} samples)`);
    await Promise.all(es.map((e) => e.close()));
  });

  it('etcd registry › lists the live gateways; a SIGKILLed one goes after its TTL, the others stay', async () => {
    const a = join('gw-a');
    const b = join('gw-b');
    const before = Date.now();
    await a.registry.register({ id: 'gw-a', address: 'http://127.0.0.1:9001', hostname: 'h', pid: process.pid });
    await b.registry.register({ id: 'gw-b', address: 'http://127.0.0.1:9002', hostname: 'h', pid: process.pid });
    const child = gatewayChild(etcd.endpoints, 'gw-child');
    try {
      await child.line((m) => m.ready === true);
      const ids = async () =>
        (await a.registry.list())
          .map((g) => g.id)
          .filter((id) => id.startsWith('gw-'))
          .sort();
      assert.deepEqual(await ids(), ['gw-a', 'gw-b', 'gw-child']);
      const entry = (await b.registry.list()).find((g) => g.id === 'gw-a');
      assert.ok(entry && entry.startedAt >= before && entry.startedAt <= Date.now() && entry.lastSeen >= entry.startedAt, JSON.stringify(entry));
      assert.deepEqual(
        { ...entry, startedAt: 0, lastSeen: 0 },
        { id: 'gw-a', address: 'http://127.0.0.1:9001', hostname: 'h', pid: process.pid, startedAt: 0, lastSeen: 0, live: true },
      );
      // Registering again (after a loss, say) is harmless: still one entry.
      await a.registry.register({ id: 'gw-a', address: 'http://127.0.0.1:9001', hostname: 'h', pid: process.pid });
      await a.registry.heartbeat();
      await child.kill();
      await until(async () => !(await ids()).includes('gw-child'), 'the killed gateway dropped', TTL * 1000 * 4);
      assert.deepEqual(await ids(), ['gw-a', 'gw-b']);
      // A clean close removes the entry at once.
      await b.registry.close();
      assert.deepEqual(await ids(), ['gw-a']);
    } finally {
      await child.kill();
    }
  });

  it('etcd changes › a change published by one client reaches every watcher (the publisher too)', async () => {
    const a = join('chg-a');
    const b = join('chg-b');
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.onChange((w) => seenA.push(w));
    b.onChange((w) => seenB.push(w));
    await Promise.all([a.changes.ready(), b.changes.ready()]);
    await a.publishChange('identity');
    await b.publishChange('kms');
    await until(() => seenB.includes('identity') && seenA.includes('kms') && seenA.includes('identity'), 'changes delivered');
    await assert.rejects(a.publishChange('../bad'), /invalid change name/);
  });

  it('etcd health › healthy with a version and a raft leader', async () => {
    const h = await join('health').health();
    assert.equal(h.healthy, true, h.error);
    assert.equal(h.hasLeader, true);
    assert.match(h.version ?? '', /^3\.4\./);
  });
});

describe('etcd unreachable (1 member)', () => {
  let etcd: TestEtcd;
  let c: EtcdCluster;
  before(async () => {
    etcd = await startEtcd({ members: 1 });
    c = new EtcdCluster({ endpoints: etcd.endpoints, id: 'solo', ttlSec: TTL });
  });
  after(async () => {
    await c?.close().catch(() => undefined);
    await etcd?.dispose();
  });

  it('etcd down → leadership lapses within the lease time, health says unhealthy; back → leader and registered again', async () => {
    const e = c.elector({ pollMs: 100 });
    await c.registry.register({ id: 'solo', address: 'http://127.0.0.1:9000', hostname: 'h', pid: process.pid });
    await until(() => e.isLeader(), 'leads');
    await etcd.kill(0);
    await until(() => !e.isLeader(), 'leadership given up while etcd is away', TTL * 1000 * 2);
    await until(
      () =>
        c.registry.heartbeat().then(
          () => false,
          () => true,
        ),
      'a heartbeat fails while etcd is away',
      TTL * 1000 * 2,
    );
    const h = await c.health(1000);
    assert.equal(h.healthy, false);
    assert.ok(h.error);
    await etcd.restart(0);
    await until(() => e.isLeader(), 'leads again once etcd is back', 30_000);
    await until(async () => (await c.health(1000)).healthy, 'healthy again', 30_000);
    await until(async () => (await c.registry.list().catch(() => [])).some((g) => g.id === 'solo'), 'registered again', 30_000);
  });
});
