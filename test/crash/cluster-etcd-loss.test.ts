// Issue 17, reliability: the job leader of three gateways elected through a three-member etcd
// (--etcd), while a light PUT/GET load runs through the random front. The etcd member that is the raft
// leader is SIGKILLed: the cluster status (GET /_strata/admin/v1/cluster/status, sampled on every
// gateway) names a live gateway as job leader again within the lease time (LEASE_MS, plus one round of
// status sampling); then the gateway that leads is SIGKILLed: another one leads once its lease has
// run out in etcd, within the lease time plus a stated margin (GATEWAY_KILL_MARGIN_MS). Never two
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
/**
 * The granularity of agreedLeader(): one round asks every live gateway for its status, then sleeps
 * STATUS_PAUSE_MS. A round answers in ~100 ms; one asked while etcd has no raft leader waits for the
 * election (its reads are linearizable) and answers when it is over. STATUS_ROUND_MS is the slack a
 * wait allows for the sampling beyond the event it waits for: one round and a pause, on a busy machine.
 */
const STATUS_PAUSE_MS = 150;
const STATUS_ROUND_MS = 1_000;
/**
 * The raft leader killed: the surviving members elect another in 1–2 s (etcd's 1 s election timeout),
 * which the leading gateway's lease (renewed every fifth of its TTL, retried every 250 ms) outlives, so
 * a job leader is agreed within the lease time, plus the status sampling's granularity.
 */
const RAFT_LOSS_BOUND_MS = LEASE_MS + STATUS_ROUND_MS;
/**
 * The leading gateway killed: its lease ends in etcd at most LEASE_MS after its last keep-alive (sent
 * before the kill); then etcd's lessor notices (it checks every 500 ms) and deletes the key, the next
 * campaign round of a candidate (every 500 ms) takes it, and the status sampling sees it (one round).
 */
/**
 * Measured on an idle machine: 5.5–6.5 s. The suite runs three files at once on 2 cores, which
 * delays the candidates' timers and the status answers: 3 s more for that (the issue bounds the
 * raft-leader loss by the lease time, RAFT_LOSS_BOUND_MS; a gateway kill cannot beat the lease).
 */
const LOADED_MACHINE_MS = 3_000;
const GATEWAY_KILL_MARGIN_MS = 500 + 500 + STATUS_ROUND_MS + LOADED_MACHINE_MS;
const GATEWAY_KILL_BOUND_MS = LEASE_MS + GATEWAY_KILL_MARGIN_MS;
/** Waits with nothing killed (the start, the rejoin): generous, these are not what is measured. */
const SETTLE_BOUND_MS = 3 * LEASE_MS;

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

/** Whether any gateway logged "job leader: this process no longer leads" in [from, to] (ms since the epoch). */
function lostBetween(incs: Incarnation[], from: number, to: number): boolean {
  return incs.some((inc) =>
    inc
      .logs()
      .split('\n')
      .some((line) => line.includes('"msg":"job leader: this process no longer leads') && within(JSON.parse(line) as { time: number }, from, to)),
  );
}
const within = (rec: { time: number }, from: number, to: number) => rec.time >= from && rec.time <= to;

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
  async function agreedLeader(limitMs: number, not?: number): Promise<{ slot: number; ms: number; slowestRoundMs: number }> {
    const t0 = Date.now();
    let seen = '';
    let slowestRoundMs = 0;
    while (Date.now() - t0 < limitMs) {
      const live = cluster.gateways.filter((g) => g.server);
      const roundAt = Date.now();
      const answers = await Promise.all(live.map((g) => statusOf(g.url())));
      slowestRoundMs = Math.max(slowestRoundMs, Date.now() - roundAt);
      const ids = new Set(answers.map((a) => a?.leader.id ?? null));
      seen = JSON.stringify([...ids]);
      const first = answers[0];
      if (ids.size === 1 && first?.leader.id) {
        const entry = first.gateways.find((x) => x.id === first.leader.id);
        const slot = live.findIndex((g) => g.server!.pid === entry?.pid);
        if (entry?.live && slot >= 0 && live[slot]!.slot !== not) return { slot: live[slot]!.slot, ms: Date.now() - t0, slowestRoundMs };
      }
      await sleep(STATUS_PAUSE_MS);
    }
    throw new Error(`no agreed job leader within ${limitMs} ms (last seen: ${seen})\n${cluster.logs().slice(-3000)}`);
  }

  it(`the raft leader killed → a job leader within the 5 s lease; the leading gateway killed → another within the lease + ${GATEWAY_KILL_MARGIN_MS} ms; never two at once (seed ${SEED})`, {
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
      const raftKilledAt = Date.now();
      await cluster.etcd!.kill(raftLeader);
      const afterRaft = await agreedLeader(RAFT_LOSS_BOUND_MS);
      const kept = afterRaft.slot === first.slot && !lostBetween(cluster.incarnations(), raftKilledAt, Date.now());
      t.diagnostic(
        `etcd member ${raftLeader} (raft leader) killed: job leader gateway ${afterRaft.slot} agreed after ${afterRaft.ms} ms (slowest status round ${afterRaft.slowestRoundMs} ms; ${kept ? 'the same leader throughout' : `changed or lapsed; was gateway ${first.slot}`})`,
      );
      assert.ok((await cluster.etcd!.leaderIndex()) >= 0, 'the two remaining etcd members elected a raft leader');

      // 2. The gateway that leads the jobs dies.
      const victim = cluster.gateways[afterRaft.slot]!;
      await victim.kill('SIGKILL');
      const next = await agreedLeader(GATEWAY_KILL_BOUND_MS, victim.slot);
      t.diagnostic(`leading gateway ${victim.slot} killed: gateway ${next.slot} leads after ${next.ms} ms (slowest status round ${next.slowestRoundMs} ms)`);

      // 3. Both come back: the member rejoins etcd, the gateway rejoins the cluster; one leader.
      await cluster.etcd!.restart(raftLeader);
      await victim.restart();
      await agreedLeader(SETTLE_BOUND_MS);
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
