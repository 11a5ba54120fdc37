// Issue 17, reliability: the job leader of three gateways elected through a three-member etcd
// (--etcd), while a light PUT/GET load runs through the random front. The etcd member that is the raft
// leader is SIGKILLed: the cluster status (GET /_strata/admin/v1/cluster/status, sampled on every
// gateway) names a live gateway as job leader again within a bounded wait; then the gateway that leads
// is SIGKILLed: another one leads within the lease time (plus etcd's election), bounded. Never two
// job leaders at once: every gateway logs each change of its own leadership ("job leader: this
// process leads" / "no longer leads"), and those intervals (a SIGKILLed leader's ending at the kill)
// must never overlap. The killed etcd member and gateway come back; the load's acknowledged writes
// are all there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Cluster, clusterStatus as statusOf, type Incarnation, startCluster } from '../helpers/cluster.js';
import { newBucketName } from '../helpers/clients.js';
import { ClusterLoad } from './cluster-load.js';
import { crashClient } from './cycles.js';
import { sleep } from './harness.js';

const SEED = process.env.STRATA_CLUSTER_SEED ? Number(process.env.STRATA_CLUSTER_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
/** The gateways' etcd lease (src/cluster/etcd.ts, default 5 s). */
const LEASE_MS = 5_000;
/** A new leader within the lease, etcd's own election (1 s election timeout) and a few polls: the bound of every wait for one. */
const NEW_LEADER_BOUND_MS = 3 * LEASE_MS;

/** Leadership intervals [from, to) of one gateway process, from its own log lines. */
function leadership(inc: Incarnation): Array<{ pid: number; from: number; to: number }> {
  const out: Array<{ pid: number; from: number; to: number }> = [];
  let since: number | undefined;
  for (const line of inc.logs().split('\n')) {
    if (!line.includes('"msg":"job leader: this process')) continue;
    const rec = JSON.parse(line) as { time: number; msg: string };
    if (rec.msg.startsWith('job leader: this process leads')) since ??= rec.time;
    else if (since !== undefined) {
      out.push({ pid: inc.pid, from: since, to: rec.time });
      since = undefined;
    }
  }
  if (since !== undefined) out.push({ pid: inc.pid, from: since, to: inc.killedAt ?? Number.POSITIVE_INFINITY });
  return out;
}

describe('cluster reliability › etcd leader loss (3 members)', () => {
  let cluster: Cluster;
  let s3: S3Client;
  const bucket = newBucketName('cl-etcd');

  before(async () => {
    cluster = await startCluster({ gateways: 3, etcdMembers: 3 });
    s3 = crashClient(cluster.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await cluster?.stop();
  });

  /**
   * Waits (bounded) until every live gateway's status names the same job leader, a live gateway
   * other than `not`; returns its slot and the wait.
   */
  async function agreedLeader(limitMs: number, not?: number): Promise<{ slot: number; ms: number }> {
    const t0 = Date.now();
    let seen = '';
    while (Date.now() - t0 < limitMs) {
      const live = cluster.gateways.filter((g) => g.server);
      const answers = await Promise.all(live.map((g) => statusOf(g.url())));
      const ids = new Set(answers.map((a) => a?.leader.id ?? null));
      seen = JSON.stringify([...ids]);
      const first = answers[0];
      if (ids.size === 1 && first?.leader.id) {
        const entry = first.gateways.find((x) => x.id === first.leader.id);
        const slot = live.findIndex((g) => g.server!.pid === entry?.pid);
        if (entry?.live && slot >= 0 && live[slot]!.slot !== not) return { slot: live[slot]!.slot, ms: Date.now() - t0 };
      }
      await sleep(150);
    }
    throw new Error(`no agreed job leader within ${limitMs} ms (last seen: ${seen})\n${cluster.logs().slice(-3000)}`);
  }

  it(`the raft leader killed → a job leader again; the leading gateway killed → another leads within a bounded wait (3 × the 5 s lease); never two at once (seed ${SEED})`, {
    timeout: 240_000,
  }, async (t) => {
    const load = new ClusterLoad(s3, bucket, SEED);
    load.start(2, 3, 2000);
    try {
      const first = await agreedLeader(30_000);
      const st = await statusOf(cluster.gateways[0]!.url());
      t.diagnostic(`job leader at start: gateway ${first.slot} (by ${st?.leader.by})`);

      // 1. The etcd member that leads the raft group dies.
      const raftLeader = await cluster.etcd!.leaderIndex();
      assert.ok(raftLeader >= 0, 'etcd has a raft leader');
      await cluster.etcd!.kill(raftLeader);
      const afterRaft = await agreedLeader(NEW_LEADER_BOUND_MS);
      t.diagnostic(`etcd member ${raftLeader} (raft leader) killed: job leader gateway ${afterRaft.slot} agreed after ${afterRaft.ms} ms`);
      assert.ok((await cluster.etcd!.leaderIndex()) >= 0, 'the two remaining etcd members elected a raft leader');

      // 2. The gateway that leads the jobs dies.
      const victim = cluster.gateways[afterRaft.slot]!;
      await victim.kill('SIGKILL');
      const next = await agreedLeader(NEW_LEADER_BOUND_MS, victim.slot);
      t.diagnostic(`leading gateway ${victim.slot} killed: gateway ${next.slot} leads after ${next.ms} ms`);

      // 3. Both come back: the member rejoins etcd, the gateway rejoins the cluster; one leader.
      await cluster.etcd!.restart(raftLeader);
      await victim.restart();
      await agreedLeader(NEW_LEADER_BOUND_MS);
      const listed = await statusOf(victim.url());
      assert.equal(listed?.gateways.filter((g) => g.live).length, 3, `three live gateways listed: ${JSON.stringify(listed?.gateways)}`);
    } finally {
      await load.stop();
    }

    // Never two job leaders at once, from each process's own account.
    const intervals = cluster.incarnations().flatMap(leadership);
    t.diagnostic(
      `leadership intervals: ${JSON.stringify(intervals.map((i) => ({ pid: i.pid, ms: i.to === Number.POSITIVE_INFINITY ? 'now' : i.to - i.from })))}`,
    );
    assert.ok(intervals.length >= 2, `the lead changed hands at least once: ${JSON.stringify(intervals)}`);
    for (const a of intervals)
      for (const b of intervals) {
        if (a === b) continue;
        assert.ok(a.to <= b.from || b.to <= a.from, `two job leaders at once: pid ${a.pid} [${a.from}, ${a.to}) and pid ${b.pid} [${b.from}, ${b.to})`);
      }
    t.diagnostic(`load ${JSON.stringify(load.stats)}`);
    await load.check(s3);
  });
});
